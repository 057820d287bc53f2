"""The benchmark's own code works: a tiny run of every part against real processes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from devtools import bench

pytestmark = pytest.mark.usefixtures("socket_enabled")


def test_duplicates_make_a_tenth_of_the_stream() -> None:
    messages, unique = bench.door_messages(1000)
    assert len(messages) == 1000
    assert len(set(messages)) == unique
    assert 850 <= unique <= 950


def test_tiny_bench_counts_exactly_and_diy_counts_duplicates(tmp_path: Path) -> None:
    report = bench.Report()
    with bench.running_system(tmp_path) as (broker, hass):
        bench.measure_cpu(hass, broker, 200, report, idle_wall=1.0)
        report.latency_ms = asyncio.run(bench._latency(hass, broker, 20))
    porter, diy = report.cpu
    assert porter.final_count == report.unique_events < 200
    assert diy.final_count == 200
    assert porter.cpu_s > 0
    assert diy.cpu_s > 0
    assert len(report.latency_ms) == 20
    assert all(0 <= value < 5000 for value in report.latency_ms)


def test_model_calls_stay_within_material_changes() -> None:
    report = bench.Report()
    asyncio.run(bench.measure_llm(report))
    for row in report.llm:
        assert 0 < row["calls"] <= row["material_changes"]
        assert row["prototype_calls"] == row["events_per_day"]
    # Door traffic does not drive the calls: 25x the events, about the same calls.
    assert report.llm[-1]["calls"] <= 2 * report.llm[0]["calls"]


def test_board_part_measures_round_trips_and_battery(tmp_path: Path) -> None:
    report = bench.Report()
    bench.measure_board(tmp_path, 2, report)
    assert report.board["wakes"] == 2
    assert report.board["round_trips"] >= 3
    assert report.board["bytes_sent"] > 0
    for row in report.board["battery"]:
        assert row["days"] > row["prototype_days"]
