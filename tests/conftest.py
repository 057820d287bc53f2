"""Shared test setup.

The custom_components package is imported here once: the test Home Assistant of
pytest-homeassistant-custom-component 0.13.236 reports "Integration not found"
for a custom integration whose package was never imported in the test process.
"""

import custom_components.iot_porter  # noqa: F401
