"""Base entity for everything that belongs to one MagTag board."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN, SIGNAL_BOARD_UPDATED, SIGNAL_NEW_BOARD
from .coordinator import Board, PorterCoordinator


def async_add_board_entities(
    hass: HomeAssistant,
    coordinator: PorterCoordinator,
    async_add_entities: AddConfigEntryEntitiesCallback,
    entities_for: Callable[[Board], Iterable[Entity]],
) -> None:
    """Add a platform's entities for known boards now and new boards later."""

    @callback
    def add_board(board: Board) -> None:
        async_add_entities(entities_for(board))

    for board in coordinator.boards.values():
        add_board(board)
    coordinator.entry.async_on_unload(
        async_dispatcher_connect(
            hass,
            SIGNAL_NEW_BOARD.format(entry_id=coordinator.entry.entry_id),
            add_board,
        )
    )


class IotPorterEntity(Entity):
    """An entity of one board, updated by the hub's push signals."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    # Entities whose state never depends on the board's counts or readings.
    _follows_board = True

    def __init__(self, coordinator: PorterCoordinator, board: Board, key: str) -> None:
        """Bind the entity to its board."""
        self.coordinator = coordinator
        self.board = board
        self._attr_unique_id = f"{board.device_id}_{key}"
        self._written: object = None
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, board.device_id)},
            name=board.device_id.replace("-", " ").replace("_", " ").capitalize(),
            manufacturer="Adafruit",
            model="MagTag 2.9 inch",
            sw_version=board.state.firmware if board.state else None,
        )

    async def async_added_to_hass(self) -> None:
        """Follow the board's updates."""
        await super().async_added_to_hass()
        if self._follows_board:
            self.follow(SIGNAL_BOARD_UPDATED, self._handle_board_update)

    @callback
    def follow(self, signal: str, handler: Callable[..., Any]) -> None:
        """Connect a handler to one of this board's signals until removal."""
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass,
                signal.format(
                    entry_id=self.coordinator.entry.entry_id,
                    device_id=self.board.device_id,
                ),
                handler,
            )
        )

    def _shown(self) -> object:
        """Return what the state shows; None means "write on every update"."""
        return None

    @callback
    def _handle_board_update(self) -> None:
        """Write the state, unless what it shows did not change."""
        shown = self._shown()
        if shown is not None and shown == self._written:
            return
        self._written = shown
        self.async_write_ha_state()
