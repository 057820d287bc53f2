"""Real weather entities with a Stockholm December forecast, for tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from homeassistant.components.weather import (
    Forecast,
    WeatherEntity,
    WeatherEntityFeature,
)
from homeassistant.const import (
    UnitOfPrecipitationDepth,
    UnitOfPressure,
    UnitOfSpeed,
    UnitOfTemperature,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    MockModule,
    MockPlatform,
    mock_integration,
    mock_platform,
)

TEST_DOMAIN = "porter_test_weather"
TIME_ZONE = "Europe/Stockholm"
# Wednesday 3 December 2025, 14:20 in Stockholm: a grey afternoon before rain.
NOW = datetime(2025, 12, 3, 13, 20, tzinfo=UTC)
HOUR_ZERO = datetime(2025, 12, 3, 13, 0, tzinfo=UTC)

# Local hour, condition, °C, mm, rain %, wind m/s, gust m/s (SMHI-like native units).
STOCKHOLM_HOURS: tuple[tuple[int, str, float, float, int, float, float], ...] = (
    (14, "cloudy", 5.8, 0.0, 10, 3.5, 7.0),
    (15, "cloudy", 5.6, 0.0, 10, 3.8, 7.0),
    (16, "cloudy", 5.3, 0.0, 15, 4.2, 8.0),
    (17, "cloudy", 5.0, 0.0, 25, 4.6, 9.0),
    (18, "rainy", 4.6, 0.3, 60, 5.5, 10.0),
    (19, "rainy", 4.2, 0.9, 85, 6.5, 12.0),
    (20, "rainy", 3.8, 1.4, 95, 8.2, 14.0),
    (21, "pouring", 3.4, 2.6, 95, 9.8, 17.0),
    (22, "rainy", 3.0, 1.5, 90, 10.5, 18.0),
    (23, "rainy", 2.7, 0.8, 80, 10.2, 17.0),
    (0, "rainy", 2.4, 0.4, 70, 9.0, 15.0),
    (1, "rainy", 2.2, 0.3, 60, 8.0, 13.0),
    (2, "rainy", 2.0, 0.2, 55, 7.2, 12.0),
    (3, "cloudy", 2.0, 0.0, 30, 6.5, 11.0),
    (4, "cloudy", 1.8, 0.0, 20, 6.0, 10.0),
    (5, "partlycloudy", 1.5, 0.0, 10, 5.5, 9.0),
)


def stockholm_hourly(
    changes: dict[int, dict[str, Any]] | None = None,
) -> list[Forecast]:
    """Return the hourly forecast, optionally with some hours changed."""
    forecast: list[Forecast] = []
    for index, (_, condition, temp, rain, pct, wind, gust) in enumerate(
        STOCKHOLM_HOURS
    ):
        item: dict[str, Any] = {
            "datetime": (HOUR_ZERO + timedelta(hours=index)).isoformat(),
            "condition": condition,
            "native_temperature": temp,
            "native_precipitation": rain,
            "precipitation_probability": pct,
            "native_wind_speed": wind,
            "native_wind_gust_speed": gust,
            "humidity": 88,
            "native_pressure": 1004.0,
        }
        item.update((changes or {}).get(index, {}))
        forecast.append(Forecast(**item))  # type: ignore[typeddict-item]
    return forecast


def _local(day: int, hour: int) -> str:
    """Return a December 2025 Stockholm time as ISO text."""
    return datetime(2025, 12, day, hour, tzinfo=ZoneInfo(TIME_ZONE)).isoformat()


TWICE_DAILY: list[Forecast] = [
    Forecast(
        datetime=_local(3, 7),
        is_daytime=True,
        condition="cloudy",
        native_temperature=6.0,
        native_templow=4.0,
        native_precipitation=0.0,
        precipitation_probability=20,
        native_wind_speed=4.0,
    ),
    Forecast(
        datetime=_local(3, 19),
        is_daytime=False,
        condition="rainy",
        native_temperature=4.0,
        native_templow=2.0,
        native_precipitation=7.5,
        precipitation_probability=90,
        native_wind_speed=9.0,
    ),
    Forecast(
        datetime=_local(4, 7),
        is_daytime=True,
        condition="cloudy",
        native_temperature=3.0,
        native_templow=1.0,
        native_precipitation=0.0,
        precipitation_probability=30,
        native_wind_speed=6.0,
    ),
]

DAILY: list[Forecast] = [
    Forecast(
        datetime=_local(3, 0),
        condition="rainy",
        native_temperature=6.0,
        native_templow=2.0,
        native_precipitation=8.0,
        precipitation_probability=90,
        native_wind_speed=9.0,
    ),
    Forecast(
        datetime=_local(4, 0),
        condition="cloudy",
        native_temperature=3.0,
        native_templow=-1.0,
        native_precipitation=0.0,
        precipitation_probability=20,
        native_wind_speed=5.0,
    ),
]


class PorterTestWeather(WeatherEntity):
    """A weather entity serving fixed forecasts in SMHI's native units."""

    _attr_native_temperature_unit = UnitOfTemperature.CELSIUS
    _attr_native_precipitation_unit = UnitOfPrecipitationDepth.MILLIMETERS
    _attr_native_wind_speed_unit = UnitOfSpeed.METERS_PER_SECOND
    _attr_native_pressure_unit = UnitOfPressure.HPA
    _attr_condition = "cloudy"
    _attr_native_temperature = 5.8
    _attr_humidity = 88

    def __init__(
        self,
        name: str,
        features: WeatherEntityFeature,
        *,
        hourly: list[Forecast] | None = None,
        twice_daily: list[Forecast] | None = None,
        daily: list[Forecast] | None = None,
        hourly_fails: bool = False,
    ) -> None:
        """Keep the forecasts this entity serves."""
        self._attr_name = name
        self._attr_unique_id = f"{TEST_DOMAIN}_{name.lower().replace(' ', '_')}"
        self._attr_supported_features = features
        self.hourly = hourly
        self.twice_daily = twice_daily
        self.daily = daily
        self.hourly_fails = hourly_fails
        self.asked: list[str] = []

    async def async_forecast_hourly(self) -> list[Forecast] | None:
        """Return the hourly forecast, or fail like a provider outage."""
        self.asked.append("hourly")
        if self.hourly_fails:
            raise HomeAssistantError("Provider has no hourly data right now")
        return self.hourly

    async def async_forecast_twice_daily(self) -> list[Forecast] | None:
        """Return the twice-daily forecast."""
        self.asked.append("twice_daily")
        return self.twice_daily

    async def async_forecast_daily(self) -> list[Forecast] | None:
        """Return the daily forecast."""
        self.asked.append("daily")
        return self.daily


def stockholm_entities() -> dict[str, PorterTestWeather]:
    """Return the test entities by the entity id they will get."""
    return {
        "weather.stockholm": PorterTestWeather(
            "Stockholm",
            WeatherEntityFeature.FORECAST_HOURLY | WeatherEntityFeature.FORECAST_DAILY,
            hourly=stockholm_hourly(),
            daily=DAILY,
        ),
        "weather.twice_daily_only": PorterTestWeather(
            "Twice daily only",
            WeatherEntityFeature.FORECAST_TWICE_DAILY
            | WeatherEntityFeature.FORECAST_DAILY,
            twice_daily=TWICE_DAILY,
            daily=DAILY,
        ),
        "weather.daily_only": PorterTestWeather(
            "Daily only", WeatherEntityFeature.FORECAST_DAILY, daily=DAILY
        ),
        "weather.flaky_hourly": PorterTestWeather(
            "Flaky hourly",
            WeatherEntityFeature.FORECAST_HOURLY | WeatherEntityFeature.FORECAST_DAILY,
            hourly=stockholm_hourly(),
            daily=DAILY,
            hourly_fails=True,
        ),
    }


async def async_setup_weather(
    hass: HomeAssistant, entities: Sequence[PorterTestWeather]
) -> None:
    """Add the entities through Home Assistant's weather component."""

    async def async_setup_platform(
        hass: HomeAssistant,
        config: Any,
        async_add_entities: AddEntitiesCallback,
        discovery_info: Any = None,
    ) -> None:
        """Add the test entities."""
        async_add_entities(entities)

    mock_integration(hass, MockModule(TEST_DOMAIN))
    mock_platform(
        hass,
        f"{TEST_DOMAIN}.weather",
        MockPlatform(async_setup_platform=async_setup_platform),
    )
    assert await async_setup_component(
        hass, "weather", {"weather": [{"platform": TEST_DOMAIN}]}
    )
    await hass.async_block_till_done()
