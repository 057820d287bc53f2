"""Drive the LIS3DH's wake-on-motion registers over I2C with a tiny own driver.

Reading INT1_SRC clears the latched interrupt; this must happen before anything
re-initialises the chip, and again right before deep sleep, because the ESP32-S2
wakes on the pin level and a still-latched interrupt would wake it at once.
"""

ADDRESS = 0x19
WHO_AM_I = 0x0F
WHO_AM_I_VALUE = 0x33
CTRL_REG1 = 0x20
CTRL_REG2 = 0x21
CTRL_REG3 = 0x22
CTRL_REG4 = 0x23
CTRL_REG5 = 0x24
CTRL_REG6 = 0x25
REFERENCE = 0x26
INT1_CFG = 0x30
INT1_SRC = 0x31
INT1_THS = 0x32
INT1_DURATION = 0x33

INT1_SRC_IA = 0x40
ODR_CODES = {1: 0x1, 10: 0x2, 25: 0x3, 50: 0x4, 100: 0x5, 200: 0x6, 400: 0x7}
CTRL1_LOW_POWER_XYZ = 0x0F  # LPen plus X, Y and Z enabled
CTRL2_HP_ON_INT1 = 0x01  # high-pass filter feeds the INT1 motion detector
CTRL3_IA1_ON_INT1 = 0x40
CTRL4_2G = 0x00
CTRL5_LATCH_INT1 = 0x08
CTRL6_ACTIVE_HIGH = 0x00
INT1_CFG_ANY_HIGH = 0x2A  # OR of X, Y and Z high events
THRESHOLD_LSB_MG = 16  # at +-2 g
LOCK_TRIES = 1000


class LIS3DH:
    """Read and write LIS3DH registers on a busio.I2C-like bus."""

    def __init__(self, i2c, address=ADDRESS):
        """Use i2c (try_lock/unlock/writeto/writeto_then_readfrom) at address."""
        self.i2c = i2c
        self.address = address

    def _lock(self):
        """Take the bus lock or raise instead of spinning forever."""
        for _ in range(LOCK_TRIES):
            if self.i2c.try_lock():
                return
        raise RuntimeError("I2C bus busy")

    def read(self, register):
        """Return one register's value."""
        out = bytearray(1)
        self._lock()
        try:
            self.i2c.writeto_then_readfrom(self.address, bytes([register]), out)
        finally:
            self.i2c.unlock()
        return out[0]

    def write(self, register, value):
        """Write one register."""
        self._lock()
        try:
            self.i2c.writeto(self.address, bytes([register, value & 0xFF]))
        finally:
            self.i2c.unlock()

    def read_motion_source(self):
        """Return INT1_SRC; reading it clears the latched motion interrupt."""
        return self.read(INT1_SRC)

    def arm_wake(self, threshold_mg, rate_hz, duration):
        """Write the full wake-on-motion configuration and clear the latch.

        Returns INT1_SRC as read by the final clearing read.
        """
        if self.read(WHO_AM_I) != WHO_AM_I_VALUE:
            raise RuntimeError("LIS3DH not found")
        threshold = threshold_mg // THRESHOLD_LSB_MG
        threshold = min(max(threshold, 1), 0x7F)
        self.write(INT1_CFG, 0x00)
        self.write(CTRL_REG1, (ODR_CODES[rate_hz] << 4) | CTRL1_LOW_POWER_XYZ)
        self.write(CTRL_REG2, CTRL2_HP_ON_INT1)
        self.write(CTRL_REG3, CTRL3_IA1_ON_INT1)
        self.write(CTRL_REG4, CTRL4_2G)
        self.write(CTRL_REG5, CTRL5_LATCH_INT1)
        self.write(CTRL_REG6, CTRL6_ACTIVE_HIGH)
        self.write(INT1_THS, threshold)
        self.write(INT1_DURATION, duration & 0x7F)
        # Reading REFERENCE resets the high-pass filter to the current orientation.
        self.read(REFERENCE)
        self.write(INT1_CFG, INT1_CFG_ANY_HIGH)
        return self.read_motion_source()
