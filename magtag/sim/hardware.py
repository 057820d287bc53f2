"""Simulated MagTag hardware: LIS3DH register model, sleep memory, nvm, Wi-Fi, clock."""

import json
from pathlib import Path
import random
import socket
import ssl
import time
from typing import Any

from magtag.porter import hal, lis3dh

from .paper import PaperDisplay

SLEEP_MEMORY_BYTES = 4096
NVM_BYTES = 8192
UNSET_CLOCK_EPOCH = 946684800  # the RTC reads 2000-01-01 after a power loss
SIM_CHANNEL = 6
SIM_BSSID = bytes.fromhex("02a1b2c3d4e5")
FONT_PATH = str(
    Path(__file__).resolve().parent.parent / "porter" / "fonts" / "porter-mono-14.bdf"
)


class FakeLis3dh:
    """Model the LIS3DH registers that wake-on-motion uses, on an I2C-like bus."""

    def __init__(self, registers: list[int] | None = None, latched: bool = False):
        """Start from power-on defaults or from saved registers."""
        self.regs = bytearray(0x40)
        if registers is not None:
            self.regs[:] = bytes(registers)
        else:
            self.regs[lis3dh.WHO_AM_I] = lis3dh.WHO_AM_I_VALUE
            self.regs[lis3dh.CTRL_REG1] = 0x07
        self.latched = latched
        self.writes: list[tuple[int, int]] = []
        self.reads: list[int] = []
        self.locked = False

    def try_lock(self) -> bool:
        """Take the bus lock."""
        if self.locked:
            return False
        self.locked = True
        return True

    def unlock(self) -> None:
        """Release the bus lock."""
        self.locked = False

    def writeto(self, address: int, data: bytes) -> None:
        """Write a register (address byte then value)."""
        self._check(address)
        register, value = data[0], data[1]
        self.writes.append((register, value))
        self.regs[register] = value

    def writeto_then_readfrom(self, address: int, out: bytes, into: bytearray) -> None:
        """Read a register; reading INT1_SRC clears the latch."""
        self._check(address)
        register = out[0]
        self.reads.append(register)
        if register == lis3dh.INT1_SRC:
            into[0] = (lis3dh.INT1_SRC_IA | 0x02) if self.latched else 0
            self.latched = False
        else:
            into[0] = self.regs[register]

    def _check(self, address: int) -> None:
        """Answer only at the MagTag's LIS3DH address, like the real bus."""
        if not self.locked:
            raise RuntimeError("bus not locked")
        if address != lis3dh.ADDRESS:
            raise OSError(19, "No such device")

    @property
    def armed(self) -> bool:
        """Return True when motion on any axis raises a latched INT1."""
        return (
            self.regs[lis3dh.CTRL_REG1] >> 4 != 0
            and self.regs[lis3dh.CTRL_REG3] & lis3dh.CTRL3_IA1_ON_INT1 != 0
            and self.regs[lis3dh.INT1_CFG] & lis3dh.INT1_CFG_ANY_HIGH != 0
            and self.regs[lis3dh.CTRL_REG5] & lis3dh.CTRL5_LATCH_INT1 != 0
        )

    @property
    def int1(self) -> bool:
        """Return the INT1 pin level (the board's wake pin)."""
        return self.latched and self.regs[lis3dh.CTRL_REG3] & 0x40 != 0

    def move(self, magnitude_mg: int = 500) -> bool:
        """Shake the board; return True when that raises INT1."""
        threshold_mg = self.regs[lis3dh.INT1_THS] * lis3dh.THRESHOLD_LSB_MG
        if self.armed and magnitude_mg > threshold_mg:
            self.latched = True
        return self.int1

    def to_json(self) -> dict[str, Any]:
        """Return the chip's state; it stays powered through deep sleep."""
        return {"regs": list(self.regs), "latched": self.latched}


class Nvm(bytearray):
    """A bytearray that counts writes, like flash wear on the board."""

    writes = 0

    def __setitem__(self, key: Any, value: Any) -> None:
        """Write and count."""
        self.writes += 1
        super().__setitem__(key, value)


class CountingSocket:
    """Wrap a socket and count bytes and request/response round trips."""

    def __init__(self, sock: socket.socket, pool: "CountingPool"):
        """Wrap sock, reporting to pool."""
        self._sock = sock
        self._pool = pool

    def send(self, data: bytes) -> int:
        """Send and count."""
        sent = self._sock.send(data)
        self._pool.bytes_sent += sent
        self._pool.last_op = "send"
        return sent

    def recv_into(self, buffer: Any, nbytes: int = 0) -> int:
        """Receive and count; the first bytes after a send close a round trip."""
        got = self._sock.recv_into(buffer, nbytes)
        if got:
            self._pool.bytes_received += got
            if self._pool.last_op == "send":
                self._pool.round_trips += 1
            self._pool.last_op = "recv"
        return got

    def __getattr__(self, name: str) -> Any:
        """Delegate everything else to the real socket."""
        return getattr(self._sock, name)


class CountingPool:
    """A socketpool look-alike over CPython's socket module that keeps counters."""

    SOCK_STREAM = socket.SOCK_STREAM
    AF_INET = socket.AF_INET
    timeout = TimeoutError

    def __init__(self) -> None:
        """Start with zero counters."""
        self.reset()

    def reset(self) -> None:
        """Zero the counters for a new wake."""
        self.bytes_sent = 0
        self.bytes_received = 0
        self.round_trips = 0
        self.last_op = ""

    def getaddrinfo(self, *args: Any, **kwargs: Any) -> Any:
        """Resolve like socketpool."""
        return socket.getaddrinfo(*args, **kwargs)

    def socket(self, *args: Any, **kwargs: Any) -> CountingSocket:
        """Return a counting socket."""
        return CountingSocket(socket.socket(*args, **kwargs), self)


class SimHardware(hal.Hardware):
    """Implement the hardware layer with files in a state folder."""

    def __init__(
        self,
        state_dir: Path,
        *,
        settings: dict[str, str],
        wake: str,
        pool: CountingPool,
        wifi_up: bool = True,
        battery_v: float = 3.92,
    ):
        """Load the simulated chips' state from state_dir."""
        self.state_dir = state_dir
        self.settings = settings
        self._wake = wake
        self.pool = pool
        self.wifi_up = wifi_up
        self._battery_v = battery_v
        self.font_path = FONT_PATH
        self.sleep_memory = bytearray(
            self._read("sleep_memory.bin", SLEEP_MEMORY_BYTES)
        )
        self.nvm = Nvm(self._read("nvm.bin", NVM_BYTES, fill=0xFF))
        accel = self._load_json("accel.json")
        self.i2c = (
            FakeLis3dh(accel["regs"], accel["latched"]) if accel else FakeLis3dh()
        )
        clock = self._load_json("clock.json")
        self.clock_offset = (
            clock["offset"] if clock else UNSET_CLOCK_EPOCH - time.time()
        )
        self.display = PaperDisplay()
        self.radio_on = False
        self.slept: float | None = None
        self.int1_at_sleep: bool | None = None
        self.connect_hint: tuple[int, bytes | None] | None = None

    def _read(self, name: str, size: int, fill: int = 0) -> bytes:
        """Return a saved memory image or a blank one."""
        path = self.state_dir / name
        if path.exists():
            return path.read_bytes()
        return bytes([fill]) * size

    def _load_json(self, name: str) -> Any:
        """Return saved JSON or None."""
        path = self.state_dir / name
        return json.loads(path.read_text()) if path.exists() else None

    def getenv(self, key: str) -> str | None:
        """Return a setting."""
        return self.settings.get(key)

    def wake_reason(self) -> str:
        """Return the simulated wake reason."""
        return self._wake

    def monotonic(self) -> float:
        """Return the host's monotonic clock."""
        return time.monotonic()

    def time(self) -> int:
        """Return the simulated RTC."""
        return int(time.time() + self.clock_offset)

    def set_time(self, epoch: int) -> None:
        """Set the simulated RTC."""
        self.clock_offset = epoch - time.time()

    def random_u31(self) -> int:
        """Return a random 31-bit number."""
        return random.SystemRandom().getrandbits(31)

    def battery_v(self) -> float:
        """Return the simulated battery voltage."""
        return self._battery_v

    def wifi_connect(
        self,
        ssid: str,
        password: str,
        channel: int,
        bssid: bytes | None,
        timeout_s: int,
    ) -> tuple[int, bytes]:
        """Join the simulated network, or fail like a missing access point."""
        self.connect_hint = (channel, bssid)
        if not self.wifi_up:
            raise ConnectionError("No network with that ssid")
        self.radio_on = True
        return SIM_CHANNEL, SIM_BSSID

    def rssi(self) -> int | None:
        """Return a plausible signal strength while connected."""
        return -61 if self.radio_on else None

    def socket_pool(self) -> CountingPool:
        """Return the counting socket pool."""
        return self.pool

    def ssl_context(self) -> ssl.SSLContext:
        """Return a default TLS context."""
        return ssl.create_default_context()

    def radio_off(self) -> None:
        """Switch the simulated radio off."""
        self.radio_on = False

    def pause(self, seconds: float) -> None:
        """Wait while awake."""
        time.sleep(seconds)

    def wait_display_idle(self, timeout_s: float) -> None:
        """Return at once: the simulated panel is never busy after refresh()."""
        self.display_idle_waits = getattr(self, "display_idle_waits", 0) + 1

    def deep_sleep(self, timer_s: float) -> None:
        """Save what survives deep sleep and note the pin level at sleep time."""
        self.slept = timer_s
        self.int1_at_sleep = self.i2c.int1
        self.save()

    def save(self) -> None:
        """Write the simulated chips' state to the state folder."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        (self.state_dir / "sleep_memory.bin").write_bytes(bytes(self.sleep_memory))
        if isinstance(self.nvm, bytearray):
            (self.state_dir / "nvm.bin").write_bytes(bytes(self.nvm))
        (self.state_dir / "accel.json").write_text(json.dumps(self.i2c.to_json()))
        (self.state_dir / "clock.json").write_text(
            json.dumps({"offset": self.clock_offset})
        )
