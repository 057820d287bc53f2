"""Helpers to talk to the hub the way a board does."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
import json

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    async_fire_mqtt_message,
    async_fire_time_changed,
)

from custom_components.iot_porter.const import DISPLAY_COALESCE_S

STATE = {
    "v": 1,
    "fw": "1.0.0",
    "battery_v": 3.95,
    "rssi": -58,
    "wake": "motion",
    "error": None,
    "screen": {"lines": 5, "chars": 24},
    "interval_s": 3600,
}


def events_payload(seqs: Iterable[int], gen: int = 7, ts: int | None = None) -> str:
    """Return a door event batch for the given sequence numbers."""
    return json.dumps(
        {"v": 1, "gen": gen, "events": [{"seq": s, "ts": ts} for s in seqs]}
    )


async def flush_displays(hass: HomeAssistant) -> None:
    """Let display messages held back by burst coalescing go out."""
    async_fire_time_changed(
        hass, dt_util.utcnow() + timedelta(seconds=DISPLAY_COALESCE_S + 0.5)
    )
    await hass.async_block_till_done()


async def send_events(
    hass: HomeAssistant,
    seqs: Iterable[int],
    device: str = "front-door",
    gen: int = 7,
    ts: int | None = None,
) -> None:
    """Deliver one door event batch from a board."""
    async_fire_mqtt_message(
        hass, f"iot_porter/{device}/events", events_payload(seqs, gen, ts), qos=1
    )
    await hass.async_block_till_done()
    await flush_displays(hass)


async def send_state(
    hass: HomeAssistant, device: str = "front-door", **changes: object
) -> None:
    """Deliver a device state message from a board."""
    async_fire_mqtt_message(
        hass, f"iot_porter/{device}/state", json.dumps(STATE | changes), qos=1
    )
    await hass.async_block_till_done()
    await flush_displays(hass)


def state_of(hass: HomeAssistant, entity_id: str) -> str:
    """Return an entity's state, failing clearly when it does not exist."""
    state = hass.states.get(entity_id)
    assert state is not None, f"{entity_id} does not exist"
    return state.state
