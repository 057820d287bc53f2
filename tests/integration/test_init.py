"""Hub lifecycle: setup, restore, silence, repairs, services, displays, removal."""

from __future__ import annotations

from datetime import timedelta
import json
import logging
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.iot_porter.const import DOMAIN

from .helpers import send_events, send_state, state_of

TOTAL = "sensor.front_door_door_events"
TODAY = "sensor.front_door_door_events_today"
BATTERY = "sensor.front_door_battery"
CONNECTIVITY = "binary_sensor.front_door_connectivity"


def _board_device(
    device_registry: dr.DeviceRegistry, entry_id: str, board: str = "front-door"
) -> dr.DeviceEntry | None:
    """Find a board's device without the lookups newer releases deprecate."""
    return next(
        (
            device
            for device in dr.async_entries_for_config_entry(device_registry, entry_id)
            if (DOMAIN, board) in device.identifiers
        ),
        None,
    )


def _published_displays(mqtt_mock: Any, device: str = "front-door") -> list[dict]:
    return [
        json.loads(call.args[1])
        for call in mqtt_mock.async_publish.call_args_list
        if call.args[0] == f"iot_porter/{device}/display" and call.args[1]
    ]


async def test_setup_waits_for_mqtt(
    hass: HomeAssistant, mqtt_ready: Any, config_entry: MockConfigEntry
) -> None:
    with patch(
        "homeassistant.components.mqtt.async_wait_for_mqtt_client", return_value=False
    ):
        await hass.config_entries.async_setup(config_entry.entry_id)
        await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.SETUP_RETRY


async def test_unload_writes_counts_and_removes_subscriptions(
    hass: HomeAssistant, setup_hub, hass_storage: dict[str, Any]
) -> None:
    entry = await setup_hub()
    await send_events(hass, [1, 2, 3])
    assert await hass.config_entries.async_unload(entry.entry_id)
    stored = hass_storage[f"{DOMAIN}.{entry.entry_id}"]["data"]
    assert stored["boards"]["front-door"]["total"] == 3
    await send_events(hass, [4])
    assert stored["boards"]["front-door"]["total"] == 3


async def test_counts_are_restored_from_storage(
    hass: HomeAssistant,
    mqtt_ready: Any,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    today = dt_util.now().date().isoformat()
    hass_storage[f"{DOMAIN}.{config_entry.entry_id}"] = {
        "version": 1,
        "key": f"{DOMAIN}.{config_entry.entry_id}",
        "data": {
            "boards": {
                "front-door": {
                    "total": 41,
                    "today": 4,
                    "today_date": today,
                    "last_event": None,
                    "last_seen": None,
                    "window": {"gen": 7, "highest": 40, "seen": [[0, 40]]},
                    "duplicates": 0,
                    "state": None,
                }
            }
        },
    }
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert state_of(hass, TOTAL) == "41"
    await send_events(hass, [40, 41])
    assert state_of(hass, TOTAL) == "42"
    assert state_of(hass, TODAY) == "5"


async def test_today_resets_at_local_midnight_and_total_does_not(
    hass: HomeAssistant, setup_hub, freezer: FrozenDateTimeFactory
) -> None:
    await hass.config.async_set_time_zone("Europe/Stockholm")
    freezer.move_to("2026-12-03 22:30:00+00:00")
    await setup_hub()
    await send_events(hass, [1, 2])
    assert state_of(hass, TODAY) == "2"
    freezer.move_to("2026-12-03 23:00:01+00:00")
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert state_of(hass, TODAY) == "0"
    assert state_of(hass, TOTAL) == "2"


async def test_backlog_from_yesterday_counts_in_total_but_not_today(
    hass: HomeAssistant, setup_hub, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to("2026-12-03 12:00:00+00:00")
    await setup_hub()
    yesterday = int(dt_util.parse_datetime("2026-12-02T12:00:00+00:00").timestamp())
    await send_events(hass, [1, 2], ts=yesterday)
    await send_events(hass, [3])
    assert state_of(hass, TOTAL) == "3"
    assert state_of(hass, TODAY) == "1"
    assert state_of(hass, "sensor.front_door_last_door_event") == (
        "2026-12-03T12:00:00+00:00"
    )


async def test_board_clock_in_the_future_is_not_trusted(
    hass: HomeAssistant, setup_hub, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to("2026-12-03 12:00:00+00:00")
    await setup_hub()
    await send_events(hass, [1], ts=int(dt_util.utcnow().timestamp()) + 86400)
    assert state_of(hass, TODAY) == "1"
    assert state_of(hass, "sensor.front_door_last_door_event") == (
        "2026-12-03T12:00:00+00:00"
    )


async def test_silent_board_goes_unavailable_logs_once_and_recovers(
    hass: HomeAssistant,
    setup_hub,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    issue_registry: ir.IssueRegistry,
) -> None:
    await setup_hub()
    await send_state(hass, interval_s=600)
    await send_events(hass, [1])
    assert state_of(hass, CONNECTIVITY) == "on"
    caplog.clear()
    for _ in range(4):
        freezer.tick(timedelta(minutes=10))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
    assert state_of(hass, BATTERY) == "unavailable"
    assert state_of(hass, CONNECTIVITY) == "off"
    assert state_of(hass, TOTAL) == "1"
    silent_logs = [r for r in caplog.records if "has not reported" in r.message]
    assert len(silent_logs) == 1 and silent_logs[0].levelno == logging.INFO
    assert issue_registry.async_get_issue(DOMAIN, "board_silent_front-door") is None

    freezer.tick(timedelta(days=3))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, "board_silent_front-door")

    await send_state(hass, interval_s=600)
    assert state_of(hass, BATTERY) != "unavailable"
    assert state_of(hass, CONNECTIVITY) == "on"
    assert [r.levelno for r in caplog.records if "reporting again" in r.message] == [
        logging.INFO
    ]
    assert issue_registry.async_get_issue(DOMAIN, "board_silent_front-door") is None


async def test_old_firmware_raises_a_repair_issue_until_updated(
    hass: HomeAssistant, setup_hub, issue_registry: ir.IssueRegistry
) -> None:
    await setup_hub()
    await send_state(hass, fw="0.9.0")
    issue = issue_registry.async_get_issue(DOMAIN, "firmware_outdated_front-door")
    assert issue is not None
    assert issue.translation_placeholders["version"] == "0.9.0"
    await send_state(hass, fw="1.0.0")
    assert not issue_registry.async_get_issue(DOMAIN, "firmware_outdated_front-door")


async def test_display_is_published_retained_with_counts(
    hass: HomeAssistant, setup_hub, mqtt_ready: Any
) -> None:
    await setup_hub()
    await send_state(hass)
    await send_events(hass, [5, 6])
    await hass.async_block_till_done()
    displays = _published_displays(mqtt_ready)
    assert displays[-1]["today"] == 2 and displays[-1]["total"] == 2
    assert (displays[-1]["seq"], displays[-1]["gen"]) == (6, 7)
    call = mqtt_ready.async_publish.call_args_list[-1]
    assert call.args[2:] == (1, True)
    published = len(displays)
    await send_events(hass, [5, 6])
    await send_state(hass)
    assert len(_published_displays(mqtt_ready)) == published


async def test_reset_counter_zeroes_counts_but_not_sequences(
    hass: HomeAssistant, setup_hub, device_registry: dr.DeviceRegistry
) -> None:
    entry = await setup_hub()
    await send_events(hass, [1, 2, 3])
    device = _board_device(device_registry, entry.entry_id)
    assert device is not None
    await hass.services.async_call(
        DOMAIN, "reset_counter", {"device_id": device.id}, blocking=True
    )
    assert state_of(hass, TOTAL) == "0"
    await send_events(hass, [3, 4])
    assert state_of(hass, TOTAL) == "1"


async def test_reset_counter_rejects_unknown_devices(
    hass: HomeAssistant, setup_hub, device_registry: dr.DeviceRegistry
) -> None:
    entry = await setup_hub()
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "reset_counter", {"device_id": "nope"}, blocking=True
        )
    assert err.value.translation_key == "unknown_device"
    other = device_registry.async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={("other", "x")}
    )
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            DOMAIN, "reset_counter", {"device_id": other.id}, blocking=True
        )


async def test_reset_counter_needs_a_loaded_hub(
    hass: HomeAssistant, setup_hub, device_registry: dr.DeviceRegistry
) -> None:
    entry = await setup_hub()
    await send_events(hass, [1])
    device = _board_device(device_registry, entry.entry_id)
    assert device is not None
    await hass.config_entries.async_unload(entry.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "reset_counter", {"device_id": device.id}, blocking=True
        )
    assert err.value.translation_key == "entry_not_loaded"


async def test_stale_board_can_be_removed(
    hass: HomeAssistant,
    setup_hub,
    mqtt_ready: Any,
    device_registry: dr.DeviceRegistry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    assert await async_setup_component(hass, "config", {})
    entry = await setup_hub()
    await send_events(hass, [1])
    device = _board_device(device_registry, entry.entry_id)
    assert device is not None
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {
            "type": "config/device_registry/remove_config_entry",
            "config_entry_id": entry.entry_id,
            "device_id": device.id,
        }
    )
    response = await client.receive_json()
    assert response["success"]
    await hass.async_block_till_done()
    assert "front-door" not in entry.runtime_data.coordinator.boards
    cleared = mqtt_ready.async_publish.call_args_list[-1]
    assert cleared.args[:2] == ("iot_porter/front-door/display", "")


async def test_diagnostics_show_boards_and_redact_secrets(
    hass: HomeAssistant, setup_hub, hass_client
) -> None:
    entry = await setup_hub()
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, "api_key": "sk-secret"}
    )
    await hass.async_block_till_done()
    await send_events(hass, [1, 1])
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert diagnostics["entry"]["data"]["api_key"] == "**REDACTED**"
    assert "sk-secret" not in json.dumps(diagnostics)
    board = diagnostics["boards"]["front-door"]
    assert (board["total"], board["duplicates"]) == (1, 1)


async def test_removing_the_hub_deletes_its_stored_counts(
    hass: HomeAssistant, setup_hub, hass_storage: dict[str, Any]
) -> None:
    entry = await setup_hub()
    await send_events(hass, [1])
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert f"{DOMAIN}.{entry.entry_id}" in hass_storage
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert f"{DOMAIN}.{entry.entry_id}" not in hass_storage
