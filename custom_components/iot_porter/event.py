"""An event entity that fires once for every counted door event."""

from __future__ import annotations

from homeassistant.components.event import EventEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import IotPorterConfigEntry
from .const import SIGNAL_DOOR_EVENTS, SIGNAL_NEW_BOARD
from .coordinator import Board, CountedEvent, PorterCoordinator
from .entity import IotPorterEntity

PARALLEL_UPDATES = 0

EVENT_DOOR_MOVED = "door_moved"


async def async_setup_entry(
    hass: HomeAssistant,
    entry: IotPorterConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a door event entity per board."""
    coordinator = entry.runtime_data.coordinator

    @callback
    def add_board(board: Board) -> None:
        async_add_entities([DoorEvent(coordinator, board)])

    for board in coordinator.boards.values():
        add_board(board)
    entry.async_on_unload(
        async_dispatcher_connect(
            hass, SIGNAL_NEW_BOARD.format(entry_id=entry.entry_id), add_board
        )
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
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass,
                SIGNAL_DOOR_EVENTS.format(
                    entry_id=self.coordinator.entry.entry_id,
                    device_id=self.board.device_id,
                ),
                self._handle_door_events,
            )
        )

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
