"""Benchmark of batch offboarding: iam_user_purge against the alternatives, on the IAM simulator.

    python -m bench.purge [--users 200] [--bystanders 20] [--latency 0.05] [--throttle-rate 20]
                          [--seed 13] [--contenders purge,purge-manifest,iam_user,runbook]
                          [--curve 50,200,1000] [--manifest DIR] [--json FILE]
    python -m bench.purge --report FILE [FILE ...]

Every contender gets the same freshly seeded account (the simulator is reset and reseeded with
no latency and no throttle, then latency and throttle are switched on for the run only). The
table: see bench/README.md.
"""

import argparse
import json
import os
import sys
import tempfile
import time

from bench import _runbook
from bench._account import Account
from bench._playbook import playbook_env, run_play
from tests.simulator import Simulator

CONTENDERS = ("purge", "purge-manifest", "iam_user", "runbook")
READ_PREFIXES = ("Get", "List", "Generate")


def _purge(user_names, manifest_dir=None):
    args = {"user_names": user_names}
    if manifest_dir:
        os.makedirs(manifest_dir, mode=0o700, exist_ok=True)
        args["manifest_dir"] = manifest_dir
    return [{"name": "purge the leavers", "iamguard.aws.iam_user_purge": args}]


def _iam_user_loop(user_names):
    return [{"name": "delete each leaver", "amazon.aws.iam_user": {"name": "{{ item }}", "state": "absent"},
             "loop": user_names, "ignore_errors": True}]


def run_contender(name, sim, account, workdir, manifest_dir):
    """Run one contender against the seeded account; return (wall seconds, note)."""
    if name == "runbook":
        iam = sim.client("iam")
        started = time.monotonic()
        failed = _runbook.run(iam, account.target_ids)
        return time.monotonic() - started, f"{len(failed)} executions failed"
    tasks = {"purge": lambda: _purge(account.target_names),
             "purge-manifest": lambda: _purge(account.target_names, manifest_dir),
             "iam_user": lambda: _iam_user_loop(account.target_names)}[name]()
    wall, status, output = run_play(tasks, playbook_env(sim.url, workdir), workdir, name)
    if status:
        # iam_user_purge fails the task when a user could not be purged: show why, the table shows what is left.
        print(output[-3000:], file=sys.stderr)
    return wall, f"ansible-playbook exit {status}"


def measure(name, sim, options, users, workdir, manifest_dir):
    """Seed a fresh account, run one contender with latency and throttle on, and return its table row."""
    sim.configure(latency=0.0, throttle_rate=None)
    sim.reset()
    iam = sim.client("iam")
    account = Account(iam, users, options.bystanders, options.seed)
    sim.configure(latency=options.latency, throttle_rate=options.throttle_rate)
    sim.reset_counters()
    wall, note = run_contender(name, sim, account, workdir, manifest_dir)
    sim.configure(latency=0.0, throttle_rate=None)
    counters = sim.counters()
    # API calls only: the simulator also counts refusals ("throttled") and injected faults ("fault:<kind>").
    calls = {action: count for action, count in counters.items() if action.startswith(("iam:", "sts:"))}
    writes = sum(count for action, count in calls.items()
                 if action.startswith("iam:") and not action.split(":", 1)[1].startswith(READ_PREFIXES))
    floor = account.floor()
    floor_time = floor / options.throttle_rate
    left = account.outcome(iam)
    return {
        "settings": {"latency": options.latency, "throttle_rate": options.throttle_rate, "bystanders": options.bystanders, "seed": options.seed},
        "users": users, "contender": name, "wall_s": round(wall, 1), "calls": sum(calls.values()), "writes": writes,
        "floor": floor, "calls_per_floor": round(sum(calls.values()) / floor, 2), "wall_per_floor_time": round(wall / floor_time, 2),
        "wall_per_call_time": round(wall * options.throttle_rate / max(1, sum(calls.values())), 2),
        "throttled": counters.get("throttled", 0), "users_left": len(left["users_left"]),
        "orphans_left": len(left["orphans_left"]), "bystanders_damaged": len(left["bystanders_damaged"]),
        "left": left, "calls_by_action": calls, "note": note,
    }


COLUMNS = (("contender", "contender", "s"), ("wall s", "wall_s", ".1f"), ("calls", "calls", "d"), ("writes", "writes", "d"),
           ("calls/floor", "calls_per_floor", ".2f"), ("wall/floor time", "wall_per_floor_time", ".2f"),
           ("wall/call time", "wall_per_call_time", ".2f"),
           ("throttled", "throttled", "d"), ("users left", "users_left", "d"), ("orphans left", "orphans_left", "d"),
           ("bystanders damaged", "bystanders_damaged", "d"))


def table(rows):
    """A Markdown table of the rows, one per contender."""
    lines = ["| " + " | ".join(title for title, dummy, dummy in COLUMNS) + " |",
             "|" + "|".join("---" if fmt == "s" else "---:" for dummy, dummy, fmt in COLUMNS) + "|"]
    lines += ["| " + " | ".join(format(row[key], fmt) for dummy, key, fmt in COLUMNS) + " |" for row in rows]
    return "\n".join(lines)


def curve_table(rows, sizes):
    """calls/floor and wall/floor time of each contender at each size."""
    names = [name for name in CONTENDERS if any(row["contender"] == name for row in rows)]
    by_key = {(row["contender"], row["users"]): row for row in rows}
    header = "| contender | " + " | ".join(f"N={n} calls/floor | N={n} wall/floor time" for n in sizes) + " |"
    lines = [header, "|---|" + "---:|" * (2 * len(sizes))]
    for name in names:
        cells = []
        for n in sizes:
            row = by_key.get((name, n))
            cells += [f"{row['calls_per_floor']:.2f}", f"{row['wall_per_floor_time']:.2f}"] if row else ["-", "-"]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _sizes(text):
    sizes = [int(part) for part in text.split(",") if part.strip()]
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("a comma-separated list of positive user counts, e.g. 50,200,1000")
    return sizes


def _contenders(text):
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = sorted(set(names) - set(CONTENDERS))
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"choose among {', '.join(CONTENDERS)}; unknown: {', '.join(unknown) or 'none given'}")
    return names


def _positive(kind):
    def check(text):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError("must be positive")
        return value
    return check


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench.purge", description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--users", type=_positive(int), default=200, help="leavers to purge (default 200)")
    parser.add_argument("--bystanders", type=int, default=20, help="users that must survive untouched (default 20)")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every IAM call (default 0.05)")
    parser.add_argument("--throttle-rate", type=_positive(float), default=20.0, help="IAM calls per second before Throttling (default 20)")
    parser.add_argument("--seed", type=int, default=13, help="seed of the account's mix (default 13)")
    parser.add_argument("--contenders", type=_contenders, default=list(CONTENDERS), help=f"comma-separated, among {','.join(CONTENDERS)}")
    parser.add_argument("--curve", type=_sizes, help="run at each of these user counts instead of --users, e.g. 50,200,1000")
    parser.add_argument("--manifest", metavar="DIR", help="where purge-manifest writes its manifests (default: a temporary folder)")
    parser.add_argument("--json", metavar="FILE", help="also write every row (with per-action call counts) to FILE")
    parser.add_argument("--report", metavar="FILE", nargs="+", help="run nothing: print the tables of rows saved with --json (runs of one setting)")
    return parser.parse_args(argv)


def report(rows):
    """The tables of the rows: one per size, and the curve when there are several sizes."""
    settings = rows[0]["settings"]
    if any(row["settings"] != settings for row in rows):
        raise ValueError("rows measured with different settings cannot share a table")
    sizes = sorted({row["users"] for row in rows})
    lines = [f"latency {settings['latency']} s per call, throttle {settings['throttle_rate']:g} calls/s, "
             f"{settings['bystanders']} bystanders, seed {settings['seed']}"]
    for users in sizes:
        size_rows = [row for row in rows if row["users"] == users]
        floor = size_rows[0]["floor"]
        lines += ["", f"N={users} users, floor {floor} calls = {floor / settings['throttle_rate']:.1f} s at the throttle rate", "",
                  table(size_rows)]
    if len(sizes) > 1:
        lines += ["", "curve", "", curve_table(rows, sizes)]
    return "\n".join(lines)


def main(argv=None):
    options = parse_args(argv)
    if options.report:
        rows = []
        for path in options.report:
            with open(path, encoding="utf-8") as handle:
                rows += json.load(handle)
        print(report(rows))
        return 0
    rows = []
    with Simulator() as sim, tempfile.TemporaryDirectory(prefix="iamguard-bench-") as workdir:
        for users in options.curve or [options.users]:
            for name in options.contenders:
                manifest_dir = options.manifest or os.path.join(workdir, f"manifests-{users}")
                row = measure(name, sim, options, users, workdir, manifest_dir)
                rows.append(row)
                print(f"# N={users} {name}: {row['wall_s']} s, {row['calls']} calls; {row['note']}", file=sys.stderr, flush=True)
    if options.json:
        with open(options.json, "w", encoding="utf-8") as handle:
            json.dump(rows, handle, indent=2, sort_keys=True)
    print(report(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
