"""Malformed and hostile messages change nothing, are counted and logged once."""

from __future__ import annotations

import logging

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import async_fire_mqtt_message
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)

from .conftest import example_payload, load_examples
from .helpers import send_events, state_of

TOTAL = "sensor.front_door_door_events"
INVALID = [e for e in load_examples("invalid") if e["kind"] != "display"]


async def test_every_invalid_example_is_dropped_and_counted(
    hass: HomeAssistant, setup_hub, hass_client, caplog: pytest.LogCaptureFixture
) -> None:
    entry = await setup_hub()
    await send_events(hass, [1])
    caplog.clear()
    for _ in range(3):
        for example in INVALID:
            async_fire_mqtt_message(
                hass,
                f"iot_porter/{example['device_id']}/{example['kind']}",
                example_payload(example),
            )
    async_fire_mqtt_message(hass, "iot_porter/front-door/events", b"\xff\x00")
    await hass.async_block_till_done()

    assert state_of(hass, TOTAL) == "1"
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    rejected = diagnostics["rejected_messages"]
    expected: dict[str, dict[str, int]] = {}
    for example in INVALID:
        device = (
            "<invalid device id>"
            if example["reject"] == "invalid_device_id"
            else example["device_id"]
        )
        kinds = expected.setdefault(device, {})
        kinds[example["reject"]] = kinds.get(example["reject"], 0) + 3
    expected["front-door"]["invalid_encoding"] = 1
    assert rejected == expected

    warnings = [
        r
        for r in caplog.records
        if r.levelno == logging.WARNING and r.name.startswith("custom_components")
    ]
    assert len(warnings) == sum(len(kinds) for kinds in expected.values())
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_board_keeps_counting_after_bad_messages(
    hass: HomeAssistant, setup_hub
) -> None:
    await setup_hub()
    async_fire_mqtt_message(hass, "iot_porter/front-door/events", "{not json")
    async_fire_mqtt_message(hass, "iot_porter/front-door/events", "x" * 10_000)
    await send_events(hass, [1, 2])
    assert state_of(hass, TOTAL) == "2"


async def test_messages_on_unrelated_suffixes_are_ignored(
    hass: HomeAssistant, setup_hub
) -> None:
    await setup_hub()
    async_fire_mqtt_message(hass, "iot_porter/front-door/display", '{"v":1}')
    await hass.async_block_till_done()
    assert hass.states.get(TOTAL) is None
