"""Keep the board's state in sleep memory behind a magic number and a CRC-32.

Layout: a 14-byte header (magic, format version, JSON length, backlog length,
CRC-32 over the first 10 header bytes and the body), then a JSON object with the
scalar fields, then the backlog as packed (seq, ts) pairs. A block that fails any
check is reported as missing so the caller recovers from nvm instead of trusting it.
"""

import json
import struct

from .checksum import crc32

MAGIC = 0x50525431  # "PRT1"
FORMAT_VERSION = 1
HEADER_FORMAT = "<IHHHI"
HEADER_BYTES = 14
EVENT_FORMAT = "<II"
EVENT_BYTES = 8
NO_TIME = 0  # ts of an event recorded before the clock was set
MAX_BACKLOG = 256
MAX_RECENT = 64

# Fields kept in the JSON part, with the value a recovered state starts from.
DEFAULTS = {
    "gen": 0,
    "next_seq": 0,
    "block_end": 0,
    "count": 0,
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
        """Start from the defaults with an empty backlog."""
        for key, value in DEFAULTS.items():
            setattr(self, key, value)
        self.backlog = []
        self.recent = []

    def fields(self):
        """Return the scalar fields as a dict for JSON."""
        out = {}
        for key in DEFAULTS:
            out[key] = getattr(self, key)
        out["recent"] = [list(item) for item in self.recent]
        return out


def _pack_events(events):
    """Return the backlog as packed (seq, ts) pairs."""
    buf = bytearray(EVENT_BYTES * len(events))
    for index, (seq, ts) in enumerate(events):
        struct.pack_into(
            EVENT_FORMAT, buf, index * EVENT_BYTES, seq, NO_TIME if ts is None else ts
        )
    return bytes(buf)


def encode(state, size):
    """Return the bytes for state that fit in size bytes, shedding what is optional."""
    fields = state.fields()
    backlog = list(state.backlog[-MAX_BACKLOG:])
    while True:
        text = json.dumps(fields).encode("utf-8")
        events = _pack_events(backlog)
        if HEADER_BYTES + len(text) + len(events) <= size:
            break
        # Shed, in order: the recent list, the stored display text, then the
        # oldest backlog events (only when nothing else is left to drop).
        if fields["recent"]:
            fields["recent"] = []
        elif fields["display"] is not None:
            fields["display"] = None
            fields["shown_key"] = None
        elif backlog:
            backlog = backlog[1:]
        else:
            raise ValueError("state does not fit in sleep memory")
    head = struct.pack("<IHHH", MAGIC, FORMAT_VERSION, len(text), len(backlog))
    crc = crc32(text + events, crc32(head))
    return head + struct.pack("<I", crc) + text + events


def save(memory, state):
    """Write state into sleep memory."""
    data = encode(state, len(memory))
    memory[0 : len(data)] = data


def _valid_fields(fields):
    """Return True when the JSON part has every field with a usable type."""
    if not isinstance(fields, dict):
        return False
    for key in ("gen", "next_seq", "block_end", "count", "wakes", "wifi_channel"):
        value = fields.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            return False
    if fields["next_seq"] > fields["block_end"]:
        return False
    if not isinstance(fields.get("recent", []), list):
        return False
    return fields.get("display") is None or isinstance(fields["display"], dict)


def load(memory):
    """Return the WakeState kept in sleep memory, or None when absent or corrupt."""
    if len(memory) < HEADER_BYTES:
        return None
    head = bytes(memory[0:HEADER_BYTES])
    magic, version, text_len, backlog_len, stored_crc = struct.unpack(
        HEADER_FORMAT, head
    )
    if magic != MAGIC or version != FORMAT_VERSION:
        return None
    end = HEADER_BYTES + text_len + EVENT_BYTES * backlog_len
    if end > len(memory) or backlog_len > MAX_BACKLOG:
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
    state.recent = [(item[0], item[1]) for item in fields.get("recent", [])]
    for index in range(backlog_len):
        seq, ts = struct.unpack_from(EVENT_FORMAT, body, text_len + index * EVENT_BYTES)
        state.backlog.append((seq, None if ts == NO_TIME else ts))
    return state


def invalidate(memory):
    """Overwrite the magic number so the next load recovers from nvm."""
    if len(memory) >= 4:
        memory[0:4] = b"\x00\x00\x00\x00"
