"""The benchmark's account: a seeded mix of leavers and bystanders, its call floor, and what a run left behind.

The mix comes from a seeded random.Random, so one seed always gives the same users with the same
dependents (the ids AWS-side differ from run to run; the shape does not).
"""

import datetime
import random

from moto.core import DEFAULT_ACCOUNT_ID as ACCOUNT_ID

from tests.simulator import realism
from tests.simulator.seed import _user_snapshot, make_user

GROUPS = ("staff", "developers", "finance", "oncall", "contractors")
TEAMS = ("payments", "platform", "data", "support")


def target_name(index):
    return f"leaver-{index:04d}"


def bystander_name(index):
    # Same prefix as a leaver's name (and so as its virtual device's): a contender that
    # matches names loosely damages a bystander.
    return f"{target_name(index)}-stays"


def _dependents(rng):
    """The dependents of one user; the draws are made in a fixed order (reproducible per seed)."""
    return {
        "login_profile": rng.random() < 0.7,
        "access_keys": rng.choices((0, 1, 2), (40, 45, 15))[0],
        "ssh_keys": int(rng.random() < 0.1),
        "signing_certs": int(rng.random() < 0.05),
        "service_credentials": int(rng.random() < 0.1),
        "virtual_mfa": rng.choices((0, 1, 2), (40, 55, 5))[0],
        "hardware_mfa": int(rng.random() < 0.1),
        "passkeys": int(rng.random() < 0.15),
        "groups": tuple(rng.sample(GROUPS, rng.choices((0, 1, 2, 3), (20, 40, 30, 10))[0])),
        "inline_policies": rng.choices((0, 1, 2), (70, 25, 5))[0],
        "managed_policies": rng.choices((0, 1, 2), (50, 35, 15))[0],
        "boundary": rng.random() < 0.15,
        "tags": {"team": rng.choice(TEAMS)},
    }


def plan_account(users, bystanders, seed):
    """{user name: make_user keyword arguments} for `users` leavers and `bystanders` bystanders."""
    rng = random.Random(seed)
    spec = {target_name(i): _dependents(rng) for i in range(users)}
    spec.update({bystander_name(i): _dependents(rng) for i in range(bystanders)})
    return spec


def _age_credentials(made):
    """Make the seeded credentials as old as an account's usually are: MFA devices enabled a month ago, each access key
    created at its own second weeks ago. Seeded in a few seconds, they would all be moments old: a device enabled minutes
    ago makes a careful tool re-read the virtual-device list before calling it hardware, and keys created in the same
    second cannot be told apart in the credential report - both rare in a real account."""
    now = datetime.datetime.now(datetime.timezone.utc)
    realism.backdate_mfa_devices(ACCOUNT_ID, now - datetime.timedelta(days=30))
    key_ids = [key_id for user in made.values() for key_id in user["access_key_ids"]]
    for index, key_id in enumerate(key_ids):
        realism.backdate_access_key(ACCOUNT_ID, key_id, now - datetime.timedelta(days=14, seconds=index))


class Account:
    """One seeded account: what was made for each leaver and the bystanders' state before the run."""

    def __init__(self, iam, users, bystanders, seed):
        spec = plan_account(users, bystanders, seed)
        made = {name: make_user(iam, name, **kwargs) for name, kwargs in spec.items()}
        _age_credentials(made)
        self.targets = [made[target_name(i)] for i in range(users)]
        self.bystanders = {bystander_name(i): _user_snapshot(iam, bystander_name(i)) for i in range(bystanders)}

    @property
    def target_names(self):
        return [made["user_name"] for made in self.targets]

    @property
    def target_ids(self):
        return [made["user_id"] for made in self.targets]

    def floor(self):
        """The changing calls the leavers strictly need: one removal per dependent, DeactivateMFADevice per
        device plus DeleteVirtualMFADevice per virtual device, one DeleteUser per user. The permissions
        boundary and tags go with the user."""
        return sum(dependent_removals(made) + 1 for made in self.targets)

    def outcome(self, iam):
        """What the run left: leavers still there, their virtual devices left unassigned, bystanders changed."""
        present = {user["UserName"] for page in iam.get_paginator("list_users").paginate() for user in page["Users"]}
        unassigned = {device["SerialNumber"] for page in iam.get_paginator("list_virtual_mfa_devices").paginate(AssignmentStatus="Unassigned")
                      for device in page["VirtualMFADevices"]}
        seeded_virtual = {device["serial_number"] for made in self.targets for device in made["mfa_devices"] if device["type"] == "virtual"}
        damaged = [name for name, before in self.bystanders.items() if name not in present or _user_snapshot(iam, name) != before]
        return {
            "users_left": sorted(set(self.target_names) & present),
            "orphans_left": sorted(seeded_virtual & unassigned),
            "bystanders_damaged": sorted(damaged),
        }


def dependent_removals(made):
    """Calls that remove the dependents of one seeded user (make_user's result), DeleteUser excluded."""
    devices = made["mfa_devices"]
    return (int(made["login_profile"]) + len(made["access_key_ids"]) + len(made["ssh_key_ids"]) + len(made["signing_cert_ids"])
            + len(made["service_credential_ids"]) + len(devices) + sum(device["type"] == "virtual" for device in devices)
            + len(made["groups"]) + len(made["inline_policies"]) + len(made["managed_policy_arns"]))
