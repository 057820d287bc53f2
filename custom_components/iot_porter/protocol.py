"""The MQTT contract, version 1, as seen from Home Assistant.

Topics, size limits and voluptuous schemas for the messages a board sends, and
the display message Home Assistant sends back. docs/protocol.md is the prose
version of this module; tests/protocol_examples/ holds the shared examples.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
import json
import re
from typing import Any, Final

from .compat import vol

PROTOCOL_VERSION: Final = 1

TOPIC_EVENTS: Final = "events"
TOPIC_STATE: Final = "state"
TOPIC_DISPLAY: Final = "display"

MAX_EVENTS_BYTES: Final = 4096
MAX_STATE_BYTES: Final = 1024
MAX_DISPLAY_BYTES: Final = 2048
MAX_EVENTS_PER_BATCH: Final = 64
MAX_SEQ: Final = 2**31 - 1
MAX_DISPLAY_LINES: Final = 12
MIN_SCREEN_CHARS: Final = 8
MAX_SCREEN_CHARS: Final = 60

DEVICE_ID_RE: Final = re.compile(r"^[a-z0-9][a-z0-9_-]{1,31}$")
BASE_TOPIC_RE: Final = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+){0,4}$")

WAKE_REASONS: Final = ("motion", "timer", "power_on", "reset")

# Printable ASCII plus the few letters and signs the board's font adds.
DISPLAY_CHARSET: Final = frozenset(
    [chr(code) for code in range(0x20, 0x7F)] + list("°åäöÅÄÖéÉüÜ–")
)


class Rejection(StrEnum):
    """Why an incoming message was dropped."""

    OVERSIZE = "oversize"
    INVALID_ENCODING = "invalid_encoding"
    INVALID_JSON = "invalid_json"
    INVALID_SCHEMA = "invalid_schema"
    UNSUPPORTED_VERSION = "unsupported_version"
    INVALID_DEVICE_ID = "invalid_device_id"


class RejectedMessage(Exception):
    """Raised by the decoders; carries the rejection kind and a short reason."""

    def __init__(self, kind: Rejection, reason: str) -> None:
        """Store the kind and the human-readable reason."""
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


def _int_in(low: int, high: int) -> Any:
    """Accept a JSON integer (never a boolean) between low and high."""

    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise vol.Invalid("expected an integer")
        return int(value)

    return vol.All(check, vol.Range(min=low, max=high))


def _number_in(low: float, high: float) -> Any:
    """Accept a JSON number (never a boolean) between low and high."""

    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise vol.Invalid("expected a number")
        return float(value)

    return vol.All(check, vol.Range(min=low, max=high))


def _text(max_len: int, min_len: int = 0) -> Any:
    """Accept a string of bounded length."""
    return vol.All(str, vol.Length(min=min_len, max=max_len))


EVENT_SCHEMA: Final = vol.Schema(
    {
        vol.Required("seq"): _int_in(0, MAX_SEQ),
        vol.Optional("ts", default=None): vol.Any(None, _int_in(0, 2**40)),
    },
    extra=vol.REMOVE_EXTRA,
)

EVENTS_SCHEMA: Final = vol.Schema(
    {
        vol.Required("v"): PROTOCOL_VERSION,
        vol.Required("gen"): _int_in(0, MAX_SEQ),
        vol.Required("events"): vol.All(
            [EVENT_SCHEMA], vol.Length(min=1, max=MAX_EVENTS_PER_BATCH)
        ),
    },
    extra=vol.REMOVE_EXTRA,
)

STATE_SCHEMA: Final = vol.Schema(
    {
        vol.Required("v"): PROTOCOL_VERSION,
        vol.Required("fw"): _text(16, 1),
        vol.Required("battery_v"): _number_in(0, 6),
        vol.Required("rssi"): vol.Any(None, _int_in(-127, 0)),
        vol.Required("wake"): vol.In(WAKE_REASONS),
        vol.Required("error"): vol.Any(None, _text(120)),
        vol.Required("screen"): vol.Schema(
            {
                vol.Required("lines"): _int_in(1, MAX_DISPLAY_LINES),
                vol.Required("chars"): _int_in(MIN_SCREEN_CHARS, MAX_SCREEN_CHARS),
            },
            extra=vol.REMOVE_EXTRA,
        ),
        vol.Required("interval_s"): _int_in(60, 86400),
        vol.Optional("backlog", default=0): _int_in(0, 100_000),
    },
    extra=vol.REMOVE_EXTRA,
)

DISPLAY_SCHEMA: Final = vol.Schema(
    {
        vol.Required("v"): PROTOCOL_VERSION,
        vol.Required("id"): _text(16, 1),
        vol.Required("lines"): vol.All(
            [_text(MAX_SCREEN_CHARS)], vol.Length(max=MAX_DISPLAY_LINES)
        ),
        vol.Required("today"): _int_in(0, MAX_SEQ),
        vol.Required("total"): _int_in(0, 2**53),
        vol.Required("seq"): vol.Any(None, _int_in(0, MAX_SEQ)),
        vol.Required("gen"): vol.Any(None, _int_in(0, MAX_SEQ)),
        vol.Required("time"): _int_in(0, 2**40),
        vol.Required("utc_offset_s"): _int_in(-50_400, 50_400),
        vol.Required("source"): vol.In(("openai", "local", "message")),
    },
    extra=vol.REMOVE_EXTRA,
)

_SCHEMAS: Final = {
    TOPIC_EVENTS: (EVENTS_SCHEMA, MAX_EVENTS_BYTES),
    TOPIC_STATE: (STATE_SCHEMA, MAX_STATE_BYTES),
    TOPIC_DISPLAY: (DISPLAY_SCHEMA, MAX_DISPLAY_BYTES),
}


@dataclass(frozen=True, slots=True)
class DoorEvent:
    """One door event as the board reported it."""

    seq: int
    ts: int | None


@dataclass(frozen=True, slots=True)
class EventBatch:
    """A validated door event batch."""

    gen: int
    events: tuple[DoorEvent, ...]


@dataclass(frozen=True, slots=True)
class ScreenBudget:
    """How much text the board's screen holds."""

    lines: int
    chars: int

    def __post_init__(self) -> None:
        """Reject budgets the contract does not allow."""
        if not 1 <= self.lines <= MAX_DISPLAY_LINES:
            raise ValueError(f"lines must be 1 to {MAX_DISPLAY_LINES}")
        if not MIN_SCREEN_CHARS <= self.chars <= MAX_SCREEN_CHARS:
            raise ValueError(f"chars must be {MIN_SCREEN_CHARS} to {MAX_SCREEN_CHARS}")


@dataclass(frozen=True, slots=True)
class DeviceState:
    """A validated device state message."""

    firmware: str
    battery_v: float
    rssi: int | None
    wake: str
    error: str | None
    screen: ScreenBudget
    interval_s: int
    backlog: int


def topic_filters(base: str) -> tuple[str, str]:
    """Return the wildcard subscriptions for events and state under a base."""
    return f"{base}/+/{TOPIC_EVENTS}", f"{base}/+/{TOPIC_STATE}"


def display_topic(base: str, device_id: str) -> str:
    """Return the retained display topic of one board."""
    return f"{base}/{device_id}/{TOPIC_DISPLAY}"


def valid_base_topic(base: str) -> bool:
    """Return whether a base topic is allowed (1 to 5 plain levels)."""
    return BASE_TOPIC_RE.fullmatch(base) is not None


def parse_topic(base: str, topic: str) -> tuple[str, str]:
    """Split a device topic into (device_id, kind); raise on a bad device id."""
    rest = topic.removeprefix(base + "/")
    device_id, _, kind = rest.rpartition("/")
    if rest == topic or not DEVICE_ID_RE.fullmatch(device_id):
        raise RejectedMessage(Rejection.INVALID_DEVICE_ID, "invalid device id")
    return device_id, kind


def decode(kind: str, payload: bytes | bytearray | str) -> dict[str, Any]:
    """Validate a raw payload of the given kind and return the cleaned dict."""
    schema, max_bytes = _SCHEMAS[kind]
    raw = payload.encode() if isinstance(payload, str) else bytes(payload)
    if len(raw) > max_bytes:
        raise RejectedMessage(
            Rejection.OVERSIZE, f"{len(raw)} bytes, limit {max_bytes}"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise RejectedMessage(Rejection.INVALID_ENCODING, "not UTF-8") from err
    try:
        data = json.loads(text)
    except ValueError as err:
        raise RejectedMessage(Rejection.INVALID_JSON, "not JSON") from err
    if not isinstance(data, dict):
        raise RejectedMessage(Rejection.INVALID_SCHEMA, "not a JSON object")
    if data.get("v") != PROTOCOL_VERSION:
        raise RejectedMessage(
            Rejection.UNSUPPORTED_VERSION, f"version {data.get('v')!r}"
        )
    try:
        cleaned: dict[str, Any] = schema(data)
    except vol.Invalid as err:
        raise RejectedMessage(Rejection.INVALID_SCHEMA, str(err)) from err
    return cleaned


def decode_events(payload: bytes | bytearray | str) -> EventBatch:
    """Decode a door event batch."""
    data = decode(TOPIC_EVENTS, payload)
    return EventBatch(
        gen=data["gen"],
        events=tuple(DoorEvent(e["seq"], e["ts"]) for e in data["events"]),
    )


def decode_state(payload: bytes | bytearray | str) -> DeviceState:
    """Decode a device state message."""
    data = decode(TOPIC_STATE, payload)
    return DeviceState(
        firmware=data["fw"],
        battery_v=data["battery_v"],
        rssi=data["rssi"],
        wake=data["wake"],
        error=data["error"],
        screen=ScreenBudget(data["screen"]["lines"], data["screen"]["chars"]),
        interval_s=data["interval_s"],
        backlog=data["backlog"],
    )


def firmware_tuple(version: str) -> tuple[int, ...] | None:
    """Parse 'major.minor.patch' into a tuple, or None when it is not numeric."""
    parts = version.split(".")
    if not all(part.isdigit() for part in parts):
        return None
    return tuple(int(part) for part in parts)
