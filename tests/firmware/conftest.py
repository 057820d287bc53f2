"""Shared fixtures for the firmware tests: broker, examples, simulated boards."""

from __future__ import annotations

from collections.abc import Iterator
import json
from pathlib import Path
import threading
from typing import Any

# Blinka's displayio starts a daemon thread on import; importing it here, before
# any test runs, keeps that thread out of the per-test thread leak check.
import displayio  # noqa: F401
import paho.mqtt.client as mqtt
import pytest

from magtag.porter.log import configure as configure_log
from magtag.sim import SimulatedBoard
from tests.broker import Broker, running_broker

EXAMPLES = Path(__file__).resolve().parent.parent / "protocol_examples"
DEVICE_ID = "front-door"


def load_example(kind: str, name: str) -> dict[str, Any]:
    """Return one contract example file."""
    return json.loads((EXAMPLES / kind / f"{name}.json").read_text())


def examples(kind: str, topic: str) -> list[tuple[str, dict[str, Any]]]:
    """Return (name, example) for every example of a topic kind."""
    out = []
    for path in sorted((EXAMPLES / kind).glob(f"{topic}_*.json")):
        out.append((path.stem, json.loads(path.read_text())))
    return out


def example_bytes(example: dict[str, Any]) -> bytes:
    """Return the bytes an example puts on the wire."""
    if "payload_text" in example:
        return str(example["payload_text"]).encode()
    return json.dumps(example["payload"]).encode()


@pytest.fixture(autouse=True)
def quiet_firmware_log() -> Iterator[None]:
    """Keep the firmware's log out of the test output."""
    configure_log(False)
    yield
    configure_log(False)


@pytest.fixture
def broker(socket_enabled: None) -> Iterator[Broker]:
    """Run a real Mosquitto on a loopback port."""
    with running_broker() as server:
        yield server


class Watcher:
    """Subscribe to a board's topics with paho and keep what arrives."""

    def __init__(self, broker: Broker, device_id: str = DEVICE_ID) -> None:
        """Connect and subscribe to the device's topic tree."""
        self.messages: list[tuple[str, bytes, bool]] = []
        self.lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        self.client.on_message = self._on_message
        self.client.connect(broker.host, broker.port)
        self.client.subscribe(f"iot_porter/{device_id}/#", qos=1)
        self.client.loop_start()
        self.device_id = device_id

    def _on_message(self, _client: Any, _userdata: Any, msg: Any) -> None:
        """Keep the message."""
        with self.lock:
            self.messages.append((msg.topic, bytes(msg.payload), bool(msg.retain)))

    def payloads(self, suffix: str) -> list[dict[str, Any]]:
        """Return the JSON payloads seen on one topic suffix."""
        with self.lock:
            return [
                json.loads(payload)
                for topic, payload, _retain in self.messages
                if topic.endswith("/" + suffix)
            ]

    def publish_display(self, payload: bytes) -> None:
        """Publish a retained display message and wait for the broker's ack."""
        info = self.client.publish(
            f"iot_porter/{self.device_id}/display", payload, qos=1, retain=True
        )
        info.wait_for_publish(timeout=5)

    def close(self) -> None:
        """Disconnect."""
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def watcher(broker: Broker) -> Iterator[Watcher]:
    """Watch the board's topics."""
    client = Watcher(broker)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def board(broker: Broker, watcher: Watcher, tmp_path: Path) -> SimulatedBoard:
    """Return a fresh simulated board; Home Assistant's display message is retained."""
    display = load_example("valid", "display_forecast")["payload"]
    watcher.publish_display(json.dumps(display).encode())
    return SimulatedBoard(
        tmp_path / "board",
        broker.host,
        broker.port,
        DEVICE_ID,
        settings={"DISPLAY_WAIT_S": "1"},
    )
