"""A notify entity per board: send a custom message to the door display."""

from __future__ import annotations

from homeassistant.components.notify import NotifyEntity
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import IotPorterConfigEntry
from .const import DOMAIN
from .coordinator import Board, PorterCoordinator
from .entity import IotPorterEntity, async_add_board_entities
from .fitting import UnusableTextError
from .forecaster import ForecastService

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: IotPorterConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a display notify entity per board."""
    coordinator = entry.runtime_data.coordinator
    forecast = entry.runtime_data.forecast
    async_add_board_entities(
        hass,
        coordinator,
        async_add_entities,
        lambda board: [DoorDisplayNotify(coordinator, board, forecast)],
    )


class DoorDisplayNotify(IotPorterEntity, NotifyEntity):
    """Shows a message on the door display for the configured time."""

    _attr_translation_key = "display"
    _follows_board = False

    def __init__(
        self, coordinator: PorterCoordinator, board: Board, forecast: ForecastService
    ) -> None:
        """Bind to the board and the forecast service that owns its text."""
        super().__init__(coordinator, board, "display")
        self.forecast = forecast

    async def async_send_message(self, message: str, title: str | None = None) -> None:
        """Show the message (with its title first, when given)."""
        text = f"{title}: {message}" if title else message
        try:
            self.forecast.show_message(self.board, text)
        except UnusableTextError as err:
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="unusable_message"
            ) from err
