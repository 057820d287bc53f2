"""Config, reauth, reconfigure and options flows around the OpenAI key."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.iot_porter import writer
from custom_components.iot_porter.const import (
    CONF_API_KEY,
    CONF_BASE_TOPIC,
    CONF_BASE_URL,
    CONF_DAILY_CAP,
    CONF_LANGUAGE,
    CONF_MESSAGE_MIN,
    CONF_MODEL,
    CONF_REFRESH_MIN,
    CONF_TIMEOUT_S,
    CONF_WEATHER_ENTITY,
    DOMAIN,
)

from .fake_openai import VALID_KEY, FakeOpenAI


@pytest.fixture(autouse=True)
def no_setup():
    """Keep flow tests about the flow: the entry is not set up for real."""
    with patch(
        "custom_components.iot_porter.async_setup_entry", return_value=True
    ) as mock:
        yield mock


@pytest.fixture
def openai_at_fake(fake_openai: FakeOpenAI):
    """Point the flow's key check at the fake server (the user step has no URL)."""
    real = writer.async_create_client

    async def create(hass, api_key, *, base_url=None, http_client=None):
        return await real(hass, api_key, base_url=base_url or fake_openai.base_url)

    with patch("custom_components.iot_porter.config_flow.async_create_client", create):
        yield fake_openai


async def _user_form(hass: HomeAssistant) -> dict[str, Any]:
    return await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )


async def test_user_step_suggests_the_first_weather_entity(
    hass: HomeAssistant, mqtt_ready: Any, weather
) -> None:
    result = await _user_form(hass)
    schema = result["data_schema"].schema
    weather_key = next(key for key in schema if key == CONF_WEATHER_ENTITY)
    assert weather_key.description["suggested_value"] == "weather.daily_only"


async def test_user_step_checks_the_key_and_recovers(
    hass: HomeAssistant, mqtt_ready: Any, openai_at_fake: FakeOpenAI
) -> None:
    result = await _user_form(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_BASE_TOPIC: "iot_porter", CONF_API_KEY: "sk-bad"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    openai_at_fake.quota_exhausted = True
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_BASE_TOPIC: "iot_porter", CONF_API_KEY: VALID_KEY}
    )
    assert result["errors"] == {"base": "quota_exhausted"}
    openai_at_fake.quota_exhausted = False
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_BASE_TOPIC: "iot_porter",
            CONF_API_KEY: VALID_KEY,
            CONF_WEATHER_ENTITY: "weather.stockholm",
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_BASE_TOPIC: "iot_porter", CONF_API_KEY: VALID_KEY}
    assert result["options"] == {CONF_WEATHER_ENTITY: "weather.stockholm"}
    assert openai_at_fake.model_list_calls == 3


async def test_unreachable_openai_is_reported(
    hass: HomeAssistant, mqtt_ready: Any, socket_enabled: Any
) -> None:
    async def create(hass, api_key, *, base_url=None, http_client=None):
        return await writer.async_create_client(
            hass, api_key, base_url="http://127.0.0.1:9/v1"
        )

    with patch("custom_components.iot_porter.config_flow.async_create_client", create):
        result = await _user_form(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_BASE_TOPIC: "iot_porter", CONF_API_KEY: "sk-x"}
        )
    assert result["errors"] == {"base": "cannot_connect"}


def _entry(hass: HomeAssistant, fake: FakeOpenAI, **data: Any) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=DOMAIN,
        data={CONF_BASE_TOPIC: "iot_porter", **data},
        options={CONF_BASE_URL: fake.base_url},
    )
    entry.add_to_hass(hass)
    return entry


async def test_reauth_stores_a_working_key(
    hass: HomeAssistant, mqtt_ready: Any, fake_openai: FakeOpenAI
) -> None:
    entry = _entry(hass, fake_openai, **{CONF_API_KEY: "sk-old"})
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: "sk-still-bad"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: VALID_KEY}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_API_KEY] == VALID_KEY


async def test_reauth_with_an_empty_key_turns_openai_off(
    hass: HomeAssistant, mqtt_ready: Any, fake_openai: FakeOpenAI
) -> None:
    entry = _entry(hass, fake_openai, **{CONF_API_KEY: "sk-old"})
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["reason"] == "reauth_successful"
    assert CONF_API_KEY not in entry.data


async def test_reconfigure_checks_a_new_key(
    hass: HomeAssistant, mqtt_ready: Any, fake_openai: FakeOpenAI
) -> None:
    entry = _entry(hass, fake_openai)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_BASE_TOPIC: "iot_porter", CONF_API_KEY: "sk-bad"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_BASE_TOPIC: "iot_porter", CONF_API_KEY: VALID_KEY}
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == {CONF_BASE_TOPIC: "iot_porter", CONF_API_KEY: VALID_KEY}


async def test_options_flow_stores_the_forecast_settings(
    hass: HomeAssistant, mqtt_ready: Any, fake_openai: FakeOpenAI, weather
) -> None:
    entry = _entry(hass, fake_openai)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "forecast"}
    )
    assert result["type"] is FlowResultType.FORM
    settings = {
        CONF_WEATHER_ENTITY: "weather.stockholm",
        CONF_LANGUAGE: "sv",
        CONF_MODEL: "gpt-5-mini",
        CONF_REFRESH_MIN: 15,
        CONF_DAILY_CAP: 10,
        CONF_MESSAGE_MIN: 30,
        CONF_TIMEOUT_S: 15,
        CONF_BASE_URL: "http://127.0.0.1:8080/v1",
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], settings
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == settings


async def test_forecast_options_can_be_cleared(
    hass: HomeAssistant, mqtt_ready: Any, fake_openai: FakeOpenAI
) -> None:
    entry = _entry(hass, fake_openai)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "forecast"}
    )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_LANGUAGE: "auto",
            CONF_MODEL: "gpt-4o-mini",
            CONF_REFRESH_MIN: 30,
            CONF_DAILY_CAP: 24,
            CONF_MESSAGE_MIN: 60,
            CONF_TIMEOUT_S: 20,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert CONF_BASE_URL not in entry.options
