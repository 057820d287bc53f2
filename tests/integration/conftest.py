"""Fixtures for the Home Assistant side."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
import json
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.iot_porter.const import CONF_BASE_TOPIC, DOMAIN

EXAMPLES = Path(__file__).parent.parent / "protocol_examples"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let the test Home Assistant load custom_components."""


def load_examples(folder: str) -> list[dict[str, Any]]:
    """Return the shared contract examples of one folder, with their file names."""
    examples = []
    for path in sorted((EXAMPLES / folder).glob("*.json")):
        example = json.loads(path.read_text())
        example["name"] = path.stem
        examples.append(example)
    return examples


def example_payload(example: dict[str, Any]) -> str:
    """Return an example's payload as the text that goes on the wire."""
    if "payload_text" in example:
        return str(example["payload_text"])
    return json.dumps(example["payload"], ensure_ascii=False)


@pytest.fixture
def config_entry(hass: HomeAssistant) -> MockConfigEntry:
    """Return the hub entry, added to Home Assistant but not set up."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="IoT Porter",
        unique_id=DOMAIN,
        data={CONF_BASE_TOPIC: "iot_porter"},
    )
    entry.add_to_hass(hass)
    return entry


@pytest.fixture
async def mqtt_ready(hass: HomeAssistant, mqtt_mock: Any) -> AsyncIterator[Any]:
    """Provide Home Assistant's MQTT with a mocked client, unloaded afterwards.

    Unloading stops the MQTT client's periodic timer, which would otherwise
    outlive the test.
    """
    yield mqtt_mock
    for entry in hass.config_entries.async_entries():
        await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


@pytest.fixture
async def setup_hub(
    hass: HomeAssistant, mqtt_ready: Any, config_entry: MockConfigEntry
) -> Callable[[], Awaitable[MockConfigEntry]]:
    """Return a function that sets up the hub entry with a mocked MQTT client."""

    async def setup() -> MockConfigEntry:
        assert await hass.config_entries.async_setup(config_entry.entry_id)
        await hass.async_block_till_done()
        return config_entry

    return setup


@pytest.fixture
def expected_lingering_timers() -> bool:
    """Allow the MQTT client's own debounce timers to outlive a test.

    Home Assistant's MQTT integration schedules (un)subscribe cooldown timers
    that are still pending when a test ends, even after unloading.
    """
    return True
