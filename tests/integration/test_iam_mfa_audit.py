"""iamguard.aws.iam_mfa_audit through ansible-playbook against the simulator.

One seeded account holds every kind of finding: users with and without MFA of each type,
root's virtual device and access keys, orphans, old and unused access keys.
"""

import csv
import datetime
import json
import os
import stat

from tests.simulator import realism
from tests.simulator.seed import consecutive_codes, make_orphan, make_user

MODULE = "iamguard.aws.iam_mfa_audit"
ACCOUNT = "123456789012"
UTC = datetime.timezone.utc
ROOT_SERIAL = "arn:aws:iam::%s:mfa/root-account-mfa-device" % ACCOUNT
# Security Hub's own threshold is 45 days; these keys are on either side of it.
OLD = datetime.datetime.now(UTC) - datetime.timedelta(days=200)
RECENT = datetime.datetime.now(UTC) - datetime.timedelta(days=10)


def seed_account(iam):
    made = {
        "console-nomfa": make_user(iam, "console-nomfa", login_profile=True),
        "api-nomfa": make_user(iam, "api-nomfa", access_keys=1),
        "virtual-user": make_user(iam, "virtual-user", login_profile=True, virtual_mfa=1),
        "hardware-user": make_user(iam, "hardware-user", login_profile=True, hardware_mfa=1),
        "passkey-user": make_user(iam, "passkey-user", passkeys=1),
        "breakglass-1": make_user(iam, "breakglass-1", login_profile=True, virtual_mfa=1),
        "breakglass-2": make_user(iam, "breakglass-2", login_profile=True, virtual_mfa=1, hardware_mfa=1),
        "old-keys": make_user(iam, "old-keys", virtual_mfa=1, access_keys=2),
        "passkey-admin": make_user(iam, "passkey-admin", login_profile=True, passkeys=2),
    }
    certified = made["passkey-admin"]["mfa_devices"][0]["serial_number"]
    realism.certify_mfa_device(ACCOUNT, "passkey-admin", certified, {"FIDO": "L1"})
    # a hardware token registered in the console gets an mfa/ ARN serial, like a virtual device
    token = "arn:aws:iam::%s:mfa/token-hardware" % ACCOUNT
    iam.enable_mfa_device(UserName="hardware-user", SerialNumber=token, AuthenticationCode1="123456", AuthenticationCode2="654321")
    never_used, unused = made["old-keys"]["access_key_ids"]
    realism.backdate_access_key(ACCOUNT, never_used, OLD)
    realism.backdate_access_key(ACCOUNT, unused, OLD, last_used=OLD + datetime.timedelta(days=1))
    realism.backdate_access_key(ACCOUNT, made["api-nomfa"]["access_key_ids"][0], OLD, last_used=RECENT)
    realism.seed_root(ACCOUNT, access_keys=[{"created": OLD, "last_used": RECENT}])
    # devices enabled long ago, as in a real account (a device enabled moments ago may be re-read as a possible new virtual one)
    realism.backdate_mfa_devices(ACCOUNT, OLD)
    made["orphan"] = make_orphan(iam, "cancelled-enrolment")
    made["token"] = token
    return made


def found(result):
    return sorted((f["id"], f["user_name"] or "", f["serial_number"] or "") for f in result["findings"])


def test_audit_finds_every_kind_check_mode_equals_normal_mode(sim, iam, run_module, tmp_path):
    """Check mode with the default options (whose call count the phishing-resistant check leaves alone), then a normal run
    that adds require_phishing_resistant_for: the same findings and the phishing-resistant ones, at the cost the docs state."""
    made = seed_account(iam)
    secrets = [secret for user in made.values() if isinstance(user, dict) for secret in user.get("secrets", [])]
    args = {"require_hardware_for": ["BreakGlass-*"], "report_dir": str(tmp_path / "check")}
    os.mkdir(tmp_path / "check")
    sim.reset_counters()
    checked = run_module(MODULE, args, check=True)
    assert not checked.get("failed"), checked
    called = sim.counters()
    assert all(action.split(":")[1].startswith(("Generate", "Get", "List")) for action in called), called
    # account-wide reads, ListMFADevices only for the users no account-wide source types
    assert called.get("iam:ListMFADevices") == 5, called  # hardware-user, passkey-user, breakglass-1, breakglass-2, passkey-admin
    assert "iam:GetMFADevice" not in called and checked["passkeys_checked"] == []
    # one page each of the users and of the virtual devices, to set the report against today's account
    assert called.get("iam:ListUsers") == 1 and called.get("iam:ListVirtualMFADevices") == 1

    os.mkdir(tmp_path / "real")
    sim.reset_counters()
    applied = run_module(MODULE, dict(args, report_dir=str(tmp_path / "real"), require_phishing_resistant_for=["*"]))
    for result in (checked, applied):
        assert result["changed"] is False
    called = sim.counters()
    # + virtual-user, the one console user with a virtual device not listed anyway; a GetMFADevice per passkey of a console user
    assert called.get("iam:ListMFADevices") == 6 and called.get("iam:GetMFADevice") == 2, called
    certified, plain = (device["serial_number"] for device in made["passkey-admin"]["mfa_devices"])
    phishable = [("no_phishing_resistant_mfa", name, "") for name in ("console-nomfa", "virtual-user", "hardware-user", "breakglass-1", "breakglass-2")]
    assert found(applied) == sorted(found(checked) + phishable + [("passkey_not_certified", "passkey-admin", plain)])
    assert sorted(applied["passkeys_checked"], key=lambda item: item["serial_number"] != certified) == [
        {"user_name": "passkey-admin", "serial_number": certified, "certifications": {"FIDO": "L1"}},
        {"user_name": "passkey-admin", "serial_number": plain, "certifications": {}}]
    assert {f["user_name"]: f["detail"]["device_types"] for f in applied["findings"] if f["id"] == "no_phishing_resistant_mfa"} == {
        "console-nomfa": [], "virtual-user": ["virtual"], "hardware-user": ["hardware"], "breakglass-1": ["virtual"],
        "breakglass-2": ["hardware", "virtual"]}
    assert {key: n for key, n in applied["counts"].items() if n != checked["counts"][key]} == {"no_phishing_resistant_mfa": 5, "passkey_not_certified": 1}

    assert found(checked) == sorted([
        ("access_key_without_mfa", "api-nomfa", ""),
        ("console_user_without_mfa", "console-nomfa", ""),
        ("orphaned_virtual_mfa_device", "", made["orphan"]["serial_number"]),
        ("root_access_key", "", ""),
        ("root_virtual_mfa", "", ROOT_SERIAL),
        ("unused_access_key", "old-keys", ""),
        ("unused_access_key", "old-keys", ""),
        ("user_without_mfa", "api-nomfa", ""),
        ("user_without_mfa", "console-nomfa", ""),
        ("virtual_mfa_where_hardware_required", "breakglass-1", "arn:aws:iam::%s:mfa/breakglass-1" % ACCOUNT),
    ])
    assert applied["account_id"] == ACCOUNT and applied["users_audited"] == 9
    assert applied["counts"]["root_without_mfa"] == 0 and set(applied["counts"]) == {
        "console_user_without_mfa", "user_without_mfa", "root_without_mfa", "root_virtual_mfa", "root_access_key",
        "orphaned_virtual_mfa_device", "virtual_mfa_where_hardware_required", "unused_access_key", "access_key_without_mfa",
        "no_phishing_resistant_mfa", "passkey_not_certified"}
    # virtual: root, virtual-user, breakglass-1, breakglass-2, old-keys; hardware: two of hardware-user, one of breakglass-2
    assert applied["device_mix"] == {"virtual": 5, "hardware": 3, "passkey": 3}
    assert applied["type_differences"] == [
        {"user_name": "hardware-user", "serial_number": made["token"], "type": "hardware", "type_by_serial": "virtual"}]
    unused = sorted(f["detail"]["days_unused"] for f in applied["findings"] if f["id"] == "unused_access_key")
    assert unused == [199, 200]
    assert 0 <= applied["credential_report"]["age_hours"] < 1
    assert any("root_virtual_mfa: 1" in line for line in applied["summary"])

    for folder, result in (("check", checked), ("real", applied)):
        files = result["report_files"]
        assert sorted(files) == ["csv", "json", "markdown"]
        assert sorted(os.listdir(tmp_path / folder)) == sorted(os.path.basename(path) for path in files.values())
        for path in files.values():
            assert os.path.dirname(path) == str(tmp_path / folder)
            assert os.path.basename(path).startswith("mfa-audit-%s-" % ACCOUNT)
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
            assert not [secret for secret in secrets if secret in text]
    with open(applied["report_files"]["json"], encoding="utf-8") as handle:
        assert json.load(handle)["counts"] == applied["counts"]
    with open(applied["report_files"]["csv"], encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == len(applied["findings"])
    for secret in secrets:
        assert secret not in applied.stdout


def test_root_without_mfa_and_report_age_limit(sim, iam, run_module):
    sim.configure(root_mfa_device=False)
    make_user(iam, "alice", virtual_mfa=1)
    first = run_module(MODULE)
    assert found(first) == [("root_without_mfa", "", "")]
    assert first["device_mix"] == {"virtual": 1, "hardware": 0, "passkey": 0}
    # The report is 3 hours old now: IAM makes no new one before 4 hours, so a 2-hour limit cannot be met.
    realism.backdate_credential_report(ACCOUNT, 3)
    refused = run_module(MODULE, {"max_report_age_hours": 2})
    assert refused["failed"] and "max_report_age_hours=2" in refused["msg"] and "at most every 4 hours" in refused["msg"]
    make_user(iam, "late-joiner", login_profile=True)
    sim.reset_counters()
    accepted = run_module(MODULE, {"max_report_age_hours": 4})
    assert not accepted.get("failed") and 3 <= accepted["credential_report"]["age_hours"] < 3.1
    # an older report is set against today's users: the one created since is read live and audited
    assert sim.counters()["iam:ListUsers"] == 1
    assert found(accepted) == [("console_user_without_mfa", "late-joiner", ""), ("root_without_mfa", "", ""),
                               ("user_without_mfa", "late-joiner", "")]
    assert accepted["users_audited"] == 2 and not accepted.get("warnings")


def test_audit_right_after_offboarding_and_enrolment_tells_the_new_truth(sim, iam, run_module):
    """IAM hands out the same credential report for 4 hours: the live lists must correct it."""
    make_user(iam, "leaver", login_profile=True)
    make_user(iam, "enrolling", login_profile=True)
    make_user(iam, "stays", login_profile=True, virtual_mfa=1)
    make_user(iam, "rehired", login_profile=True)
    realism.backdate_mfa_devices(ACCOUNT, OLD)
    realism.sign_in(ACCOUNT, "rehired", RECENT)
    realism.sign_in(ACCOUNT, "leaver", OLD)
    first = run_module(MODULE)
    # console users without MFA come first, the most recent sign-in first (the one who never signed in last)
    assert [(f["user_name"], f["detail"]) for f in first["findings"] if f["id"] == "console_user_without_mfa"] == [
        ("rehired", {"password_last_used": RECENT.replace(microsecond=0).isoformat()}),
        ("leaver", {"password_last_used": OLD.replace(microsecond=0).isoformat()}),
        ("enrolling", {"password_last_used": "never"})]
    assert [f["id"] for f in first["findings"]][:3] == ["root_virtual_mfa"] + ["console_user_without_mfa"] * 2
    users_found = [item for item in found(first) if item[1]]
    assert users_found == [("console_user_without_mfa", "enrolling", ""), ("console_user_without_mfa", "leaver", ""),
                           ("console_user_without_mfa", "rehired", ""), ("user_without_mfa", "enrolling", ""),
                           ("user_without_mfa", "leaver", ""), ("user_without_mfa", "rehired", "")]

    for name in ("leaver", "rehired"):
        iam.delete_login_profile(UserName=name)
        iam.delete_user(UserName=name)
    # the same name, another user (created seconds after the report): the old row's console password is not hers
    make_user(iam, "rehired")
    device = make_orphan(iam, "enrolling")
    code1, code2 = consecutive_codes(device["seed"])
    iam.enable_mfa_device(UserName="enrolling", SerialNumber=device["serial_number"], AuthenticationCode1=code1, AuthenticationCode2=code2)
    make_user(iam, "newcomer", access_keys=1)
    sim.reset_counters()
    second = run_module(MODULE)
    assert second["credential_report"]["generated_time"] == first["credential_report"]["generated_time"]  # the same report
    assert [item for item in found(second) if item[1]] == [("access_key_without_mfa", "newcomer", ""), ("user_without_mfa", "newcomer", ""),
                                                           ("user_without_mfa", "rehired", "")]
    assert [f["detail"] for f in second["findings"] if f["user_name"] == "rehired"] == [{"console_access": False}]
    assert second["users_audited"] == 4 and second["device_mix"]["virtual"] == first["device_mix"]["virtual"] + 1
    called = sim.counters()
    assert called["iam:ListUsers"] == 1 and called["iam:ListVirtualMFADevices"] == 1
    # only the newcomer and the new rehired are read user by user (their MFA devices, keys and password)
    assert called["iam:ListMFADevices"] == 2 and called["iam:ListAccessKeys"] == 2 and called["iam:GetLoginProfile"] == 2


def test_root_hardware_mfa_no_root_finding_and_report_not_ready(sim, iam, run_module):
    sim.configure(root_mfa_device=False)
    realism.seed_root(ACCOUNT, hardware_mfa=True)
    not_ready = run_module(MODULE, {"report_wait_seconds": 0})
    assert not_ready["failed"] and "report_wait_seconds=0" in not_ready["msg"]
    result = run_module(MODULE)
    assert result["findings"] == [] and result["summary"][1] == "No findings."


def test_bad_option_is_refused_before_any_call(sim, run_module):
    sim.reset_counters()
    result = run_module(MODULE, {"unused_access_key_days": 0})
    assert result["failed"] and "unused_access_key_days" in result["msg"]
    assert sim.counters() == {}
