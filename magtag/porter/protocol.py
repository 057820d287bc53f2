"""Build the board's MQTT payloads and check incoming display messages.

The contract is docs/protocol.md (version 1); this module is the board's side of it.
"""

import json

CONTRACT_VERSION = 1
MAX_EVENTS_PER_MESSAGE = 64
MAX_EVENTS_BYTES = 4096
MAX_STATE_BYTES = 1024
MAX_DISPLAY_BYTES = 2048
MAX_ERROR_CHARS = 120
MAX_INT31 = 0x7FFFFFFF
MAX_UTC_OFFSET_S = 50400
WAKE_REASONS = ("motion", "timer", "power_on", "reset")
DISPLAY_SOURCES = ("openai", "local", "message")
_ID_EXTRA = "-_"
_TOPIC_EXTRA = "-_"


def _is_int(value):
    """Return True for an int that is not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def _plain_char(char, extra):
    """Return True for an ASCII letter, digit or one of extra."""
    return ("a" <= char <= "z") or ("0" <= char <= "9") or char in extra


def valid_device_id(device_id):
    """Return True when device_id matches ^[a-z0-9][a-z0-9_-]{1,31}$."""
    if not isinstance(device_id, str) or not 2 <= len(device_id) <= 32:
        return False
    if not _plain_char(device_id[0], ""):
        return False
    return all(_plain_char(char, _ID_EXTRA) for char in device_id)


def valid_base_topic(base):
    """Return True for one to five levels of [A-Za-z0-9_-] separated by slashes."""
    if not isinstance(base, str) or not base:
        return False
    levels = base.split("/")
    if len(levels) > 5:
        return False
    for level in levels:
        if not level:
            return False
        for char in level:
            if not (_plain_char(char.lower(), _TOPIC_EXTRA)):
                return False
    return True


def topics(base, device_id):
    """Return the board's events, state and display topics."""
    root = base + "/" + device_id + "/"
    return {
        "events": root + "events",
        "state": root + "state",
        "display": root + "display",
    }


def dumps(obj):
    """Return compact UTF-8 JSON for obj."""
    try:
        text = json.dumps(obj, separators=(",", ":"))
    except TypeError:  # pragma: no cover - older VMs without separators
        text = json.dumps(obj)
    return text.encode("utf-8")


def first_batch(gen, backlog):
    """Return (event_count, payload) for the oldest events of the backlog."""
    chunk = backlog[:MAX_EVENTS_PER_MESSAGE]
    events = [{"seq": seq, "ts": ts} for seq, ts in chunk]
    payload = dumps({"v": CONTRACT_VERSION, "gen": gen, "events": events})
    return len(chunk), payload


def clip_error(error):
    """Return error as a contract-sized string, or None."""
    if error is None:
        return None
    text = str(error)
    if len(text) > MAX_ERROR_CHARS:
        text = text[: MAX_ERROR_CHARS - 3] + "..."
    return text


def state_payload(
    *, fw, battery_v, rssi, wake, error, lines, chars, interval_s, backlog=0
):
    """Return the retained device state payload."""
    battery = min(max(float(battery_v), 0.0), 6.0)
    if rssi is not None:
        rssi = min(max(int(rssi), -127), 0)
    return dumps(
        {
            "v": CONTRACT_VERSION,
            "fw": fw,
            "battery_v": round(battery, 2),
            "rssi": rssi,
            "wake": wake,
            "error": clip_error(error),
            "screen": {"lines": lines, "chars": chars},
            "interval_s": interval_s,
            "backlog": backlog,
        }
    )


def _check_int(payload, key, low=None, high=None, nullable=False):
    """Return an error text when payload[key] is not an int in range."""
    value = payload.get(key)
    if value is None and nullable and key in payload:
        return None
    if not _is_int(value):
        return key + " not int"
    if (low is not None and value < low) or (high is not None and value > high):
        return key + " out of range"
    return None


def parse_display(raw):
    """Return (message, None) for a valid display payload, else (None, reason)."""
    if len(raw) > MAX_DISPLAY_BYTES:
        return None, "oversize"
    try:
        payload = json.loads(bytes(raw).decode("utf-8"))
    except (ValueError, UnicodeError):
        return None, "invalid_json"
    if not isinstance(payload, dict):
        return None, "invalid_schema"
    if payload.get("v") != CONTRACT_VERSION or not _is_int(payload.get("v")):
        return None, "unsupported_version"
    ident = payload.get("id")
    if not isinstance(ident, str) or not 1 <= len(ident) <= 16:
        return None, "invalid_schema"
    lines = payload.get("lines")
    if not isinstance(lines, list) or len(lines) > 12:
        return None, "invalid_schema"
    for line in lines:
        if not isinstance(line, str):
            return None, "invalid_schema"
    checks = (
        _check_int(payload, "today", 0),
        _check_int(payload, "total", 0),
        _check_int(payload, "seq", 0, MAX_INT31, nullable=True),
        _check_int(payload, "gen", 0, MAX_INT31, nullable=True),
        _check_int(payload, "time", 0),
        _check_int(payload, "utc_offset_s", -MAX_UTC_OFFSET_S, MAX_UTC_OFFSET_S),
    )
    for problem in checks:
        if problem is not None:
            return None, "invalid_schema"
    if payload.get("source") not in DISPLAY_SOURCES:
        return None, "invalid_schema"
    message = {}
    for key in ("id", "lines", "today", "total", "seq", "gen", "time", "utc_offset_s"):
        message[key] = payload[key]
    message["source"] = payload["source"]
    return message, None
