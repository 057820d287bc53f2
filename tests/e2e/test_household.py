"""A household's life with IoT Porter, in order, against real processes only.

Discovery, fifty door events with redelivery and a broker restart, the door
display, a Home Assistant restart and bad payloads: every step goes through MQTT
or Home Assistant's public REST and WebSocket APIs.
"""

from __future__ import annotations

import json
from pathlib import Path
import time
from typing import Any

from PIL import Image, ImageChops
import pytest

from devtools.config import DOOR_COUNTER
from devtools.hass import HassProcess
from devtools.mqtt import MqttPeer
from magtag.porter import screen, view
from magtag.sim import SimulatedBoard
from magtag.sim.hardware import FONT_PATH
from magtag.sim.paper import PaperDisplay
from tests.broker import Broker
from tests.e2e.conftest import (
    DEVICE_ID,
    LAST_SEEN,
    TODAY,
    TOTAL,
    entity_value,
    wait_counts,
)

pytestmark = pytest.mark.usefixtures("socket_enabled")

EXAMPLES = Path(__file__).resolve().parent.parent / "protocol_examples"
TOPIC = f"iot_porter/{DEVICE_ID}"
DOOR_EVENT = "event.front_door_door"
BOARD_ENTITIES = (
    TOTAL,
    TODAY,
    DOOR_EVENT,
    LAST_SEEN,
    "sensor.front_door_last_door_event",
    "sensor.front_door_battery",
    "binary_sensor.front_door_connectivity",
)
EVENTS_TOTAL = 50
DOOR_STEP_S = 60


def _wait_home_assistant_hears(hass: HassProcess, peer: MqttPeer) -> None:
    """Republish the board's retained state and wait for Home Assistant to see it.

    The peer must subscribe to the state topic before anything else is published
    there. Messages from one client arrive in order, so once this probe is handled every
    message published before it has been handled too.
    """
    state = hass.client.wait_for(
        lambda: next((m for m in peer.received(f"{TOPIC}/state") if m.retain), None),
        what="the board's retained state",
    )
    before = entity_value(hass, LAST_SEEN)
    time.sleep(1.1)  # last seen has one-second resolution
    peer.publish(f"{TOPIC}/state", state.payload, retain=True)
    hass.client.wait_for_state(LAST_SEEN, lambda value: value != before)


def test_discovered_board_creates_hub_and_entities(
    hass: HassProcess, board: SimulatedBoard
) -> None:
    assert hass.client.config_entries("iot_porter") == []

    report = board.wake()
    assert report["state_published"]

    flows = hass.client.wait_for(
        lambda: [
            flow
            for flow in hass.client.flows_in_progress()
            if flow["handler"] == "iot_porter"
        ],
        what="the IoT Porter discovery flow",
    )
    assert flows[0]["context"]["source"] == "mqtt"
    assert flows[0]["context"]["title_placeholders"] == {"device_id": DEVICE_ID}
    result = hass.client.flow_step(flows[0]["flow_id"], {})
    assert result["type"] == "create_entry"

    [entry] = hass.client.config_entries("iot_porter")
    assert entry["state"] == "loaded"
    for entity_id in BOARD_ENTITIES:
        hass.client.wait_for(
            lambda entity_id=entity_id: hass.client.state(entity_id),
            what=entity_id,
        )
    assert entity_value(hass, TOTAL) == "0"
    assert entity_value(hass, "binary_sensor.front_door_connectivity") == "on"


def test_fifty_door_events_with_redelivery_and_broker_restart_count_fifty(
    hass: HassProcess, board: SimulatedBoard, broker: Broker
) -> None:
    peer = MqttPeer(broker.host, broker.port, f"{TOPIC}/#")
    try:
        reports = board.door(20, spacing_s=DOOR_STEP_S)
        assert [r["published_events"] for r in reports] == [1] * 20
        # QoS 1 redelivery: the same batches, byte for byte, a second time.
        batches = peer.received(f"{TOPIC}/events")
        assert len(batches) == 20
        for batch in batches[3:8]:
            peer.publish(batch.topic, batch.payload)
        _wait_home_assistant_hears(hass, peer)
        wait_counts(hass, 20)
    finally:
        peer.close()

    # The broker goes away: the board keeps its events in its backlog.
    broker.stop()
    offline = board.door(5, spacing_s=DOOR_STEP_S)
    assert [r["published_events"] for r in offline] == [0] * 5
    assert all(r["error"] for r in offline)
    broker.start()

    peer = MqttPeer(broker.host, broker.port, f"{TOPIC}/#")
    try:
        # Home Assistant reconnects on its own timer; the retained state it gets
        # back on resubscribing moves last seen.
        _wait_home_assistant_hears(hass, peer)
        reports = board.door(25, spacing_s=DOOR_STEP_S)
        assert reports[0]["published_events"] == 6  # the backlog plus the new one
        batches = peer.received(f"{TOPIC}/events")
        for batch in (batches[0], batches[0], *batches[10:14]):
            peer.publish(batch.topic, batch.payload)
        _wait_home_assistant_hears(hass, peer)
    finally:
        peer.close()

    wait_counts(hass, EVENTS_TOTAL)
    door = hass.client.state(DOOR_EVENT)
    assert door is not None
    assert door["attributes"]["event_type"] == "door_moved"
    # The counts stay: no late trigger or duplicate arrives afterwards.
    time.sleep(1)
    for entity_id in (TOTAL, TODAY, DOOR_COUNTER):
        assert entity_value(hass, entity_id) == str(EVENTS_TOTAL)


def _render(message: dict[str, Any], board: SimulatedBoard) -> Image.Image:
    """Render a display message the way the board's screen shows it."""
    lines, chars = screen.budget(FONT_PATH)
    content = view.compose(
        message,
        message["gen"],
        [],
        now=message["time"],
        clock_ok=True,
        battery_v=board.battery_v,
        max_lines=lines,
        max_chars=chars,
    )
    display = PaperDisplay()
    try:
        screen.show(display, FONT_PATH, content)
        assert display.image is not None
        return display.image.convert("L")
    finally:
        display.release()


def test_retained_display_reaches_board_and_png_shows_forecast_and_count(
    hass: HassProcess, board: SimulatedBoard, broker: Broker
) -> None:
    peer = MqttPeer(broker.host, broker.port, f"{TOPIC}/display")
    try:
        message = peer.wait_for(f"{TOPIC}/display")
    finally:
        peer.close()
    assert message.retain
    published = message.json()
    assert published["today"] == EVENTS_TOTAL
    assert published["total"] == EVENTS_TOTAL
    assert published["source"] in ("local", "openai")
    forecast = [
        state
        for state in hass.client.states()
        if state["entity_id"].startswith("sensor.") and "forecast" in state["entity_id"]
    ]
    if forecast:
        # With the forecast writer in the hub, the lines are the forecast text.
        assert published["lines"], "the display message carries no forecast lines"

    report = board.wake("timer")
    assert report["display_received"]
    shown = Image.open(board.png_path).convert("L")
    assert ImageChops.difference(shown, _render(published, board)).getbbox() is None
    one_less = dict(published, today=EVENTS_TOTAL - 1, total=EVENTS_TOTAL - 1)
    assert ImageChops.difference(shown, _render(one_less, board)).getbbox()


def test_restarted_home_assistant_keeps_counts(
    hass: HassProcess, board: SimulatedBoard, broker: Broker
) -> None:
    hass.restart()

    for entity_id in (TOTAL, TODAY, DOOR_COUNTER):
        assert entity_value(hass, entity_id) == str(EVENTS_TOTAL)
    [entry] = hass.client.config_entries("iot_porter")
    assert entry["state"] == "loaded"

    # Home Assistant subscribes a few seconds after it reports RUNNING, with a
    # clean MQTT session: a board that publishes before that is not heard.
    peer = MqttPeer(broker.host, broker.port, f"{TOPIC}/state")
    try:
        _wait_home_assistant_hears(hass, peer)
    finally:
        peer.close()
    [report] = board.door(1, spacing_s=DOOR_STEP_S)
    assert report["published_events"] == 1
    wait_counts(hass, EVENTS_TOTAL + 1)


def _device_examples() -> list[tuple[str, dict[str, Any]]]:
    """Return the invalid contract examples for the board-to-HA topics."""
    found = []
    for path in sorted((EXAMPLES / "invalid").glob("*.json")):
        example = json.loads(path.read_text())
        if example["kind"] in ("events", "state"):
            found.append((path.stem, example))
    return found


def test_bad_payloads_change_nothing_and_home_assistant_stays_healthy(
    hass: HassProcess, broker: Broker
) -> None:
    expected = str(EVENTS_TOTAL + 1)
    examples = _device_examples()
    assert len(examples) >= 10
    peer = MqttPeer(broker.host, broker.port, f"{TOPIC}/state")
    try:
        for _name, example in examples:
            if "payload_text" in example:
                payload = str(example["payload_text"]).encode()
            else:
                payload = json.dumps(example["payload"]).encode()
            topic = f"iot_porter/{example['device_id']}/{example['kind']}"
            peer.publish(topic, payload)
        _wait_home_assistant_hears(hass, peer)
    finally:
        peer.close()

    for entity_id in (TOTAL, TODAY, DOOR_COUNTER):
        assert entity_value(hass, entity_id) == expected
    assert hass.client.get("/api/")["message"] == "API running."
    assert hass.client.get("/api/config")["state"] == "RUNNING"
    assert entity_value(hass, "sensor.front_door_battery") not in (
        "unknown",
        "unavailable",
    )
    assert hass.integration_errors() == []
    warnings = "\n".join(r.text for r in hass.log_records("WARNING"))
    assert "Dropped a message from front-door" in warnings
