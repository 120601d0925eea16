"""playbooks/enroll_mfa.yml, reset_mfa.yml and orphan_cleanup.yml against the simulator: one account and two."""

from __future__ import annotations

import os
import stat

import pyotp

from tests.integration.playbooks import (MAIN_ACCOUNT, OTHER_ACCOUNT, assert_refused, device_seed, failure_messages,
                                         other_account_iam, playbook, two_account_inventory, virtual_serials)
from tests.simulator.seed import account_snapshot, consecutive_codes, make_orphan, make_user

ENROL = playbook("enroll_mfa.yml")
RESET = playbook("reset_mfa.yml")
ORPHANS = playbook("orphan_cleanup.yml")
ENROL_TASK = "Enrol MFA - create (and enable) the device, secret to a 0600 file"
RESET_TASK = "Reset MFA - deactivate every device, delete the virtual ones"
DONE_TASK = "Orphan cleanup - done"


def serial(name, account=MAIN_ACCOUNT, path="/"):
    return "arn:aws:iam::%s:mfa%s%s" % (account, path, name)


def root_serial(account=MAIN_ACCOUNT):
    return serial("root-account-mfa-device", account)


def user_serials(iam, user):
    return sorted(d["SerialNumber"] for d in iam.list_mfa_devices(UserName=user)["MFADevices"])


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


# -- enroll_mfa.yml ------------------------------------------------------------------------

def test_person_enrols_in_two_steps(iam, run_playbook, tmp_path):
    iam.create_user(UserName="alice")
    secrets = tmp_path / "secrets"
    step_1 = {"enroll_user_name": "alice", "enroll_secret_dir": str(secrets)}
    qr_code = secrets / ("%s-alice-mfa.png" % MAIN_ACCOUNT)

    planned = run_playbook(ENROL, extra_vars=step_1, check=True)
    assert planned.rc == 0, failure_messages(planned)
    assert virtual_serials(iam) == [root_serial()] and not qr_code.exists()

    created = run_playbook(ENROL, extra_vars=step_1)
    assert created.rc == 0, failure_messages(created)
    assert mode(qr_code) == 0o600 and mode(secrets) == 0o700
    assert qr_code.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert user_serials(iam, "alice") == []
    assert "waits for its two codes; QR code in %s (0600)" % qr_code in created.task("Enrol MFA - what happened and what comes next")["msg"]

    code_1, code_2 = consecutive_codes(device_seed(MAIN_ACCOUNT, serial("alice")))
    step_2 = dict(step_1, enroll_code_1=code_1, enroll_code_2=code_2)
    enabled = run_playbook(ENROL, extra_vars=step_2)
    assert enabled.rc == 0, failure_messages(enabled)
    assert user_serials(iam, "alice") == [serial("alice")]
    assert code_1 not in enabled.stdout and code_2 not in enabled.stdout
    assert run_playbook(ENROL, extra_vars=step_2).task(ENROL_TASK)["changed"] is False


def test_unattended_enrolment_in_two_accounts(sim, iam, run_playbook, tmp_path):
    other = other_account_iam(sim)
    for client in (iam, other):
        client.create_user(UserName="svc-deploy")
    inventory = two_account_inventory(tmp_path / "accounts.yml")
    extra = {"enroll_user_name": "svc-deploy", "enroll_mode": "unattended", "enroll_secret_dir": str(tmp_path)}
    # Check mode: the person's enrolment below, and the module's unattended plan (test_iam_mfa_device.py).
    done = run_playbook(ENROL, extra_vars=extra, inventory=inventory)
    assert done.rc == 0, failure_messages(done)
    for client, account in ((iam, MAIN_ACCOUNT), (other, OTHER_ACCOUNT)):
        assert user_serials(client, "svc-deploy") == [serial("svc-deploy", account)]
        seed_file = tmp_path / ("%s-svc-deploy-mfa.seed" % account)
        assert mode(seed_file) == 0o600
        seed = seed_file.read_text(encoding="utf-8").strip()
        assert seed == device_seed(account, serial("svc-deploy", account)) and seed not in done.stdout
        pyotp.TOTP(seed).now()  # a usable Base32 seed

    again = run_playbook(ENROL, extra_vars=extra, inventory=inventory)
    assert [again.task(ENROL_TASK, host)["changed"] for host in ("main", "other")] == [False, False]


def test_enrolment_variables_are_refused_before_any_call(iam, run_playbook, tmp_path):
    iam.create_user(UserName="alice")
    # Each rule is a unit test (test_playbook_settings.py, test_files.py); here the variables reach the pre-flight (a missing
    # one too) and every broken rule is named in one message, then the folder.
    cases = [
        ({"enroll_mode": "later", "enroll_code_1": "123456", "enroll_code_2": "123456", "enroll_force": "sometimes"},
         "enroll_user_name is required: 1-64 of the characters A-Z a-z 0-9 + = , . @ _ - (got nothing)",
         "enroll_mode must be person or unattended (got later)", "enroll_code_1 and enroll_code_2 go together, and only with enroll_mode person",
         "enroll_code_1 and enroll_code_2 must be two different 6-digit codes", "enroll_force must be true or false (got sometimes)"),
        ({"enroll_user_name": "alice", "enroll_secret_dir": "secrets"}, "enroll_secret_dir must be an absolute path"),
    ]
    for extra, *fragments in cases:
        assert_refused(run_playbook, iam, "enroll_mfa.yml", extra, *fragments)


# -- reset_mfa.yml -------------------------------------------------------------------------

def test_lost_device_reset_check_then_real_in_two_accounts(sim, iam, run_playbook, tmp_path):
    other = other_account_iam(sim)
    for client in (iam, other):
        make_user(client, "bob", virtual_mfa=1, hardware_mfa=1)
    inventory = two_account_inventory(tmp_path / "accounts.yml")

    before = (account_snapshot(iam), account_snapshot(other))
    planned = run_playbook(RESET, extra_vars={"reset_user_name": "bob"}, inventory=inventory, check=True)
    assert planned.rc == 0, failure_messages(planned)
    assert (account_snapshot(iam), account_snapshot(other)) == before

    done = run_playbook(RESET, extra_vars={"reset_user_name": "bob"}, inventory=inventory)
    assert done.rc == 0, failure_messages(done)
    for client, account, host in ((iam, MAIN_ACCOUNT, "main"), (other, OTHER_ACCOUNT, "other")):
        assert user_serials(client, "bob") == []
        assert virtual_serials(client) == [root_serial(account)]  # the virtual one deleted, no orphan; root's kept
        assert done.task(RESET_TASK, host)["actions"] == planned.task(RESET_TASK, host)["actions"]
    assert run_playbook(RESET, extra_vars={"reset_user_name": "bob"}).task(RESET_TASK)["changed"] is False


def test_reset_under_an_mfa_enforcing_policy_uses_an_mfa_session(sim, iam, run_playbook):
    """S4: with mfa_serial and mfa_token_code the change runs in a GetSessionToken session that carries MFA."""
    make_user(iam, "bob", virtual_mfa=1)
    admin = make_user(iam, "ops-admin", virtual_mfa=1)
    key = iam.create_access_key(UserName="ops-admin")["AccessKey"]
    caller = {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}
    sim.configure(require_mfa_session=True)

    denied = run_playbook(RESET, extra_vars={"reset_user_name": "bob"}, env=caller)
    assert denied.rc != 0 and "GetSessionToken" in " ".join(failure_messages(denied))
    assert user_serials(iam, "bob") == [serial("bob")]

    admin_serial = serial("ops-admin")
    code = pyotp.TOTP(admin["seeds"][admin_serial]).now()
    extra = {"reset_user_name": "bob", "mfa_serial": admin_serial, "mfa_token_code": code}
    planned = run_playbook(RESET, extra_vars=extra, env=caller, check=True)
    assert planned.rc == 0, failure_messages(planned)
    assert user_serials(iam, "bob") == [serial("bob")]
    done = run_playbook(RESET, extra_vars=extra, env=caller)
    assert done.rc == 0, failure_messages(done)
    assert user_serials(iam, "bob") == [] and user_serials(iam, "ops-admin") == [admin_serial]
    assert code not in done.stdout


def test_reset_variables_are_refused_before_any_call(iam, run_playbook):
    make_user(iam, "bob", virtual_mfa=1)
    # Each rule is a unit test (test_playbook_settings.py, test_preflight.py); here both of the playbook's rules in one message.
    assert_refused(run_playbook, iam, "reset_mfa.yml", {"reset_user_name": ["bob"], "mfa_serial": "x", "mfa_token_code": "123456"},
                   "reset_user_name is required: 1-64 of the characters A-Z a-z 0-9 + = , . @ _ - (got ['bob'])",
                   "mfa_serial must be the ARN or serial number of the caller's MFA device (got x)")


# -- orphan_cleanup.yml --------------------------------------------------------------------

def test_orphan_patterns_choose_by_name_and_path(iam, run_playbook):
    for name, path in (("old-laptop", "/"), ("x1", "/team/"), ("y1", "/team/a/"), ("x2", "/other/")):
        make_orphan(iam, name, path=path)
    run = run_playbook(ORPHANS, extra_vars={"orphan_path_patterns": "/team/*", "orphan_name_patterns": "X?, old*"})
    assert run.rc == 0, failure_messages(run)
    # /team/* spans folders; the name patterns ignore case as IAM names do; old-laptop is not under /team/.
    assert virtual_serials(iam, "Unassigned") == [serial("old-laptop"), serial("x2", path="/other/"), serial("y1", path="/team/a/")]


def test_orphan_cleanup_check_then_real_in_two_accounts(sim, iam, run_playbook, tmp_path):
    other = other_account_iam(sim)
    make_orphan(iam, "old-laptop")
    make_orphan(iam, "test")
    make_user(iam, "bob", virtual_mfa=1)
    make_orphan(other, "old-phone")
    inventory = two_account_inventory(tmp_path / "accounts.yml")

    planned = run_playbook(ORPHANS, inventory=inventory, check=True)
    assert planned.rc == 0, failure_messages(planned)
    assert virtual_serials(iam, "Unassigned") == [serial("old-laptop"), serial("test")]
    assert virtual_serials(other, "Unassigned") == [serial("old-phone", OTHER_ACCOUNT)]
    assert "to delete: ['%s', '%s']" % (serial("old-laptop"), serial("test")) in planned.task(DONE_TASK, "main")["msg"]
    assert "to delete: ['%s']" % serial("old-phone", OTHER_ACCOUNT) in planned.task(DONE_TASK, "other")["msg"]

    done = run_playbook(ORPHANS, inventory=inventory)
    assert done.rc == 0, failure_messages(done)
    assert virtual_serials(iam) == [serial("bob"), root_serial()]  # assigned devices and root's stay
    assert virtual_serials(other) == [root_serial(OTHER_ACCOUNT)]
    assert "%s: deleted 2 orphaned virtual devices" % MAIN_ACCOUNT in done.task(DONE_TASK, "main")["msg"]
    assert "deleted: ['%s', '%s']" % (serial("old-laptop"), serial("test")) in done.task(DONE_TASK, "main")["msg"]
    assert "%s: deleted 1 orphaned virtual devices" % OTHER_ACCOUNT in done.task(DONE_TASK, "other")["msg"]
    again = run_playbook(ORPHANS, inventory=inventory)
    assert [again.task(DONE_TASK, host)["msg"][0].endswith("deleted 0 orphaned virtual devices") for host in ("main", "other")] == [True, True]


def test_pending_enrolments_are_never_orphans_and_unknown_age_is_a_choice(iam, run_playbook, tmp_path):
    """A person's enrolment this collection started is never swept; a device of unknown age goes only if allowed."""
    iam.create_user(UserName="alice")
    started = run_playbook(ENROL, extra_vars={"enroll_user_name": "alice", "enroll_secret_dir": str(tmp_path)})
    assert started.rc == 0, failure_messages(started)
    make_orphan(iam, "old-laptop")  # made outside this collection: its age is unknown

    kept = run_playbook(ORPHANS, extra_vars={"orphan_include_unknown_age": "false"})  # a survey gives text
    assert kept.rc == 0, failure_messages(kept)
    assert "kept: {'%s': 'pending_enrolment', '%s': 'unknown_age'}" % (serial("alice"), serial("old-laptop")) in kept.task(DONE_TASK)["msg"]
    assert virtual_serials(iam, "Unassigned") == [serial("alice"), serial("old-laptop")]

    swept = run_playbook(ORPHANS)
    assert swept.rc == 0, failure_messages(swept)
    assert "kept: {'%s': 'pending_enrolment'}" % serial("alice") in swept.task(DONE_TASK)["msg"]
    assert virtual_serials(iam, "Unassigned") == [serial("alice")]


def test_orphan_variables_are_refused_before_any_call(iam, run_playbook):
    make_orphan(iam, "old-laptop")
    # Each rule is a unit test (test_playbook_settings.py); here a list that is no list, and several rules in one message.
    cases = [
        ({"orphan_name_patterns": 5}, "Invalid orphan_name_patterns 5: a list, or one string separated by commas or newlines"),
        ({"orphan_path_patterns": ["team/"], "orphan_min_age_minutes": "-5", "orphan_include_unknown_age": "maybe"},
         "each starting with / or *", "orphan_min_age_minutes must be a whole number of minutes, 0 or more (got -5)",
         "Invalid orphan_include_unknown_age 'maybe': true or false"),
    ]
    for extra, *fragments in cases:
        assert_refused(run_playbook, iam, "orphan_cleanup.yml", extra, *fragments)
