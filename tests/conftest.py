"""Shared test setup.

The custom_components package is imported here once: the test Home Assistant of
pytest-homeassistant-custom-component 0.13.236 reports "Integration not found"
for a custom integration whose package was never imported in the test process.
"""

import sys

import custom_components.iot_porter  # noqa: F401


def pytest_unconfigure(config: object) -> None:
    """Stop Blinka displayio's background thread before the interpreter exits.

    The daemon thread keeps running into interpreter shutdown otherwise, which
    Python 3.14 answers with a fatal error at exit.
    """
    displayio = sys.modules.get("displayio")
    stop = getattr(displayio, "_stop_background", None)
    if stop is not None:
        stop()
