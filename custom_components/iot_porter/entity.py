"""Base entity for everything that belongs to one MagTag board."""

from __future__ import annotations

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity

from .const import DOMAIN, SIGNAL_BOARD_UPDATED
from .coordinator import Board, PorterCoordinator


class IotPorterEntity(Entity):
    """An entity of one board, updated by the hub's push signals."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, coordinator: PorterCoordinator, board: Board, key: str) -> None:
        """Bind the entity to its board."""
        self.coordinator = coordinator
        self.board = board
        self._attr_unique_id = f"{board.device_id}_{key}"
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
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass,
                SIGNAL_BOARD_UPDATED.format(
                    entry_id=self.coordinator.entry.entry_id,
                    device_id=self.board.device_id,
                ),
                self._handle_board_update,
            )
        )

    @callback
    def _handle_board_update(self) -> None:
        """Write the new state."""
        self.async_write_ha_state()
