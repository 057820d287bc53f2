"""Local summaries for weather unlike Stockholm's evening, and odd forecast data."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from homeassistant.components.weather import WeatherEntityFeature
from homeassistant.core import HomeAssistant
import pytest

from custom_components.iot_porter.forecast import (
    ForecastUnavailable,
    ForecastWindow,
    async_get_forecast_window,
    build_window,
    fingerprint,
    material_features,
)
from custom_components.iot_porter.summary import local_summary

from .weather_entities import (
    HOUR_ZERO,
    NOW,
    TIME_ZONE,
    PorterTestWeather,
    async_setup_weather,
)

METRIC = {
    "temperature_unit": "°C",
    "precipitation_unit": "mm",
    "wind_speed_unit": "m/s",
}
IMPERIAL = {
    "temperature_unit": "°F",
    "precipitation_unit": "in",
    "wind_speed_unit": "mph",
}


@pytest.fixture(autouse=True)
async def stockholm_time(hass: HomeAssistant) -> None:
    """Use Stockholm's local time for clock hours."""
    await hass.config.async_set_time_zone(TIME_ZONE)


def _hours(count: int = 14, **values: Any) -> list[dict[str, Any]]:
    """Return hourly items from 14:00 local with the same values each hour."""
    return [
        {"datetime": (HOUR_ZERO + timedelta(hours=i)).isoformat(), **values}
        for i in range(count)
    ]


def _window(
    items: list[dict[str, Any]], units: dict[str, str] = METRIC
) -> ForecastWindow:
    """Return a window over hourly items."""
    return build_window("weather.test", "hourly", items, units, now=NOW)


def _lines(window: ForecastWindow, language: str) -> list[str]:
    """Return the summary's sentences with plain spaces."""
    return local_summary(window, language).replace("\u00a0", " ").splitlines()


async def test_steady_rain_calm_and_even_temperature() -> None:
    window = _window(
        _hours(
            condition="rainy",
            temperature=3.2,
            precipitation=0.5,
            precipitation_probability=90,
            wind_speed=1.5,
        )
    )

    assert _lines(window, "en") == [
        "Rain throughout (90%, 7 mm).",
        "Around 3°C.",
        "Light wind.",
    ]
    assert _lines(window, "sv") == [
        "Regn hela tiden (90%, 7 mm).",
        "Runt 3°C.",
        "Svag vind.",
    ]


async def test_imperial_units_and_swedish_decimals() -> None:
    items = _hours(
        condition="snowy-rainy",
        temperature=31.0,
        precipitation=0.02,
        wind_speed=10.0,
    )
    items[0]["temperature"] = 36.0
    window = _window(items, IMPERIAL)

    english = _lines(window, "en")
    swedish = _lines(window, "sv")

    assert english[0] == "Sleet throughout (0.3 in)."
    assert swedish[0] == "Snöblandat regn hela tiden (0,3 in)."
    assert english[1] == "Falling from 36 to 31°F."
    assert english[2] == "Moderate wind, up to 10 mph."
    assert english[-1] == "Slippery roads possible."


async def test_mostly_dry_with_a_rain_risk() -> None:
    window = _window(
        _hours(condition="partlycloudy", temperature=4, precipitation_probability=35)
    )

    assert _lines(window, "en")[0] == "Mostly dry, rain risk 35%."
    assert _lines(window, "sv")[0] == "Mest uppehåll, risk för regn 35%."


async def test_thunder_and_fog_get_their_own_lines() -> None:
    stormy = _window(_hours(condition="lightning-rainy", precipitation=2.0))
    foggy = _window(_hours(condition="fog", precipitation=0.0))

    assert _lines(stormy, "en")[-1] == "Risk of thunder."
    assert _lines(foggy, "sv") == ["Dimmigt och uppehåll.", "Dimma ibland."]


async def test_missing_values_leave_sentences_out() -> None:
    window = _window(_hours(condition=None))

    assert _lines(window, "en") == ["Dry."]
    assert material_features(window)["temperature"] is None


async def test_items_without_a_usable_time_are_skipped() -> None:
    items = [
        {"datetime": "not a time", "temperature": 40},
        {"temperature": 40},
        {"datetime": "2025-12-03T14:00:00", "temperature": 5.0, "condition": "cloudy"},
    ]

    window = _window(items)

    # A time without a zone is taken as UTC: 15:00 in Stockholm.
    assert len(window.points) == 1
    assert window.points[0].time.utcoffset() == timedelta(0)
    assert window.temperature_range() == (5.0, 5.0)


async def test_block_without_forecast_points_still_has_a_stable_fingerprint() -> None:
    window = _window(_hours(count=3, condition="cloudy", temperature=5.0))

    features = material_features(window)

    assert features["blocks"][-1] == [None]
    assert fingerprint(window) == fingerprint(
        _window(_hours(count=3, condition="cloudy", temperature=4.4))
    )


async def test_entity_without_forecast_support_is_unavailable(
    hass: HomeAssistant,
) -> None:
    silent = PorterTestWeather("Silent", WeatherEntityFeature(0))
    empty = PorterTestWeather(
        "Empty", WeatherEntityFeature.FORECAST_HOURLY, hourly=None
    )
    await async_setup_weather(hass, [silent, empty])

    with pytest.raises(ForecastUnavailable):
        await async_get_forecast_window(hass, "weather.silent", now=NOW)
    with pytest.raises(ForecastUnavailable):
        await async_get_forecast_window(hass, "weather.empty", now=NOW)
    assert empty.asked == ["hourly"]
