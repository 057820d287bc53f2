"""Command line for the simulator: python -m magtag.sim --help."""

import argparse
import json
import sys

from .board import SimulatedBoard


def main(argv: list[str] | None = None) -> int:
    """Run the requested simulated wakes and print one JSON report per wake."""
    parser = argparse.ArgumentParser(prog="simulate", description=__doc__)
    parser.add_argument("--state", default=".demo/magtag", help="state folder")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1883)
    parser.add_argument("--device-id", default="front-door")
    parser.add_argument("--base", default="iot_porter")
    parser.add_argument("--log", action="store_true", help="show the firmware log")
    sub = parser.add_subparsers(dest="command", required=True)
    door = sub.add_parser("door", help="move the door N times")
    door.add_argument("count", type=int, nargs="?", default=1)
    door.add_argument("--spacing", type=int, default=60, help="seconds apart")
    wake = sub.add_parser("wake", help="wake once")
    wake.add_argument(
        "reason", nargs="?", choices=("timer", "power_on", "reset", "motion")
    )
    sub.add_parser("power-loss", help="pull the battery (sleep memory is lost)")
    args = parser.parse_args(argv)

    board = SimulatedBoard(
        args.state, args.host, args.port, args.device_id, base=args.base, log=args.log
    )
    if args.command == "power-loss":
        board.power_loss()
        print(json.dumps({"power_loss": True}))
        return 0
    if args.command == "door":
        if not board.powered:
            board.wake()
        reports = board.door(args.count, spacing_s=args.spacing)
    else:
        reports = [board.wake(args.reason)]
    for report in reports:
        print(json.dumps(report, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
