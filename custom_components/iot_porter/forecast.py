"""Fetch the next hours of a weather entity's forecast and fingerprint them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
import hashlib
import json
import logging
from typing import Any

from homeassistant.const import ATTR_SUPPORTED_FEATURES, UnitOfSpeed
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util import dt as dt_util
from homeassistant.util.unit_conversion import SpeedConverter

_LOGGER = logging.getLogger(__name__)

WINDOW_HOURS = 12
BLOCK_HOURS = 3

# Weather entity feature bits for each forecast type, best resolution first.
FORECAST_TYPES: tuple[tuple[str, int, timedelta], ...] = (
    ("hourly", 2, timedelta(hours=1)),
    ("twice_daily", 4, timedelta(hours=12)),
    ("daily", 1, timedelta(days=1)),
)

# Wind classes by mean speed in m/s, roughly Beaufort 0-2, 3-4, 5-6 and 7+.
WIND_CLASSES_MS: tuple[tuple[float, str], ...] = (
    (4.0, "calm"),
    (8.0, "breezy"),
    (14.0, "windy"),
)
WIND_STORMY = "stormy"
WIND_ORDER = ("calm", "breezy", "windy", WIND_STORMY)

# A point counts as wet from this much precipitation (mm) or this probability (%).
WET_PRECIPITATION_MM = 0.1
WET_PROBABILITY_PCT = 50
PROBABILITY_BAND_PCT = 20
TEMPERATURE_STEP = 2
MM_PER_INCH = 25.4

WET_CONDITIONS = frozenset(
    {"rainy", "pouring", "snowy", "snowy-rainy", "hail", "lightning-rainy"}
)


class ForecastUnavailable(HomeAssistantError):
    """Raised when a weather entity gives no usable forecast for the window."""


@dataclass(frozen=True, slots=True)
class ForecastPoint:
    """One forecast period, in the weather entity's units."""

    time: datetime
    condition: str | None
    temperature: float | None
    templow: float | None
    precipitation: float | None
    precipitation_probability: float | None
    wind_speed: float | None
    wind_gust_speed: float | None


@dataclass(frozen=True, slots=True)
class ForecastWindow:
    """The forecast for the next hours, normalised and typed."""

    entity_id: str
    forecast_type: str
    start: datetime
    end: datetime
    step: timedelta
    temperature_unit: str
    precipitation_unit: str
    wind_speed_unit: str
    points: tuple[ForecastPoint, ...]

    def wind_class(self, point: ForecastPoint) -> str | None:
        """Return the wind class of one point, or None without wind data."""
        return wind_class(point.wind_speed, self.wind_speed_unit)

    def is_wet(self, point: ForecastPoint) -> bool:
        """Return whether precipitation is expected during one point."""
        amount = point.precipitation
        if amount is not None and self.precipitation_unit == "in":
            amount *= MM_PER_INCH
        return (
            (amount is not None and amount >= WET_PRECIPITATION_MM)
            or (
                point.precipitation_probability is not None
                and point.precipitation_probability >= WET_PROBABILITY_PCT
            )
            or point.condition in WET_CONDITIONS
        )

    def temperature_range(self) -> tuple[float, float] | None:
        """Return the lowest and highest temperature in the window."""
        values = [
            value
            for point in self.points
            for value in (point.temperature, point.templow)
            if value is not None
        ]
        if not values:
            return None
        return min(values), max(values)


def wind_class(speed: float | None, unit: str) -> str | None:
    """Return calm, breezy, windy or stormy for a wind speed in a unit."""
    if speed is None:
        return None
    try:
        metres_per_second = SpeedConverter.convert(
            speed, unit, UnitOfSpeed.METERS_PER_SECOND
        )
    except HomeAssistantError:
        metres_per_second = speed
    for limit, name in WIND_CLASSES_MS:
        if metres_per_second < limit:
            return name
    return WIND_STORMY


def _number(value: Any) -> float | None:
    """Return value as a float, or None when it is not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _point(item: Mapping[str, Any]) -> ForecastPoint | None:
    """Return a forecast item as a point, or None when it has no usable time."""
    raw_time = item.get("datetime")
    parsed = dt_util.parse_datetime(raw_time) if isinstance(raw_time, str) else None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt_util.UTC)
    condition = item.get("condition")
    return ForecastPoint(
        time=parsed,
        condition=condition if isinstance(condition, str) else None,
        temperature=_number(item.get("temperature")),
        templow=_number(item.get("templow")),
        precipitation=_number(item.get("precipitation")),
        precipitation_probability=_number(item.get("precipitation_probability")),
        wind_speed=_number(item.get("wind_speed")),
        wind_gust_speed=_number(item.get("wind_gust_speed")),
    )


def build_window(
    entity_id: str,
    forecast_type: str,
    items: list[Mapping[str, Any]],
    attributes: Mapping[str, Any],
    *,
    now: datetime,
    hours: int = WINDOW_HOURS,
    default_temperature_unit: str = "°C",
) -> ForecastWindow:
    """Return the periods of a forecast that overlap the window from now."""
    step = next(step for name, _, step in FORECAST_TYPES if name == forecast_type)
    start = now
    end = now + timedelta(hours=hours)
    points = sorted(
        (
            point
            for point in map(_point, items)
            if point is not None and point.time < end and point.time + step > start
        ),
        key=lambda point: point.time,
    )
    if not points:
        raise ForecastUnavailable(f"{entity_id} has no forecast for the next hours")
    return ForecastWindow(
        entity_id=entity_id,
        forecast_type=forecast_type,
        start=start,
        end=end,
        step=step,
        temperature_unit=str(
            attributes.get("temperature_unit") or default_temperature_unit
        ),
        precipitation_unit=str(attributes.get("precipitation_unit") or "mm"),
        wind_speed_unit=str(
            attributes.get("wind_speed_unit") or UnitOfSpeed.KILOMETERS_PER_HOUR
        ),
        points=tuple(points),
    )


async def async_get_forecast_window(
    hass: HomeAssistant,
    entity_id: str,
    *,
    now: datetime | None = None,
    hours: int = WINDOW_HOURS,
) -> ForecastWindow:
    """Return the next hours of a weather entity's forecast, finest type first."""
    state = hass.states.get(entity_id)
    if state is None or state.state in ("unavailable", "unknown"):
        raise ForecastUnavailable(f"{entity_id} is not available")
    features = state.attributes.get(ATTR_SUPPORTED_FEATURES)
    # Without a feature attribute every type is tried; the service says no itself.
    candidates = [
        name
        for name, bit, _ in FORECAST_TYPES
        if not isinstance(features, int) or features & bit
    ]
    if not candidates:
        raise ForecastUnavailable(f"{entity_id} offers no forecast")

    for forecast_type in candidates:
        try:
            response = await hass.services.async_call(
                "weather",
                "get_forecasts",
                {"type": forecast_type},
                target={"entity_id": entity_id},
                blocking=True,
                return_response=True,
            )
        except HomeAssistantError as err:
            _LOGGER.debug("No %s forecast from %s: %s", forecast_type, entity_id, err)
            continue
        items = _forecast_items(response, entity_id)
        if not items:
            continue
        return build_window(
            entity_id,
            forecast_type,
            items,
            state.attributes,
            now=now or dt_util.utcnow(),
            hours=hours,
            default_temperature_unit=hass.config.units.temperature_unit,
        )
    raise ForecastUnavailable(f"{entity_id} returned no forecast")


def _forecast_items(response: Any, entity_id: str) -> list[Mapping[str, Any]]:
    """Return the forecast list of one entity from a service response."""
    if not isinstance(response, Mapping):
        return []
    entity_response = response.get(entity_id)
    if not isinstance(entity_response, Mapping):
        return []
    items = entity_response.get("forecast")
    if not isinstance(items, list):
        return []
    return [item for item in items if isinstance(item, Mapping)]


def _block_starts(window: ForecastWindow) -> list[datetime]:
    """Return the local clock-aligned block starts that cover the window."""
    local_start = dt_util.as_local(window.start)
    first = local_start.replace(
        hour=local_start.hour - local_start.hour % BLOCK_HOURS,
        minute=0,
        second=0,
        microsecond=0,
    )
    starts = []
    block = first
    while block < window.end:
        starts.append(block)
        block += timedelta(hours=BLOCK_HOURS)
    return starts


def material_features(window: ForecastWindow) -> dict[str, Any]:
    """Return the coarse facts of a window that a reader would notice changing."""
    blocks: list[list[Any]] = []
    for block_start in _block_starts(window):
        block_end = block_start + timedelta(hours=BLOCK_HOURS)
        # Only the part of the block inside the window counts.
        lower = max(block_start, window.start)
        upper = min(block_end, window.end)
        members = [
            point
            for point in window.points
            if point.time < upper and point.time + window.step > lower
        ]
        if not members:
            blocks.append([None])
            continue
        probabilities = [
            point.precipitation_probability
            for point in members
            if point.precipitation_probability is not None
        ]
        band = (
            int(min(max(probabilities), 100) // PROBABILITY_BAND_PCT)
            if probabilities
            else None
        )
        conditions = Counter(
            point.condition for point in members if point.condition is not None
        )
        winds = [
            WIND_ORDER.index(name)
            for point in members
            if (name := window.wind_class(point)) is not None
        ]
        blocks.append(
            [
                band,
                any(window.is_wet(point) for point in members),
                conditions.most_common(1)[0][0] if conditions else None,
                WIND_ORDER[max(winds)] if winds else None,
            ]
        )
    temperatures = window.temperature_range()
    return {
        "type": window.forecast_type,
        "units": [window.temperature_unit, window.wind_speed_unit],
        "temperature": (
            [
                round(value / TEMPERATURE_STEP) * TEMPERATURE_STEP
                for value in temperatures
            ]
            if temperatures
            else None
        ),
        "blocks": blocks,
    }


def fingerprint(window: ForecastWindow) -> str:
    """Return a short hash that changes only when the forecast changes materially."""
    canonical = json.dumps(material_features(window), separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
