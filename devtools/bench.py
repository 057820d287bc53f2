"""Measure IoT Porter against the do-it-yourself path and the prototype.

Run by scripts/bench, which writes docs/performance.md. Every figure comes from
one run on this machine; the method is printed with it so anyone can rerun it.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Iterator
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import json
import math
from pathlib import Path
import platform
import random
import statistics
import sys
import tempfile
import time
from typing import Any

import aiohttp
from aiohttp import web

from magtag.porter import power
from magtag.porter.log import configure as configure_log
from magtag.sim import SimulatedBoard
from tests.broker import Broker, free_port

from .client import authenticate
from .config import DIY_COUNTER, REPO_ROOT
from .hass import HassProcess
from .mqtt import MqttPeer

BENCH_DEVICE = "bench-door"
PORTER_TOPIC = f"iot_porter/{BENCH_DEVICE}/events"
DIY_TOPIC = f"diy/{BENCH_DEVICE}/events"
TOTAL_ENTITY = "sensor.bench_door_door_events"
DUPLICATE_SHARE = 0.10
LATENCY_GAP_S = 0.02
EVENTS_PER_DAY = (20, 100, 500)
BATTERY_MAH = 420
TIMER_INTERVAL_S = 3600
PROTOTYPE_CALLS_PER_EVENT = 1
PERFORMANCE_MD = REPO_ROOT / "docs" / "performance.md"


def _say(text: str) -> None:
    """Report progress on stderr; the document goes to stdout."""
    print(f"[bench] {text}", file=sys.stderr, flush=True)


def door_messages(count: int, seed: int = 7) -> tuple[list[bytes], int]:
    """Return count event batches, 10 % of them exact repeats, and the unique count."""
    rng = random.Random(seed)
    gen = 424242
    messages: list[bytes] = []
    seq = 0
    for index in range(count):
        if index and rng.random() < DUPLICATE_SHARE:
            messages.append(rng.choice(messages[-200:]))
            continue
        seq += 1
        messages.append(
            json.dumps({"v": 1, "gen": gen, "events": [{"seq": seq, "ts": None}]})
            .replace(" ", "")
            .encode()
        )
    return messages, seq


@dataclass
class CpuResult:
    """CPU cost of one path for one message stream."""

    name: str
    messages: int
    final_count: int
    wall_s: float
    cpu_s: float
    idle_cpu_s: float

    @property
    def cpu_per_message_ms(self) -> float:
        """Return CPU milliseconds per message above the idle baseline."""
        return (self.cpu_s - self.idle_cpu_s) / self.messages * 1000


@dataclass
class Report:
    """Everything one bench run measured."""

    cpu: list[CpuResult] = field(default_factory=list)
    unique_events: int = 0
    latency_ms: list[float] = field(default_factory=list)
    llm: list[dict[str, Any]] = field(default_factory=list)
    board: dict[str, Any] = field(default_factory=dict)


@contextlib.contextmanager
def running_system(workdir: Path) -> Iterator[tuple[Broker, HassProcess]]:
    """Run a broker and a Home Assistant with the hub and the DIY automation."""
    # Mosquitto drops QoS 1 messages beyond 1,000 queued per client by default;
    # the stream is published faster than Home Assistant takes it, so lift that.
    broker = Broker(
        port=free_port(),
        workdir=workdir / "broker",
        extra_config="max_queued_messages 0\nmax_queued_bytes 0\n",
    )
    broker.workdir.mkdir(parents=True)
    broker.start()
    hass = HassProcess(
        workdir / "config", free_port(), python=sys.executable, diy_topic=DIY_TOPIC
    )
    try:
        hass.start()
        hass.client.setup_mqtt(broker.host, broker.port)
        # The MQTT trigger could not subscribe before MQTT existed, and a reload
        # keeps unchanged automations as they are: switch it off and on.
        diy = {"entity_id": "automation.count_door_events_the_do_it_yourself_way"}
        hass.client.call_service("automation", "turn_off", diy)
        hass.client.call_service("automation", "turn_on", diy)
        step = hass.client.start_flow("iot_porter")
        result = hass.client.flow_step(step["flow_id"], {"base_topic": "iot_porter"})
        if result["type"] != "create_entry":
            raise RuntimeError(f"IoT Porter setup ended with {result}")
        yield broker, hass
    finally:
        hass.stop()
        broker.stop()


def _count(hass: HassProcess, entity_id: str) -> int:
    """Return an entity's numeric state (0 when it does not exist yet)."""
    state = hass.client.state(entity_id)
    if state is None or state["state"] in ("unknown", "unavailable"):
        return 0
    return int(float(state["state"]))


def _run_phase(  # noqa: PLR0917
    hass: HassProcess,
    peer: MqttPeer,
    name: str,
    topic: str,
    messages: list[bytes],
    entity_id: str,
    expected: int,
    idle_rate: float,
) -> CpuResult:
    """Publish the stream on one path and measure Home Assistant's CPU until done."""
    _say(f"CPU phase: {name}, {len(messages)} messages")
    start = _count(hass, entity_id)
    cpu_before = hass.cpu_seconds()
    began = time.monotonic()
    for payload in messages:
        peer.client.publish(topic, payload, qos=1)
    deadline = began + 600
    while _count(hass, entity_id) - start < expected:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{name}: {entity_id} did not reach {expected}")
        time.sleep(0.2)
    # Let trailing work (store writes, display publishes) finish inside the phase.
    time.sleep(1.5)
    wall = time.monotonic() - began
    return CpuResult(
        name=name,
        messages=len(messages),
        final_count=_count(hass, entity_id) - start,
        wall_s=wall,
        cpu_s=hass.cpu_seconds() - cpu_before,
        idle_cpu_s=idle_rate * wall,
    )


def measure_cpu(
    hass: HassProcess,
    broker: Broker,
    count: int,
    report: Report,
    *,
    idle_wall: float = 10.0,
) -> None:
    """Part 1: CPU per message, IoT Porter versus an MQTT-triggered counter."""
    messages, unique = door_messages(count)
    report.unique_events = unique
    peer = MqttPeer(broker.host, broker.port)
    try:
        # Create the board (and its entities) before measuring.
        peer.publish(
            f"iot_porter/{BENCH_DEVICE}/state",
            json.dumps(
                {
                    "v": 1,
                    "fw": "1.0.0",
                    "battery_v": 3.9,
                    "rssi": -60,
                    "wake": "power_on",
                    "error": None,
                    "screen": {"lines": 5, "chars": 24},
                    "interval_s": 3600,
                }
            ),
            retain=True,
        )
        hass.client.wait_for(lambda: hass.client.state(TOTAL_ENTITY), what="board")
        time.sleep(3)
        idle_start = hass.cpu_seconds()
        time.sleep(idle_wall)
        idle_rate = (hass.cpu_seconds() - idle_start) / idle_wall
        report.cpu.append(
            _run_phase(
                hass,
                peer,
                "IoT Porter",
                PORTER_TOPIC,
                messages,
                TOTAL_ENTITY,
                unique,
                idle_rate,
            )
        )
        report.cpu.append(
            _run_phase(
                hass,
                peer,
                "DIY automation + counter",
                DIY_TOPIC,
                messages,
                DIY_COUNTER,
                len(messages),
                idle_rate,
            )
        )
    finally:
        peer.close()


async def _latency(hass: HassProcess, broker: Broker, samples: int) -> list[float]:
    """Part 2: publish-to-state-change latency over the WebSocket API."""
    _say(f"Latency: {samples} messages")
    peer = MqttPeer(broker.host, broker.port)
    published: dict[str, float] = {}
    latencies: list[float] = []
    first = _count(hass, TOTAL_ENTITY)
    gen = 777001
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(hass.url + "/api/websocket") as sock,
        ):
            await authenticate(sock, hass.client.token or "")
            await sock.send_json(
                {
                    "id": 1,
                    "type": "subscribe_trigger",
                    "trigger": {"platform": "state", "entity_id": TOTAL_ENTITY},
                }
            )
            # Publish only once the subscription is in place.
            while (await sock.receive_json(timeout=30)).get("type") != "result":
                pass
            for seq in range(1, samples + 1):
                payload = json.dumps(
                    {"v": 1, "gen": gen, "events": [{"seq": seq, "ts": None}]}
                )
                published[str(first + seq)] = time.time()
                peer.client.publish(PORTER_TOPIC, payload, qos=1)
                await asyncio.sleep(LATENCY_GAP_S)
            while len(latencies) < samples:
                message = await sock.receive_json(timeout=30)
                if message.get("type") != "event":
                    continue
                to_state = message["event"]["variables"]["trigger"]["to_state"]
                sent = published.get(to_state["state"])
                if sent is None:
                    continue
                changed = datetime.fromisoformat(to_state["last_changed"])
                latencies.append((changed.timestamp() - sent) * 1000)
    finally:
        peer.close()
    return latencies


class FakeOpenAI:
    """An OpenAI-compatible chat completions endpoint that counts real calls."""

    def __init__(self) -> None:
        """Start with no calls."""
        self.calls = 0
        self.runner: web.AppRunner | None = None
        self.port = free_port()

    async def _chat(self, request: web.Request) -> web.Response:
        """Answer with a short forecast text."""
        self.calls += 1
        await request.json()
        return web.json_response(
            {
                "id": f"chatcmpl-{self.calls}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": "gpt-4o-mini",
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {
                            "role": "assistant",
                            "content": f"Text {self.calls}: rain later.\nMild.",
                        },
                    }
                ],
                "usage": {
                    "prompt_tokens": 300,
                    "completion_tokens": 20,
                    "total_tokens": 320,
                },
            }
        )

    async def start(self) -> str:
        """Serve on loopback; return the base URL."""
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        return f"http://127.0.0.1:{self.port}/v1"

    async def stop(self) -> None:
        """Stop serving."""
        if self.runner is not None:
            await self.runner.cleanup()


def scripted_forecast(issued: datetime, rng: random.Random) -> list[dict[str, Any]]:
    """Return a 24 h hourly forecast as issued at one hour of a changeable day.

    A front arrives in the afternoon; each hourly issue moves its timing and
    the temperatures a little, as successive model runs do.
    """
    shift = rng.choice((-1, 0, 0, 0, 1))
    rain_start = 15 + shift + (1 if issued.hour >= 12 else 0)
    rows = []
    for step in range(1, 25):
        when = issued + timedelta(hours=step)
        hour = when.hour
        wet = rain_start <= hour <= rain_start + 4
        rows.append(
            {
                "datetime": when.isoformat(),
                "condition": "rainy" if wet else "partlycloudy",
                "temperature": round(
                    9 + 5 * math.sin((hour - 9) / 24 * 2 * math.pi) + rng.gauss(0, 0.4),
                    1,
                ),
                "precipitation": 1.2 if wet else 0.0,
                "precipitation_probability": 80 if wet else rng.choice((5, 10, 20)),
                "wind_speed": 20.0 if wet else 8.0 + rng.random() * 4,
            }
        )
    return rows


async def _llm_day(
    events_per_day: int, base_url: str, server: FakeOpenAI
) -> dict[str, Any]:
    """Part 3: one scripted day through ForecastWriter; count calls at the server."""
    import httpx

    from custom_components.iot_porter.fitting import Budget
    from custom_components.iot_porter.forecast import build_window, fingerprint
    from custom_components.iot_porter.writer import (
        ForecastWriter,
        OpenAIWriter,
        WriterRequest,
        create_client,
    )

    _say(f"Model calls: a day with {events_per_day} door events")
    rng = random.Random(events_per_day)
    day = datetime(2025, 4, 10, tzinfo=UTC)
    clock = {"now": day}
    before = server.calls
    # Hub policy: refresh every 30 min and whenever the weather entity changes
    # (a new hourly issue). As a worst case the writer is also asked on every
    # door event, which the hub itself does not do.
    moments: list[tuple[datetime, str]] = []
    moments += [(day + timedelta(minutes=30 * i), "timer") for i in range(48)]
    moments += [(day + timedelta(hours=h, minutes=1), "issue") for h in range(24)]
    moments += [
        (day + timedelta(seconds=rng.uniform(0, 86399)), "door")
        for _ in range(events_per_day)
    ]
    moments.sort()
    fingerprints: list[str] = []
    async with httpx.AsyncClient() as http:
        client = create_client("sk-bench", http_client=http, base_url=base_url)
        writer = ForecastWriter(
            OpenAIWriter(client), now=lambda: clock["now"], daily_cap=1000
        )
        request = WriterRequest(budget=Budget(5, 24))
        forecast: list[dict[str, Any]] = []
        issued_hour = -1
        for moment, _why in moments:
            clock["now"] = moment
            if moment.hour != issued_hour:
                issued_hour = moment.hour
                forecast = scripted_forecast(
                    moment.replace(minute=0, second=0, microsecond=0), rng
                )
            window = build_window("weather.bench", "hourly", forecast, {}, now=moment)
            print_ = fingerprint(window)
            if not fingerprints or fingerprints[-1] != print_:
                fingerprints.append(print_)
            await writer.async_write(window, request)
    return {
        "events_per_day": events_per_day,
        "calls": server.calls - before,
        "material_changes": len(fingerprints),
        "writer_asked": len(moments),
        "prototype_calls": events_per_day * PROTOTYPE_CALLS_PER_EVENT,
    }


async def measure_llm(report: Report) -> None:
    """Run part 3 for every traffic level."""
    server = FakeOpenAI()
    base_url = await server.start()
    try:
        for events in EVENTS_PER_DAY:
            report.llm.append(await _llm_day(events, base_url, server))
    finally:
        await server.stop()


def measure_board(workdir: Path, wakes: int, report: Report) -> None:
    """Part 4: the simulator's per-event cost and the battery estimate."""
    _say(f"Board: {wakes} simulated door events")
    configure_log(False)
    broker = Broker(port=free_port(), workdir=workdir / "board-broker")
    broker.workdir.mkdir(parents=True)
    broker.start()
    try:
        topic = f"iot_porter/{BENCH_DEVICE}"
        peer = MqttPeer(broker.host, broker.port, f"{topic}/events")
        display = json.loads(
            (
                REPO_ROOT / "tests/protocol_examples/valid/display_forecast.json"
            ).read_text()
        )["payload"]
        peer.publish(f"{topic}/display", json.dumps(display), retain=True)
        board = SimulatedBoard(
            workdir / "board", broker.host, broker.port, BENCH_DEVICE
        )
        board.wake()
        reports = []
        for _ in range(wakes):
            reports += board.door(1)
            # Stand in for Home Assistant: count what arrived and republish the
            # display message, as the hub does after every batch.
            batches = [message.json() for message in peer.received("/events")]
            display |= {
                "gen": batches[-1]["gen"],
                "seq": max(e["seq"] for b in batches for e in b["events"]),
            }
            peer.publish(f"{topic}/display", json.dumps(display), retain=True)
        peer.close()
    finally:
        broker.stop()
    trips = statistics.mean(r["round_trips"] for r in reports)
    report.board = {
        "wakes": len(reports),
        "round_trips": trips,
        "bytes_sent": statistics.mean(r["bytes_sent"] for r in reports),
        "bytes_received": statistics.mean(r["bytes_received"] for r in reports),
        "host_awake_s": statistics.mean(r["awake_s"] for r in reports),
        "mah_per_event": statistics.mean(r["est_mah"] for r in reports),
        "battery": [
            {
                "events_per_day": events,
                "days": power.battery_days(
                    BATTERY_MAH, events, TIMER_INTERVAL_S, round(trips)
                ),
                "prototype_days": power.always_on_hours(BATTERY_MAH) / 24,
            }
            for events in EVENTS_PER_DAY
        ],
    }


def run(messages: int, latency_samples: int, board_wakes: int) -> Report:
    """Run all four parts and return the figures."""
    report = Report()
    with tempfile.TemporaryDirectory(prefix="iot-porter-bench-") as tmp:
        workdir = Path(tmp)
        with running_system(workdir) as (broker, hass):
            measure_cpu(hass, broker, messages, report)
            report.latency_ms = asyncio.run(_latency(hass, broker, latency_samples))
        asyncio.run(measure_llm(report))
        measure_board(workdir, board_wakes, report)
    return report


def percentile(values: list[float], share: float) -> float:
    """Return the nearest-rank percentile of values."""
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def render(report: Report) -> str:
    """Return docs/performance.md for a report."""
    porter, diy = report.cpu
    p50 = percentile(report.latency_ms, 0.50)
    p99 = percentile(report.latency_ms, 0.99)
    b = report.board
    worst_llm = all(row["calls"] <= row["material_changes"] for row in report.llm)
    min_ratio = min(row["days"] / row["prototype_days"] for row in b["battery"])
    cpu_met = porter.cpu_per_message_ms <= diy.cpu_per_message_ms
    lines = [
        "# Performance",
        "",
        "Numbers from one run of `scripts/bench` "
        f"({datetime.now(UTC):%Y-%m-%d}, {platform.machine()}, "
        f"Python {platform.python_version()}, Home Assistant process with "
        "`--skip-pip`, Mosquitto on loopback). Rerun with `scripts/bench`; "
        "`scripts/bench --quick` is a smaller smoke run.",
        "",
        "## Goals",
        "",
        "| Goal | Result | Met |",
        "|---|---|---|",
        f"| HA CPU per door message no higher than the DIY path, every entity "
        f"current, exact counts | {porter.cpu_per_message_ms:.3f} ms vs "
        f"{diy.cpu_per_message_ms:.3f} ms; counts {porter.final_count} vs "
        f"{diy.final_count} (true: {report.unique_events}) | "
        f"{'yes' if cpu_met else 'no'} |",
        f"| p99 publish-to-state latency under 50 ms | p50 {p50:.1f} ms, "
        f"p99 {p99:.1f} ms | {'yes' if p99 < 50 else 'no'} |",
        "| At most one model call per material forecast change | see table 3 | "
        f"{'yes' if worst_llm else 'no'} |",
        f"| At least 30x the prototype's battery life | at least {min_ratio:.0f}x | "
        f"{'yes' if min_ratio >= 30 else 'no'} |",
        "",
        "## 1. Home Assistant CPU per door message",
        "",
        f"Method: one Home Assistant process with IoT Porter and, in the same "
        f"instance, the do-it-yourself path (an automation with an MQTT trigger "
        f"that increments a `counter` helper). The same {porter.messages:,} "
        f"one-event messages, {DUPLICATE_SHARE:.0%} of them exact repeats of "
        "earlier ones (QoS 1 redelivery), are published as fast as the broker "
        "takes them: first to the board's events topic, then to a topic only the "
        "automation listens to. CPU is the process's utime+stime from "
        "`/proc/<pid>/stat` from the first publish until the count is reached "
        "plus 1.5 s, minus the idle rate (measured for 10 s before) times the "
        "phase's wall time. Mosquitto runs with `max_queued_messages 0` so "
        "that it queues the whole burst for Home Assistant instead of dropping "
        "QoS 1 messages beyond its default 1,000.",
        "",
        "| Path | Messages | Final count | Wall time | CPU above idle | "
        "CPU per message |",
        "|---|---|---|---|---|---|",
    ]
    for row in report.cpu:
        lines.append(
            f"| {row.name} | {row.messages:,} | {row.final_count:,} | "
            f"{row.wall_s:.1f} s | {row.cpu_s - row.idle_cpu_s:.2f} s | "
            f"{row.cpu_per_message_ms:.3f} ms |"
        )
    lines += [
        "",
        f"The true number of door events is {report.unique_events:,}. IoT Porter "
        "updates its total, today, last-event, last-seen and event entities for "
        "every counted event and keeps the retained display message current (a "
        "burst republishes it at most once a second); entities whose state did "
        "not change are not rewritten. The DIY counter counts every redelivered "
        "duplicate again.",
        "",
        "## 2. Latency from publish to state change",
        "",
        f"Method: {len(report.latency_ms)} one-event messages, "
        f"{LATENCY_GAP_S * 1000:.0f} ms apart, published with paho through "
        "Mosquitto; the client stamps each publish with `time.time()`, and a "
        "WebSocket `subscribe_trigger` on "
        "the total sensor reports `last_changed` of the new state (same machine, "
        "same clock).",
        "",
        "| p50 | p90 | p99 | max |",
        "|---|---|---|---|",
        f"| {p50:.1f} ms | {percentile(report.latency_ms, 0.9):.1f} ms | "
        f"{p99:.1f} ms | {max(report.latency_ms):.1f} ms |",
        "",
        "## 3. Language-model calls per day",
        "",
        "Method: the integration's `ForecastWriter` with a real `openai` client "
        "against a local OpenAI-compatible HTTP server that counts requests. A "
        "scripted day: a new 24 h hourly forecast is issued every hour (a front "
        "whose timing moves by an hour now and then, temperatures that jitter). "
        "The writer is asked at every 30-minute refresh, at every new issue, and "
        "as a worst case also at every door event (the hub itself does not ask "
        "on door events). Material changes are the changes of the forecast "
        "fingerprint seen at those moments. The prototype asked the model once "
        "per door event.",
        "",
        "| Door events per day | Writer asked | Material changes | Model calls, "
        "IoT Porter | Model calls, prototype |",
        "|---|---|---|---|---|",
    ]
    for day in report.llm:
        lines.append(
            f"| {day['events_per_day']} | {day['writer_asked']} | "
            f"{day['material_changes']} | {day['calls']} | "
            f"{day['prototype_calls']} |"
        )
    lines += [
        "",
        "## 4. Board cost per door event and battery life",
        "",
        f"Method: the host simulator (`magtag.sim.SimulatedBoard`) runs the real "
        f"firmware wake against Mosquitto with the display message retained and "
        "republished after each wake with the highest sequence received, as the "
        "hub does, for "
        f"{b['wakes']} door events; it counts socket round trips and bytes. The "
        "charge per wake and the battery estimate use the constants in "
        "`magtag/porter/power.py` (sources cited in docs/firmware.md: PPK2 "
        "measurements of a MagTag, Adafruit's deep-sleep figure, the LIS3DH "
        "datasheet); the prototype's always-on loop draws "
        f"{power.ALWAYS_ON_MA:.0f} mA. Battery: {BATTERY_MAH} mAh LiPo, timer "
        f"wake every {TIMER_INTERVAL_S // 60} min.",
        "",
        "| Round trips | Bytes sent | Bytes received | Awake on the host | "
        "Charge per event |",
        "|---|---|---|---|---|",
        f"| {b['round_trips']:.1f} | {b['bytes_sent']:.0f} | "
        f"{b['bytes_received']:.0f} | {b['host_awake_s']:.2f} s | "
        f"{b['mah_per_event']:.3f} mAh |",
        "",
        "| Door events per day | IoT Porter | Prototype (always on) | Ratio |",
        "|---|---|---|---|",
    ]
    for life in b["battery"]:
        lines.append(
            f"| {life['events_per_day']} | {life['days']:.0f} days | "
            f"{life['prototype_days']:.2f} days | "
            f"{life['days'] / life['prototype_days']:.0f}x |"
        )
    lines += [
        "",
        "Awake time on the host is the simulator's wall time (no Wi-Fi join); the "
        "estimate uses the measured phase durations from power.py instead.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the bench and write docs/performance.md."""
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--latency-samples", type=int, default=500)
    parser.add_argument("--board-wakes", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    parser.add_argument("--output", type=Path, default=PERFORMANCE_MD)
    args = parser.parse_args(argv)
    if args.quick:
        args.messages, args.latency_samples, args.board_wakes = 200, 50, 3
    report = run(args.messages, args.latency_samples, args.board_wakes)
    text = render(report)
    args.output.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
