"""Describe the thin hardware layer the app runs on (board or simulator).

hw_board.py implements it with CircuitPython modules on the MagTag; the host
simulator implements it with files, a fake LIS3DH and a PIL-backed display.
"""


class Hardware:
    """Give the app everything it needs from the board, nothing more."""

    # Byte arrays that survive deep sleep (sleep_memory) and power loss (nvm).
    sleep_memory = bytearray(0)
    nvm = bytearray(0)
    # busio.I2C-like bus with the LIS3DH on it, and a displayio display.
    i2c = None
    display = None
    font_path = ""

    def getenv(self, key):
        """Return a settings.toml value or None."""
        raise NotImplementedError

    def wake_reason(self):
        """Return motion, timer, power_on or reset."""
        raise NotImplementedError

    def monotonic(self):
        """Return seconds since boot as a float."""
        raise NotImplementedError

    def time(self):
        """Return the board clock as a Unix time in seconds."""
        raise NotImplementedError

    def set_time(self, epoch):
        """Set the board clock to a Unix time."""
        raise NotImplementedError

    def random_u31(self):
        """Return a random integer from the hardware random source."""
        raise NotImplementedError

    def battery_v(self):
        """Return the battery voltage in volts."""
        raise NotImplementedError

    def wifi_connect(self, ssid, password, channel, bssid, timeout_s):
        """Join Wi-Fi using the channel/BSSID hint; return (channel, bssid)."""
        raise NotImplementedError

    def rssi(self):
        """Return the Wi-Fi signal strength in dBm, or None."""
        raise NotImplementedError

    def socket_pool(self):
        """Return a socket pool for MiniMQTT."""
        raise NotImplementedError

    def ssl_context(self):
        """Return an SSL context for MiniMQTT over TLS."""
        raise NotImplementedError

    def radio_off(self):
        """Switch the Wi-Fi radio off."""
        raise NotImplementedError

    def pause(self, seconds):
        """Wait for seconds while awake."""
        raise NotImplementedError

    def wait_display_idle(self, timeout_s):
        """Wait until the e-paper is no longer busy, at most timeout_s."""
        raise NotImplementedError

    def deep_sleep(self, timer_s):
        """Sleep until motion or timer_s elapse (never returns on the board)."""
        raise NotImplementedError
