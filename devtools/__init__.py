"""Harness for running a real Home Assistant with IoT Porter: tests, demo, bench."""
