"""Build the retained display message a board shows on its e-paper."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
import hashlib
import json
from typing import Any

from .protocol import MAX_DISPLAY_BYTES, PROTOCOL_VERSION


@dataclass(frozen=True, slots=True)
class DisplayContent:
    """What a board should show, before it is wrapped into a message."""

    lines: tuple[str, ...]
    source: str
    today: int
    total: int
    seq: int | None
    gen: int | None


def content_id(content: DisplayContent) -> str:
    """Return a short hash of what is drawn, so unchanged screens stay untouched."""
    digest = hashlib.sha256(
        json.dumps(
            [list(content.lines), content.today, content.total], ensure_ascii=False
        ).encode()
    )
    return digest.hexdigest()[:8]


def display_payload(content: DisplayContent, now: datetime) -> str:
    """Return the JSON display message for a board."""
    offset = now.utcoffset()
    message: dict[str, Any] = {
        "v": PROTOCOL_VERSION,
        "id": content_id(content),
        "lines": list(content.lines),
        "today": content.today,
        "total": content.total,
        "seq": content.seq,
        "gen": content.gen,
        "time": int(now.timestamp()),
        "utc_offset_s": int(offset.total_seconds()) if offset else 0,
        "source": content.source,
    }
    payload = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
    if len(payload.encode()) > MAX_DISPLAY_BYTES:
        raise ValueError("display message over its size limit")
    return payload
