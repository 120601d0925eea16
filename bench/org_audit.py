"""The MFA audit and the root credentials audit of a whole organization, through ansible-playbook, on the simulator.

    python -m bench.org_audit [--accounts 200] [--users 5] [--latency 0.05] [--throttle-rate 20]
                              [--workers 16] [--per-host 20] [--skip-root] [--single 3]

Seeds N member accounts in seconds (tests/simulator/large_org.py: 5 users each; 1 in 10 with a
console user without MFA, an orphaned virtual MFA device and a root access key), then, with the
simulator adding --latency to every call and throttling each account to --throttle-rate calls/s,
runs playbooks/mfa_audit.yml and playbooks/root_credentials_audit.yml over an inventory of the
members (one module call each), and prints wall time, API calls per account, CPU seconds and peak
memory of ansible-playbook and its children, and whether every account and planted finding is in
the reports. --per-host N also runs the per-host form of mfa_audit.yml (before the fan-out, from
git) over the first N members, for comparison; --single N runs the new and the per-host form N times
each, alternating, with no inventory (the caller's own account) and prints the median wall time.
Not part of the test suite.
"""

import argparse
import glob
import json
import os
import resource
import statistics
import subprocess
import tempfile
import time

import yaml

from bench._playbook import playbook_env
from tests.simulator import Simulator
from tests.simulator.large_org import seed_large_organization

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PER_HOST_COMMIT = "caf58be"  # the last commit whose mfa_audit.yml ran per host
PER_HOST_PLAYBOOK = os.path.join(REPO, "playbooks", ".bench-per-host-mfa_audit.yml")


def write_inventory(path, accounts, role=True):
    hosts = {name: dict({"aws_account_id": account}, **({"aws_role_arn": f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole"} if role else {}))
             for name, account in accounts.items()}
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump({"aws_accounts": {"vars": {"ansible_connection": "local"}, "hosts": hosts}}, handle)
    return path


def run_playbook(playbook, inventory, extra, env):
    """(wall s, CPU s of ansible-playbook and its children, peak RSS MiB of the largest, exit status, output)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    done = subprocess.run(["ansible-playbook", "-i", inventory, playbook, "-e", json.dumps(extra)], env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, after.ru_maxrss / 1024.0, done.returncode, done.stdout + done.stderr


# The findings each planted account must show, per report kind (file name prefix).
PLANTED = {
    "mfa-audit": ("console_user_without_mfa", "orphaned_virtual_mfa_device", "root_access_key"),
    "root-credentials": ("root_access_key",),
}


def check_reports(folder, org, kind):
    """(accounts with a report of ``kind``, planted findings found in them, planted findings)."""
    reported, found, planted = 0, 0, 0
    for account in org["accounts"].values():
        paths = glob.glob(os.path.join(folder, f"{kind}-{account}-*.json"))
        if not paths:
            continue
        reported += 1
        with open(paths[0], encoding="utf-8") as handle:
            counts = json.load(handle)["counts"]
        if account in org["planted"]:
            planted += len(PLANTED[kind])
            found += sum(counts.get(finding_id, 0) >= 1 for finding_id in PLANTED[kind])
    return reported, found, planted


def api_calls(sim):
    """Calls the simulator answered (refused ones included), from its counters."""
    return sum(n for name, n in sim.counters().items() if ":" in name and not name.startswith(("fault", "race")))


def row(label, accounts, wall, cpu, rss, calls, reported, found, planted, rc):
    print(f"| {label} | {accounts} | {wall:.1f} | {wall / accounts:.3f} | {calls / accounts:.1f} | {cpu:.1f} | {rss:.0f} | "
          f"{reported}/{accounts} | {found}/{planted} | {rc} |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--users", type=int, default=5)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--throttle-rate", type=float, default=20.0, help="calls/s each account admits (0: no throttle)")
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--per-host", type=int, default=0, help="also run the per-host form over this many members")
    parser.add_argument("--skip-root", action="store_true")
    parser.add_argument("--single", type=int, default=0, help="also time one account (no inventory), this many runs of each form")
    args = parser.parse_args(argv)
    with Simulator() as sim, tempfile.TemporaryDirectory(prefix="iamguard-org-bench-") as work:
        started = time.monotonic()
        org = seed_large_organization(sim, args.accounts, users=args.users)
        print(f"seeded {args.accounts} member accounts ({args.users} users each, {len(org['planted'])} with planted findings) "
              f"in {time.monotonic() - started:.1f} s; latency {args.latency} s per call, throttle {args.throttle_rate or 'none'} calls/s per account")
        env = playbook_env(sim.url, work)
        inventory = write_inventory(os.path.join(work, "org.yml"), org["accounts"])
        sim.configure(latency=args.latency, throttle_rate=args.throttle_rate or None)
        print("\n| run | accounts | wall s | wall s per account | API calls per account | CPU s | peak MiB | accounts reported | planted findings | rc |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        audit_row(sim, args, org, env, inventory, "mfa_audit.yml", {"report_dir": os.path.join(work, "mfa"), "audit_max_workers": args.workers})
        if not args.skip_root:
            audit_row(sim, args, org, env, inventory, "root_credentials_audit.yml",
                      {"report_dir": os.path.join(work, "root"), "root_audit_max_workers": args.workers})
        if args.per_host or args.single:
            with open(PER_HOST_PLAYBOOK, "w", encoding="utf-8") as handle:
                handle.write(subprocess.run(["git", "show", f"{PER_HOST_COMMIT}:playbooks/mfa_audit.yml"], cwd=REPO, capture_output=True,
                                            text=True, check=True).stdout)
        try:
            per_host(sim, args, org, work, env)
            single(args, work, env)
        finally:
            if os.path.exists(PER_HOST_PLAYBOOK):
                os.remove(PER_HOST_PLAYBOOK)


def audit_row(sim, args, org, env, inventory, name, extra):
    """Run one of the audit playbooks over the organization and print its row (its output too, when it failed)."""
    sim.reset_counters()
    wall, cpu, rss, rc, output = run_playbook(os.path.join(REPO, "playbooks", name), inventory, extra, env)
    kind = "mfa-audit" if name == "mfa_audit.yml" else "root-credentials"
    row("%s, one call" % name, args.accounts, wall, cpu, rss, api_calls(sim), *check_reports(extra["report_dir"], org, kind), rc)
    if rc:
        print(output[-3000:])


def per_host(sim, args, org, work, env):
    """The per-host form of mfa_audit.yml (before the fan-out) over the first --per-host members."""
    if not args.per_host:
        return
    some = dict(list(org["accounts"].items())[:args.per_host])
    subset = {"accounts": some, "planted": {a: m for a, m in org["planted"].items() if a in some.values()}}
    sim.reset_counters()
    reports = os.path.join(work, "per-host")
    wall, cpu, rss, rc, output = run_playbook(PER_HOST_PLAYBOOK, write_inventory(os.path.join(work, "some.yml"), some),
                                              {"report_dir": reports}, env)
    row("mfa_audit.yml per host (before)", len(some), wall, cpu, rss, api_calls(sim), *check_reports(reports, subset, "mfa-audit"), rc)
    if rc:
        print(output[-3000:])


def single(args, work, env):
    """One account, no inventory: the median wall time of each form over --single runs, alternating."""
    if not args.single:
        return
    empty = os.path.join(work, "empty.yml")
    with open(empty, "w", encoding="utf-8"):
        pass
    walls = {"one call": [], "per host (before)": []}
    for dummy in range(args.single):
        for label, path in (("one call", os.path.join(REPO, "playbooks", "mfa_audit.yml")), ("per host (before)", PER_HOST_PLAYBOOK)):
            wall, dummy_cpu, dummy_rss, rc, output = run_playbook(path, empty, {"report_dir": os.path.join(work, "single")}, env)
            if rc:
                print(output[-3000:])
            walls[label].append(wall)
    print()
    for label, values in walls.items():
        print(f"one account, mfa_audit.yml {label}: median {statistics.median(values):.2f} s wall over {len(values)} runs")


if __name__ == "__main__":
    main()
