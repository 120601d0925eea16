"""python -m tests.simulator serve [--port N] [--latency S] [--no-root-mfa-device]"""

import argparse
import signal
import sys
import threading

from .server import Simulator


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.simulator", description="Local IAM simulator (moto + realism layer).")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve until SIGTERM or SIGINT")
    serve.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    serve.add_argument("--latency", type=float, default=0.0, help="seconds slept before each API call")
    serve.add_argument("--no-root-mfa-device", action="store_true", help="the account has no root MFA device")
    args = parser.parse_args(argv)

    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    simulator = Simulator(latency=args.latency, root_mfa_device=not args.no_root_mfa_device).start(port=args.port)
    print(f"IAMGUARD_SIMULATOR_URL={simulator.url}", flush=True)
    while not stopping.wait(0.5):
        pass
    simulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
