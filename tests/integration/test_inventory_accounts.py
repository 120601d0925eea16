# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The iamguard.aws.accounts inventory plugin: ansible-inventory and ansible-playbook against the simulated organization.

The organization (tests.simulator.seed.seed_organization): the management account 123456789012
(the default test credentials, named "master" by moto), members dev (OU Workloads), staging
(OU Workloads/Prod) and sandbox (OU Sandbox), and a fourth member, retired, closed (SUSPENDED).
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
import yaml

from tests.integration.playbooks import playbook
from tests.simulator import seed

MANAGEMENT = "123456789012"
ROLE = "OrganizationAccountAccessRole"
OUS = {"Workloads": ["dev"], "Workloads/Prod": ["staging"], "Sandbox": ["sandbox"]}
MEMBERS = ("dev", "staging", "sandbox")


@pytest.fixture
def organization(sim):
    """The seeded organization (seed_organization's dict), with member retired closed."""
    org = seed.seed_organization(sim, members=MEMBERS + ("retired",), ous=OUS)
    sim.client("organizations").close_account(AccountId=org["accounts"]["retired"])
    sim.reset_counters()
    return org


def write_config(tmp_path, **options):
    """An org.accounts.yml with ``options``; the SDK reaches the simulator through AWS_ENDPOINT_URL."""
    path = tmp_path / "org.accounts.yml"
    path.write_text(yaml.safe_dump(dict({"plugin": "iamguard.aws.accounts"}, **options)), encoding="utf-8")
    return str(path)


def unwrapped(value):
    """ansible-inventory's JSON with the {"__ansible_unsafe": text} wrapping of untrusted strings undone."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {key: unwrapped(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrapped(item) for item in value]
    return value


def flat(text):
    """Output with Ansible's line wrapping undone, for looking up a message."""
    return " ".join(text.split())


@pytest.fixture
def ansible_inventory(sim, ansible_base_env):
    """Run ``ansible-inventory -i CONFIG ARGS`` against the simulator; failing sources fail the run."""

    def run(config, *args, env=None):
        command = [os.path.join(os.path.dirname(ansible_base_env["IAMGUARD_ANSIBLE_PLAYBOOK"]), "ansible-inventory"), "-i", config, *args]
        child_env = dict(ansible_base_env, AWS_ENDPOINT_URL=sim.url, ANSIBLE_INVENTORY_UNPARSED_FAILED="true", **(env or {}))
        return subprocess.run(command, env=child_env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300, check=False)

    return run


def listed(ansible_inventory, config, **kwargs):  # pylint: disable=redefined-outer-name
    done = ansible_inventory(config, "--list", **kwargs)
    assert done.returncode == 0, done.stderr
    return unwrapped(json.loads(done.stdout))


def hosts_of(inventory, group="aws_accounts"):
    return sorted(inventory.get(group, {}).get("hosts", []))


def organizations_calls(sim):
    return {name: count for name, count in sim.counters().items() if name.startswith("organizations:")}


def test_every_active_member_is_a_host_with_the_variables_the_playbooks_read(sim, organization, ansible_inventory, tmp_path):
    inventory = listed(ansible_inventory, write_config(tmp_path))
    assert hosts_of(inventory) == ["dev", "sandbox", "staging"]  # not the management account, not the suspended one
    accounts = organization["accounts"]
    for name in MEMBERS:
        host_vars = inventory["_meta"]["hostvars"][name]
        assert host_vars == {
            "aws_account_id": accounts[name], "aws_account_name": name, "aws_account_email": "%s@example.com" % name,
            "aws_account_status": "ACTIVE", "aws_ou_path": organization["ou_paths"][name],
            "aws_parent_id": organization["ous"][organization["ou_paths"][name].rsplit("/", 1)[-1]],
            "aws_role_arn": "arn:aws:iam::%s:role/%s" % (accounts[name], ROLE),
            "aws_management_account_id": MANAGEMENT, "aws_is_management_account": False,
            "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        }
    # The OU tree is the group tree: Prod's group is a child of Workloads'.
    assert hosts_of(inventory, "ou_workloads") == ["dev"] and inventory["ou_workloads"]["children"] == ["ou_workloads_prod"]
    assert hosts_of(inventory, "ou_workloads_prod") == ["staging"] and hosts_of(inventory, "ou_sandbox") == ["sandbox"]
    # The walk: DescribeOrganization, ListRoots, and per root or OU (4) one page of accounts and one of OUs.
    calls = organizations_calls(sim)
    print("Organizations calls for 5 accounts in 3 OUs:", calls)
    assert calls == {"organizations:DescribeOrganization": 1, "organizations:ListRoots": 1,
                     "organizations:ListAccountsForParent": 4, "organizations:ListOrganizationalUnitsForParent": 4}


def test_graph_shows_the_ou_tree(organization, ansible_inventory, tmp_path):  # pylint: disable=unused-argument
    done = ansible_inventory(write_config(tmp_path), "--graph")
    assert done.returncode == 0, done.stderr
    lines = [line.strip(" |-") for line in done.stdout.splitlines()]
    assert "@aws_accounts:" in lines and "@ou_workloads:" in lines and "@ou_sandbox:" in lines
    workloads = lines.index("@ou_workloads:")
    assert lines[workloads + 1:workloads + 4] == ["@ou_workloads_prod:", "staging", "dev"]


# Each filter is a unit test (test_organizations.py); here each option reaches the plugin, several in one run where
# their effects can be told apart.
@pytest.mark.parametrize("options, expected", [
    ({"include_ous": ["Prod", "Sandbox"]}, ["sandbox", "staging"]),
    ({"exclude_ids": ["staging"], "exclude_names": ["SAND*", "nothing-matches-?"]}, ["dev"]),
    ({"include_management": True, "only_active": False}, ["dev", "master", "retired", "sandbox", "staging"]),
    ({"include_ous": ["Workloads"], "exclude_names": ["dev"], "role_name": "team/auditor"}, ["staging"]),
])
def test_filters(organization, ansible_inventory, tmp_path, options, expected):
    # OU and account names in include_ous / exclude_ids stand for their seeded ids.
    ids = {"include_ous": organization["ous"], "exclude_ids": organization["accounts"]}
    options = {key: [ids[key][item] for item in value] if key in ids else value for key, value in options.items()}
    inventory = listed(ansible_inventory, write_config(tmp_path, **options))
    assert hosts_of(inventory) == expected
    hostvars = inventory["_meta"]["hostvars"]
    if "master" in expected:
        assert hostvars["master"]["aws_is_management_account"] is True and "aws_role_arn" not in hostvars["master"]
    if "retired" in expected:
        assert hostvars["retired"]["aws_account_status"] == "SUSPENDED"
    if "role_name" in options:
        assert hostvars["staging"]["aws_role_arn"] == "arn:aws:iam::%s:role/team/auditor" % organization["accounts"]["staging"]


def test_the_cache_answers_the_second_run_without_calling_organizations(sim, organization, ansible_inventory, tmp_path):
    config = write_config(tmp_path, cache=True, cache_plugin="ansible.builtin.jsonfile", cache_connection=str(tmp_path / "cache"),
                          cache_timeout=600, exclude_names=["sandbox"])
    first = listed(ansible_inventory, config)
    assert sum(organizations_calls(sim).values()) == 10
    sim.reset_counters()
    second = listed(ansible_inventory, config)
    assert organizations_calls(sim) == {} and second == first and hosts_of(second) == ["dev", "staging"]
    # The filters apply to the cached accounts at every run; --flush-cache reads the organization again.
    with open(config, "a", encoding="utf-8") as handle:
        handle.write("exclude_names: []\n")
    assert hosts_of(listed(ansible_inventory, config)) == ["dev", "sandbox", "staging"] and organizations_calls(sim) == {}
    assert hosts_of(listed(ansible_inventory, config)) == ["dev", "sandbox", "staging"]
    flushed = ansible_inventory(config, "--list", "--flush-cache")
    assert flushed.returncode == 0, flushed.stderr
    assert organizations_calls(sim)["organizations:DescribeOrganization"] == 1
    # What is read from Organizations changes with include_ous: not an answer from the cache.
    sim.reset_counters()
    with open(config, "a", encoding="utf-8") as handle:
        handle.write("include_ous: [%s]\n" % organization["ous"]["Prod"])
    assert hosts_of(listed(ansible_inventory, config)) == ["staging"]
    assert organizations_calls(sim)["organizations:ListAccountsForParent"] == 1


def test_an_account_in_no_organization_is_told_whose_credentials_to_use(sim, ansible_inventory, tmp_path):
    done = ansible_inventory(write_config(tmp_path), "--list")
    assert done.returncode != 0
    message = flat(done.stderr)
    assert "AWSOrganizationsNotInUseException" in message and "management account" in message and "assume_role_arn" in message, message
    assert organizations_calls(sim) == {"organizations:DescribeOrganization": 1}


def test_a_member_account_is_told_which_accounts_may_list_the_organization(sim, organization, ansible_inventory, tmp_path):
    member_role = "arn:aws:iam::%s:role/%s" % (organization["accounts"]["dev"], ROLE)
    done = ansible_inventory(write_config(tmp_path, assume_role_arn=member_role), "--list")
    assert done.returncode != 0
    message = flat(done.stderr)
    assert "AWS Organizations refused ListRoots (AccessDeniedException: You don't have permissions to access this resource.)" in message
    assert "management account" in message and "delegated administrator" in message and "organizations:ListAccountsForParent" in message
    assert sim.counters(organization["accounts"]["dev"]).get("organizations:ListRoots") == 1


@pytest.mark.parametrize("options, fragment", [
    ({"include_ous": ["Workloads"]}, "Invalid include_ous 'Workloads': an OU id is 'ou-'"),
    ({"include_ous": ["ou-zzzz-zzzzzzzz"]}, "Invalid include_ous 'ou-zzzz-zzzzzzzz': no OU of this organization has this id"),
    ({"exclude_ids": ["12345"]}, "Invalid exclude_ids '12345': an AWS account id is exactly 12 digits"),
    ({"role_name": "arn:aws:iam::123456789012:role/x"}, "Invalid role_name"),
])
def test_bad_options_are_refused_naming_the_option(sim, organization, ansible_inventory, tmp_path, options, fragment):
    done = ansible_inventory(write_config(tmp_path, **options), "--list")
    assert done.returncode != 0 and fragment in flat(done.stderr), done.stderr
    if "ou-zzzz" not in fragment:  # a malformed option is refused before any call
        assert organizations_calls(sim) == {}


def test_mfa_audit_playbook_runs_unchanged_over_every_member(sim, organization, run_playbook, tmp_path):
    reports = tmp_path / "reports"
    run = run_playbook(playbook("mfa_audit.yml"), check=True, inventory=write_config(tmp_path), extra_vars={"report_dir": str(reports)})
    assert run.rc == 0, run
    audited = {account["name"]: account["account_id"] for account in run.task("MFA audit - audit the accounts and write their report sets")["accounts"]}
    assert audited == {name: organization["accounts"][name] for name in MEMBERS}
    # Each member was reached through its aws_role_arn: the role's session read IAM in that account.
    for name in MEMBERS:
        assert sim.counters(organization["accounts"][name]).get("iam:GetCredentialReport", 0) >= 1
    report = json.loads(next(reports.glob("posture-report-*.json")).read_text(encoding="utf-8"))
    assert sorted(account["account_name"] for account in report["accounts"]) == sorted(MEMBERS) and report["unreachable_accounts"] == []


def test_the_shipped_example_config_lists_the_organization(organization, ansible_inventory, tmp_path):  # pylint: disable=unused-argument
    config = tmp_path / "organization.accounts.yml"
    config.write_text(open(playbook("inventory/organization.accounts.yml"), encoding="utf-8").read(), encoding="utf-8")
    # Its cache goes under ~/.cache: HOME is the test's own folder.
    inventory = listed(ansible_inventory, str(config), env={"HOME": str(tmp_path)})
    assert hosts_of(inventory) == ["dev", "sandbox", "staging"]
    assert list((tmp_path / ".cache" / "iamguard-accounts").iterdir())
