"""Config flow: one hub, set up from the UI or from a board's discovery."""

from __future__ import annotations

from collections.abc import Mapping
import logging
from typing import Any

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.const import CONF_API_KEY
from homeassistant.core import callback
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.helpers.service_info.mqtt import MqttServiceInfo

from .aws_certs import CONF_AWS_CA, CONF_AWS_CERTIFICATE, CONF_AWS_PRIVATE_KEY
from .aws_mirror import (
    AWS_PORTS,
    CONF_AWS_ENABLED,
    CONF_AWS_ENDPOINT,
    CONF_AWS_PORT,
    CONF_AWS_QUEUE_LIMIT,
    CONF_AWS_THING,
    CONF_AWS_TOPIC_PREFIX,
    DEFAULT_AWS_PORT,
    DEFAULT_QUEUE_LIMIT,
    DEFAULT_TOPIC_PREFIX,
    MAX_QUEUE_LIMIT,
    validate_options,
)
from .compat import vol
from .const import (
    CONF_BASE_TOPIC,
    CONF_BASE_URL,
    CONF_DAILY_CAP,
    CONF_INSTRUCTIONS,
    CONF_LANGUAGE,
    CONF_MESSAGE_MIN,
    CONF_MODEL,
    CONF_REFRESH_MIN,
    CONF_TIMEOUT_S,
    CONF_WEATHER_ENTITY,
    DEFAULT_BASE_TOPIC,
    DEFAULT_MESSAGE_MIN,
    DEFAULT_REFRESH_MIN,
    DOMAIN,
    LANGUAGE_AUTO,
    LANGUAGES,
)
from .forecaster import first_weather_entity
from .protocol import RejectedMessage, decode_state, parse_topic, valid_base_topic
from .writer import (
    DEFAULT_DAILY_CAP,
    DEFAULT_MODEL,
    DEFAULT_TIMEOUT_S,
    WriterAuthError,
    WriterError,
    WriterQuotaError,
    async_create_client,
    async_validate_key,
)

_LOGGER = logging.getLogger(__name__)

TITLE = "IoT Porter"
PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))


async def _check_key(
    flow: ConfigFlow, api_key: str, base_url: str | None
) -> str | None:
    """Return an error key when the OpenAI key does not work, else None."""
    client = await async_create_client(flow.hass, api_key, base_url=base_url)
    try:
        await async_validate_key(client)
    except WriterAuthError:
        return "invalid_auth"
    except WriterQuotaError:
        return "quota_exhausted"
    except WriterError:
        return "cannot_connect"
    return None


class IotPorterConfigFlow(ConfigFlow, domain=DOMAIN):
    """Create the single IoT Porter hub."""

    VERSION = 1

    def __init__(self) -> None:
        """Start with no discovered board."""
        self._discovered_board: str | None = None

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry[Any]) -> OptionsFlow:
        """Return the forecast options flow."""
        return IotPorterOptionsFlow()

    def _mqtt_ready(self) -> bool:
        """Return whether Home Assistant's MQTT integration is set up."""
        return bool(self.hass.config_entries.async_entries("mqtt"))

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the base topic, the weather entity and an optional OpenAI key."""
        if not self._mqtt_ready():
            return self.async_abort(reason="mqtt_not_configured")
        errors: dict[str, str] = {}
        if user_input is not None:
            base = user_input[CONF_BASE_TOPIC].strip()
            api_key = user_input.get(CONF_API_KEY, "").strip()
            if not valid_base_topic(base):
                errors[CONF_BASE_TOPIC] = "invalid_base_topic"
            elif api_key and (error := await _check_key(self, api_key, None)):
                errors["base"] = error
            else:
                await self.async_set_unique_id(DOMAIN)
                self._abort_if_unique_id_configured()
                data = {CONF_BASE_TOPIC: base}
                if api_key:
                    data[CONF_API_KEY] = api_key
                options = {}
                if weather := user_input.get(CONF_WEATHER_ENTITY):
                    options[CONF_WEATHER_ENTITY] = weather
                return self.async_create_entry(title=TITLE, data=data, options=options)
        schema = vol.Schema(
            {
                vol.Required(CONF_BASE_TOPIC, default=DEFAULT_BASE_TOPIC): (
                    TextSelector()
                ),
                vol.Optional(CONF_WEATHER_ENTITY): EntitySelector(
                    EntitySelectorConfig(domain="weather")
                ),
                vol.Optional(CONF_API_KEY): PASSWORD,
            }
        )
        suggested = user_input or {}
        if CONF_WEATHER_ENTITY not in suggested and (
            weather := first_weather_entity(self.hass)
        ):
            suggested = {**suggested, CONF_WEATHER_ENTITY: weather}
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
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
        """Change the base topic or the OpenAI key of the existing hub."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            base = user_input[CONF_BASE_TOPIC].strip()
            api_key = user_input.get(CONF_API_KEY, "").strip()
            base_url = entry.options.get(CONF_BASE_URL)
            if not valid_base_topic(base):
                errors[CONF_BASE_TOPIC] = "invalid_base_topic"
            elif api_key and (error := await _check_key(self, api_key, base_url)):
                errors["base"] = error
            else:
                data = {CONF_BASE_TOPIC: base}
                if api_key:
                    data[CONF_API_KEY] = api_key
                return self._update_and_abort(entry, data, "reconfigure_successful")
        schema = vol.Schema(
            {
                vol.Required(CONF_BASE_TOPIC): TextSelector(),
                vol.Optional(CONF_API_KEY): PASSWORD,
            }
        )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                schema, user_input or dict(entry.data)
            ),
            errors=errors,
        )

    def _update_and_abort(
        self, entry: ConfigEntry[Any], data: dict[str, Any], reason: str
    ) -> ConfigFlowResult:
        """Store new entry data; the entry's update listener reloads it."""
        self.hass.config_entries.async_update_entry(entry, data=data)
        return self.async_abort(reason=reason)

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """Ask for a new OpenAI key after OpenAI refused the old one."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Check and store the new key; an empty key turns OpenAI off."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            api_key = user_input.get(CONF_API_KEY, "").strip()
            base_url = entry.options.get(CONF_BASE_URL)
            if api_key and (error := await _check_key(self, api_key, base_url)):
                errors["base"] = error
            else:
                data = {CONF_BASE_TOPIC: entry.data[CONF_BASE_TOPIC]}
                if api_key:
                    data[CONF_API_KEY] = api_key
                return self._update_and_abort(entry, data, "reauth_successful")
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=vol.Schema({vol.Optional(CONF_API_KEY): PASSWORD}),
            errors=errors,
        )


class IotPorterOptionsFlow(OptionsFlow):
    """Forecast and display settings, and the optional AWS IoT mirror."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Let the user pick which settings to change."""
        return self.async_show_menu(
            step_id="init", menu_options=["forecast", "aws_mirror"]
        )

    def _save(self, changes: dict[str, Any]) -> ConfigFlowResult:
        """Store the changed options next to the untouched ones."""
        return self.async_create_entry(data={**self.config_entry.options, **changes})

    async def async_step_forecast(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show and store the forecast options."""
        if user_input is not None:
            cleared = {
                key: None
                for key in (CONF_WEATHER_ENTITY, CONF_INSTRUCTIONS, CONF_BASE_URL)
                if key not in user_input
            }
            options = {**self.config_entry.options, **user_input, **cleared}
            return self.async_create_entry(
                data={k: v for k, v in options.items() if v is not None}
            )
        schema = vol.Schema(
            {
                vol.Optional(CONF_WEATHER_ENTITY): EntitySelector(
                    EntitySelectorConfig(domain="weather")
                ),
                vol.Required(CONF_LANGUAGE, default=LANGUAGE_AUTO): SelectSelector(
                    SelectSelectorConfig(
                        options=list(LANGUAGES),
                        translation_key=CONF_LANGUAGE,
                        mode=SelectSelectorMode.DROPDOWN,
                    )
                ),
                vol.Required(CONF_MODEL, default=DEFAULT_MODEL): TextSelector(),
                vol.Optional(CONF_INSTRUCTIONS): TextSelector(
                    TextSelectorConfig(multiline=True)
                ),
                vol.Required(CONF_REFRESH_MIN, default=DEFAULT_REFRESH_MIN): _number(
                    5, 720, "min"
                ),
                vol.Required(CONF_DAILY_CAP, default=DEFAULT_DAILY_CAP): _number(
                    0, 500, None
                ),
                vol.Required(CONF_MESSAGE_MIN, default=DEFAULT_MESSAGE_MIN): _number(
                    1, 1440, "min"
                ),
                vol.Optional(CONF_BASE_URL): TextSelector(
                    TextSelectorConfig(type=TextSelectorType.URL)
                ),
                vol.Required(CONF_TIMEOUT_S, default=DEFAULT_TIMEOUT_S): _number(
                    5, 120, "s"
                ),
            }
        )
        return self.async_show_form(
            step_id="forecast",
            data_schema=self.add_suggested_values_to_schema(
                schema, dict(self.config_entry.options)
            ),
        )

    async def async_step_aws_mirror(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Check and store the AWS IoT Core mirror settings."""
        errors: dict[str, str] = {}
        if user_input is not None:
            if not user_input.get(CONF_AWS_ENABLED):
                return self._save({CONF_AWS_ENABLED: False})
            user_input[CONF_AWS_PORT] = int(user_input[CONF_AWS_PORT])
            errors, _ = await self.hass.async_add_executor_job(
                validate_options, user_input
            )
            if not errors:
                return self._save(user_input)
        schema = vol.Schema(
            {
                vol.Required(CONF_AWS_ENABLED, default=False): BooleanSelector(),
                vol.Optional(CONF_AWS_ENDPOINT): TextSelector(),
                vol.Required(CONF_AWS_PORT, default=str(DEFAULT_AWS_PORT)): (
                    SelectSelector(
                        SelectSelectorConfig(
                            options=[str(port) for port in AWS_PORTS],
                            mode=SelectSelectorMode.DROPDOWN,
                        )
                    )
                ),
                vol.Optional(CONF_AWS_THING): TextSelector(),
                vol.Required(
                    CONF_AWS_TOPIC_PREFIX, default=DEFAULT_TOPIC_PREFIX
                ): TextSelector(),
                vol.Optional(CONF_AWS_CERTIFICATE): _PEM,
                vol.Optional(CONF_AWS_PRIVATE_KEY): _PEM,
                vol.Optional(CONF_AWS_CA): _PEM,
                vol.Required(
                    CONF_AWS_QUEUE_LIMIT, default=DEFAULT_QUEUE_LIMIT
                ): _number(1, MAX_QUEUE_LIMIT, None),
            }
        )
        suggested = dict(user_input or self.config_entry.options)
        if CONF_AWS_PORT in suggested:
            suggested[CONF_AWS_PORT] = str(suggested[CONF_AWS_PORT])
        return self.async_show_form(
            step_id="aws_mirror",
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
        )


_PEM = TextSelector(TextSelectorConfig(multiline=True))


def _number(low: int, high: int, unit: str | None) -> NumberSelector:
    """Return a whole-number box selector."""
    config = NumberSelectorConfig(
        min=low, max=high, step=1, mode=NumberSelectorMode.BOX
    )
    if unit:
        config["unit_of_measurement"] = unit
    return NumberSelector(config)
