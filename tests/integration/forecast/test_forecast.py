"""Fetching the forecast window from real weather entities, and its fingerprint."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from homeassistant.const import EVENT_CALL_SERVICE
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.iot_porter.forecast import (
    ForecastUnavailable,
    ForecastWindow,
    async_get_forecast_window,
    fingerprint,
)

from .weather_entities import NOW, PorterTestWeather, stockholm_hourly


async def test_hourly_window_covers_the_next_twelve_hours(
    hass: HomeAssistant, weather: dict[str, PorterTestWeather]
) -> None:
    window = await async_get_forecast_window(hass, "weather.stockholm", now=NOW)

    assert window.forecast_type == "hourly"
    assert window.start == NOW
    assert window.end == NOW + timedelta(hours=12)
    # 14:00 (already running at 14:20) up to 02:00, which starts before 02:20.
    assert len(window.points) == 13
    assert window.points[0].time <= NOW < window.points[1].time
    assert window.points[-1].time < window.end
    assert weather["weather.stockholm"].asked == ["hourly"]


async def test_units_come_from_the_entity_and_values_are_converted(
    hass: HomeAssistant, weather: dict[str, PorterTestWeather]
) -> None:
    window = await async_get_forecast_window(hass, "weather.stockholm", now=NOW)

    # Metric Home Assistant shows wind in km/h; the entity's native unit is m/s.
    assert window.wind_speed_unit == "km/h"
    assert window.temperature_unit == "°C"
    assert window.precipitation_unit == "mm"
    assert window.points[0].wind_speed == pytest.approx(3.5 * 3.6)
    assert window.points[7].precipitation == pytest.approx(2.6)
    assert window.points[7].condition == "pouring"


async def test_entity_without_hourly_falls_back_to_twice_daily(
    hass: HomeAssistant, weather: dict[str, PorterTestWeather]
) -> None:
    calls = async_capture_events(hass, EVENT_CALL_SERVICE)

    window = await async_get_forecast_window(hass, "weather.twice_daily_only", now=NOW)

    assert window.forecast_type == "twice_daily"
    # The day period (07-19) and the night period (19-07) both overlap 14:20-02:20.
    assert len(window.points) == 2
    assert window.temperature_range() == (2.0, 6.0)
    # Supported features are read first, so hourly is never even asked for.
    assert [c.data["service_data"]["type"] for c in calls] == ["twice_daily"]


async def test_daily_only_entity_gives_a_daily_window(
    hass: HomeAssistant, weather: dict[str, PorterTestWeather]
) -> None:
    window = await async_get_forecast_window(hass, "weather.daily_only", now=NOW)

    assert window.forecast_type == "daily"
    assert [p.condition for p in window.points] == ["rainy", "cloudy"]
    assert weather["weather.daily_only"].asked == ["daily"]


async def test_failing_hourly_forecast_falls_back_to_daily(
    hass: HomeAssistant, weather: dict[str, PorterTestWeather]
) -> None:
    window = await async_get_forecast_window(hass, "weather.flaky_hourly", now=NOW)

    assert window.forecast_type == "daily"
    assert weather["weather.flaky_hourly"].asked == ["hourly", "daily"]


async def test_missing_entity_is_reported_as_unavailable(
    hass: HomeAssistant, weather: dict[str, PorterTestWeather]
) -> None:
    with pytest.raises(ForecastUnavailable):
        await async_get_forecast_window(hass, "weather.nowhere", now=NOW)


async def test_forecast_entirely_in_the_past_is_unavailable(
    hass: HomeAssistant, weather: dict[str, PorterTestWeather]
) -> None:
    with pytest.raises(ForecastUnavailable):
        await async_get_forecast_window(
            hass, "weather.stockholm", now=NOW + timedelta(days=2)
        )


async def _window_with(
    hass: HomeAssistant,
    weather: dict[str, PorterTestWeather],
    changes: dict[int, dict[str, Any]],
) -> ForecastWindow:
    """Return Stockholm's window after changing some hours of its forecast."""
    weather["weather.stockholm"].hourly = stockholm_hourly(changes)
    return await async_get_forecast_window(hass, "weather.stockholm", now=NOW)


async def test_small_changes_keep_the_fingerprint(
    hass: HomeAssistant, weather: dict[str, PorterTestWeather]
) -> None:
    before = fingerprint(await _window_with(hass, weather, {}))
    after = fingerprint(
        await _window_with(
            hass,
            weather,
            {
                0: {"native_temperature": 5.6},
                4: {"precipitation_probability": 65, "native_precipitation": 0.4},
                8: {"native_wind_speed": 10.9},
                10: {"humidity": 95},
            },
        )
    )

    assert after == before


@pytest.mark.parametrize(
    "changes",
    [
        # Rain arriving in the dry afternoon.
        {1: {"condition": "rainy", "native_precipitation": 1.2}},
        # Several degrees colder all evening.
        {i: {"native_temperature": 0.5} for i in range(6, 13)},
        # The wind reaching gale force.
        {9: {"native_wind_speed": 16.0}},
        # Rain chance in the dry hours jumping from 10 % to 45 %.
        {2: {"precipitation_probability": 45}},
    ],
    ids=["rain_arrives", "colder", "gale", "rain_chance"],
)
async def test_material_changes_change_the_fingerprint(
    hass: HomeAssistant,
    weather: dict[str, PorterTestWeather],
    changes: dict[int, dict[str, Any]],
) -> None:
    before = fingerprint(await _window_with(hass, weather, {}))
    after = fingerprint(await _window_with(hass, weather, changes))

    assert after != before


async def test_fingerprint_holds_while_time_moves_within_a_block(
    hass: HomeAssistant, weather: dict[str, PorterTestWeather]
) -> None:
    first = await async_get_forecast_window(hass, "weather.stockholm", now=NOW)
    later = await async_get_forecast_window(
        hass, "weather.stockholm", now=NOW + timedelta(minutes=30)
    )

    assert fingerprint(later) == fingerprint(first)
