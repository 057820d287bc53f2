"""The deterministic local summary, in English and Swedish, fitted to a budget."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
import pytest

from custom_components.iot_porter.fitting import Budget
from custom_components.iot_porter.forecast import (
    ForecastWindow,
    async_get_forecast_window,
)
from custom_components.iot_porter.summary import (
    local_lines,
    local_summary,
    unavailable_lines,
)

from .test_fitting import SMALL, WIDE, assert_fits
from .weather_entities import NOW, PorterTestWeather, stockholm_hourly


async def _stockholm(
    hass: HomeAssistant,
    weather: dict[str, PorterTestWeather],
    changes: dict[int, dict[str, Any]],
) -> ForecastWindow:
    """Return Stockholm's window after changing some hours of its forecast."""
    weather["weather.stockholm"].hourly = stockholm_hourly(changes)
    return await async_get_forecast_window(hass, "weather.stockholm", now=NOW)


def _dry(hours: range) -> dict[int, dict[str, Any]]:
    """Return changes that make these hours dry and cloudy."""
    return {
        i: {
            "condition": "cloudy",
            "native_precipitation": 0.0,
            "precipitation_probability": 5,
        }
        for i in hours
    }


def _wet(hours: range, condition: str = "rainy") -> dict[int, dict[str, Any]]:
    """Return changes that make these hours wet."""
    return {
        i: {
            "condition": condition,
            "native_precipitation": 1.0,
            "precipitation_probability": 80,
        }
        for i in hours
    }


def test_english_summary_tells_when_rain_comes(window: ForecastWindow) -> None:
    assert local_summary(window, "en").replace("\u00a0", " ").splitlines() == [
        "Dry until 18, then rain (95%, 8 mm).",
        "Falling from 6 to 2°C.",
        "Wind rising from 20, up to 38 km/h, gusts 65.",
    ]


def test_swedish_summary_tells_when_rain_comes(window: ForecastWindow) -> None:
    assert local_summary(window, "sv").replace("\u00a0", " ").splitlines() == [
        "Uppehåll till kl 18, sedan regn (95%, 8 mm).",
        "Sjunker från 6 till 2°C.",
        "Ökande vind från kl 20, upp till 38 km/h, byar 65.",
    ]


@pytest.mark.parametrize("language", ["en", "sv"])
@pytest.mark.parametrize("budget", [SMALL, WIDE], ids=["5x24", "3x40"])
def test_summary_fits_each_budget_and_leads_with_rain(
    window: ForecastWindow, language: str, budget: Budget
) -> None:
    lines = local_lines(window, language, budget)

    assert_fits(lines, budget)
    expected_start = {"en": "Dry until 18", "sv": "Uppehåll till kl 18"}[language]
    assert lines[0].startswith(expected_start)
    # The number and its unit never end up on different lines.
    assert not any(line.endswith((" 8", "(95%, 8")) for line in lines)


def test_small_budget_drops_whole_sentences_not_words(window: ForecastWindow) -> None:
    lines = local_lines(window, "sv", SMALL)

    assert lines == [
        "Uppehåll till kl 18,",
        "sedan regn (95%, 8 mm).",
        "Sjunker från 6 till 2°C.",
    ]


async def test_rain_that_stops_is_described_with_its_end(
    hass: HomeAssistant, weather: dict[str, PorterTestWeather]
) -> None:
    window = await _stockholm(hass, weather, {**_wet(range(4)), **_dry(range(4, 16))})

    assert local_summary(window, "en").startswith("Rain until 18, then dry (80%, 4")
    assert local_summary(window, "sv").startswith(
        "Regn till kl\u00a018, sedan uppehåll (80%"
    )


async def test_a_short_shower_is_given_as_a_spell(
    hass: HomeAssistant, weather: dict[str, PorterTestWeather]
) -> None:
    window = await _stockholm(
        hass, weather, {**_dry(range(16)), **_wet(range(3, 5), "snowy")}
    )

    assert local_summary(window, "en").startswith("Snow 17–19, otherwise dry")
    assert local_summary(window, "sv").startswith("Snö kl\u00a017–19, annars uppehåll")


async def test_dry_window_names_the_sky(
    hass: HomeAssistant, weather: dict[str, PorterTestWeather]
) -> None:
    window = await _stockholm(hass, weather, _dry(range(16)))

    assert local_summary(window, "en").splitlines()[0] == "Cloudy and dry."
    assert local_summary(window, "sv").splitlines()[0] == "Mulet och uppehåll."


async def test_freezing_rain_warns_of_slippery_roads(
    hass: HomeAssistant, weather: dict[str, PorterTestWeather]
) -> None:
    window = await _stockholm(
        hass, weather, {i: {"native_temperature": -1.0} for i in range(6, 16)}
    )

    assert local_summary(window, "en").splitlines()[-1] == "Slippery roads possible."
    assert local_summary(window, "sv").splitlines()[-1] == "Risk för halka."


async def test_daily_only_source_gives_no_clock_times(
    hass: HomeAssistant, weather: dict[str, PorterTestWeather]
) -> None:
    window = await async_get_forecast_window(hass, "weather.daily_only", now=NOW)

    english = local_summary(window, "en")
    swedish = local_summary(window, "sv")

    assert english.startswith("Rain likely (90%).")
    assert swedish.startswith("Regn väntas (90%).")
    assert "until" not in english
    assert "kl" not in swedish


def test_unknown_language_falls_back_to_english(window: ForecastWindow) -> None:
    assert local_summary(window, "de") == local_summary(window, "en")


def test_no_forecast_notice_fits() -> None:
    assert unavailable_lines("en", SMALL) == ["No forecast right now."]
    assert unavailable_lines("sv", Budget(lines=2, chars=12)) == [
        "Ingen",
        "prognos...",
    ]
