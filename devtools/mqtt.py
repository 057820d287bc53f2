"""A plain MQTT peer on the broker: watch board topics, replay or inject messages."""

from __future__ import annotations

from dataclasses import dataclass
import json
import threading
import time
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

PUBLISH_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Message:
    """One message as the broker delivered it."""

    topic: str
    payload: bytes
    retain: bool
    received_s: float

    def json(self) -> Any:
        """Return the payload decoded as JSON."""
        return json.loads(self.payload)


class MqttPeer:
    """A paho client that keeps what arrives on its subscriptions."""

    def __init__(self, host: str, port: int, *subscriptions: str) -> None:
        """Connect, subscribe and start paho's network thread."""
        self.messages: list[Message] = []
        self._lock = threading.Lock()
        self._subscriptions = subscriptions
        self.client = paho.Client(CallbackAPIVersion.VERSION2)
        self.client.on_message = self._on_message
        self.client.on_connect = self._on_connect
        self._connected = threading.Event()
        self.client.connect(host, port)
        self.client.loop_start()
        if not self._connected.wait(PUBLISH_TIMEOUT_S):
            self.close()
            raise TimeoutError(f"no MQTT connection to {host}:{port}")

    def _on_connect(self, client: Any, _userdata: Any, *_args: Any) -> None:
        """Subscribe on every (re)connection."""
        for topic in self._subscriptions:
            client.subscribe(topic, qos=1)
        self._connected.set()

    def _on_message(self, _client: Any, _userdata: Any, msg: Any) -> None:
        """Keep the message with its arrival time."""
        with self._lock:
            self.messages.append(
                Message(msg.topic, bytes(msg.payload), bool(msg.retain), time.time())
            )

    def received(self, topic_suffix: str = "") -> list[Message]:
        """Return the messages so far whose topic ends with topic_suffix."""
        with self._lock:
            return [m for m in self.messages if m.topic.endswith(topic_suffix)]

    def wait_for(self, topic_suffix: str, *, timeout_s: float = 10.0) -> Message:
        """Return the newest message on a topic, waiting for a first one."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if found := self.received(topic_suffix):
                return found[-1]
            time.sleep(0.05)
        raise TimeoutError(f"nothing arrived on *{topic_suffix} in {timeout_s} s")

    def publish(
        self, topic: str, payload: bytes | str, *, qos: int = 1, retain: bool = False
    ) -> None:
        """Publish and wait until the broker acknowledged (QoS 1)."""
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        info.wait_for_publish(timeout=PUBLISH_TIMEOUT_S)

    def close(self) -> None:
        """Stop the network thread and disconnect."""
        self.client.disconnect()
        self.client.loop_stop()
