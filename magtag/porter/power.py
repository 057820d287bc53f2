"""Estimate energy per wake and battery life from published MagTag currents.

Sources (see docs/firmware.md): awake phases measured with a Nordic PPK2 on a
MagTag running CircuitPython 7 (fivesixzero/circuitpython-experiments,
magtag-esp32-s2/power-testing); deep-sleep current from Adafruit
(~250-260 uA, adafruit/circuitpython#3968); LIS3DH currents from the ST datasheet
(DocID17530, table 12); always-on prototype life from fivesixzero tasmota-tag.
"""

# Awake phases: (seconds, milliamperes).
BOOT_S = 2.4
BOOT_MA = 40.0
WIFI_CONNECT_S = 3.4
WIFI_CONNECT_MA = 92.0
MQTT_ROUND_TRIP_S = 0.15
MQTT_MA = 80.0
EPAPER_REFRESH_S = 2.4
EPAPER_REFRESH_MA = 35.0
DEEP_SLEEP_UA = 260.0
LIS3DH_LOW_POWER_UA = {
    1: 2.0,
    10: 3.0,
    25: 4.0,
    50: 6.0,
    100: 10.0,
    200: 20.0,
    400: 36.0,
}
ALWAYS_ON_MA = 24.0  # 420 mAh gone in under 18 h with Wi-Fi and MQTT always on
BATTERIES_MAH = (420, 2000)
SECONDS_PER_HOUR = 3600.0
HOURS_PER_DAY = 24.0


def wake_mah(mqtt_round_trips, refreshed, wifi=True):
    """Return the charge one wake uses, in mAh."""
    mas = BOOT_S * BOOT_MA
    if wifi:
        mas += WIFI_CONNECT_S * WIFI_CONNECT_MA
        mas += mqtt_round_trips * MQTT_ROUND_TRIP_S * MQTT_MA
    if refreshed:
        mas += EPAPER_REFRESH_S * EPAPER_REFRESH_MA
    return mas / SECONDS_PER_HOUR


def sleep_mah_per_day(motion_rate_hz=50):
    """Return the charge deep sleep with the accelerometer armed uses per day."""
    micro_amps = DEEP_SLEEP_UA + LIS3DH_LOW_POWER_UA.get(motion_rate_hz, 36.0)
    return micro_amps / 1000.0 * HOURS_PER_DAY


def daily_mah(events_per_day, interval_s, round_trips=4, motion_rate_hz=50):
    """Return the charge per day for events_per_day door events and timer wakes."""
    timer_wakes = SECONDS_PER_HOUR * HOURS_PER_DAY / interval_s
    per_event = wake_mah(round_trips, True)
    per_timer = wake_mah(round_trips - 1, False)
    return (
        sleep_mah_per_day(motion_rate_hz)
        + events_per_day * per_event
        + timer_wakes * per_timer
    )


def battery_days(capacity_mah, events_per_day, interval_s, round_trips=4):
    """Return how many days a battery lasts."""
    return capacity_mah / daily_mah(events_per_day, interval_s, round_trips)


def always_on_hours(capacity_mah):
    """Return how many hours the prototype's always-on loop lasts."""
    return capacity_mah / ALWAYS_ON_MA
