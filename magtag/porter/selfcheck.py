"""Check the hardware-free modules on whatever Python VM runs this.

The MicroPython gate (scripts/firmware_gates.py micropython) runs run() on a real
MicroPython VM; the host tests run it on CPython. It raises on the first failure.
"""

import json

from . import checksum, persist, protocol, sequence, view
from .lis3dh import INT1_SRC, LIS3DH, WHO_AM_I
from .settings import Settings

DISPLAY = (
    b'{"v": 1, "id": "a1b2", "lines": ["Uppeh\xc3\xa5ll till kl 18."],'
    b' "today": 2, "total": 9, "seq": 5, "gen": 77, "time": 1764770415,'
    b' "utc_offset_s": 3600, "source": "local"}'
)


class RegisterBus:
    """A minimal LIS3DH register file on an I2C-like interface."""

    def __init__(self):
        """Start with WHO_AM_I set and the interrupt latched."""
        self.regs = bytearray(64)
        self.regs[WHO_AM_I] = 0x33
        self.latched = True

    def try_lock(self):
        """Take the lock."""
        return True

    def unlock(self):
        """Release the lock."""

    def writeto(self, _address, data):
        """Write one register."""
        self.regs[data[0]] = data[1]

    def writeto_then_readfrom(self, _address, out, into):
        """Read one register; INT1_SRC clears the latch."""
        if out[0] == INT1_SRC:
            into[0] = 0x40 if self.latched else 0
            self.latched = False
        else:
            into[0] = self.regs[out[0]]


def expect(condition, what):
    """Raise AssertionError naming what failed."""
    if not condition:
        raise AssertionError(what)


def check_checksum():
    """CRC-32 matches the standard check value."""
    expect(checksum.crc32(b"123456789") == 0xCBF43926, "crc32 native")
    expect(checksum.crc32_pure(b"123456789") == 0xCBF43926, "crc32 pure")


def check_sequence():
    """Blocks are reserved in order and survive a simulated power loss."""
    nvm = bytearray(b"\xff" * 32)
    gen, start, end = sequence.recover(nvm, lambda: 12345)
    expect((gen, start, end) == (12345, 0, sequence.BLOCK_EVENTS), "recover")
    gen, start, end = sequence.recover(nvm, lambda: 1)
    expect((gen, start) == (12345, sequence.BLOCK_EVENTS), "continue after block")


def check_persist():
    """Sleep memory round-trips and rejects a flipped bit."""
    state = persist.WakeState()
    state.gen, state.next_seq, state.block_end = 77, 3, 32
    state.unconfirmed = [(1, 1764770000), (2, None)]
    state.sent_seq = 1
    memory = bytearray(4096)
    persist.save(memory, state)
    loaded = persist.load(memory)
    expect(loaded is not None, "round trip")
    expect(loaded.unconfirmed == state.unconfirmed, "round trip events")
    expect(loaded.sent_seq == 1 and loaded.unsent() == 1, "round trip sent")
    memory[30] ^= 1
    expect(persist.load(memory) is None, "corruption detected")


def check_unconfirmed():
    """Events stay until a display message of their generation shows them counted."""
    message, _reason = protocol.parse_display(DISPLAY)
    state = persist.WakeState()
    state.gen = 78
    for seq in range(4, 8):
        state.add_event(seq, None)
    expect(state.confirm(message) == 0, "other generation confirms nothing")
    state.gen = 77
    expect(state.confirm(None) == 0, "no message confirms nothing")
    expect(state.confirm(message) == 2, "seq 4 and 5 confirmed")
    expect(state.unconfirmed == [(6, None), (7, None)], "6 and 7 stay")
    for seq in range(8, 8 + persist.MAX_UNCONFIRMED):
        state.add_event(seq, None)
    expect(len(state.unconfirmed) == persist.MAX_UNCONFIRMED, "bound kept")
    expect(state.unconfirmed[0][0] == 8 and state.dropped == 2, "oldest dropped")
    memory = bytearray(4096)
    full = {"id": "x", "lines": ["\u00e5" * 60] * 12, "today": 1, "total": 2}
    state.display = full
    persist.save(memory, state)
    loaded = persist.load(memory)
    expect(len(loaded.unconfirmed) == persist.MAX_UNCONFIRMED, "bound fits")


def check_protocol():
    """Payloads follow the contract and display messages are checked."""
    size, raw = protocol.first_batch(77, [(seq, None) for seq in range(70)])
    expect(size == protocol.MAX_EVENTS_PER_MESSAGE, "batch size")
    payload = json.loads(raw)
    expect(payload["v"] == 1 and payload["gen"] == 77, "events header")
    expect(payload["events"][0] == {"seq": 0, "ts": None}, "events json")
    state = json.loads(
        protocol.state_payload(
            fw="1.0.0",
            battery_v=3.9,
            rssi=None,
            wake="timer",
            error=None,
            lines=6,
            chars=36,
            interval_s=3600,
            backlog=0,
        )
    )
    expect(state["screen"] == {"lines": 6, "chars": 36}, "state json")
    message, reason = protocol.parse_display(DISPLAY)
    expect(reason is None and message["lines"][0][5] == "\u00e5", "display parsed")
    expect(protocol.parse_display(b"rain later")[1] == "invalid_json", "not json")
    expect(protocol.valid_device_id("front-door"), "device id")
    expect(not protocol.valid_device_id("Front"), "device id case")


def check_view():
    """Own unseen events are added to Home Assistant's counts."""
    message, _reason = protocol.parse_display(DISPLAY)
    today, total = view.counts(message, 77, [(5, None), (6, None)], 0, False)
    expect((today, total) == (3, 10), "counts")
    expect(view.clock_text(1764770415, 3600) == "15:00", "clock text")


def check_settings_and_accelerometer():
    """Check settings parsing and that the wake configuration clears the latch."""
    values = {"WIFI_SSID": "n", "MQTT_HOST": "h", "DEVICE_ID": "front-door"}
    settings = Settings(values.get)
    expect(settings.motion_rate_hz == 50, "default rate")
    bus = RegisterBus()
    LIS3DH(bus).arm_wake(96, 50, 0)
    expect(bus.regs[0x30] == 0x2A and not bus.latched, "wake config")


def run():
    """Run every check and return how many passed."""
    checks = (
        check_checksum,
        check_sequence,
        check_persist,
        check_unconfirmed,
        check_protocol,
        check_view,
        check_settings_and_accelerometer,
    )
    for check in checks:
        check()
    return len(checks)
