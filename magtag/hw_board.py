"""Implement the hardware layer on a real MagTag running CircuitPython 10.

This is the only module that imports board, alarm, wifi, socketpool, analogio,
microcontroller and the display. It sits at the CIRCUITPY root next to code.py.
"""

import os
import time

import alarm
import analogio
import board
import busio
import microcontroller
from porter import app
from porter.hal import Hardware
from porter.log import log
import socketpool
import wifi

FONT_PATH = "/porter/fonts/porter-mono-14.bdf"
BATTERY_DIVIDER = 2.0
ADC_REFERENCE_V = 3.3
ADC_FULL_SCALE = 65535
FALLBACK_SLEEP_S = 3600


class MagTagHardware(Hardware):
    """Give the app the MagTag's memories, accelerometer, radio and e-paper."""

    def __init__(self):
        """Collect the board's peripherals without touching the accelerometer."""
        self.sleep_memory = alarm.sleep_memory
        self.nvm = microcontroller.nvm
        self.i2c = busio.I2C(board.SCL, board.SDA)
        self.display = board.DISPLAY
        self.font_path = FONT_PATH
        self._pool = None

    def getenv(self, key):
        """Return a settings.toml value or None."""
        return os.getenv(key)

    def wake_reason(self):
        """Return motion, timer, power_on or reset from alarm.wake_alarm."""
        wake = alarm.wake_alarm
        if isinstance(wake, alarm.pin.PinAlarm):
            return "motion"
        if isinstance(wake, alarm.time.TimeAlarm):
            return "timer"
        reason = microcontroller.cpu.reset_reason
        if reason == microcontroller.ResetReason.POWER_ON:
            return "power_on"
        return "reset"

    def monotonic(self):
        """Return seconds since boot."""
        return time.monotonic()

    def time(self):
        """Return the RTC as a Unix time."""
        return int(time.time())

    def set_time(self, epoch):
        """Set the RTC from a Unix time."""
        import rtc

        rtc.RTC().datetime = time.localtime(epoch)

    def random_u31(self):
        """Return 31 random bits from the hardware generator."""
        raw = os.urandom(4)
        return int.from_bytes(raw, "little") & 0x7FFFFFFF

    def battery_v(self):
        """Return the battery voltage through the 1:2 divider."""
        with analogio.AnalogIn(board.BATTERY) as pin:
            raw = pin.value
        return raw / ADC_FULL_SCALE * ADC_REFERENCE_V * BATTERY_DIVIDER

    def wifi_connect(self, ssid, password, channel, bssid, timeout_s):
        """Join Wi-Fi, starting at the remembered channel and BSSID."""
        wifi.radio.enabled = True
        kwargs = {"timeout": timeout_s}
        if channel:
            kwargs["channel"] = channel
        if bssid:
            kwargs["bssid"] = bssid
        wifi.radio.connect(ssid, password, **kwargs)
        info = wifi.radio.ap_info
        if info is None:
            return 0, None
        return info.channel, bytes(info.bssid)

    def rssi(self):
        """Return the access point's signal strength, or None."""
        info = wifi.radio.ap_info
        return info.rssi if info is not None else None

    def socket_pool(self):
        """Return the radio's socket pool."""
        if self._pool is None:
            self._pool = socketpool.SocketPool(wifi.radio)
        return self._pool

    def ssl_context(self):
        """Return the default TLS context."""
        import ssl

        return ssl.create_default_context()

    def radio_off(self):
        """Switch the Wi-Fi radio off before the e-paper draws current."""
        wifi.radio.enabled = False

    def pause(self, seconds):
        """Wait while awake."""
        time.sleep(seconds)

    def wait_display_idle(self, timeout_s):
        """Wait until the e-paper finished, so deep sleep does not cut it off."""
        deadline = time.monotonic() + timeout_s
        while self.display.busy and time.monotonic() < deadline:
            time.sleep(0.1)

    def deep_sleep(self, timer_s):
        """Sleep until the door moves (INT1 high) or the timer expires."""
        motion = alarm.pin.PinAlarm(pin=board.ACCELEROMETER_INTERRUPT, value=True)
        timer = alarm.time.TimeAlarm(monotonic_time=time.monotonic() + timer_s)
        alarm.exit_and_deep_sleep_until_alarms(motion, timer)


def sleep_anyway(timer_s):
    """Deep sleep on the timer alone when everything else failed."""
    try:
        timer = alarm.time.TimeAlarm(monotonic_time=time.monotonic() + timer_s)
        motion = alarm.pin.PinAlarm(pin=board.ACCELEROMETER_INTERRUPT, value=True)
        alarm.exit_and_deep_sleep_until_alarms(motion, timer)
    except Exception:
        alarm.exit_and_deep_sleep_until_alarms(
            alarm.time.TimeAlarm(monotonic_time=time.monotonic() + timer_s)
        )


def main():
    """Run one wake; whatever happens, end in deep sleep with a timer."""
    try:
        app.run(MagTagHardware())
    except Exception as exc:
        log("wake failed before sleep:", type(exc).__name__, exc)
    sleep_anyway(FALLBACK_SLEEP_S)
