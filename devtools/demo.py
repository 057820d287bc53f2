"""Run the whole system on one machine: Mosquitto, Home Assistant, a MagTag.

Started by scripts/demo. Everything lives in .demo/ (ignored by git) and is reused
on the next run, so the door counts carry on; --fresh starts from nothing.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
import contextlib
import os
from pathlib import Path
import random
import shutil
import signal
import sys
import time
from types import FrameType
import webbrowser

from magtag.porter.log import configure as configure_log
from magtag.sim import SimulatedBoard
from tests.broker import Broker

from .client import HassApiError
from .config import REPO_ROOT
from .hass import OWNER_PASSWORD, OWNER_USERNAME, HassProcess

DEMO_DIR = REPO_ROOT / ".demo"
DEVICE_ID = "front-door"
DEFAULT_HTTP_PORT = 8123
DEFAULT_MQTT_PORT = 18830
MIN_GAP_S = 4.0
MAX_GAP_S = 12.0
TOTAL_ENTITY = "sensor.front_door_door_events"


class Stop(BaseException):
    """Raised by the signal handler to leave the door loop.

    A BaseException, like KeyboardInterrupt, so that the firmware's own
    catch-all error handling in a wake cannot swallow it.
    """


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    """Turn SIGTERM (and SIGINT) into a clean shutdown."""
    raise Stop(signal.Signals(signum).name)


def _say(text: str) -> None:
    """Print one line of progress."""
    print(f"[demo] {text}", flush=True)


def _port_free(port: int) -> bool:
    """Return True when nothing listens on the loopback port."""
    import socket

    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


@contextlib.contextmanager
def _broker(port: int) -> Iterator[Broker]:
    """Run Mosquitto from .demo/mosquitto; retained messages persist there."""
    workdir = DEMO_DIR / "mosquitto"
    workdir.mkdir(parents=True, exist_ok=True)
    broker = Broker(port=port, workdir=workdir)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def _set_up_hub(hass: HassProcess, board: SimulatedBoard, broker: Broker) -> None:
    """Add MQTT and IoT Porter the way a user does in the UI, once."""
    client = hass.client
    if not client.config_entries("mqtt"):
        _say("Adding the MQTT integration through its config flow")
        client.setup_mqtt(broker.host, broker.port)
    board.wake()  # power-on: publishes the retained state, the discovery topic
    if client.config_entries("iot_porter"):
        return
    _say("The board was discovered; confirming it like the Add button does")
    flows = client.wait_for(
        lambda: [f for f in client.flows_in_progress() if f["handler"] == "iot_porter"],
        what="the IoT Porter discovery",
        timeout_s=30,
    )
    client.flow_step(flows[0]["flow_id"], {})
    client.wait_for(lambda: client.state(TOTAL_ENTITY), what=TOTAL_ENTITY)
    if api_key := os.environ.get("OPENAI_API_KEY"):
        _use_openai(hass, api_key)
    else:
        _say("OPENAI_API_KEY is not set: the door display uses the local summary")


def _use_openai(hass: HassProcess, api_key: str) -> None:
    """Give the hub the OpenAI key through its reconfigure flow."""
    client = hass.client
    [entry] = client.config_entries("iot_porter")
    step = client.post(
        "/api/config/config_entries/flow",
        {"handler": "iot_porter", "entry_id": entry["entry_id"]},
    )
    result = client.flow_step(
        step["flow_id"], {"base_topic": "iot_porter", "api_key": api_key}
    )
    if result.get("type") == "abort":
        _say("OpenAI key set: the door display is written by OpenAI")
    else:
        _say(
            f"OpenAI refused the key ({result.get('errors')}); "
            "the local summary stays in use"
        )


def _publish_png(board: SimulatedBoard, target: Path) -> None:
    """Copy the board's screen to the known place, atomically."""
    if board.png_path.exists():
        partial = target.with_suffix(".tmp.png")
        shutil.copyfile(board.png_path, partial)
        partial.replace(target)


def _status(hass: HassProcess) -> str:
    """Return the counts Home Assistant shows right now."""
    values = []
    for entity_id in (TOTAL_ENTITY, "sensor.front_door_door_events_today"):
        state = hass.client.state(entity_id)
        values.append(state["state"] if state else "?")
    return f"Home Assistant counts {values[0]} in all, {values[1]} today"


def run(args: argparse.Namespace) -> int:
    """Start everything, send door events until stopped, stop everything."""
    if args.fresh and DEMO_DIR.exists():
        shutil.rmtree(DEMO_DIR)
    DEMO_DIR.mkdir(exist_ok=True)
    for port in (args.port, args.mqtt_port):
        if not _port_free(port):
            _say(f"Port {port} is in use; pick another with --port/--mqtt-port")
            return 2
    signal.signal(signal.SIGTERM, _on_signal)
    configure_log(False)
    png = DEMO_DIR / "door.png"
    rng = random.Random()
    deadline = time.monotonic() + args.duration if args.duration else None

    with _broker(args.mqtt_port) as broker:
        _say(f"Mosquitto listens on 127.0.0.1:{broker.port}")
        hass = HassProcess(DEMO_DIR / "config", args.port, python=sys.executable)
        _say("Starting Home Assistant (the first start takes a while)")
        try:
            hass.start()
            board = SimulatedBoard(
                DEMO_DIR / "magtag",
                broker.host,
                broker.port,
                DEVICE_ID,
                settings={"DISPLAY_WAIT_S": "2"},
            )
            _set_up_hub(hass, board, broker)
            _publish_png(board, png)
            print(
                "\n"
                f"  Home Assistant: {hass.url}\n"
                f"  User:           {OWNER_USERNAME}\n"
                f"  Password:       {OWNER_PASSWORD}\n"
                f"  Door display:   {png}  (updated on every door event)\n"
                f"  Logs:           {hass.log_path}\n"
                "  Stop with Ctrl-C.\n",
                flush=True,
            )
            if args.browser and os.environ.get("DISPLAY"):
                webbrowser.open(hass.url)
            events = 0
            while deadline is None or time.monotonic() < deadline:
                gap = rng.uniform(MIN_GAP_S, MAX_GAP_S)
                if deadline is not None:
                    gap = min(gap, max(0.0, deadline - time.monotonic()))
                time.sleep(gap)
                if deadline is not None and time.monotonic() >= deadline:
                    break
                reports = board.door(1, spacing_s=int(gap) + 60)
                events += sum(r["new_event"] for r in reports)
                _publish_png(board, png)
                with contextlib.suppress(OSError, HassApiError):
                    _say(f"Door moved ({events} this run). {_status(hass)}")
        except (KeyboardInterrupt, Stop):
            _say("Stopping")
        finally:
            hass.stop()
            _say("Home Assistant stopped")
    _say("Mosquitto stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the demo."""
    parser = argparse.ArgumentParser(prog="scripts/demo", description=__doc__)
    parser.add_argument("--port", type=int, default=DEFAULT_HTTP_PORT)
    parser.add_argument("--mqtt-port", type=int, default=DEFAULT_MQTT_PORT)
    parser.add_argument(
        "--duration", type=float, default=0, help="stop after N seconds (0: never)"
    )
    parser.add_argument(
        "--no-browser", dest="browser", action="store_false", help="do not open it"
    )
    parser.add_argument(
        "--fresh", action="store_true", help="forget .demo/ and start from nothing"
    )
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
