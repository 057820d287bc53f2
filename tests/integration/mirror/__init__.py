"""Tests of the AWS IoT Core mirror against a Mosquitto that acts like AWS."""
