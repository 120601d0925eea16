"""Run the simulator from a shell.

python -m tests.simulator serve [--port N] [--latency S] [--no-root-mfa-device] [--options JSON]
python -m tests.simulator bench [--clients N] [--seconds S] [--concurrency M] [--backend-time S]
"""

import argparse
import json
import signal
import sys
import threading

from .bench import serve_and_measure
from .concurrency import MODES
from .server import Simulator


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.simulator", description="Local IAM simulator (moto + realism layer).")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve until SIGTERM or SIGINT")
    serve.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    serve.add_argument("--latency", type=float, default=0.0, help="seconds slept before each API call")
    serve.add_argument("--no-root-mfa-device", action="store_true", help="the account has no root MFA device")
    serve.add_argument("--options", type=json.loads, default={}, metavar="JSON",
                       help='more simulator options as a JSON object, e.g. \'{"faults": {"throttling": 0.3}, "fault_seed": 1}\'')
    bench = commands.add_parser("bench", help="measure the calls per second a fresh simulator serves to concurrent clients")
    bench.add_argument("--clients", type=int, default=8, help="concurrent boto3 clients (default 8)")
    bench.add_argument("--seconds", type=float, default=10.0, help="how long to measure (default 10)")
    bench.add_argument("--concurrency", choices=MODES, default="accounts", help="simulator option concurrency (default accounts)")
    bench.add_argument("--backend-time", type=float, default=0.0, help="simulator option backend_time (default 0)")
    args = parser.parse_args(argv)
    if args.command == "bench":
        rate = serve_and_measure(args.clients, args.seconds, {"concurrency": args.concurrency, "backend_time": args.backend_time})
        print(f"{rate:.0f} calls/s with {args.clients} concurrent clients, concurrency {args.concurrency}, "
              f"backend_time {args.backend_time}", flush=True)
        return 0

    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    try:
        simulator = Simulator(**{"latency": args.latency, "root_mfa_device": not args.no_root_mfa_device, **args.options})
    except (TypeError, ValueError) as error:
        parser.error(f"--options: {error}")
    simulator.start(port=args.port)
    print(f"IAMGUARD_SIMULATOR_URL={simulator.url}", flush=True)
    while not stopping.wait(0.5):
        pass
    simulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
