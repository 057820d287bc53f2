"""The hub feeds the AWS IoT mirror; its options flow checks what is pasted."""

from __future__ import annotations

import json
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)

from custom_components.iot_porter.aws_certs import (
    CONF_AWS_CA,
    CONF_AWS_CERTIFICATE,
    CONF_AWS_PRIVATE_KEY,
)
from custom_components.iot_porter.aws_mirror import (
    CONF_AWS_ENABLED,
    CONF_AWS_ENDPOINT,
    CONF_AWS_PORT,
    CONF_AWS_QUEUE_LIMIT,
    CONF_AWS_THING,
    CONF_AWS_TOPIC_PREFIX,
)
from custom_components.iot_porter.const import CONF_BASE_TOPIC, DOMAIN

from ..helpers import send_events, state_of
from .cable import Cable
from .certs import Issued
from .conftest import Observer, Pki, wait_until

MIRROR = "binary_sensor.iot_porter_aws_iot_mirror"


def _mirror_options(pki: Pki, identity: Issued, port: int) -> dict[str, Any]:
    return {
        CONF_AWS_ENABLED: True,
        CONF_AWS_ENDPOINT: "127.0.0.1",
        CONF_AWS_PORT: port,
        CONF_AWS_THING: "front-door",
        CONF_AWS_TOPIC_PREFIX: "iot_porter",
        CONF_AWS_CERTIFICATE: identity.certificate,
        CONF_AWS_PRIVATE_KEY: identity.private_key,
        CONF_AWS_CA: pki.ca.pem,
        CONF_AWS_QUEUE_LIMIT: 100,
    }


def _entry(hass: HomeAssistant, options: dict[str, Any]) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=DOMAIN,
        data={CONF_BASE_TOPIC: "iot_porter"},
        options=options,
    )
    entry.add_to_hass(hass)
    return entry


async def test_counted_events_and_texts_reach_aws_once(
    hass: HomeAssistant,
    mqtt_ready: Any,
    pki: Pki,
    cable: Cable,
    observer: Observer,
    hass_client: Any,
) -> None:
    entry = _entry(hass, _mirror_options(pki, pki.things["front-door"], cable.port))
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await send_events(hass, [1, 2, 2, 3], device="porch")
    await send_events(hass, [3], device="porch")
    topic = "iot_porter/front-door/door"
    await wait_until(lambda: len(observer.payloads(topic)) >= 3, "three events")
    door = observer.payloads(topic)
    assert [(m["device"], m["seq"]) for m in door] == [
        ("porch", 1),
        ("porch", 2),
        ("porch", 3),
    ]
    assert [m["total"] for m in door] == [1, 2, 3]

    await hass.services.async_call(DOMAIN, "refresh_forecast", {}, blocking=True)
    forecast_topic = "iot_porter/front-door/forecast"
    await wait_until(lambda: observer.payloads(forecast_topic), "a forecast text")
    assert observer.payloads(forecast_topic)[0]["device"] == "porch"
    await wait_until(lambda: state_of(hass, MIRROR) == "on", "the mirror is on")

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    text = json.dumps(diagnostics)
    assert "PRIVATE KEY" not in text and "BEGIN CERTIFICATE" not in text
    assert diagnostics["entry"]["options"][CONF_AWS_ENDPOINT] == "**REDACTED**"
    assert diagnostics["aws_mirror"] is not None


async def test_refused_certificate_raises_a_repair_issue(
    hass: HomeAssistant,
    mqtt_ready: Any,
    pki: Pki,
    cable: Cable,
    issue_registry: ir.IssueRegistry,
) -> None:
    entry = _entry(hass, _mirror_options(pki, pki.rogue_front_door, cable.port))
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await wait_until(
        lambda: (
            issue_registry.async_get_issue(DOMAIN, "aws_certificate_rejected")
            is not None
        ),
        "the certificate issue appears",
    )
    assert state_of(hass, MIRROR) == "off"


async def test_incomplete_mirror_settings_fail_setup_with_a_reason(
    hass: HomeAssistant, mqtt_ready: Any
) -> None:
    entry = _entry(hass, {CONF_AWS_ENABLED: True, CONF_AWS_ENDPOINT: "x.example"})
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.reason is not None
    assert entry.reason.startswith("The AWS IoT Core mirror settings are incomplete")


async def _mirror_step(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, Any]:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    return await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "aws_mirror"}
    )


async def test_mirror_options_check_the_pasted_pems(
    hass: HomeAssistant, mqtt_ready: Any, pki: Pki
) -> None:
    entry = _entry(hass, {"language": "sv"})
    result = await _mirror_step(hass, entry)
    assert result["step_id"] == "aws_mirror"
    settings = _mirror_options(pki, pki.things["front-door"], 8883)
    settings[CONF_AWS_PORT] = "8883"
    wrong_key = {
        **settings,
        CONF_AWS_PRIVATE_KEY: pki.things["back-door"].private_key,
        CONF_AWS_THING: "front door",
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], wrong_key
    )
    assert result["errors"] == {
        CONF_AWS_PRIVATE_KEY: "key_mismatch",
        CONF_AWS_THING: "invalid_thing_name",
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], settings
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_AWS_PORT] == 8883
    assert entry.options["language"] == "sv"


async def test_mirror_can_be_turned_off_keeping_other_options(
    hass: HomeAssistant, mqtt_ready: Any, pki: Pki
) -> None:
    options = _mirror_options(pki, pki.things["front-door"], 8883)
    entry = _entry(hass, options)
    result = await _mirror_step(hass, entry)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_AWS_ENABLED: False, CONF_AWS_PORT: "8883"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {**options, CONF_AWS_ENABLED: False}
