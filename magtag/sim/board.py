"""Drive simulated wakes of the firmware: the API for tests, demo and benchmark."""

from pathlib import Path
import shutil
import time
from typing import Any

from magtag.porter import app, power
from magtag.porter.log import configure as configure_log

from .hardware import CountingPool, FakeLis3dh, SimHardware

DEFAULT_SPACING_S = 60


class SimulatedBoard:
    """A MagTag whose sleep memory, nvm, accelerometer and screen live in a folder."""

    def __init__(
        self,
        state_dir: str | Path,
        host: str,
        port: int,
        device_id: str,
        *,
        base: str = "iot_porter",
        interval_s: int = 3600,
        debounce_s: int = 20,
        settings: dict[str, str] | None = None,
        battery_v: float = 3.92,
        log: bool = False,
    ):
        """Describe the board; nothing runs until wake() or door()."""
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.settings = {
            "WIFI_SSID": "simulated",
            "WIFI_PASSWORD": "simulated",
            "MQTT_HOST": host,
            "MQTT_PORT": str(port),
            "BASE_TOPIC": base,
            "DEVICE_ID": device_id,
            "TIMER_INTERVAL_S": str(interval_s),
            "DEBOUNCE_S": str(debounce_s),
            "MQTT_TIMEOUT_S": "2",
            "PORTER_LOG": "1" if log else "0",
        }
        self.settings.update(settings or {})
        self.wifi_up = True
        self.battery_v = battery_v
        self.pool = CountingPool()
        self.last_hw: SimHardware | None = None
        configure_log(log)

    @property
    def png_path(self) -> Path:
        """Return the PNG that holds what the e-paper shows now."""
        return self.state_dir / "screen.png"

    @property
    def powered(self) -> bool:
        """Return True when sleep memory exists (the board has not lost power)."""
        return (self.state_dir / "sleep_memory.bin").exists()

    def accel(self) -> FakeLis3dh:
        """Return the accelerometer as it is while the board sleeps."""
        import json

        path = self.state_dir / "accel.json"
        if not path.exists():
            return FakeLis3dh()
        saved = json.loads(path.read_text())
        return FakeLis3dh(saved["regs"], saved["latched"])

    def wake(self, reason: str | None = None) -> dict[str, Any]:
        """Run one wake of the firmware and return its report and metrics."""
        if reason is None:
            reason = "timer" if self.powered else "power_on"
        self.pool.reset()
        hw = SimHardware(
            self.state_dir,
            settings=self.settings,
            wake=reason,
            pool=self.pool,
            wifi_up=self.wifi_up,
            battery_v=self.battery_v,
        )
        self.last_hw = hw
        started = time.monotonic()
        try:
            report = dict(app.run(hw))
        finally:
            hw.display.release()
        if report["refreshed"] and hw.display.image is not None:
            hw.display.image.save(self.png_path)
        report.update(
            {
                "slept": hw.slept is not None,
                "int1_high_at_sleep": hw.int1_at_sleep,
                "round_trips": self.pool.round_trips,
                "bytes_sent": self.pool.bytes_sent,
                "bytes_received": self.pool.bytes_received,
                "host_s": time.monotonic() - started,
                "nvm_writes": getattr(hw.nvm, "writes", 0),
                "png": str(self.png_path) if self.png_path.exists() else None,
                "wifi_hint": hw.connect_hint,
            }
        )
        report["est_mah"] = power.wake_mah(
            report["round_trips"], report["refreshed"], wifi=hw.connect_hint is not None
        )
        return report

    def door(
        self, count: int = 1, spacing_s: int = DEFAULT_SPACING_S
    ) -> list[dict[str, Any]]:
        """Move the door count times, spacing_s apart; return the wakes it caused."""
        reports = []
        for _ in range(count):
            self.advance(spacing_s)
            accel = self.accel()
            if accel.move():
                self._save_accel(accel)
                reports.append(self.wake("motion"))
        return reports

    def _save_accel(self, accel: FakeLis3dh) -> None:
        """Store the accelerometer after a movement."""
        import json

        (self.state_dir / "accel.json").write_text(json.dumps(accel.to_json()))

    def advance(self, seconds: float) -> None:
        """Let the simulated clock run on while the board sleeps."""
        import json

        path = self.state_dir / "clock.json"
        if path.exists():
            clock = json.loads(path.read_text())
            clock["offset"] += seconds
            path.write_text(json.dumps(clock))

    def power_loss(self) -> None:
        """Pull the battery: sleep memory, RTC and accelerometer setup are gone."""
        for name in ("sleep_memory.bin", "clock.json", "accel.json"):
            (self.state_dir / name).unlink(missing_ok=True)

    def corrupt_sleep_memory(self, offset: int = 20) -> None:
        """Flip one bit of sleep memory, as a glitch would."""
        path = self.state_dir / "sleep_memory.bin"
        data = bytearray(path.read_bytes())
        data[offset] ^= 0x01
        path.write_bytes(bytes(data))

    def erase(self) -> None:
        """Forget everything, flash included."""
        shutil.rmtree(self.state_dir, ignore_errors=True)
        self.state_dir.mkdir(parents=True, exist_ok=True)
