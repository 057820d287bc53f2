"""Simulated wakes of the whole firmware against a real Mosquitto on loopback."""

from __future__ import annotations

import json
from pathlib import Path
import time
from typing import Any

import pytest

from magtag.porter import persist
from magtag.sim import SimulatedBoard

from .conftest import Watcher, example_bytes, examples, load_example
from .test_core import check_events_payload, check_state_payload

DISPLAY = load_example("valid", "display_forecast")["payload"]


def wait_for(predicate: Any, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def seqs(watcher: Any) -> list[int]:
    return [e["seq"] for p in watcher.payloads("events") for e in p["events"]]


def unique_seqs(watcher: Any) -> list[int]:
    """Return the sequence numbers seen, each once, in order of first appearance."""
    return list(dict.fromkeys(seqs(watcher)))


def assert_slept_armed(report: dict[str, Any]) -> None:
    """Every wake must end in deep sleep with the latch cleared and a timer."""
    assert report["slept"] is True
    assert report["sleep_s"] == 3600
    assert report["latch_cleared"] is True
    assert report["int1_high_at_sleep"] is False


def test_door_event_is_published_once_with_a_valid_payload(board, watcher) -> None:
    first = board.wake()
    assert first["wake"] == "power_on"
    assert_slept_armed(first)

    [report] = board.door(1)
    assert report["wake"] == "motion"
    assert report["new_event"] and report["published_events"] == 1
    assert_slept_armed(report)
    wait_for(lambda: len(watcher.payloads("events")) == 1)
    [payload] = watcher.payloads("events")
    check_events_payload(payload)
    # The clock came from the display message's time; the door moved 60 s later.
    assert abs(payload["events"][0]["ts"] - (DISPLAY["time"] + 60)) <= 5
    for state in watcher.payloads("state"):
        check_state_payload(state)
    assert watcher.payloads("state")[-1]["wake"] == "motion"
    assert watcher.payloads("state")[-1]["screen"] == {"lines": 6, "chars": 36}
    # connect, subscribe, events (the retained display arrives while waiting for
    # its ack, and the board's PUBACK opens one more exchange), state.
    assert report["round_trips"] == 5
    assert report["bytes_sent"] > 0 and report["bytes_received"] > 0


def test_motion_inside_the_debounce_window_is_one_door_event(board, watcher) -> None:
    board.wake()
    reports = board.door(3, spacing_s=5)
    assert [r["new_event"] for r in reports] == [True, False, False]
    assert [r["published_events"] for r in reports] == [1, 0, 0]
    assert all(r["slept"] for r in reports)
    wait_for(lambda: len(seqs(watcher)) == 3)  # no display message confirms it
    assert len(unique_seqs(watcher)) == 1


def test_events_stay_in_the_backlog_while_the_broker_is_down(
    board, broker, watcher
) -> None:
    board.wake()
    broker.stop()
    offline = board.door(3)
    for report in offline:
        assert report["published_events"] == 0
        assert "network" in report["error"]
        assert_slept_armed(report)
    broker.start()
    fresh = Watcher(broker)
    try:
        time.sleep(0.2)
        online = board.wake("timer")
        assert online["published_events"] == 3
        again = board.wake("timer")
        assert again["published_events"] == 0
        assert again["repeated_events"] == 3  # nothing showed them counted
        wait_for(lambda: len(seqs(fresh)) == 6)
        time.sleep(0.2)
        assert seqs(fresh) == sorted(set(seqs(fresh))) * 2
        assert len(fresh.payloads("events")) == 2  # one batched message a wake
        states = fresh.payloads("state")
    finally:
        fresh.close()
    assert any(s["error"] and s["error"].startswith("network") for s in states)
    assert states[-1]["error"] is None  # cleared once reported


def test_wifi_down_keeps_events_and_uses_the_channel_hint_later(board, watcher):
    board.wake()
    board.wifi_up = False
    [offline] = board.door(1)
    assert offline["published_events"] == 0 and offline["slept"]
    board.wifi_up = True
    online = board.wake("timer")
    assert online["published_events"] == 1
    assert online["wifi_hint"][0] == 0  # a failed join forgets the hint
    assert board.wake("timer")["wifi_hint"] == (6, bytes.fromhex("02a1b2c3d4e5"))


def test_power_loss_never_reuses_a_sequence_number(board, watcher) -> None:
    board.wake()
    board.door(3)
    board.power_loss()
    assert board.door(1) == []  # accelerometer lost its setup: no wake
    report = board.wake()
    assert report["wake"] == "power_on"
    board.door(2)
    wait_for(lambda: len(unique_seqs(watcher)) == 5)
    numbers = unique_seqs(watcher)
    assert numbers[3] > numbers[2]
    gens = {p["gen"] for p in watcher.payloads("events")}
    assert len(gens) == 1  # nvm kept the generation


def test_corrupt_sleep_memory_is_detected_and_recovered_from_nvm(board, watcher):
    board.wake()
    board.wifi_up = False
    board.door(2)  # two events wait in the backlog
    board.corrupt_sleep_memory()
    board.wifi_up = True
    report = board.wake("timer")
    assert report["slept"]
    assert report["published_events"] == 0  # the corrupt backlog is not trusted
    board.door(1)
    wait_for(lambda: len(seqs(watcher)) == 1)
    assert seqs(watcher)[0] >= 32  # a fresh block after the reserved one
    states = watcher.payloads("state")
    assert any(s["error"] and "sleep memory" in s["error"] for s in states)


def test_unchanged_display_does_not_refresh_the_paper(board, watcher) -> None:
    watcher.publish_display(json.dumps(DISPLAY).encode())
    first = board.wake()
    assert first["display_received"] and first["refreshed"]
    second = board.wake("timer")
    assert second["display_received"]
    assert second["refreshed"] is False


def test_changed_display_refreshes_the_paper(board, watcher) -> None:
    watcher.publish_display(json.dumps(DISPLAY).encode())
    board.wake()
    changed = {**DISPLAY, "id": "newid", "lines": ["Snö i natt."]}
    watcher.publish_display(json.dumps(changed).encode())
    report = board.wake("timer")
    assert report["refreshed"] is True
    assert Path(report["png"]).exists()


def test_own_unseen_event_refreshes_the_counts(board, watcher) -> None:
    watcher.publish_display(json.dumps(DISPLAY).encode())
    board.wake()
    [report] = board.door(1)
    assert report["refreshed"] is True  # today + 1 although the text is the same


@pytest.mark.parametrize(("name", "example"), examples("invalid", "display"))
def test_invalid_display_message_keeps_the_old_screen(
    board, watcher, name, example
) -> None:
    watcher.publish_display(json.dumps(DISPLAY).encode())
    board.wake()
    before = board.png_path.read_bytes()
    watcher.publish_display(example_bytes(example))
    report = board.wake("timer")
    assert report["display_rejected"] == example["reject"]
    assert report["refreshed"] is False
    assert board.png_path.read_bytes() == before
    assert report["slept"]
    state = board.wake("timer")
    assert state["slept"]
    wait_for(
        lambda: any(
            s["error"] and "display" in s["error"] for s in watcher.payloads("state")
        )
    )


def test_every_wake_clears_the_latch_and_rewrites_the_wake_config(board) -> None:
    board.wifi_up = False
    reports = [board.wake(), *board.door(2), board.wake("timer")]
    for report in reports:
        assert_slept_armed(report)
        chip = board.accel()
        assert chip.armed and not chip.latched
        assert chip.regs[0x20] == 0x4F  # 50 Hz low power, not the 400 Hz default


@pytest.mark.parametrize(
    "breakage",
    ["broker_unreachable", "bad_settings", "missing_font", "accel_gone", "nvm_broken"],
)
def test_every_error_path_ends_in_deep_sleep_with_a_timer(
    board, broker, breakage
) -> None:
    board.wake()
    if breakage == "broker_unreachable":
        board.settings["MQTT_PORT"] = "1"
    elif breakage == "bad_settings":
        board.settings["DEVICE_ID"] = "Not Valid"
    report = _wake_with(board, breakage)
    assert report["slept"] is True
    assert report["sleep_s"] == 3600
    assert report["error"] is not None


class BrokenFlash:
    """Flash that fails every access."""

    def __len__(self) -> int:
        return 8192

    def __getitem__(self, key: Any) -> bytes:
        raise OSError(5, "flash read failed")

    def __setitem__(self, key: Any, value: Any) -> None:
        raise OSError(5, "flash write failed")


def _wake_with(board: SimulatedBoard, breakage: str) -> dict[str, Any]:
    """Run a motion wake with one part of the hardware broken."""
    from magtag.sim import hardware

    original = hardware.SimHardware.__init__

    def broken_init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        if breakage == "missing_font":
            self.font_path = "/nonexistent.bdf"
        elif breakage == "accel_gone":
            self.i2c.regs[0x0F] = 0
            self.i2c.locked = True
        elif breakage == "nvm_broken":
            self.nvm = BrokenFlash()
            self.sleep_memory[0:4] = b"\0\0\0\0"

    hardware.SimHardware.__init__ = broken_init
    try:
        accel = board.accel()
        accel.latched = True
        board._save_accel(accel)
        return board.wake("motion")
    finally:
        hardware.SimHardware.__init__ = original


def test_sleep_memory_holds_the_backlog_between_wakes(board) -> None:
    board.wake()
    board.wifi_up = False
    board.door(2)
    state = persist.load(bytearray((board.state_dir / "sleep_memory.bin").read_bytes()))
    assert state is not None
    assert [seq for seq, _ts in state.unconfirmed] == [0, 1]
    assert state.sent_seq is None and state.unsent() == 2
