"""The hub puts forecast text on every board's display, and reacts to OpenAI."""

from __future__ import annotations

from datetime import timedelta
import json
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.iot_porter.const import (
    CONF_API_KEY,
    CONF_BASE_TOPIC,
    CONF_BASE_URL,
    CONF_LANGUAGE,
    CONF_WEATHER_ENTITY,
    DOMAIN,
)
from custom_components.iot_porter.protocol import decode

from ..helpers import flush_displays, send_events, send_state, state_of
from .fake_openai import QUOTA, VALID_KEY, FakeOpenAI, text
from .weather_entities import NOW

SUMMARY = "sensor.front_door_forecast_summary"
DISPLAY_TEXT = "sensor.front_door_display_text"
GOOD = "Dry until 18, then rain. 2 to 6 °C. Wind rising in the evening."


@pytest.fixture(autouse=True)
def frozen_now(
    mqtt_ready: Any, freezer: FrozenDateTimeFactory
) -> FrozenDateTimeFactory:
    """Pin the clock to the Stockholm test afternoon, once MQTT is imported."""
    freezer.move_to(NOW)
    return freezer


def _hub(
    hass: HomeAssistant, data: dict[str, Any] | None = None, **options: Any
) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=DOMAIN,
        data={CONF_BASE_TOPIC: "iot_porter", **(data or {})},
        options={CONF_WEATHER_ENTITY: "weather.stockholm", **options},
    )
    entry.add_to_hass(hass)
    return entry


async def _start(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def _refresh(hass: HomeAssistant) -> None:
    await hass.services.async_call(DOMAIN, "refresh_forecast", {}, blocking=True)
    await flush_displays(hass)


def _displays(mqtt_mock: Any, device: str = "front-door") -> list[dict[str, Any]]:
    return [
        decode("display", call.args[1])
        for call in mqtt_mock.async_publish.call_args_list
        if call.args[0] == f"iot_porter/{device}/display" and call.args[1]
    ]


def _device_id(hass: HomeAssistant, entry: MockConfigEntry, board: str) -> str:
    registry = dr.async_get(hass)
    for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
        if (DOMAIN, board) in device.identifiers:
            return device.id
    raise AssertionError(f"no device for {board}")


async def test_local_summary_reaches_the_display_without_a_key(
    hass: HomeAssistant, weather, mqtt_ready: Any
) -> None:
    await _start(hass, _hub(hass))
    await send_state(hass)
    await _refresh(hass)
    display = _displays(mqtt_ready)[-1]
    assert display["source"] == "local"
    assert display["lines"] and all(len(line) <= 24 for line in display["lines"])
    assert len(display["lines"]) <= 5
    assert "18" in " ".join(display["lines"])
    assert state_of(hass, SUMMARY) == " ".join(display["lines"])
    summary = hass.states.get(SUMMARY)
    assert summary is not None and summary.attributes["source"] == "local"


async def test_swedish_household_gets_swedish_text(
    hass: HomeAssistant, weather, mqtt_ready: Any
) -> None:
    hass.config.language = "sv"
    await _start(hass, _hub(hass))
    await send_state(hass)
    await _refresh(hass)
    text_ = " ".join(_displays(mqtt_ready)[-1]["lines"])
    assert "kl 18" in text_ or "regn" in text_.lower()
    assert "rain" not in text_.lower()


async def test_language_option_overrides_home_assistant(
    hass: HomeAssistant, weather, mqtt_ready: Any
) -> None:
    hass.config.language = "sv"
    await _start(hass, _hub(hass, **{CONF_LANGUAGE: "en"}))
    await send_state(hass)
    await _refresh(hass)
    assert "rain" in " ".join(_displays(mqtt_ready)[-1]["lines"]).lower()


async def test_openai_text_is_fitted_and_shared_between_boards(
    hass: HomeAssistant,
    weather,
    mqtt_ready: Any,
    fake_openai: FakeOpenAI,
    hass_client: Any,
) -> None:
    fake_openai.queue(text(GOOD), text(GOOD))
    entry = _hub(
        hass, {CONF_API_KEY: VALID_KEY}, **{CONF_BASE_URL: fake_openai.base_url}
    )
    await _start(hass, entry)
    await send_state(hass)
    await send_state(hass, device="back-door", screen={"lines": 3, "chars": 40})
    await _refresh(hass)
    front = _displays(mqtt_ready)[-1]
    back = _displays(mqtt_ready, "back-door")[-1]
    assert front["source"] == back["source"] == "openai"
    assert all(len(line) <= 24 for line in front["lines"]) and len(front["lines"]) <= 5
    assert all(len(line) <= 40 for line in back["lines"]) and len(back["lines"]) <= 3
    assert " ".join(front["lines"]).startswith("Dry until 18")
    # One call per distinct budget; the scheduled refresh of unchanged data is free.
    calls = len(fake_openai.requests)
    assert calls == 2
    async_fire_time_changed(hass, NOW + timedelta(minutes=31))
    await hass.async_block_till_done()
    assert len(fake_openai.requests) == calls
    summary = hass.states.get(SUMMARY)
    assert summary is not None
    assert summary.attributes["tokens"] == 212
    assert summary.attributes["model"]
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert diagnostics["entry"]["data"][CONF_API_KEY] == "**REDACTED**"
    assert VALID_KEY not in json.dumps(diagnostics)
    usage = diagnostics["forecast"]["usage"]
    assert (usage["calls_total"], usage["tokens"]["total"]) == (2, 424)
    assert usage["skipped_total"] >= 2


async def test_refused_key_starts_reauth_and_shows_the_local_summary(
    hass: HomeAssistant, weather, mqtt_ready: Any, fake_openai: FakeOpenAI
) -> None:
    entry = _hub(
        hass, {CONF_API_KEY: "sk-wrong"}, **{CONF_BASE_URL: fake_openai.base_url}
    )
    await _start(hass, entry)
    await send_state(hass)
    await _refresh(hass)
    assert _displays(mqtt_ready)[-1]["source"] == "local"
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


async def test_exhausted_quota_raises_a_repair_issue_until_openai_works(
    hass: HomeAssistant,
    weather,
    mqtt_ready: Any,
    fake_openai: FakeOpenAI,
    issue_registry: ir.IssueRegistry,
) -> None:
    fake_openai.queue(QUOTA, text(GOOD))
    entry = _hub(
        hass, {CONF_API_KEY: VALID_KEY}, **{CONF_BASE_URL: fake_openai.base_url}
    )
    await _start(hass, entry)
    await send_state(hass)
    await _refresh(hass)
    assert issue_registry.async_get_issue(DOMAIN, "openai_quota") is not None
    assert _displays(mqtt_ready)[-1]["source"] == "local"
    await _refresh(hass)
    assert issue_registry.async_get_issue(DOMAIN, "openai_quota") is None
    assert _displays(mqtt_ready)[-1]["source"] == "openai"


async def test_message_replaces_the_forecast_until_it_expires(
    hass: HomeAssistant,
    weather,
    mqtt_ready: Any,
    frozen_now: FrozenDateTimeFactory,
) -> None:
    await _start(hass, _hub(hass))
    await send_state(hass)
    await _refresh(hass)
    await hass.services.async_call(
        "notify",
        "send_message",
        {"entity_id": "notify.front_door_display", "message": "Parcel at Anna's"},
        blocking=True,
    )
    await hass.async_block_till_done()
    shown = _displays(mqtt_ready)[-1]
    assert (shown["source"], shown["lines"]) == ("message", ["Parcel at Anna's"])
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            "notify",
            "send_message",
            {"entity_id": "notify.front_door_display", "message": "🙂"},
            blocking=True,
        )
    display_text = hass.states.get(DISPLAY_TEXT)
    assert display_text is not None
    assert display_text.attributes["source"] == "message"
    frozen_now.tick(timedelta(minutes=61))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert _displays(mqtt_ready)[-1]["source"] == "local"


async def test_show_message_action_takes_a_duration(
    hass: HomeAssistant,
    weather,
    mqtt_ready: Any,
    frozen_now: FrozenDateTimeFactory,
) -> None:
    entry = _hub(hass)
    await _start(hass, entry)
    await send_state(hass)
    await _refresh(hass)
    device_id = _device_id(hass, entry, "front-door")
    await hass.services.async_call(
        DOMAIN,
        "show_message",
        {"device_id": device_id, "message": "Back at 5", "duration": {"minutes": 5}},
        blocking=True,
    )
    await hass.async_block_till_done()
    assert _displays(mqtt_ready)[-1]["lines"] == ["Back at 5"]
    frozen_now.tick(timedelta(minutes=6))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert _displays(mqtt_ready)[-1]["source"] == "local"
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "show_message",
            {"device_id": device_id, "message": "🙂🙂"},
            blocking=True,
        )
    assert err.value.translation_key == "unusable_message"


async def test_refresh_forecast_needs_a_loaded_hub(
    hass: HomeAssistant, weather, mqtt_ready: Any
) -> None:
    entry = _hub(hass)
    await _start(hass, entry)
    await hass.config_entries.async_unload(entry.entry_id)
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(DOMAIN, "refresh_forecast", {}, blocking=True)


async def test_display_follows_the_counts(
    hass: HomeAssistant, weather, mqtt_ready: Any
) -> None:
    await _start(hass, _hub(hass))
    await send_state(hass)
    await _refresh(hass)
    await send_events(hass, [1, 2, 3])
    display = _displays(mqtt_ready)[-1]
    assert (display["today"], display["total"], display["seq"]) == (3, 3, 3)


async def test_retained_display_payload(
    hass: HomeAssistant, weather, mqtt_ready: Any, snapshot: SnapshotAssertion
) -> None:
    await _start(hass, _hub(hass))
    await send_state(hass)
    await _refresh(hass)
    await send_events(hass, [41, 42])
    call = mqtt_ready.async_publish.call_args_list[-1]
    assert call.args[0] == "iot_porter/front-door/display"
    assert call.args[2:] == (1, True)
    assert json.loads(call.args[1]) == snapshot
