"""The smallest offboarding: one user with nothing attached, iam_user_purge against amazon.aws iam_user.

    python -m bench.single_user [--repeat 5] [--latency 0.05]

Each repetition creates the user afresh (no latency), then runs one playbook task that deletes it
with each contender, latency on; it prints each contender's API calls (by action), the median,
minimum and maximum wall time of ansible-playbook, and the median CPU time of ansible-playbook and
the processes it waited for (the module's included), which a busy machine disturbs less. The two
contenders alternate, so a busy moment of the machine falls on both. Not part of the test suite: run it by hand from the repository root
with the venv (scripts/env.sh).
"""

import argparse
import resource
import statistics
import sys
import tempfile

from bench._playbook import playbook_env, run_play
from tests.simulator import Simulator

USER = "leaver-solo"
CONTENDERS = {
    "iamguard.aws.iam_user_purge": {"user_names": [USER]},
    "amazon.aws.iam_user": {"name": USER, "state": "absent"},
}


def _children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(sim, module, workdir, latency):
    """Create the user, delete it with ``module``; return (wall seconds, CPU seconds, calls by action)."""
    sim.configure(latency=0.0)
    sim.reset()
    sim.client("iam").create_user(UserName=USER)
    sim.configure(latency=latency)
    sim.reset_counters()
    cpu = _children_cpu()
    wall, status, output = run_play([{"name": "delete the leaver", module: CONTENDERS[module]}], playbook_env(sim.url, workdir), workdir, "single")
    cpu = _children_cpu() - cpu
    sim.configure(latency=0.0)
    calls = {action: count for action, count in sim.counters().items() if action.startswith(("iam:", "sts:"))}
    if status:
        raise RuntimeError(f"{module} failed:\n{output[-3000:]}")
    if sim.client("iam").list_users()["Users"]:
        raise RuntimeError(f"{module} left the user behind")
    return wall, cpu, calls


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.single_user", description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of each contender (default 5)")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every IAM/STS call (default 0.05)")
    options = parser.parse_args(argv)
    walls = {module: [] for module in CONTENDERS}
    cpus = {module: [] for module in CONTENDERS}
    calls = {}
    with Simulator() as sim, tempfile.TemporaryDirectory(prefix="iamguard-bench-") as workdir:
        for dummy in range(options.repeat):
            for module in CONTENDERS:
                wall, cpu, calls[module] = run_once(sim, module, workdir, options.latency)
                walls[module].append(wall)
                cpus[module].append(cpu)
    print(f"one user with nothing attached, latency {options.latency} s per call, {options.repeat} runs each")
    print()
    print("| contender | calls | median wall s | min | max | median CPU s |")
    print("|---|---:|---:|---:|---:|---:|")
    for module, times in walls.items():
        print(f"| {module} | {sum(calls[module].values())} | {statistics.median(times):.2f} | {min(times):.2f} | {max(times):.2f} "
              f"| {statistics.median(cpus[module]):.2f} |")
    print()
    for module, by_action in calls.items():
        print(f"{module}: " + ", ".join(f"{action} {count}" for action, count in sorted(by_action.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
