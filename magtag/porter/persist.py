"""Keep the board's state in sleep memory behind a magic number and a CRC-32.

Layout: a 14-byte header (magic, format version, JSON length, event count, CRC-32
over the first 10 header bytes and the body), then a JSON object with the scalar
fields, then the unconfirmed events as packed (seq, ts) pairs. A block that fails
any check is reported as missing so the caller recovers from nvm instead of
trusting it.

The unconfirmed events are every door event Home Assistant has not shown as
counted in a display message yet, oldest first: the ones never delivered to the
broker and the ones delivered (sequence at or below `sent_seq`) that may have
reached nobody because Home Assistant was restarting.
"""

import json
import struct

from .checksum import crc32

MAGIC = 0x50525431  # "PRT1"
FORMAT_VERSION = 2
HEADER_FORMAT = "<IHHHI"
HEADER_BYTES = 14
EVENT_FORMAT = "<II"
EVENT_BYTES = 8
NO_TIME = 0  # ts of an event recorded before the clock was set
# 256 packed events take 2 KB, which leaves the other half of the 4 KB sleep
# memory for the scalar fields and a full display message.
MAX_UNCONFIRMED = 256

# Fields kept in the JSON part, with the value a recovered state starts from.
DEFAULTS = {
    "gen": 0,
    "next_seq": 0,
    "block_end": 0,
    "count": 0,
    "sent_seq": None,
    "dropped": 0,
    "last_event_t": None,
    "clock_ok": False,
    "wifi_channel": 0,
    "wifi_bssid": None,
    "shown_key": None,
    "last_refresh_t": None,
    "error": None,
    "display": None,
    "wakes": 0,
}


class WakeState:
    """Hold everything that must survive a deep sleep."""

    def __init__(self):
        """Start from the defaults with no unconfirmed events."""
        for key, value in DEFAULTS.items():
            setattr(self, key, value)
        self.unconfirmed = []

    def fields(self):
        """Return the scalar fields as a dict for JSON."""
        out = {}
        for key in DEFAULTS:
            out[key] = getattr(self, key)
        return out

    def add_event(self, seq, ts):
        """Keep a new event; drop the oldest beyond the bound and return how many."""
        self.unconfirmed.append((seq, ts))
        extra = len(self.unconfirmed) - MAX_UNCONFIRMED
        if extra <= 0:
            return 0
        self.unconfirmed = self.unconfirmed[extra:]
        self.dropped += extra
        return extra

    def drop_all(self):
        """Forget every unconfirmed event (their generation is gone); count them."""
        lost = len(self.unconfirmed)
        self.dropped += lost
        self.unconfirmed = []
        self.sent_seq = None
        return lost

    def confirm(self, message):
        """Forget the events a display message shows counted; return how many."""
        if message is None or message.get("gen") != self.gen:
            return 0
        counted = message.get("seq")
        if counted is None:
            return 0
        keep = [event for event in self.unconfirmed if event[0] > counted]
        confirmed = len(self.unconfirmed) - len(keep)
        self.unconfirmed = keep
        return confirmed

    def is_sent(self, seq):
        """Return True when the broker already acknowledged the event seq."""
        return self.sent_seq is not None and seq <= self.sent_seq

    def unsent(self):
        """Return how many unconfirmed events never reached the broker."""
        return len([event for event in self.unconfirmed if not self.is_sent(event[0])])

    def mark_sent(self, seq):
        """Record that the broker acknowledged every event up to seq."""
        if self.sent_seq is None or seq > self.sent_seq:
            self.sent_seq = seq


def _pack_events(events):
    """Return events as packed (seq, ts) pairs."""
    buf = bytearray(EVENT_BYTES * len(events))
    for index, (seq, ts) in enumerate(events):
        struct.pack_into(
            EVENT_FORMAT, buf, index * EVENT_BYTES, seq, NO_TIME if ts is None else ts
        )
    return bytes(buf)


def encode(state, size):
    """Return the bytes for state that fit in size bytes, shedding what is optional."""
    fields = state.fields()
    events = list(state.unconfirmed)
    if len(events) > MAX_UNCONFIRMED:
        fields["dropped"] += len(events) - MAX_UNCONFIRMED
        events = events[-MAX_UNCONFIRMED:]
    while True:
        text = json.dumps(fields).encode("utf-8")
        packed = _pack_events(events)
        if HEADER_BYTES + len(text) + len(packed) <= size:
            break
        # Shed the stored display text first; drop the oldest events only when
        # nothing else is left, and count them so the error reports the loss.
        if fields["display"] is not None:
            fields["display"] = None
            fields["shown_key"] = None
        elif events:
            events = events[1:]
            fields["dropped"] += 1
        else:
            raise ValueError("state does not fit in sleep memory")
    head = struct.pack("<IHHH", MAGIC, FORMAT_VERSION, len(text), len(events))
    crc = crc32(text + packed, crc32(head))
    return head + struct.pack("<I", crc) + text + packed


def save(memory, state):
    """Write state into sleep memory."""
    data = encode(state, len(memory))
    memory[0 : len(data)] = data


def _valid_fields(fields):
    """Return True when the JSON part has every field with a usable type."""
    if not isinstance(fields, dict):
        return False
    counters = (
        "gen",
        "next_seq",
        "block_end",
        "count",
        "wakes",
        "wifi_channel",
        "dropped",
    )
    for key in counters:
        value = fields.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            return False
    if fields["next_seq"] > fields["block_end"]:
        return False
    sent_seq = fields.get("sent_seq")
    if sent_seq is not None and (not isinstance(sent_seq, int) or sent_seq < 0):
        return False
    return fields.get("display") is None or isinstance(fields["display"], dict)


def load(memory):
    """Return the WakeState kept in sleep memory, or None when absent or corrupt."""
    if len(memory) < HEADER_BYTES:
        return None
    head = bytes(memory[0:HEADER_BYTES])
    magic, version, text_len, event_count, stored_crc = struct.unpack(
        HEADER_FORMAT, head
    )
    if magic != MAGIC or version != FORMAT_VERSION:
        return None
    end = HEADER_BYTES + text_len + EVENT_BYTES * event_count
    if end > len(memory) or event_count > MAX_UNCONFIRMED:
        return None
    body = bytes(memory[HEADER_BYTES:end])
    if crc32(body, crc32(head[0:10])) != stored_crc:
        return None
    try:
        fields = json.loads(body[0:text_len].decode("utf-8"))
    except (ValueError, UnicodeError):
        return None
    if not _valid_fields(fields):
        return None
    state = WakeState()
    for key in DEFAULTS:
        if key in fields:
            setattr(state, key, fields[key])
    for index in range(event_count):
        seq, ts = struct.unpack_from(EVENT_FORMAT, body, text_len + index * EVENT_BYTES)
        state.unconfirmed.append((seq, None if ts == NO_TIME else ts))
    return state


def invalidate(memory):
    """Overwrite the magic number so the next load recovers from nvm."""
    if len(memory) >= 4:
        memory[0:4] = b"\x00\x00\x00\x00"
