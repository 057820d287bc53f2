"""An event entity that fires once for every counted door event."""

from __future__ import annotations

from homeassistant.components.event import EventEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import IotPorterConfigEntry
from .const import SIGNAL_DOOR_EVENTS
from .coordinator import Board, CountedEvent, PorterCoordinator
from .entity import IotPorterEntity, async_add_board_entities

PARALLEL_UPDATES = 0

EVENT_DOOR_MOVED = "door_moved"


async def async_setup_entry(
    hass: HomeAssistant,
    entry: IotPorterConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a door event entity per board."""
    coordinator = entry.runtime_data.coordinator
    async_add_board_entities(
        hass,
        coordinator,
        async_add_entities,
        lambda board: [DoorEvent(coordinator, board)],
    )


class DoorEvent(IotPorterEntity, EventEntity):
    """Fires `door_moved` for each door event, exactly once."""

    _attr_translation_key = "door"

    def __init__(self, coordinator: PorterCoordinator, board: Board) -> None:
        """Bind to the board."""
        super().__init__(coordinator, board, "door")
        self._attr_event_types = [EVENT_DOOR_MOVED]

    async def async_added_to_hass(self) -> None:
        """Listen for counted door events as well as board updates."""
        await super().async_added_to_hass()
        self.follow(SIGNAL_DOOR_EVENTS, self._handle_door_events)

    @callback
    def _handle_board_update(self) -> None:
        """Ignore board updates: the state only changes on door events."""

    @callback
    def _handle_door_events(self, events: list[CountedEvent]) -> None:
        """Fire once per newly counted event, in sequence order."""
        for event in events:
            self._trigger_event(
                EVENT_DOOR_MOVED,
                {
                    "sequence": event.seq,
                    "generation": event.gen,
                    "event_time": event.when.isoformat(),
                },
            )
            self.async_write_ha_state()
