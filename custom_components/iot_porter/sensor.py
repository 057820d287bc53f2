"""Door counters and board measurements as sensors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import IotPorterConfigEntry
from .battery import battery_percent
from .const import SIGNAL_TEXT_UPDATED
from .coordinator import Board, PorterCoordinator
from .entity import IotPorterEntity, async_add_board_entities
from .fitting import state_text
from .forecaster import ForecastService

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
    forecast = entry.runtime_data.forecast
    async_add_board_entities(
        hass,
        coordinator,
        async_add_entities,
        lambda board: [
            *(PorterSensor(coordinator, board, desc) for desc in SENSORS),
            ForecastSummarySensor(coordinator, board, forecast),
            DisplayTextSensor(coordinator, board),
        ],
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

    def _shown(self) -> object:
        """Return availability and value: all this sensor's state shows."""
        return (self.available, self.native_value)

    @property
    def available(self) -> bool:
        """Return False for board measurements while the board is silent."""
        return not (self.entity_description.needs_contact and self.board.silent)

    @property
    def native_value(self) -> int | float | datetime | None:
        """Return the value from the board."""
        return self.entity_description.value_fn(self.board)


class _TextSensor(IotPorterEntity, SensorEntity):
    """A sensor whose state is text on the board's display."""

    _follows_board = False

    def __init__(self, coordinator: PorterCoordinator, board: Board, key: str) -> None:
        """Bind to the board."""
        super().__init__(coordinator, board, key)
        self._attr_translation_key = key

    async def async_added_to_hass(self) -> None:
        """Also follow text updates."""
        await super().async_added_to_hass()
        self.follow(SIGNAL_TEXT_UPDATED, self._handle_board_update)


class ForecastSummarySensor(_TextSensor):
    """The forecast text written for this board, and how it was made."""

    def __init__(
        self, coordinator: PorterCoordinator, board: Board, forecast: ForecastService
    ) -> None:
        """Bind to the board and the forecast service."""
        super().__init__(coordinator, board, "forecast_summary")
        self.forecast = forecast

    @property
    def native_value(self) -> str | None:
        """Return the text, at most 255 characters."""
        result = self.forecast.results.get(self.board.device_id)
        return result.text if result else None

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Return the lines and where the text came from."""
        result = self.forecast.results.get(self.board.device_id)
        if result is None:
            return None
        return {
            "lines": result.lines,
            "source": result.source,
            "model": result.model,
            "generated_at": result.generated_at.isoformat(),
            "window_start": result.window_start.isoformat()
            if result.window_start
            else None,
            "window_end": result.window_end.isoformat() if result.window_end else None,
            "tokens": result.tokens.total if result.tokens else None,
            "fallback_reason": result.error,
        }


class DisplayTextSensor(_TextSensor):
    """What the board's e-paper shows: forecast or a custom message."""

    _attr_entity_category = EntityCategory.DIAGNOSTIC

    def __init__(self, coordinator: PorterCoordinator, board: Board) -> None:
        """Bind to the board."""
        super().__init__(coordinator, board, "display_text")

    @property
    def native_value(self) -> str | None:
        """Return the displayed lines as one text."""
        return state_text(list(self.coordinator.display_content(self.board).lines))

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return the lines and where they come from."""
        content = self.coordinator.display_content(self.board)
        return {"lines": list(content.lines), "source": content.source}
