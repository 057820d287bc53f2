"""Start and stop a real Home Assistant process on its own config folder."""

from __future__ import annotations

from dataclasses import dataclass, field
import json
import os
from pathlib import Path
import re
import signal
import subprocess
import sys
import time

from .client import HassApiError, HassClient
from .config import prepare

START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 60.0
OWNER_NAME = "Demo Owner"
OWNER_USERNAME = "demo"
OWNER_PASSWORD = "iot-porter-demo"
TOKEN_FILE = ".devtools_token.json"

# A log record header: "2025-04-11 10:00:00.123 ERROR (MainThread) [logger] ...".
_RECORD = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ "
    r"(?P<level>[A-Z]+) \(\S+\) \[(?P<logger>[^\]]+)\]"
)


@dataclass
class LogRecord:
    """One record of home-assistant.log, with its traceback lines."""

    level: str
    logger: str
    text: str


@dataclass
class HassProcess:
    """A Home Assistant process, its config folder, HTTP port and owner token."""

    config_dir: Path
    port: int
    python: str = sys.executable
    diy_topic: str | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    client: HassClient = field(init=False)

    def __post_init__(self) -> None:
        """Prepare the client; the token comes from onboarding or a saved file."""
        self.client = HassClient(self.url, self._saved_token())

    @property
    def url(self) -> str:
        """Return the base URL on loopback."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        """Return Home Assistant's own log file."""
        return self.config_dir / "home-assistant.log"

    @property
    def pid(self) -> int | None:
        """Return the process id while it runs."""
        return self.process.pid if self.process else None

    def _saved_token(self) -> str | None:
        """Return the long-lived token saved by an earlier onboarding."""
        path = self.config_dir / TOKEN_FILE
        if not path.exists():
            return None
        token: str = json.loads(path.read_text())["token"]
        return token

    def start(self, *, timeout_s: float = START_TIMEOUT_S) -> None:
        """Write the config, start the process, onboard on first start, wait."""
        prepare(self.config_dir, self.port, diy_topic=self.diy_topic)
        out = (self.config_dir / "hass-stdout.log").open("ab")
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(
            [
                self.python,
                "-m",
                "homeassistant",
                "--config",
                str(self.config_dir),
                "--skip-pip",
                "--log-no-color",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout_s
        self._wait(self.client.alive, deadline, "the HTTP server")
        if self.client.token is None:
            token = self.client.onboard(OWNER_NAME, OWNER_USERNAME, OWNER_PASSWORD)
            (self.config_dir / TOKEN_FILE).write_text(json.dumps({"token": token}))
        self._wait(self._running, deadline, "Home Assistant to finish starting")

    def _running(self) -> bool:
        """Return True when the core reports RUNNING."""
        try:
            return bool(self.client.get("/api/config").get("state") == "RUNNING")
        except (OSError, HassApiError):
            return False

    def _wait(self, check: object, deadline: float, what: str) -> None:
        """Poll check until deadline; fail early if the process died."""
        assert callable(check)
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(
                    f"Home Assistant exited with {self.process.returncode}; "
                    f"see {self.log_path}"
                )
            if check():
                return
            time.sleep(0.2)
        raise TimeoutError(f"timed out waiting for {what}; see {self.log_path}")

    def stop(self, *, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """Stop gracefully (SIGTERM: Home Assistant saves its storage), then kill."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        """Stop gracefully and start again on the same config folder."""
        self.stop()
        self.start()

    def cpu_seconds(self) -> float:
        """Return the user+system CPU time the process has used so far."""
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1]
        parts = fields.split()
        # utime and stime are fields 14 and 15 of stat; parts starts at field 3.
        ticks = int(parts[11]) + int(parts[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def log_records(self, level: str = "ERROR") -> list[LogRecord]:
        """Return the records of the log at a level, with their tracebacks."""
        records: list[LogRecord] = []
        current: LogRecord | None = None
        # Home Assistant moves the previous run's log to .log.1 when it starts.
        lines: list[str] = []
        for path in (self.log_path.with_suffix(".log.1"), self.log_path):
            if path.exists():
                lines += path.read_text(errors="replace").splitlines()
        for line in lines:
            match = _RECORD.match(line)
            if match:
                current = LogRecord(match["level"], match["logger"], line)
                records.append(current)
            elif current is not None:
                current.text += "\n" + line
        return [record for record in records if record.level == level]

    def integration_errors(self) -> list[LogRecord]:
        """Return error records from, or with a traceback through, IoT Porter."""
        return [
            record
            for record in self.log_records("ERROR") + self.log_records("CRITICAL")
            if "iot_porter" in record.logger or "custom_components" in record.text
        ]
