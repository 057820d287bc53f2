"""Whether a board still reports within its wake interval."""

from __future__ import annotations

from typing import Any

from homeassistant.components.binary_sensor import (  # type: ignore[attr-defined,unused-ignore]
    BinarySensorDeviceClass,
    BinarySensorEntity,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import IotPorterConfigEntry
from .aws_mirror import AwsMirror
from .const import DOMAIN
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
    if (mirror := entry.runtime_data.mirror) is not None:
        async_add_entities([MirrorConnectivity(entry, mirror)])
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

    def _shown(self) -> object:
        """Return the connectivity, all this sensor's state shows."""
        return (self.is_on,)

    @property
    def is_on(self) -> bool | None:
        """Return whether the board is reporting."""
        if self.board.last_seen is None:
            return None
        return not self.board.silent


class MirrorConnectivity(BinarySensorEntity):
    """On while the AWS IoT Core mirror is connected."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    _attr_device_class = BinarySensorDeviceClass.CONNECTIVITY
    _attr_entity_category = EntityCategory.DIAGNOSTIC
    _attr_translation_key = "aws_mirror"

    def __init__(self, entry: IotPorterConfigEntry, mirror: AwsMirror) -> None:
        """Bind to the hub's mirror."""
        self.mirror = mirror
        self._attr_unique_id = f"{entry.entry_id}_aws_mirror"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, entry.entry_id)},
            name="IoT Porter",
            manufacturer="IoT Porter",
            model="AWS IoT Core mirror",
            entry_type=DeviceEntryType.SERVICE,
        )

    async def async_added_to_hass(self) -> None:
        """Follow the mirror's connection changes."""
        self.async_on_remove(self.mirror.async_add_listener(self.async_write_ha_state))

    @property
    def is_on(self) -> bool:
        """Return whether the mirror is connected."""
        return self.mirror.connected

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return the queue and the last error."""
        return {
            "queue_depth": self.mirror.queue_depth,
            "last_error": self.mirror.last_error,
        }
