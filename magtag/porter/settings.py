"""Read and check the board's settings.toml values through a getenv function."""

from .protocol import valid_base_topic, valid_device_id

RATES_HZ = (1, 10, 25, 50, 100, 200, 400)
DEFAULT_INTERVAL_S = 3600
MIN_INTERVAL_S = 60
MAX_INTERVAL_S = 86400
SECRET_NAMES = ("wifi_password", "mqtt_password")


def _text(getenv, key, default=None):
    """Return a setting as a string or default."""
    value = getenv(key)
    if value is None or value == "":
        return default
    return str(value)


def _number(getenv, key, default, low, high):
    """Return an integer setting, checked against its range."""
    raw = getenv(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(key + " is not a whole number") from None
    if not low <= value <= high:
        raise ValueError("%s must be %d to %d" % (key, low, high))
    return value


def _flag(getenv, key, default):
    """Return a boolean setting written as true/false, 1/0 or yes/no."""
    raw = getenv(key)
    if raw is None or raw == "":
        return default
    return str(raw).strip().lower() in ("1", "true", "yes", "on")


class Settings:
    """Hold the checked settings; repr never shows secrets."""

    def __init__(self, getenv):
        """Read every setting from getenv and check it."""
        self.wifi_ssid = _text(getenv, "WIFI_SSID")
        self.wifi_password = _text(getenv, "WIFI_PASSWORD", "")
        self.mqtt_host = _text(getenv, "MQTT_HOST")
        self.mqtt_port = _number(getenv, "MQTT_PORT", 1883, 1, 65535)
        self.mqtt_user = _text(getenv, "MQTT_USER")
        self.mqtt_password = _text(getenv, "MQTT_PASSWORD")
        self.mqtt_tls = _flag(getenv, "MQTT_TLS", False)
        self.base_topic = _text(getenv, "BASE_TOPIC", "iot_porter")
        self.device_id = _text(getenv, "DEVICE_ID")
        self.motion_threshold_mg = _number(getenv, "MOTION_THRESHOLD_MG", 96, 16, 2000)
        self.motion_rate_hz = _number(getenv, "MOTION_RATE_HZ", 50, 1, 400)
        self.motion_duration = _number(getenv, "MOTION_DURATION", 0, 0, 127)
        self.interval_s = _number(
            getenv,
            "TIMER_INTERVAL_S",
            DEFAULT_INTERVAL_S,
            MIN_INTERVAL_S,
            MAX_INTERVAL_S,
        )
        self.debounce_s = _number(getenv, "DEBOUNCE_S", 20, 0, 3600)
        self.wifi_timeout_s = _number(getenv, "WIFI_TIMEOUT_S", 10, 1, 60)
        self.mqtt_timeout_s = _number(getenv, "MQTT_TIMEOUT_S", 3, 2, 30)
        self.display_wait_s = _number(getenv, "DISPLAY_WAIT_S", 2, 1, 10)
        self.log = _flag(getenv, "PORTER_LOG", True)
        self._check()

    def _check(self):
        """Raise ValueError for settings the board cannot work with."""
        if self.motion_rate_hz not in RATES_HZ:
            raise ValueError("MOTION_RATE_HZ must be one of 1,10,25,50,100,200,400")
        if not valid_device_id(self.device_id):
            raise ValueError("DEVICE_ID is missing or not like front-door")
        if not valid_base_topic(self.base_topic):
            raise ValueError("BASE_TOPIC is not a valid topic base")
        if not self.wifi_ssid:
            raise ValueError("WIFI_SSID is missing")
        if not self.mqtt_host:
            raise ValueError("MQTT_HOST is missing")

    def __repr__(self):
        """Return a description without passwords."""
        return "<Settings %s@%s:%d base=%s>" % (
            self.device_id,
            self.mqtt_host,
            self.mqtt_port,
            self.base_topic,
        )


def interval_or_default(getenv):
    """Return the timer interval even when the rest of the settings are broken."""
    try:
        return _number(
            getenv,
            "TIMER_INTERVAL_S",
            DEFAULT_INTERVAL_S,
            MIN_INTERVAL_S,
            MAX_INTERVAL_S,
        )
    except ValueError:
        return DEFAULT_INTERVAL_S
