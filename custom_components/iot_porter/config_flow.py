"""Config flow: one hub, set up from the UI or from a board's discovery."""

from __future__ import annotations

import logging
from typing import Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
from homeassistant.helpers.selector import TextSelector
from homeassistant.helpers.service_info.mqtt import MqttServiceInfo

from .compat import vol
from .const import CONF_BASE_TOPIC, DEFAULT_BASE_TOPIC, DOMAIN
from .protocol import (
    RejectedMessage,
    decode_state,
    parse_topic,
    valid_base_topic,
)

_LOGGER = logging.getLogger(__name__)

TITLE = "IoT Porter"


def _hub_schema(base_topic: str) -> vol.Schema:
    """Return the form for the hub's settings."""
    return vol.Schema(
        {vol.Required(CONF_BASE_TOPIC, default=base_topic): TextSelector()}
    )


class IotPorterConfigFlow(ConfigFlow, domain=DOMAIN):
    """Create the single IoT Porter hub."""

    VERSION = 1

    def __init__(self) -> None:
        """Start with no discovered board."""
        self._discovered_board: str | None = None

    def _mqtt_ready(self) -> bool:
        """Return whether Home Assistant's MQTT integration is set up."""
        return bool(self.hass.config_entries.async_entries("mqtt"))

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the base topic the boards publish under."""
        if not self._mqtt_ready():
            return self.async_abort(reason="mqtt_not_configured")
        errors: dict[str, str] = {}
        if user_input is not None:
            base = user_input[CONF_BASE_TOPIC].strip()
            if valid_base_topic(base):
                await self.async_set_unique_id(DOMAIN)
                self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    title=TITLE, data={CONF_BASE_TOPIC: base}
                )
            errors[CONF_BASE_TOPIC] = "invalid_base_topic"
        return self.async_show_form(
            step_id="user",
            data_schema=_hub_schema(
                user_input[CONF_BASE_TOPIC] if user_input else DEFAULT_BASE_TOPIC
            ),
            errors=errors,
        )

    async def async_step_mqtt(
        self, discovery_info: MqttServiceInfo
    ) -> ConfigFlowResult:
        """Offer the hub when the first board announces itself."""
        try:
            device_id, _ = parse_topic(DEFAULT_BASE_TOPIC, discovery_info.topic)
            decode_state(discovery_info.payload)
        except RejectedMessage:
            return self.async_abort(reason="invalid_discovery_info")
        await self.async_set_unique_id(DOMAIN)
        self._abort_if_unique_id_configured()
        self._discovered_board = device_id
        self.context["title_placeholders"] = {"device_id": device_id}
        return await self.async_step_confirm()

    async def async_step_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Confirm adding the hub for a discovered board."""
        if user_input is not None:
            return self.async_create_entry(
                title=TITLE, data={CONF_BASE_TOPIC: DEFAULT_BASE_TOPIC}
            )
        self._set_confirm_only()
        return self.async_show_form(
            step_id="confirm",
            description_placeholders={"device_id": self._discovered_board or ""},
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the base topic of the existing hub."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            base = user_input[CONF_BASE_TOPIC].strip()
            if valid_base_topic(base):
                return self.async_update_reload_and_abort(
                    entry, data_updates={CONF_BASE_TOPIC: base}
                )
            errors[CONF_BASE_TOPIC] = "invalid_base_topic"
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=_hub_schema(
                user_input[CONF_BASE_TOPIC]
                if user_input
                else entry.data.get(CONF_BASE_TOPIC, DEFAULT_BASE_TOPIC)
            ),
            errors=errors,
        )
