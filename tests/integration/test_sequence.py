"""Unit tests of the exactly-once sequence window and the battery curve."""

from __future__ import annotations

import random

from custom_components.iot_porter.battery import battery_percent
from custom_components.iot_porter.sequence import WINDOW_SIZE, SequenceWindow


def test_window_accepts_each_pair_once() -> None:
    window = SequenceWindow()
    assert window.accept(1, 5)
    assert not window.accept(1, 5)
    assert window.accept(1, 3)
    assert not window.accept(1, 3)


def test_window_round_trips_through_its_dict_form() -> None:
    window = SequenceWindow()
    rng = random.Random(4)
    accepted = {s for s in rng.sample(range(3000), 900) if window.accept(9, s)}
    restored = SequenceWindow.from_dict(window.as_dict())
    assert all(not restored.accept(9, s) for s in accepted)
    assert restored.accept(9, 3001)


def test_saved_form_is_compact_for_contiguous_runs() -> None:
    window = SequenceWindow()
    for seq in range(2000):
        window.accept(1, seq)
    assert window.as_dict()["seen"] == [[0, 1999]]


def test_window_forgets_below_its_floor_but_refuses_those_sequences() -> None:
    window = SequenceWindow()
    window.accept(1, 0)
    window.accept(1, WINDOW_SIZE + 10)
    assert not window.accept(1, 5)
    assert window.as_dict()["seen"] == [[WINDOW_SIZE + 10, WINDOW_SIZE + 10]]


def test_retired_generation_is_refused() -> None:
    window = SequenceWindow()
    window.accept(1, 0)
    window.accept(2, 0)
    assert not window.accept(1, 1)
    assert window.accept(2, 1)


def test_battery_curve_is_monotonic_and_clamped() -> None:
    values = [battery_percent(v / 100) for v in range(300, 440)]
    assert values == sorted(values)
    assert battery_percent(3.0) == 0
    assert battery_percent(4.35) == 100
    assert battery_percent(3.8) == 50
