"""Whether a board still reports within its wake interval."""

from __future__ import annotations

from homeassistant.components.binary_sensor import (  # type: ignore[attr-defined,unused-ignore]
    BinarySensorDeviceClass,
    BinarySensorEntity,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import IotPorterConfigEntry
from .const import SIGNAL_NEW_BOARD
from .coordinator import Board, PorterCoordinator
from .entity import IotPorterEntity

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: IotPorterConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a connectivity sensor per board."""
    coordinator = entry.runtime_data.coordinator

    @callback
    def add_board(board: Board) -> None:
        async_add_entities([BoardConnectivity(coordinator, board)])

    for board in coordinator.boards.values():
        add_board(board)
    entry.async_on_unload(
        async_dispatcher_connect(
            hass, SIGNAL_NEW_BOARD.format(entry_id=entry.entry_id), add_board
        )
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
