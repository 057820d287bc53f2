"""Diagnostics: counts, board state and rejected messages, secrets redacted."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from . import IotPorterConfigEntry

TO_REDACT = {"api_key", "private_key", "certificate", "ca_certificate", "password"}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: IotPorterConfigEntry
) -> dict[str, Any]:
    """Return what helps to debug the hub without leaking secrets."""
    coordinator = entry.runtime_data.coordinator
    forecast = entry.runtime_data.forecast
    return {
        "entry": {
            "data": async_redact_data(dict(entry.data), TO_REDACT),
            "options": async_redact_data(dict(entry.options), TO_REDACT),
        },
        "boards": {
            device_id: {
                **board.as_dict(),
                "silent": board.silent,
                "published_display_id": board.published_id,
            }
            for device_id, board in coordinator.boards.items()
        },
        "forecast": {
            "weather_entity": forecast.weather_entity,
            "language": forecast.language,
            "openai": forecast.writer.openai_writer is not None,
            "usage": forecast.writer.stats,
            "texts": {
                device_id: result.as_dict()
                for device_id, result in forecast.results.items()
            },
        },
        "rejected_messages": {
            device_id: dict(counts)
            for device_id, counts in coordinator.rejections.items()
        },
    }
