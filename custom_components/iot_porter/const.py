"""Constants for the IoT Porter integration."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "iot_porter"

CONF_BASE_TOPIC: Final = "base_topic"
DEFAULT_BASE_TOPIC: Final = "iot_porter"

# A board is "silent" after this many of its own timer intervals without a message.
SILENT_AFTER_INTERVALS: Final = 3
DEFAULT_INTERVAL_S: Final = 3600
SILENCE_CHECK_INTERVAL_S: Final = 60
# A board silent this long gets a repair issue: the user should look at it.
SILENT_ISSUE_AFTER_S: Final = 2 * 24 * 3600
MIN_FIRMWARE: Final = (1, 0, 0)

STORE_VERSION: Final = 1
STORE_SAVE_DELAY_S: Final = 1

SIGNAL_NEW_BOARD: Final = "iot_porter_new_board_{entry_id}"
SIGNAL_BOARD_UPDATED: Final = "iot_porter_board_updated_{entry_id}_{device_id}"
SIGNAL_DOOR_EVENTS: Final = "iot_porter_door_events_{entry_id}_{device_id}"

SERVICE_RESET_COUNTER: Final = "reset_counter"
ATTR_DEVICE_ID: Final = "device_id"
