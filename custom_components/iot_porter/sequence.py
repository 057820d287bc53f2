"""Exactly-once bookkeeping of door event sequence numbers for one board."""

from __future__ import annotations

from typing import Any, Final

# Sequences this far below the highest one seen are treated as already counted.
WINDOW_SIZE: Final = 4096
# Generations a board has left behind; their messages are late replays.
RETIRED_GENERATIONS_KEPT: Final = 8


class SequenceWindow:
    """Remember which (generation, sequence) pairs have been counted."""

    def __init__(self) -> None:
        """Start with nothing counted."""
        self.gen: int | None = None
        self.highest = -1
        self._seen: set[int] = set()
        self._retired: list[int] = []

    def accept(self, gen: int, seq: int) -> bool:
        """Return True and remember the pair when it has not been counted yet."""
        if gen != self.gen:
            if gen in self._retired:
                return False
            if self.gen is not None:
                self._retired = [*self._retired, self.gen][-RETIRED_GENERATIONS_KEPT:]
            self.gen = gen
            self.highest = -1
            self._seen = set()
        if seq <= self.highest - WINDOW_SIZE or seq in self._seen:
            return False
        self._seen.add(seq)
        if seq > self.highest:
            self.highest = seq
            floor = seq - WINDOW_SIZE
            if min(self._seen) <= floor:
                self._seen = {s for s in self._seen if s > floor}
        return True

    def as_dict(self) -> dict[str, Any]:
        """Serialise compactly: counted sequences as inclusive ranges."""
        ranges: list[list[int]] = []
        for seq in sorted(self._seen):
            if ranges and ranges[-1][1] == seq - 1:
                ranges[-1][1] = seq
            else:
                ranges.append([seq, seq])
        return {
            "gen": self.gen,
            "highest": self.highest,
            "seen": ranges,
            "retired": self._retired,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SequenceWindow:
        """Rebuild a window saved with as_dict."""
        window = cls()
        window.gen = data.get("gen")
        window.highest = int(data.get("highest", -1))
        window._seen = {
            seq for low, high in data.get("seen", []) for seq in range(low, high + 1)
        }
        window._retired = [int(gen) for gen in data.get("retired", [])]
        return window
