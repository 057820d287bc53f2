"""Door events made while Home Assistant is down are counted once it is back.

Home Assistant's MQTT client keeps no session, so what the board publishes while
Home Assistant is stopped is acknowledged by the broker and delivered to nobody.
The board repeats every event until a display message shows it counted; this
module checks that against a real Mosquitto, a real Home Assistant process and
the simulated MagTag.
"""

from __future__ import annotations

import time

import pytest

from devtools.config import DOOR_COUNTER
from devtools.hass import HassProcess
from devtools.mqtt import MqttPeer
from magtag.porter import persist
from magtag.sim import SimulatedBoard
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

TOPIC = f"iot_porter/{DEVICE_ID}"
DOOR_STEP_S = 60
ONLINE_EVENTS = 2
OFFLINE_EVENTS = 3


def _wait_home_assistant_listens(hass: HassProcess, broker: Broker) -> None:
    """Wait until Home Assistant handles the board's topics again.

    Home Assistant subscribes a few seconds after it reports RUNNING. Republishing
    the board's retained state moves "last seen" only once it listens.
    """
    peer = MqttPeer(broker.host, broker.port, f"{TOPIC}/state")
    try:
        state = peer.wait_for(f"{TOPIC}/state")
        before = entity_value(hass, LAST_SEEN)
        time.sleep(1.1)  # last seen has one-second resolution
        peer.publish(f"{TOPIC}/state", state.payload, retain=True)
        hass.client.wait_for_state(LAST_SEEN, lambda value: value != before)
    finally:
        peer.close()


def _unconfirmed(board: SimulatedBoard) -> list[int]:
    """Return the sequence numbers the board still keeps as not counted."""
    raw = bytearray((board.state_dir / "sleep_memory.bin").read_bytes())
    state = persist.load(raw)
    assert state is not None
    return [seq for seq, _ts in state.unconfirmed]


def _confirm_flow(hass: HassProcess) -> None:
    """Accept the discovery flow the board's first state message started."""
    flows = hass.client.wait_for(
        lambda: [
            flow
            for flow in hass.client.flows_in_progress()
            if flow["handler"] == "iot_porter"
        ],
        what="the IoT Porter discovery flow",
    )
    result = hass.client.flow_step(flows[0]["flow_id"], {})
    assert result["type"] == "create_entry"
    hass.client.wait_for_state(TOTAL, "0")


def test_door_events_while_home_assistant_is_down_are_counted_exactly_once(
    hass: HassProcess, board: SimulatedBoard, broker: Broker
) -> None:
    assert board.wake()["state_published"]
    _confirm_flow(hass)

    online = board.door(ONLINE_EVENTS, spacing_s=DOOR_STEP_S)
    assert [r["published_events"] for r in online] == [1] * ONLINE_EVENTS
    wait_counts(hass, ONLINE_EVENTS)

    hass.stop()
    # The broker is up: every publish is acknowledged, and heard by no one.
    offline = board.door(OFFLINE_EVENTS, spacing_s=DOOR_STEP_S)
    assert [r["published_events"] for r in offline] == [1] * OFFLINE_EVENTS
    assert all(r["error"] is None for r in offline)
    waiting = _unconfirmed(board)
    assert len(waiting) >= OFFLINE_EVENTS

    hass.start()
    expected = ONLINE_EVENTS + OFFLINE_EVENTS
    # The sensors restore the counts from before the stop, not the missed events.
    assert entity_value(hass, TOTAL) == str(ONLINE_EVENTS)
    _wait_home_assistant_listens(hass, broker)

    back = board.wake("timer")
    assert back["published_events"] == 0
    assert back["repeated_events"] >= OFFLINE_EVENTS
    wait_counts(hass, expected)

    # Home Assistant's next display message confirms them; the repeats stop.
    peer = MqttPeer(broker.host, broker.port, f"{TOPIC}/display")
    try:
        hass.client.wait_for(
            lambda: (
                peer.received(f"{TOPIC}/display")
                and peer.received(f"{TOPIC}/display")[-1].json()["seq"] == waiting[-1]
            ),
            what="a display message that counts the last event",
        )
    finally:
        peer.close()
    board.wake("timer")
    assert _unconfirmed(board) == []
    quiet = board.wake("timer")
    assert (quiet["published_events"], quiet["repeated_events"]) == (0, 0)

    # Repeats counted nothing twice, and nothing late arrives.
    time.sleep(1)
    for entity_id in (TOTAL, TODAY, DOOR_COUNTER):
        assert entity_value(hass, entity_id) == str(expected)
    assert hass.integration_errors() == []
