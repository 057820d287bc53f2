"""Fixtures for the forecast writer tests: weather entities and a fake OpenAI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from homeassistant.core import HomeAssistant
import httpx
import openai
import pytest

from custom_components.iot_porter.forecast import (
    ForecastWindow,
    async_get_forecast_window,
)
from custom_components.iot_porter.writer import create_client

from .fake_openai import VALID_KEY, FakeOpenAI
from .weather_entities import (
    NOW,
    TIME_ZONE,
    PorterTestWeather,
    async_setup_weather,
    stockholm_entities,
)


@pytest.fixture
async def weather(hass: HomeAssistant) -> dict[str, PorterTestWeather]:
    """Set up Stockholm's weather entities in the test Home Assistant."""
    await hass.config.async_set_time_zone(TIME_ZONE)
    entities = stockholm_entities()
    await async_setup_weather(hass, list(entities.values()))
    return entities


@pytest.fixture
async def window(
    hass: HomeAssistant, weather: dict[str, PorterTestWeather]
) -> ForecastWindow:
    """Return the next 12 hours of Stockholm's hourly forecast."""
    return await async_get_forecast_window(hass, "weather.stockholm", now=NOW)


@pytest.fixture
async def fake_openai(socket_enabled: Any) -> AsyncIterator[FakeOpenAI]:
    """Run a scripted OpenAI server on the loopback interface."""
    server = FakeOpenAI()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def http_client() -> AsyncIterator[httpx.AsyncClient]:
    """Return an HTTP client like the one Home Assistant shares."""
    client = httpx.AsyncClient()
    yield client
    await client.aclose()


@pytest.fixture
def openai_client(
    fake_openai: FakeOpenAI, http_client: httpx.AsyncClient
) -> openai.AsyncOpenAI:
    """Return a real OpenAI client pointed at the fake server."""
    return create_client(
        VALID_KEY, http_client=http_client, base_url=fake_openai.base_url
    )


class SleepRecorder:
    """Stand in for asyncio.sleep so retries do not slow the tests down."""

    def __init__(self) -> None:
        """Start with no waits."""
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        """Record a wait instead of waiting."""
        self.delays.append(delay)


@pytest.fixture
def sleep() -> SleepRecorder:
    """Return a recorder for retry waits."""
    return SleepRecorder()
