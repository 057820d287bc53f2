"""IoT Porter: door counter and door display for an Adafruit MagTag."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
import logging

from homeassistant.components import mqtt
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import (
    ConfigEntryError,
    ConfigEntryNotReady,
    ServiceValidationError,
)
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.storage import Store
from homeassistant.helpers.typing import ConfigType

from .aws_mirror import AwsMirror, AwsMirrorConfig, async_update_repair_issues
from .compat import vol
from .const import (
    ATTR_DEVICE_ID,
    ATTR_DURATION,
    ATTR_MESSAGE,
    DOMAIN,
    SERVICE_REFRESH_FORECAST,
    SERVICE_RESET_COUNTER,
    SERVICE_SHOW_MESSAGE,
    STORE_VERSION,
)
from .coordinator import Board, PorterCoordinator
from .fitting import UnusableTextError
from .forecaster import ForecastService
from .writer import ForecastResult

_LOGGER = logging.getLogger(__name__)

PLATFORMS: tuple[Platform, ...] = (
    Platform.BINARY_SENSOR,
    Platform.EVENT,
    Platform.NOTIFY,
    Platform.SENSOR,
)

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)

RESET_COUNTER_SCHEMA = vol.Schema({vol.Required(ATTR_DEVICE_ID): cv.string})
REFRESH_FORECAST_SCHEMA = vol.Schema({})
SHOW_MESSAGE_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Required(ATTR_MESSAGE): cv.string,
        vol.Optional(ATTR_DURATION): cv.positive_time_period,
    }
)


@dataclass
class IotPorterData:
    """Runtime objects of a loaded hub entry."""

    coordinator: PorterCoordinator
    forecast: ForecastService
    mirror: AwsMirror | None = None


type IotPorterConfigEntry = ConfigEntry[IotPorterData]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the integration's actions."""

    async def reset_counter(call: ServiceCall) -> None:
        """Zero the door counts of one board."""
        coordinator, device_id = _board_for_device(hass, call.data[ATTR_DEVICE_ID])
        coordinator.async_reset_counter(device_id)

    async def refresh_forecast(call: ServiceCall) -> None:
        """Fetch the forecast and write every board's text now."""
        entries = [
            entry
            for entry in hass.config_entries.async_entries(DOMAIN)
            if entry.state is ConfigEntryState.LOADED
        ]
        if not entries:
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="entry_not_loaded"
            )
        for entry in entries:
            await entry.runtime_data.forecast.async_refresh(force=True)

    async def show_message(call: ServiceCall) -> None:
        """Show a custom message on a board's display for a while."""
        coordinator, device_id = _board_for_device(hass, call.data[ATTR_DEVICE_ID])
        duration: timedelta | None = call.data.get(ATTR_DURATION)
        forecast: ForecastService = coordinator.entry.runtime_data.forecast
        try:
            forecast.show_message(
                coordinator.boards[device_id], call.data[ATTR_MESSAGE], duration
            )
        except UnusableTextError as err:
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="unusable_message"
            ) from err

    hass.services.async_register(
        DOMAIN, SERVICE_RESET_COUNTER, reset_counter, schema=RESET_COUNTER_SCHEMA
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_REFRESH_FORECAST,
        refresh_forecast,
        schema=REFRESH_FORECAST_SCHEMA,
    )
    hass.services.async_register(
        DOMAIN, SERVICE_SHOW_MESSAGE, show_message, schema=SHOW_MESSAGE_SCHEMA
    )
    return True


@callback
def _board_for_device(
    hass: HomeAssistant, device_registry_id: str
) -> tuple[PorterCoordinator, str]:
    """Find the loaded hub and board id behind a Home Assistant device id."""
    device = dr.async_get(hass).async_get(device_registry_id)
    if device is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unknown_device",
            translation_placeholders={"device_id": device_registry_id},
        )
    board_id = next(
        (ident for domain, ident in device.identifiers if domain == DOMAIN), None
    )
    for entry_id in device.config_entries:
        entry = hass.config_entries.async_get_entry(entry_id)
        if entry is None or entry.domain != DOMAIN:
            continue
        if entry.state is not ConfigEntryState.LOADED:
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="entry_not_loaded"
            )
        coordinator: PorterCoordinator = entry.runtime_data.coordinator
        if board_id in coordinator.boards:
            return coordinator, board_id
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="unknown_device",
        translation_placeholders={"device_id": device_registry_id},
    )


async def async_setup_entry(hass: HomeAssistant, entry: IotPorterConfigEntry) -> bool:
    """Set up the hub: wait for MQTT, restore counts, subscribe, add entities."""
    if not await mqtt.async_wait_for_mqtt_client(hass):
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN, translation_key="mqtt_not_ready"
        )

    coordinator = PorterCoordinator(hass, entry)
    await coordinator.async_load()
    forecast = ForecastService(hass, entry, coordinator)
    mirror = await _async_start_mirror(hass, entry, coordinator, forecast)
    entry.runtime_data = IotPorterData(
        coordinator=coordinator, forecast=forecast, mirror=mirror
    )

    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    await forecast.async_start()
    entry.async_on_unload(forecast.async_stop)
    await coordinator.async_start()
    entry.async_on_unload(coordinator.async_stop)
    entry.async_on_unload(entry.add_update_listener(_async_reload_on_change))
    return True


async def _async_start_mirror(
    hass: HomeAssistant,
    entry: IotPorterConfigEntry,
    coordinator: PorterCoordinator,
    forecast: ForecastService,
) -> AwsMirror | None:
    """Start the AWS IoT mirror when it is enabled, fed by counts and texts."""
    try:
        config = AwsMirrorConfig.from_options(entry.options)
    except (ValueError, KeyError) as err:
        raise ConfigEntryError(
            translation_domain=DOMAIN, translation_key="aws_mirror_settings"
        ) from err
    if config is None:
        return None
    mirror = AwsMirror(hass, config, f"{DOMAIN}.{entry.entry_id}.aws_mirror")
    await mirror.async_start()
    entry.async_on_unload(mirror.async_stop)
    coordinator.counted_listeners.append(mirror.async_on_counted)

    @callback
    def mirror_text(board: Board, result: ForecastResult) -> None:
        mirror.enqueue_forecast(
            board.device_id,
            lines=result.lines,
            source=result.source,
            model=result.model,
            generated=result.generated_at,
        )

    forecast.text_listeners.append(mirror_text)

    @callback
    def update_issues() -> None:
        async_update_repair_issues(hass, mirror)

    entry.async_on_unload(mirror.async_add_listener(update_issues))
    update_issues()
    return mirror


async def async_remove_entry(hass: HomeAssistant, entry: IotPorterConfigEntry) -> None:
    """Delete what the hub stored when it is removed for good."""
    for suffix in ("", ".forecast", ".aws_mirror"):
        await Store[dict[str, object]](
            hass, STORE_VERSION, f"{DOMAIN}.{entry.entry_id}{suffix}"
        ).async_remove()


async def _async_reload_on_change(
    hass: HomeAssistant, entry: IotPorterConfigEntry
) -> None:
    """Apply changed settings (options, base topic, key) by reloading."""
    await hass.config_entries.async_reload(entry.entry_id)


async def async_unload_entry(hass: HomeAssistant, entry: IotPorterConfigEntry) -> bool:
    """Unload the hub; the coordinator writes its counts on the way out."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: IotPorterConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Let the user delete a board that is gone."""
    for domain, board_id in device.identifiers:
        if domain == DOMAIN:
            await entry.runtime_data.coordinator.async_remove_board(board_id)
    return True
