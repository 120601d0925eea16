"""Shared pieces of the playbook tests (tests/integration/test_playbooks_*.py).

The simulator serves several accounts: credentials from sts:AssumeRole into
arn:aws:iam::<id>:role/<any> act in account <id>'s backend. The two-account inventory has
``main`` (the caller's own credentials, account 123456789012) and ``other`` (a role assumed
into 210987654321), both with the aws_account_id the playbooks check.
"""

from __future__ import annotations

import os

import yaml

from tests.simulator.seed import account_snapshot

REPO = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
MAIN_ACCOUNT = "123456789012"
OTHER_ACCOUNT = "210987654321"
OTHER_ROLE = "arn:aws:iam::%s:role/iamguard-admin" % OTHER_ACCOUNT


def playbook(name):
    """Path of a shipped playbook."""
    return os.path.join(REPO, "playbooks", name)


def other_account_iam(sim):
    """A boto3 IAM client acting in the other account, through the role the inventory assumes."""
    creds = sim.client("sts").assume_role(RoleArn=OTHER_ROLE, RoleSessionName="tests")["Credentials"]
    return sim.client("iam", access_key=creds["AccessKeyId"], secret_key=creds["SecretAccessKey"],
                      session_token=creds["SessionToken"])


def two_account_inventory(path, other=None):
    """Write the inventory of group aws_accounts (hosts main and other); ``other`` overrides the other host's vars."""
    hosts = {
        "main": {"aws_account_id": MAIN_ACCOUNT},
        "other": dict({"aws_account_id": OTHER_ACCOUNT, "aws_role_arn": OTHER_ROLE}, **(other or {})),
    }
    path.write_text(yaml.safe_dump({"aws_accounts": {"vars": {"ansible_connection": "local"}, "hosts": hosts}}), encoding="utf-8")
    return str(path)


# The pre-flight's tasks (tasks/preflight.yml), the first of every playbook: no AWS call.
PREFLIGHT_TASKS = ("Pre-flight - where this run acts, its lists and folders", "Pre-flight - where this run acts",
                   "Pre-flight - a host that is not a target ends here")


def failure_messages(run):
    """The messages of the tasks that failed in a run."""
    return [record["result"].get("msg", "") for record in run.failed]


def assert_refused(run_playbook, iam, name, extra_vars, *fragments):
    """The playbook fails, names every fragment (the variable and its rule), and the account is unchanged."""
    before = account_snapshot(iam)
    run = run_playbook(playbook(name), extra_vars=extra_vars)
    assert run.rc != 0, run
    messages = " ".join(failure_messages(run))
    for fragment in fragments:
        assert fragment in messages, (extra_vars, messages)
    assert account_snapshot(iam) == before
    # Refused before any AWS call: the only tasks that ran are the pre-flight and the check of the variables.
    assert {record["task"] for record in run.results} <= set(PREFLIGHT_TASKS + ("Check the variables",)), run.results


def device_seed(account, serial):
    """The Base32 seed of a virtual device, as the person's app holds it after scanning the QR code.

    Read from moto's state (the simulator runs in this process): IAM never returns a seed
    after creation, and the test cannot scan the PNG.
    """
    from moto.iam.models import iam_backends  # pylint: disable=import-outside-toplevel

    return iam_backends[account]["aws"].virtual_mfa_devices[serial].base32_string_seed


def virtual_serials(iam, status="Any"):
    """Serial numbers of the account's virtual devices (root's included), sorted."""
    pages = iam.get_paginator("list_virtual_mfa_devices").paginate(AssignmentStatus=status)
    return sorted(d["SerialNumber"] for page in pages for d in page["VirtualMFADevices"])


def role_session_secrets(account):
    """The access key ids, secret keys and session tokens of every role session issued into an account (three per
    session, in the order issued), from moto's state."""
    from moto.sts.models import sts_backends  # pylint: disable=import-outside-toplevel

    return [secret for session in sts_backends[account]["aws"].assumed_roles
            for secret in (session.access_key_id, session.secret_access_key, session.session_token)]
