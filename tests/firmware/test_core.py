"""Unit tests of the hardware-free firmware modules."""

from __future__ import annotations

import json
from pathlib import Path
import zlib

import pytest

from magtag.porter import checksum, persist, power, protocol, screen, sequence, view
from magtag.porter.lis3dh import LIS3DH
from magtag.porter.settings import Settings
from magtag.sim.hardware import FONT_PATH, FakeLis3dh, Nvm

from .conftest import example_bytes, examples, load_example


class Counter:
    """Deterministic stand-in for the hardware random source."""

    def __init__(self) -> None:
        self.value = 1000

    def __call__(self) -> int:
        self.value += 7
        return self.value


def blank_nvm() -> Nvm:
    return Nvm(b"\xff" * 64)


# checksum ------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"a", b"door events", bytes(range(256)) * 3])
def test_crc32_matches_zlib_with_and_without_binascii(data: bytes) -> None:
    assert checksum.crc32(data) == zlib.crc32(data)
    assert checksum.crc32_pure(data) == zlib.crc32(data)
    assert checksum.crc32(data[3:], checksum.crc32(data[:3])) == zlib.crc32(data)


# sequence blocks in nvm ----------------------------------------------------


def test_blank_nvm_gets_a_new_generation_and_a_reserved_first_block() -> None:
    nvm = blank_nvm()
    gen, start, end = sequence.recover(nvm, Counter())
    assert (gen, start, end) == (1007, 0, sequence.BLOCK_EVENTS)
    assert sequence.read_record(nvm) == (1007, sequence.BLOCK_EVENTS)
    assert nvm.writes == 1


def test_recovery_continues_after_the_last_reserved_block() -> None:
    nvm = blank_nvm()
    gen, _start, end = sequence.recover(nvm, Counter())
    gen2, start2, end2 = sequence.recover(nvm, Counter())
    assert gen2 == gen
    assert start2 == end
    assert end2 == end + sequence.BLOCK_EVENTS


def test_extending_a_block_writes_flash_once_and_never_overlaps() -> None:
    nvm = blank_nvm()
    gen, _start, end = sequence.recover(nvm, Counter())
    gen2, start2, end2 = sequence.extend(nvm, gen, end, Counter())
    assert (gen2, start2, end2) == (gen, end, end + sequence.BLOCK_EVENTS)
    assert nvm.writes == 2
    sequence.write_record(nvm, gen2, end2)
    assert nvm.writes == 2  # identical content is not written again


def test_corrupt_nvm_record_starts_a_new_generation() -> None:
    nvm = blank_nvm()
    gen, _start, _end = sequence.recover(nvm, Counter())
    nvm[5] ^= 0xFF
    assert sequence.read_record(nvm) is None
    gen2, start2, _end2 = sequence.recover(nvm, lambda: 424242)
    assert gen2 == 424242 != gen
    assert start2 == 0


def test_sequence_space_exhausted_starts_a_new_generation() -> None:
    nvm = blank_nvm()
    top = sequence.MAX_SEQ + 1 - sequence.BLOCK_EVENTS // 2
    gen, start, _end = sequence.extend(nvm, 5, top, lambda: 99)
    assert (gen, start) == (99, 0)


# sleep memory --------------------------------------------------------------


def make_state() -> persist.WakeState:
    state = persist.WakeState()
    state.gen, state.next_seq, state.block_end = 2761094, 43, 64
    state.count = 7
    state.unconfirmed = [(40, 1764770000), (41, 1764770412), (42, None)]
    state.sent_seq = 40
    state.dropped = 2
    state.error = "network: OSError timed out"
    state.display = {"id": "x", "lines": ["å"], "today": 1, "total": 2}
    return state


def test_state_survives_a_round_trip_through_sleep_memory() -> None:
    memory = bytearray(4096)
    persist.save(memory, make_state())
    loaded = persist.load(memory)
    assert loaded is not None
    assert loaded.unconfirmed == [(40, 1764770000), (41, 1764770412), (42, None)]
    assert (loaded.sent_seq, loaded.unsent(), loaded.dropped) == (40, 2, 2)
    assert (loaded.gen, loaded.next_seq, loaded.block_end) == (2761094, 43, 64)
    assert loaded.error == "network: OSError timed out"
    assert loaded.display == {"id": "x", "lines": ["å"], "today": 1, "total": 2}


@pytest.mark.parametrize("offset", [0, 5, 9, 12, 20, 60])
def test_any_flipped_bit_in_sleep_memory_is_detected(offset: int) -> None:
    memory = bytearray(4096)
    persist.save(memory, make_state())
    memory[offset] ^= 0x10
    assert persist.load(memory) is None


def test_blank_and_random_sleep_memory_are_not_trusted() -> None:
    assert persist.load(bytearray(4096)) is None
    assert persist.load(bytearray(b"\xa5" * 4096)) is None
    assert persist.load(bytearray(3)) is None


def test_a_block_with_a_valid_crc_but_impossible_values_is_rejected() -> None:
    state = make_state()
    state.next_seq = state.block_end + 1
    memory = bytearray(4096)
    persist.save(memory, state)
    assert persist.load(memory) is None


def test_display_text_is_shed_before_any_event_when_memory_is_full() -> None:
    state = make_state()
    state.display = {"id": "x", "lines": ["y" * 60] * 12, "today": 1, "total": 2}
    state.unconfirmed = [(seq, 1764770000 + seq) for seq in range(200)]
    memory = bytearray(2048)
    persist.save(memory, state)
    loaded = persist.load(memory)
    assert loaded is not None
    assert loaded.display is None
    assert loaded.unconfirmed == state.unconfirmed


def test_events_dropped_for_lack_of_memory_are_counted_for_the_error() -> None:
    state = make_state()
    state.display = None
    state.unconfirmed = [(seq, 1764770000 + seq) for seq in range(200)]
    memory = bytearray(1024)
    persist.save(memory, state)
    loaded = persist.load(memory)
    assert loaded is not None
    kept = len(loaded.unconfirmed)
    assert 0 < kept < 200
    assert loaded.unconfirmed == state.unconfirmed[-kept:]
    assert loaded.dropped == state.dropped + 200 - kept


def test_new_events_beyond_the_bound_push_out_the_oldest() -> None:
    state = persist.WakeState()
    for seq in range(persist.MAX_UNCONFIRMED):
        assert state.add_event(seq, None) == 0
    assert state.add_event(persist.MAX_UNCONFIRMED, None) == 1
    assert state.unconfirmed[0] == (1, None) and state.dropped == 1


def test_a_full_display_message_and_the_full_bound_fit_in_sleep_memory() -> None:
    state = make_state()
    state.unconfirmed = [(seq, 1764770000 + seq) for seq in range(256)]
    state.sent_seq, state.dropped = 255, 7
    state.wifi_bssid, state.shown_key = "02a1b2c3d4e5", "5f0c2a9e|12|3481"
    state.display = dict(
        load_example("valid", "display_forecast")["payload"], lines=["y" * 36] * 6
    )
    memory = bytearray(4096)
    persist.save(memory, state)
    loaded = persist.load(memory)
    assert loaded is not None
    assert loaded.display == state.display
    assert loaded.unconfirmed == state.unconfirmed and loaded.dropped == 7


# protocol ------------------------------------------------------------------


def check_events_payload(payload: dict) -> None:
    """Check an events payload against the contract table."""
    assert set(payload) == {"v", "gen", "events"}
    assert payload["v"] == 1
    assert type(payload["gen"]) is int and 0 <= payload["gen"] <= 2**31 - 1
    assert 1 <= len(payload["events"]) <= 64
    for event in payload["events"]:
        assert set(event) == {"seq", "ts"}
        assert type(event["seq"]) is int and 0 <= event["seq"] <= 2**31 - 1
        assert event["ts"] is None or type(event["ts"]) is int


def check_state_payload(payload: dict) -> None:
    """Check a state payload against the contract table."""
    assert payload["v"] == 1
    assert isinstance(payload["fw"], str) and len(payload["fw"]) <= 16
    assert isinstance(payload["battery_v"], (int, float))
    assert 0 <= payload["battery_v"] <= 6
    assert payload["rssi"] is None or (
        type(payload["rssi"]) is int and -127 <= payload["rssi"] <= 0
    )
    assert payload["wake"] in ("motion", "timer", "power_on", "reset")
    assert payload["error"] is None or (
        isinstance(payload["error"], str) and len(payload["error"]) <= 120
    )
    assert 1 <= payload["screen"]["lines"] <= 12
    assert 8 <= payload["screen"]["chars"] <= 60
    assert 60 <= payload["interval_s"] <= 86400
    assert type(payload.get("backlog", 0)) is int and payload.get("backlog", 0) >= 0


@pytest.mark.parametrize(("name", "example"), examples("valid", "events"))
def test_event_checker_accepts_the_valid_contract_examples(name, example) -> None:
    check_events_payload(example["payload"])


@pytest.mark.parametrize(("name", "example"), examples("valid", "state"))
def test_state_checker_accepts_the_valid_contract_examples(name, example) -> None:
    check_state_payload(example["payload"])


@pytest.mark.parametrize(
    "name", ["events_bool_seq", "events_empty", "events_missing_gen", "events_too_many"]
)
def test_event_checker_rejects_invalid_contract_examples(name: str) -> None:
    example = dict(examples("invalid", "events"))[name]
    with pytest.raises(AssertionError):
        check_events_payload(example["payload"])


def test_backlog_goes_out_in_batches_of_at_most_64_oldest_first() -> None:
    backlog = [(seq, 1764770000 + seq) for seq in range(150)]
    sizes = []
    while backlog:
        size, raw = protocol.first_batch(7, backlog)
        payload = json.loads(raw)
        check_events_payload(payload)
        assert payload["events"][0]["seq"] == backlog[0][0]
        assert len(raw) <= protocol.MAX_EVENTS_BYTES
        sizes.append(size)
        backlog = backlog[size:]
    assert sizes == [64, 64, 22]


def test_events_payload_matches_the_contract_example_byte_for_byte_in_meaning() -> None:
    example = dict(examples("valid", "events"))["events_backlog"]["payload"]
    backlog = [(event["seq"], event["ts"]) for event in example["events"]]
    _size, raw = protocol.first_batch(example["gen"], backlog)
    assert json.loads(raw) == example


def test_state_payload_follows_the_contract_and_clips_long_errors() -> None:
    raw = protocol.state_payload(
        fw="1.0.0",
        battery_v=7.5,
        rssi=-200,
        wake="motion",
        error="x" * 500,
        lines=6,
        chars=36,
        interval_s=3600,
        backlog=3,
    )
    payload = json.loads(raw)
    check_state_payload(payload)
    assert payload["battery_v"] == 6.0
    assert payload["rssi"] == -127
    assert len(payload["error"]) == 120
    assert len(raw) <= protocol.MAX_STATE_BYTES


@pytest.mark.parametrize(("name", "example"), examples("valid", "display"))
def test_valid_display_examples_are_accepted(name, example) -> None:
    message, reason = protocol.parse_display(example_bytes(example))
    assert reason is None
    assert message["lines"] == example["payload"]["lines"]


@pytest.mark.parametrize(("name", "example"), examples("invalid", "display"))
def test_invalid_display_examples_are_rejected_with_the_contract_kind(
    name, example
) -> None:
    message, reason = protocol.parse_display(example_bytes(example))
    assert message is None
    assert reason == example["reject"]


def test_display_with_bool_counts_or_wrong_version_is_rejected() -> None:
    good = dict(examples("valid", "display"))["display_forecast"]["payload"]
    for change, kind in (
        ({"today": True}, "invalid_schema"),
        ({"utc_offset_s": 60000}, "invalid_schema"),
        ({"source": "other"}, "invalid_schema"),
        ({"v": 2}, "unsupported_version"),
    ):
        raw = json.dumps({**good, **change}).encode()
        assert protocol.parse_display(raw) == (None, kind)
    assert protocol.parse_display(b"[1]") == (None, "invalid_schema")
    assert protocol.parse_display(b" " * 3000) == (None, "oversize")


@pytest.mark.parametrize(
    ("device_id", "ok"),
    [
        ("front-door", True),
        ("a1", True),
        ("a", False),
        ("Front", False),
        ("-door", False),
        ("x" * 33, False),
        ("door/1", False),
    ],
)
def test_device_id_pattern_matches_the_contract(device_id: str, ok: bool) -> None:
    assert protocol.valid_device_id(device_id) is ok


@pytest.mark.parametrize(
    ("base", "ok"),
    [
        ("iot_porter", True),
        ("home/doors", True),
        ("a/b/c/d/e", True),
        ("a/b/c/d/e/f", False),
        ("/x", False),
        ("x/", False),
        ("x/#", False),
        ("", False),
    ],
)
def test_base_topic_rules_match_the_contract(base: str, ok: bool) -> None:
    assert protocol.valid_base_topic(base) is ok


# settings ------------------------------------------------------------------

GOOD_SETTINGS = {
    "WIFI_SSID": "net",
    "WIFI_PASSWORD": "wifi-secret",
    "MQTT_HOST": "10.0.0.2",
    "MQTT_PASSWORD": "mqtt-secret",
    "DEVICE_ID": "front-door",
    "MOTION_RATE_HZ": "25",
}


def test_settings_are_read_and_repr_hides_secrets() -> None:
    settings = Settings(GOOD_SETTINGS.get)
    assert settings.motion_rate_hz == 25
    assert settings.interval_s == 3600
    assert settings.base_topic == "iot_porter"
    text = repr(settings)
    assert "secret" not in text
    assert "front-door" in text


@pytest.mark.parametrize(
    "change",
    [
        {"DEVICE_ID": "Bad Id"},
        {"MOTION_RATE_HZ": "30"},
        {"TIMER_INTERVAL_S": "5"},
        {"MQTT_PORT": "x"},
        {"WIFI_SSID": ""},
        {"BASE_TOPIC": "a/#"},
    ],
)
def test_unusable_settings_raise_a_plain_error(change: dict) -> None:
    with pytest.raises(ValueError):
        Settings({**GOOD_SETTINGS, **change}.get)


# view ----------------------------------------------------------------------

MESSAGE = {
    "id": "abc",
    "lines": ["Dry."],
    "today": 12,
    "total": 3481,
    "seq": 42,
    "gen": 7,
    "time": 1764770415,
    "utc_offset_s": 3600,
}


def test_own_events_above_the_counted_seq_are_added_to_the_counts() -> None:
    events = [(41, 1764770400), (42, 1764770401), (43, 1764770402), (44, None)]
    assert view.counts(MESSAGE, 7, events, 1764770500, True) == (14, 3483)


def test_events_of_another_generation_are_all_unseen() -> None:
    events = [(1, 1764770400), (2, 1764770401)]
    assert view.counts(MESSAGE, 8, events, 1764770500, True) == (14, 3483)


def test_unseen_events_from_yesterday_add_to_total_but_not_today() -> None:
    yesterday = 1764770415 - 86400
    assert view.counts(MESSAGE, 7, [(50, yesterday)], 1764770500, True) == (12, 3482)


def test_update_time_uses_the_home_assistant_offset() -> None:
    assert view.clock_text(1764770415, 3600) == "15:00"
    assert view.clock_text(1764770415, -5 * 3600) == "09:00"


def test_content_key_changes_with_counts_but_not_with_battery() -> None:
    def key(events, battery):
        return view.compose(
            MESSAGE,
            7,
            events,
            now=1764770500,
            clock_ok=True,
            battery_v=battery,
            max_lines=6,
            max_chars=36,
        )["key"]

    assert key([], 3.9) == key([], 3.7)
    assert key([], 3.9) != key([(43, None)], 3.9)


def test_lines_are_cut_to_the_announced_budget() -> None:
    content = view.compose(
        {**MESSAGE, "lines": ["x" * 50] * 9},
        7,
        [],
        now=1,
        clock_ok=False,
        battery_v=4.0,
        max_lines=6,
        max_chars=36,
    )
    assert len(content["lines"]) == 6
    assert all(len(line) == 36 for line in content["lines"])


def test_screen_budget_follows_from_font_and_layout() -> None:
    advance, line_h = screen.font_metrics(FONT_PATH)
    lines, chars = screen.budget(FONT_PATH)
    _sep, first_y, _h = screen.layout(FONT_PATH)
    assert first_y + lines * line_h <= screen.HEIGHT < first_y + (lines + 1) * line_h
    assert chars * advance <= screen.WIDTH - 2 * screen.MARGIN_X
    assert (lines, chars) == (6, 36)


def test_font_covers_the_contract_character_set() -> None:
    text = Path(FONT_PATH).read_text(encoding="ascii")
    encodings = {
        int(line.split()[1])
        for line in text.splitlines()
        if line.startswith("ENCODING ")
    }
    charset = {chr(c) for c in range(0x20, 0x7F)} | set("°åäöÅÄÖéÉüÜ–")
    assert {ord(char) for char in charset} <= encodings


# LIS3DH driver -------------------------------------------------------------


def test_arm_wake_writes_motion_config_and_clears_the_latch() -> None:
    chip = FakeLis3dh()
    chip.latched = True
    LIS3DH(chip).arm_wake(threshold_mg=96, rate_hz=50, duration=2)
    regs = chip.regs
    assert regs[0x20] == 0x4F  # 50 Hz, low power, XYZ
    assert regs[0x21] == 0x01  # high-pass on INT1
    assert regs[0x22] == 0x40  # IA1 on INT1
    assert regs[0x24] == 0x08  # latched
    assert regs[0x32] == 6  # 96 mg / 16 mg
    assert regs[0x33] == 2
    assert regs[0x30] == 0x2A
    assert not chip.latched and not chip.int1
    assert chip.reads[-1] == 0x31
    assert chip.reads.index(0x26) < [r for r, _v in chip.writes].index(0x30, 1)


def test_reading_the_source_clears_the_latch_and_reports_motion() -> None:
    chip = FakeLis3dh()
    LIS3DH(chip).arm_wake(threshold_mg=96, rate_hz=50, duration=0)
    assert chip.move(magnitude_mg=50) is False  # under the threshold
    assert chip.move(magnitude_mg=500) is True
    assert LIS3DH(chip).read_motion_source() & 0x40
    assert not chip.int1


def test_missing_accelerometer_is_an_error_not_a_hang() -> None:
    chip = FakeLis3dh()
    chip.regs[0x0F] = 0
    with pytest.raises(RuntimeError):
        LIS3DH(chip).arm_wake(threshold_mg=96, rate_hz=50, duration=0)
    chip.locked = True
    with pytest.raises(RuntimeError):
        LIS3DH(chip).read_motion_source()


# power estimate ------------------------------------------------------------


def test_power_estimate_beats_the_always_on_prototype_by_far() -> None:
    days_small = power.battery_days(420, events_per_day=20, interval_s=3600)
    days_large = power.battery_days(2000, events_per_day=20, interval_s=3600)
    assert days_large == pytest.approx(days_small * 2000 / 420)
    assert days_small * 24 > 10 * power.always_on_hours(420)
    assert power.always_on_hours(420) < 18
    assert (
        power.wake_mah(4, True)
        > power.wake_mah(4, False)
        > power.wake_mah(0, False, wifi=False)
    )
