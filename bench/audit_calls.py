"""API calls of the account-wide MFA audit against a per-user ListMFADevices loop, on the IAM simulator.

    python -m bench.audit_calls [--users 10000] [--hardware-share 0.003] [--passkey-share 0.003]
                                [--virtual-share 0.6] [--orphans 20] [--seed 11] [--skip-loop]
                                [--latency 0.05] [--throttle-rate 20]

Seeds the simulator's moto backend directly, in-process (10,000 users through the API would take
minutes), with a seeded mix: a share of users with a virtual device, with only a hardware token,
with only a passkey, the rest without MFA; about 70 % with a console password and half with an
access key; plus orphaned virtual devices. Then, with the latency and throttle of the purge benchmark
on (as bench/purge.py, both options), it counts with the simulator's counters and times:

* audit: the iam_mfa_audit work (module_utils.audit.audit), as the module runs it;
* loop:  what a per-user audit needs to know the same devices: ListUsers pages and one
  ListMFADevices per user (the shape of a loop of iam_mfa_device_info or of a script).

The audit's calls: GenerateCredentialReport and GetCredentialReport (more GetCredentialReport while
IAM builds the report), ceil(users / 1000) ListUsers and ceil(virtual devices / 1000)
ListVirtualMFADevices pages, one ListMFADevices per user with MFA but no virtual device, and one
ListMFADeviceTags per unassigned virtual device (orphan or pending enrolment).
Not part of the test suite: run it by hand from the repository root with the venv.
"""

import argparse
import datetime
import os
import random
import sys
import time

from moto.iam.models import iam_backends

from tests.simulator import Simulator, realism

ACCOUNT = "123456789012"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _audit_module():
    """module_utils.audit from the collection tree scripts/env.sh builds (.build/collections)."""
    sys.path.insert(0, os.path.join(os.environ.get("IAMGUARD_BUILD_DIR", os.path.join(REPO, ".build")), "collections"))
    from ansible_collections.iamguard.aws.plugins.module_utils import audit  # pylint: disable=import-outside-toplevel

    return audit


def seed(users, virtual_share, hardware_share, passkey_share, orphans, rng):
    """Users and devices straight into moto's backend; returns the count of each MFA kind."""
    backend = iam_backends[ACCOUNT]["aws"]
    kinds = {"virtual": 0, "hardware": 0, "passkey": 0, "none": 0}
    for index in range(users):
        name = f"user-{index:05d}"
        backend.create_user("us-east-1", name)
        if rng.random() < 0.7:
            backend.create_login_profile(name, "Not-a-real-password-1")
        if rng.random() < 0.5:
            backend.create_access_key(name)
        draw = rng.random()
        if draw < virtual_share:
            kind, serial = "virtual", backend.create_virtual_mfa_device(name, "/").serial_number
        elif draw < virtual_share + hardware_share:
            kind, serial = "hardware", f"GAHT{index:08d}"
        elif draw < virtual_share + hardware_share + passkey_share:
            kind, serial = "passkey", f"arn:aws:iam::{ACCOUNT}:u2f/user/{name}/passkey-{index:08d}"
        else:
            kind, serial = "none", None
        if serial:
            backend.enable_mfa_device(name, serial, "123456", "654321")
        kinds[kind] += 1
    for index in range(orphans):
        backend.create_virtual_mfa_device(f"cancelled-{index:03d}", "/")
    # devices enabled long ago, as in a real account (one enabled moments ago may make a reader re-read the virtual list)
    realism.backdate_mfa_devices(ACCOUNT, datetime.datetime(2022, 1, 1, tzinfo=datetime.timezone.utc))
    return kinds


def per_user_loop(iam):
    names = [user["UserName"] for page in iam.get_paginator("list_users").paginate() for user in page["Users"]]
    for name in names:
        iam.list_mfa_devices(UserName=name)


def calls(counters):
    return {action: n for action, n in sorted(counters.items()) if action != "throttled"}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--users", type=int, default=10000)
    parser.add_argument("--virtual-share", type=float, default=0.6)
    parser.add_argument("--hardware-share", type=float, default=0.003)
    parser.add_argument("--passkey-share", type=float, default=0.003)
    parser.add_argument("--orphans", type=int, default=20)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--skip-loop", action="store_true", help="do not run the per-user loop")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds the simulator adds to every call")
    parser.add_argument("--throttle-rate", type=float, default=20.0, help="calls per second the simulator admits (0: no throttle)")
    args = parser.parse_args(argv)
    audit = _audit_module()
    with Simulator() as sim:
        started = time.monotonic()
        kinds = seed(args.users, args.virtual_share, args.hardware_share, args.passkey_share, args.orphans, random.Random(args.seed))
        print(f"seeded {args.users} users in {time.monotonic() - started:.1f} s: {kinds}, {args.orphans} orphans")
        iam = sim.client("iam")
        options = {"require_hardware_for": [], "unused_access_key_days": 45, "max_report_age_hours": None, "report_wait_seconds": 120}
        sim.configure(latency=args.latency, throttle_rate=args.throttle_rate or None)
        print(f"latency {args.latency} s per call, throttle {args.throttle_rate or 'none'} calls/s")
        sim.reset_counters()
        started = time.monotonic()
        result = audit.audit(iam, options)
        audit_calls = calls(sim.counters())
        print(f"audit: {sum(audit_calls.values())} calls in {time.monotonic() - started:.1f} s {audit_calls}")
        print(f"       {result['users_audited']} users audited, counts {result['counts']}, device mix {result['device_mix']}")
        total = sum(audit_calls.values())
        print(f"       {total} calls = {100.0 * total / args.users:.2f} % of users")
        if not args.skip_loop:
            sim.reset_counters()
            started = time.monotonic()
            per_user_loop(iam)
            loop_calls = calls(sim.counters())
            print(f"loop:  {sum(loop_calls.values())} calls in {time.monotonic() - started:.1f} s {loop_calls}")


if __name__ == "__main__":
    main()
