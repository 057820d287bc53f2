"""Whether a board still reports within its wake interval."""

from __future__ import annotations

from homeassistant.components.binary_sensor import (  # type: ignore[attr-defined,unused-ignore]
    BinarySensorDeviceClass,
    BinarySensorEntity,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import IotPorterConfigEntry
from .coordinator import Board, PorterCoordinator
from .entity import IotPorterEntity, async_add_board_entities

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: IotPorterConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a connectivity sensor per board."""
    coordinator = entry.runtime_data.coordinator
    async_add_board_entities(
        hass,
        coordinator,
        async_add_entities,
        lambda board: [BoardConnectivity(coordinator, board)],
    )


class BoardConnectivity(IotPorterEntity, BinarySensorEntity):
    """On while the board reports within three of its wake intervals."""

    _attr_device_class = BinarySensorDeviceClass.CONNECTIVITY
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    def __init__(self, coordinator: PorterCoordinator, board: Board) -> None:
        """Bind to the board."""
        super().__init__(coordinator, board, "connectivity")

    @property
    def is_on(self) -> bool | None:
        """Return whether the board is reporting."""
        if self.board.last_seen is None:
            return None
        return not self.board.silent
