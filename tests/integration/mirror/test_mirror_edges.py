"""Edge cases of the mirror's settings, TLS error names and stored queue."""

from __future__ import annotations

import logging
from typing import Any

from homeassistant.core import HomeAssistant
import pytest

from custom_components.iot_porter.aws_mirror import (
    CONF_AWS_QUEUE_LIMIT,
    ERROR_TLS,
    AwsMirror,
    AwsMirrorConfig,
    classify_tls_error,
    validate_settings,
)
from tests.broker import free_port

from .conftest import Pki

STORE_KEY = "iot_porter.aws_mirror_edges"


def _config(pki: Pki, **changes: Any) -> AwsMirrorConfig:
    thing = pki.things["front-door"]
    settings: dict[str, Any] = {
        "endpoint": "127.0.0.1",
        "thing": "front-door",
        "certificate": thing.certificate,
        "private_key": thing.private_key,
        "ca": pki.ca.pem,
        "reconnect_min_s": 0.05,
        "reconnect_max_s": 0.2,
    }
    return AwsMirrorConfig(**(settings | changes))


@pytest.mark.parametrize(
    ("changes", "error"),
    [({"port": 70000}, "invalid_port"), ({"keepalive_s": 5}, "invalid_keepalive")],
)
def test_config_refuses_what_aws_would_refuse(
    pki: Pki, changes: dict[str, Any], error: str
) -> None:
    with pytest.raises(ValueError, match=error):
        _config(pki, **changes)


def test_queue_limit_must_be_positive() -> None:
    errors = validate_settings("a.example", 8883, "front-door", "iot_porter", 0)
    assert errors == {CONF_AWS_QUEUE_LIMIT: "invalid_queue_limit"}


def test_unknown_tls_failures_are_named_generically() -> None:
    assert classify_tls_error("[SSL] something nobody expected") == ERROR_TLS


async def test_damaged_stored_queue_is_reported_and_replaced(
    hass: HomeAssistant,
    pki: Pki,
    socket_enabled: Any,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    hass_storage[STORE_KEY] = {
        "version": 1,
        "key": STORE_KEY,
        "data": {"queue": [["not a number", "t", "{}"]], "next_id": 3},
    }
    mirror = AwsMirror(hass, _config(pki, port=free_port()), STORE_KEY)
    await mirror.async_start()
    await mirror.async_start()
    try:
        assert mirror.queue_depth == 0
        assert [
            r.levelno for r in caplog.records if "queue is damaged" in r.message
        ] == [logging.WARNING]
    finally:
        await mirror.async_stop()
