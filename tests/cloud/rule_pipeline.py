"""Evaluate the topic rules' SELECT and lay out records as Firehose writes them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
import gzip
import json
from pathlib import Path
import re
from typing import Any

RULE_SQL = re.compile(r"^SELECT (?P<items>.+) FROM '(?P<topic_filter>[^']+)'$")
ALIASED = re.compile(r"^(?P<expr>.+) AS (?P<alias>[a-z_][a-z0-9_]*)$")
CALL = re.compile(r"^(?P<name>[a-z_]+)\((?P<args>.*)\)$")
FIELD = re.compile(r"^[a-z_][a-z0-9_]*$")
STRING_LITERAL = re.compile(r"^'(?P<text>[^']*)'$")

# Firehose writes one object per buffer; these are the template's values.
BUFFER_INTERVAL_S = 300
DELIVERY_STREAM = "iot_porter_door_events"
DELIVERY_STREAM_VERSION = 1


def split_top_level(text: str) -> list[str]:
    """Split on commas that are outside parentheses and quotes."""
    parts: list[str] = []
    depth = 0
    quoted = False
    current = ""
    for char in text:
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        if char == "," and depth == 0 and not quoted:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    parts.append(current.strip())
    return parts


def topic_matches(topic_filter: str, topic: str) -> bool:
    """Return whether an MQTT topic matches a filter with + and # wildcards."""
    filter_levels = topic_filter.split("/")
    topic_levels = topic.split("/")
    for index, level in enumerate(filter_levels):
        if level == "#":
            return True
        if index >= len(topic_levels):
            return False
        if level not in ("+", topic_levels[index]):
            return False
    return len(filter_levels) == len(topic_levels)


@dataclass(frozen=True)
class Delivery:
    """One MQTT message as the rules engine sees it."""

    topic: str
    client_id: str
    payload: dict[str, Any]
    arrival_ms: int


class UndefinedValue:
    """AWS IoT SQL's Undefined: the attribute is left out of the result."""


UNDEFINED = UndefinedValue()


class RuleSelect:
    """The subset of AWS IoT SQL that the template's rules use."""

    def __init__(self, sql: str) -> None:
        """Parse a rule's SQL; anything outside the subset raises ValueError."""
        match = RULE_SQL.match(sql)
        if match is None:
            raise ValueError(f"not a plain SELECT ... FROM rule: {sql}")
        self.topic_filter = match["topic_filter"]
        self.items: list[tuple[str, str]] = []
        for item in split_top_level(match["items"]):
            aliased = ALIASED.match(item)
            if aliased:
                self.items.append((aliased["alias"], aliased["expr"]))
            elif FIELD.match(item):
                self.items.append((item, item))
            else:
                raise ValueError(f"unsupported select item: {item}")

    def _value(self, expr: str, delivery: Delivery) -> Any:
        literal = STRING_LITERAL.match(expr)
        if literal:
            return literal["text"]
        if FIELD.match(expr):
            return delivery.payload.get(expr, UNDEFINED)
        call = CALL.match(expr)
        if call is None:
            raise ValueError(f"unsupported expression: {expr}")
        name, arg_text = call["name"], call["args"]
        if name == "clientid" and arg_text == "":
            return delivery.client_id
        if name == "timestamp" and arg_text == "":
            return delivery.arrival_ms
        if name == "topic" and arg_text.isdigit():
            return delivery.topic.split("/")[int(arg_text) - 1]
        if name == "concat":
            return concat([self._value(a, delivery) for a in split_top_level(arg_text)])
        raise ValueError(f"unsupported function: {expr}")

    def apply(self, delivery: Delivery) -> dict[str, Any] | None:
        """Return the rule's output for a message, or None if it does not match."""
        if not topic_matches(self.topic_filter, delivery.topic):
            return None
        output: dict[str, Any] = {}
        for alias, expr in self.items:
            value = self._value(expr, delivery)
            if value is not UNDEFINED:
                output[alias] = value
        return output


def concat(args: list[Any]) -> Any:
    """Concatenate as AWS IoT SQL does for non-array arguments."""
    if any(arg is UNDEFINED for arg in args):
        return UNDEFINED
    if any(isinstance(arg, list) or arg is None for arg in args):
        raise ValueError("array and null concat are not used by the rules")
    if len(args) == 1:
        return args[0]
    if not any(isinstance(arg, str) for arg in args):
        return UNDEFINED
    return "".join(str(arg) for arg in args)


def write_firehose_objects(
    root: Path, records: Iterable[tuple[int, dict[str, Any]]], separator: str
) -> list[Path]:
    """Write (arrival_ms, record) pairs into objects laid out like the stream's.

    Firehose buffers records for up to the buffer interval, joins each record
    and the rule's separator back to back, and names the object after the
    arrival time (UTC) of its oldest record, which also fills the
    ``dt=!{timestamp:yyyy-MM-dd}`` prefix.
    """
    written: list[Path] = []
    batch: list[tuple[int, dict[str, Any]]] = []

    def flush() -> None:
        oldest = datetime.fromtimestamp(batch[0][0] / 1000, UTC)
        folder = root / "door-events" / f"dt={oldest:%Y-%m-%d}"
        folder.mkdir(parents=True, exist_ok=True)
        name = (
            f"{DELIVERY_STREAM}-{DELIVERY_STREAM_VERSION}-"
            f"{oldest:%Y-%m-%d-%H-%M-%S}-{len(written):08x}.gz"
        )
        body = "".join(
            json.dumps(record, separators=(",", ":")) + separator for _, record in batch
        )
        path = folder / name
        path.write_bytes(gzip.compress(body.encode()))
        written.append(path)
        batch.clear()

    for arrival_ms, record in sorted(records, key=lambda pair: pair[0]):
        if batch and arrival_ms - batch[0][0] >= BUFFER_INTERVAL_S * 1000:
            flush()
        batch.append((arrival_ms, record))
    if batch:
        flush()
    return written
