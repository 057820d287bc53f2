"""Door events are counted exactly once, across batches, replays and restarts."""

from __future__ import annotations

import random

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import async_capture_events

from .helpers import send_events, send_state, state_of

TOTAL = "sensor.front_door_door_events"
TODAY = "sensor.front_door_door_events_today"
EVENT = "event.front_door_door"


async def test_first_batch_creates_the_board_and_counts(
    hass: HomeAssistant, setup_hub, entity_registry: er.EntityRegistry
) -> None:
    await setup_hub()
    await send_events(hass, [1, 2, 3])
    assert state_of(hass, TOTAL) == "3"
    assert state_of(hass, TODAY) == "3"
    entry = entity_registry.async_get(TOTAL)
    assert entry is not None and entry.unique_id == "front-door_door_events_total"


async def test_duplicate_event_is_counted_once(hass: HomeAssistant, setup_hub) -> None:
    await setup_hub()
    await send_events(hass, [5, 5, 6])
    await send_events(hass, [5, 6])
    assert state_of(hass, TOTAL) == "2"


async def test_thousand_events_with_duplicates_and_shuffled_batches_count_exactly(
    hass: HomeAssistant, setup_hub
) -> None:
    await setup_hub()
    rng = random.Random(20261203)
    seqs = list(range(1000))
    deliveries = seqs + rng.sample(seqs, 100)
    rng.shuffle(deliveries)
    batches = [deliveries[i : i + 37] for i in range(0, len(deliveries), 37)]
    state_changes = async_capture_events(hass, "state_changed")
    for batch in batches:
        await send_events(hass, batch)
    assert state_of(hass, TOTAL) == "1000"
    assert state_of(hass, TODAY) == "1000"
    fired = [
        e
        for e in state_changes
        if e.data["entity_id"] == EVENT and e.data["new_state"].state != "unknown"
    ]
    assert len(fired) == 1000
    assert sorted(e.data["new_state"].attributes["sequence"] for e in fired) == seqs


async def test_counts_survive_a_restart_between_batches(
    hass: HomeAssistant, setup_hub, config_entry
) -> None:
    await setup_hub()
    await send_events(hass, range(10))
    assert await hass.config_entries.async_unload(config_entry.entry_id)
    await hass.async_block_till_done()
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert state_of(hass, TOTAL) == "10"
    # The board replays part of the old backlog together with new events.
    await send_events(hass, range(5, 15))
    assert state_of(hass, TOTAL) == "15"
    assert state_of(hass, TODAY) == "15"


async def test_sequence_gap_after_power_loss_loses_nothing(
    hass: HomeAssistant, setup_hub
) -> None:
    await setup_hub()
    await send_events(hass, [0, 1, 2])
    # After power loss the board continues from its next reserved block.
    await send_events(hass, [64, 65])
    await send_events(hass, [2, 64])
    assert state_of(hass, TOTAL) == "5"


async def test_new_generation_keeps_counting_and_ignores_old_replays(
    hass: HomeAssistant, setup_hub
) -> None:
    await setup_hub()
    await send_events(hass, [10, 11], gen=1)
    await send_events(hass, [0, 1], gen=2)
    await send_events(hass, [12], gen=1)
    assert state_of(hass, TOTAL) == "4"


async def test_events_older_than_the_window_are_treated_as_replays(
    hass: HomeAssistant, setup_hub
) -> None:
    await setup_hub()
    await send_events(hass, [10_000])
    await send_events(hass, [1])
    assert state_of(hass, TOTAL) == "1"


async def test_event_entity_fires_once_per_counted_event(
    hass: HomeAssistant, setup_hub
) -> None:
    await setup_hub()
    changes = async_capture_events(hass, "state_changed")
    await send_events(hass, [1, 2])
    await send_events(hass, [2])
    fired = [
        e
        for e in changes
        if e.data["entity_id"] == EVENT and e.data["new_state"].state != "unknown"
    ]
    assert [e.data["new_state"].attributes["sequence"] for e in fired] == [1, 2]
    assert fired[-1].data["new_state"].attributes["event_type"] == "door_moved"


async def test_state_message_alone_creates_the_device(
    hass: HomeAssistant, setup_hub
) -> None:
    await setup_hub()
    await send_state(hass, device="back-door")
    assert state_of(hass, "sensor.back_door_door_events") == "0"
    assert state_of(hass, "sensor.back_door_battery") == "73"
