"""A board repeats its door events until a display message shows them counted.

Simulated wakes of the whole firmware against a real Mosquitto on loopback; the
display messages stand in for Home Assistant's retained ones.
"""

from __future__ import annotations

from collections.abc import Callable
import json
import time
from typing import Any

from magtag.porter import persist
from magtag.sim import SimulatedBoard

from .conftest import Watcher, load_example

DISPLAY = load_example("valid", "display_forecast")["payload"]
SETTLE_S = 0.3


def wait_for(predicate: Callable[[], bool], timeout_s: float = 5.0) -> None:
    """Wait until predicate holds."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def batches(watcher: Watcher) -> list[list[int]]:
    """Return the sequence numbers of every events message, message by message."""
    return [[e["seq"] for e in p["events"]] for p in watcher.payloads("events")]


def settled_batches(watcher: Watcher, count: int) -> list[list[int]]:
    """Wait for count events messages, then make sure no more arrive."""
    wait_for(lambda: len(batches(watcher)) >= count)
    time.sleep(SETTLE_S)
    found = batches(watcher)
    assert len(found) == count, found
    return found


def sleep_state(board: SimulatedBoard) -> persist.WakeState:
    """Return what the board keeps in sleep memory."""
    raw = bytearray((board.state_dir / "sleep_memory.bin").read_bytes())
    state = persist.load(raw)
    assert state is not None
    return state


def write_sleep_state(board: SimulatedBoard, state: persist.WakeState) -> None:
    """Put state into the board's sleep memory as the firmware would."""
    path = board.state_dir / "sleep_memory.bin"
    raw = bytearray(path.read_bytes())
    persist.save(raw, state)
    path.write_bytes(bytes(raw))


def confirm(watcher: Watcher, gen: int, seq: int | None, total: int = 0) -> None:
    """Retain a display message that shows events up to seq of gen counted."""
    message: dict[str, Any] = {**DISPLAY, "gen": gen, "seq": seq, "total": total}
    message["id"] = f"c{total}"
    watcher.publish_display(json.dumps(message).encode())


def test_events_are_sent_again_while_no_display_message_exists(board, watcher) -> None:
    watcher.publish_display(b"")  # no retained display message at all
    board.wake()
    reports = board.door(2)
    timer = board.wake("timer")
    assert settled_batches(watcher, 3) == [[0], [0, 1], [0, 1]]
    assert [r["published_events"] for r in reports] == [1, 1]
    assert [r["repeated_events"] for r in reports] == [0, 1]
    assert (timer["published_events"], timer["repeated_events"]) == (0, 2)
    # The broker acknowledged both, so neither counts as waiting in the state.
    assert watcher.payloads("state")[-1]["backlog"] == 0


def test_a_display_message_of_their_generation_stops_the_repeats(
    board, watcher
) -> None:
    board.wake()
    board.door(3)
    gen = sleep_state(board).gen
    count = len(settled_batches(watcher, 3))
    confirm(watcher, gen, 2, total=3)
    # With nothing new to send, the board publishes its state first; the display
    # message arrives meanwhile and leaves no repeat to send.
    first = board.wake("timer")
    assert first["display_received"]
    assert (first["confirmed_events"], first["repeated_events"]) == (3, 0)
    assert sleep_state(board).unconfirmed == []
    later = [board.wake("timer"), *board.door(1)]
    assert [r["repeated_events"] for r in later] == [0, 0]
    assert settled_batches(watcher, count + 1)[-1] == [3]  # only the new event


def test_only_events_above_the_counted_seq_are_sent_again(board, watcher) -> None:
    board.wake()
    board.door(3)
    gen = sleep_state(board).gen
    confirm(watcher, gen, 1, total=2)
    board.wake("timer")  # learns from the retained message that 0 and 1 counted
    assert [seq for seq, _ts in sleep_state(board).unconfirmed] == [2]
    count = len(batches(watcher))
    report = board.wake("timer")
    assert (report["published_events"], report["repeated_events"]) == (0, 1)
    assert settled_batches(watcher, count + 1)[-1] == [2]


def test_a_display_message_of_another_generation_confirms_nothing(
    board, watcher
) -> None:
    board.wake()
    board.door(2)
    gen = sleep_state(board).gen
    confirm(watcher, (gen + 1) % 2**31, 1_000_000, total=99)
    reports = [board.wake("timer"), board.wake("timer")]
    assert [r["confirmed_events"] for r in reports] == [0, 0]
    assert [r["repeated_events"] for r in reports] == [2, 2]
    assert settled_batches(watcher, 4)[-2:] == [[0, 1], [0, 1]]
    assert len(sleep_state(board).unconfirmed) == 2


def test_a_confirmation_that_arrives_during_the_first_batch_trims_the_rest(
    board, watcher
) -> None:
    board.wake()
    state = sleep_state(board)
    state.next_seq = state.block_end = 150
    for seq in range(150):
        state.add_event(seq, DISPLAY["time"] - 600 + seq)
    state.sent_seq = 149
    write_sleep_state(board, state)
    confirm(watcher, state.gen, 100, total=101)
    [report] = board.door(1)  # a new event: the events go out before the state
    assert report["confirmed_events"] == 101
    assert report["published_events"] == 1
    sent = [seq for batch in batches(watcher) for seq in batch]
    # Nothing was known when the first batch of 64 went out; after it, only
    # the events above the confirmed 100 follow.
    assert sent[-50:] == list(range(101, 151))
    assert len(sent) - 50 in (0, 64)
    assert [seq for seq, _ts in sleep_state(board).unconfirmed] == list(range(101, 151))


def test_the_bound_drops_the_oldest_unconfirmed_event_and_reports_it(
    board, watcher
) -> None:
    board.wake()
    state = sleep_state(board)
    limit = persist.MAX_UNCONFIRMED
    # The board has sent `limit` events that Home Assistant never showed counted.
    state.next_seq = state.block_end = limit
    for seq in range(limit):
        state.add_event(seq, DISPLAY["time"] - 3600 + seq)
    state.sent_seq = limit - 1
    write_sleep_state(board, state)
    board.wifi_up = False
    [offline] = board.door(1)
    assert offline["new_event"] and "dropped 1 oldest unconfirmed" in offline["error"]
    kept = sleep_state(board).unconfirmed
    assert [kept[0][0], kept[-1][0], len(kept)] == [1, limit, limit]

    board.wifi_up = True
    online = board.wake("timer")
    assert (online["published_events"], online["repeated_events"]) == (1, limit - 1)
    sent = settled_batches(watcher, 4)
    assert [len(batch) for batch in sent] == [64] * 4
    assert [seq for batch in sent for seq in batch] == list(range(1, limit + 1))
    error = watcher.payloads("state")[-1]["error"]
    assert error.startswith("events: dropped 1 oldest unconfirmed")
    assert "network" in error  # the Wi-Fi failure is reported alongside
    board.wake("timer")
    wait_for(lambda: watcher.payloads("state")[-1]["error"] is None)
