"""Start a real Mosquitto broker on a free loopback port for tests and tools."""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
from dataclasses import dataclass, field
import os
from pathlib import Path
import shutil
import socket
import subprocess
import tempfile
import time

MOSQUITTO_CANDIDATES = ("/usr/sbin/mosquitto", "/usr/bin/mosquitto")


def mosquitto_binary() -> str:
    """Return the path of the mosquitto binary."""
    for candidate in MOSQUITTO_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("mosquitto")
    if found is None:
        raise RuntimeError("mosquitto is not installed; scripts/test installs it")
    return found


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Broker:
    """A running (or stopped) Mosquitto process with its own config folder."""

    port: int
    workdir: Path
    extra_config: str = ""
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def host(self) -> str:
        """Return the loopback address the broker listens on."""
        return "127.0.0.1"

    def start(self) -> None:
        """Start the broker and wait until it accepts connections."""
        conf = self.workdir / "mosquitto.conf"
        conf.write_text(
            "user root\n"
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {self.workdir}/\n"
            "log_dest stderr\n"
            "log_type error\n"
            "log_type warning\n" + self.extra_config
        )
        log = (self.workdir / "mosquitto.log").open("ab")
        self.process = subprocess.Popen(
            [mosquitto_binary(), "-c", str(conf)], stdout=log, stderr=log
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    "mosquitto exited: "
                    + (self.workdir / "mosquitto.log").read_text(errors="replace")
                )
            with contextlib.suppress(OSError):
                socket.create_connection((self.host, self.port), timeout=0.2).close()
                return
            time.sleep(0.05)
        raise RuntimeError("mosquitto did not start listening within 10 s")

    def stop(self) -> None:
        """Stop the broker; its persistence file keeps retained messages."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def restart(self) -> None:
        """Stop and start again on the same port with the same data."""
        self.stop()
        self.start()


@contextlib.contextmanager
def running_broker(extra_config: str = "") -> Iterator[Broker]:
    """Run a broker for the duration of the block."""
    with tempfile.TemporaryDirectory(prefix="mosquitto-") as tmp:
        broker = Broker(port=free_port(), workdir=Path(tmp), extra_config=extra_config)
        broker.start()
        try:
            yield broker
        finally:
            broker.stop()
