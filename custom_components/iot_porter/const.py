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

# A burst of door events republishes a board's display at most once per period.
DISPLAY_COALESCE_S: Final = 1.0

STORE_VERSION: Final = 1
STORE_SAVE_DELAY_S: Final = 1

SIGNAL_NEW_BOARD: Final = "iot_porter_new_board_{entry_id}"
SIGNAL_BOARD_UPDATED: Final = "iot_porter_board_updated_{entry_id}_{device_id}"
SIGNAL_DOOR_EVENTS: Final = "iot_porter_door_events_{entry_id}_{device_id}"

SERVICE_RESET_COUNTER: Final = "reset_counter"
ATTR_DEVICE_ID: Final = "device_id"

CONF_API_KEY: Final = "api_key"
CONF_WEATHER_ENTITY: Final = "weather_entity"
CONF_LANGUAGE: Final = "language"
CONF_MODEL: Final = "model"
CONF_INSTRUCTIONS: Final = "instructions"
CONF_REFRESH_MIN: Final = "refresh_interval_min"
CONF_DAILY_CAP: Final = "daily_call_cap"
CONF_BASE_URL: Final = "base_url"
CONF_TIMEOUT_S: Final = "timeout_s"
CONF_MESSAGE_MIN: Final = "message_duration_min"

LANGUAGE_AUTO: Final = "auto"
LANGUAGES: Final = ("auto", "en", "sv")
DEFAULT_REFRESH_MIN: Final = 30
DEFAULT_MESSAGE_MIN: Final = 60
# Weather entities change state often; wait for them to settle before refetching.
WEATHER_SETTLE_S: Final = 10

SIGNAL_TEXT_UPDATED: Final = "iot_porter_text_updated_{entry_id}_{device_id}"
SERVICE_REFRESH_FORECAST: Final = "refresh_forecast"
SERVICE_SHOW_MESSAGE: Final = "show_message"
ATTR_MESSAGE: Final = "message"
ATTR_DURATION: Final = "duration"
