"""The config flow: user setup, discovery, single hub, reconfigure."""

from __future__ import annotations

import json
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_MQTT, SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.mqtt import MqttServiceInfo
import pytest

from custom_components.iot_porter.const import CONF_BASE_TOPIC, DOMAIN

from .helpers import STATE


def _discovery(topic: str, payload: str) -> MqttServiceInfo:
    return MqttServiceInfo(
        topic=topic,
        payload=payload,
        qos=1,
        retain=True,
        subscribed_topic="iot_porter/+/state",
        timestamp=0,
    )


@pytest.fixture(autouse=True)
def no_setup():
    """Keep flow tests about the flow: the entry is not set up for real."""
    with patch(
        "custom_components.iot_porter.async_setup_entry", return_value=True
    ) as mock:
        yield mock


async def test_user_flow_creates_the_hub(hass: HomeAssistant, mqtt_ready: Any) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_BASE_TOPIC: " home/porter "}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_BASE_TOPIC: "home/porter"}
    assert result["result"].unique_id == DOMAIN


async def test_user_flow_recovers_from_an_invalid_base_topic(
    hass: HomeAssistant, mqtt_ready: Any
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_BASE_TOPIC: "porter/#"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_BASE_TOPIC: "invalid_base_topic"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_BASE_TOPIC: "iot_porter"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_user_flow_needs_mqtt(hass: HomeAssistant) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "mqtt_not_configured"


async def test_second_hub_is_refused(
    hass: HomeAssistant, mqtt_ready: Any, config_entry
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "single_instance_allowed"


async def test_discovered_board_offers_the_hub(
    hass: HomeAssistant, mqtt_ready: Any
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_MQTT},
        data=_discovery("iot_porter/front-door/state", json.dumps(STATE)),
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "confirm"
    assert result["description_placeholders"] == {"device_id": "front-door"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_BASE_TOPIC: "iot_porter"}


@pytest.mark.parametrize(
    ("topic", "payload"),
    [
        ("iot_porter/Front Door/state", json.dumps(STATE)),
        ("iot_porter/front-door/state", "{}"),
        ("iot_porter/front-door/state", json.dumps(STATE | {"wake": "door"})),
    ],
)
async def test_invalid_discovery_is_aborted(
    hass: HomeAssistant, mqtt_ready: Any, topic: str, payload: str
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_MQTT}, data=_discovery(topic, payload)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "invalid_discovery_info"


async def test_discovery_after_setup_is_aborted(
    hass: HomeAssistant, mqtt_ready: Any, config_entry
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_MQTT},
        data=_discovery("iot_porter/back-door/state", json.dumps(STATE)),
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] in {"single_instance_allowed", "already_configured"}


async def test_reconfigure_changes_the_base_topic(
    hass: HomeAssistant, mqtt_ready: Any, config_entry
) -> None:
    result = await config_entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_BASE_TOPIC: "a/b/c/d/e/f"}
    )
    assert result["errors"] == {CONF_BASE_TOPIC: "invalid_base_topic"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_BASE_TOPIC: "house/porter"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert config_entry.data[CONF_BASE_TOPIC] == "house/porter"
