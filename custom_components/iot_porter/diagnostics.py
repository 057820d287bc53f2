"""Diagnostics: counts, board state and rejected messages, secrets redacted."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from . import IotPorterConfigEntry
from .aws_certs import CONF_AWS_CA, CONF_AWS_CERTIFICATE, CONF_AWS_PRIVATE_KEY
from .aws_mirror import CONF_AWS_ENDPOINT
from .const import CONF_API_KEY

TO_REDACT = {
    CONF_API_KEY,
    CONF_AWS_CERTIFICATE,
    CONF_AWS_PRIVATE_KEY,
    CONF_AWS_CA,
    CONF_AWS_ENDPOINT,
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: IotPorterConfigEntry
) -> dict[str, Any]:
    """Return what helps to debug the hub without leaking secrets."""
    coordinator = entry.runtime_data.coordinator
    forecast = entry.runtime_data.forecast
    mirror = entry.runtime_data.mirror
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
        "aws_mirror": mirror.diagnostics() if mirror else None,
        "rejected_messages": {
            device_id: dict(counts)
            for device_id, counts in coordinator.rejections.items()
        },
    }
