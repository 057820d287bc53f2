"""One real Mosquitto, one real Home Assistant process and a simulated MagTag.

They start once per test module (Home Assistant takes a few seconds) and the tests
of a module run in order against the same instances, like a household would.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
import sys

# Blinka's displayio starts a daemon thread on import; importing it before any
# test runs keeps that thread out of the per-test thread leak check.
import displayio  # noqa: F401
import pytest
import pytest_socket

from devtools.config import DOOR_COUNTER
from devtools.hass import HassProcess
from magtag.porter.log import configure as configure_log
from magtag.sim import SimulatedBoard
from tests.broker import Broker, free_port, running_broker

DEVICE_ID = "front-door"
TOTAL = "sensor.front_door_door_events"
TODAY = "sensor.front_door_door_events_today"
LAST_SEEN = "sensor.front_door_last_seen"
COUNT_TIMEOUT_S = 30


def entity_value(hass: HassProcess, entity_id: str) -> str:
    """Return an entity's state, failing when it does not exist."""
    state = hass.client.state(entity_id)
    assert state is not None, f"{entity_id} does not exist"
    return str(state["state"])


def wait_counts(hass: HassProcess, expected: int) -> None:
    """Wait until both door sensors and the automation's counter show expected."""
    for entity_id in (TOTAL, TODAY, DOOR_COUNTER):
        hass.client.wait_for_state(entity_id, str(expected), timeout_s=COUNT_TIMEOUT_S)


@pytest.fixture(scope="module")
def e2e_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a folder for this module's broker, Home Assistant and board."""
    return tmp_path_factory.mktemp("e2e")


@pytest.fixture(scope="module")
def broker() -> Iterator[Broker]:
    """Run a real Mosquitto on a loopback port for the whole module."""
    # Module fixtures are set up after the per-test socket block; allow loopback.
    pytest_socket.enable_socket()
    with running_broker() as server:
        yield server


@pytest.fixture(scope="module")
def hass(broker: Broker, e2e_dir: Path) -> Iterator[HassProcess]:
    """Run Home Assistant with MQTT set up through its config flow."""
    pytest_socket.enable_socket()
    process = HassProcess(e2e_dir / "config", free_port(), python=sys.executable)
    process.start()
    try:
        process.client.setup_mqtt(broker.host, broker.port)
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def board(broker: Broker, e2e_dir: Path) -> SimulatedBoard:
    """Return the simulated MagTag on the module's broker."""
    configure_log(False)
    return SimulatedBoard(
        e2e_dir / "board",
        broker.host,
        broker.port,
        DEVICE_ID,
        settings={"DISPLAY_WAIT_S": "1"},
    )
