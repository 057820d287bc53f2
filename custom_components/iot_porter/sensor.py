"""Door counters and board measurements as sensors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    PERCENTAGE,
    SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
    EntityCategory,
    UnitOfElectricPotential,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import IotPorterConfigEntry
from .battery import battery_percent
from .const import SIGNAL_NEW_BOARD
from .coordinator import Board, PorterCoordinator
from .entity import IotPorterEntity

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class PorterSensorDescription(SensorEntityDescription):
    """How one sensor reads its value from a board."""

    value_fn: Callable[[Board], int | float | datetime | None]
    needs_contact: bool = False


SENSORS: tuple[PorterSensorDescription, ...] = (
    PorterSensorDescription(
        key="door_events_total",
        translation_key="door_events_total",
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda board: board.total,
    ),
    PorterSensorDescription(
        key="door_events_today",
        translation_key="door_events_today",
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda board: board.today,
    ),
    PorterSensorDescription(
        key="last_door_event",
        translation_key="last_door_event",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda board: board.last_event,
    ),
    PorterSensorDescription(
        key="battery",
        device_class=SensorDeviceClass.BATTERY,
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda board: (
            battery_percent(board.state.battery_v) if board.state else None
        ),
        needs_contact=True,
    ),
    PorterSensorDescription(
        key="battery_voltage",
        entity_registry_enabled_default=False,
        translation_key="battery_voltage",
        device_class=SensorDeviceClass.VOLTAGE,
        native_unit_of_measurement=UnitOfElectricPotential.VOLT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=2,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda board: board.state.battery_v if board.state else None,
        needs_contact=True,
    ),
    PorterSensorDescription(
        key="signal_strength",
        entity_registry_enabled_default=False,
        device_class=SensorDeviceClass.SIGNAL_STRENGTH,
        native_unit_of_measurement=SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda board: board.state.rssi if board.state else None,
        needs_contact=True,
    ),
    PorterSensorDescription(
        key="last_seen",
        translation_key="last_seen",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda board: board.last_seen,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: IotPorterConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add sensors for known boards now and for new boards when they appear."""
    coordinator = entry.runtime_data.coordinator

    @callback
    def add_board(board: Board) -> None:
        async_add_entities(
            PorterSensor(coordinator, board, description) for description in SENSORS
        )

    for board in coordinator.boards.values():
        add_board(board)
    entry.async_on_unload(
        async_dispatcher_connect(
            hass, SIGNAL_NEW_BOARD.format(entry_id=entry.entry_id), add_board
        )
    )


class PorterSensor(IotPorterEntity, SensorEntity):
    """A sensor that reads one value of a board."""

    entity_description: PorterSensorDescription

    def __init__(
        self,
        coordinator: PorterCoordinator,
        board: Board,
        description: PorterSensorDescription,
    ) -> None:
        """Bind the description to the board."""
        super().__init__(coordinator, board, description.key)
        self.entity_description = description

    @property
    def available(self) -> bool:
        """Return False for board measurements while the board is silent."""
        return not (self.entity_description.needs_contact and self.board.silent)

    @property
    def native_value(self) -> int | float | datetime | None:
        """Return the value from the board."""
        return self.entity_description.value_fn(self.board)
