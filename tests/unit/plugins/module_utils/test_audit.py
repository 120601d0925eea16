# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.iamguard.aws.plugins.module_utils import audit, credential_report, findings, validation

ACCOUNT = "123456789012"
NOW = datetime(2026, 11, 25, 9, 0, 0, tzinfo=timezone.utc)
OPTIONS = {"require_hardware_for": [], "require_phishing_resistant_for": [], "unused_access_key_days": 45}
LONG_AGO = datetime(2022, 1, 1, tzinfo=timezone.utc)
CREATED = datetime(2020, 1, 1, tzinfo=timezone.utc)  # the users' CreateDate, as the report's user_creation_time says it
ROOT_SERIAL = "arn:aws:iam::%s:mfa/root-account-mfa-device" % ACCOUNT


def date(value):
    return value.strftime("%Y-%m-%dT%H:%M:%S+00:00") if value else "N/A"


def row(user, password=False, mfa=False, keys=(), signed_in=None):
    """A credential report row; ``keys``: up to two (active, last_rotated, last_used) tuples; ``signed_in``: password_last_used."""
    made = {"user": user, "arn": "arn:aws:iam::%s:%s" % (ACCOUNT, "root" if user == credential_report.ROOT_USER else "user/" + user),
            "user_creation_time": date(CREATED), "password_enabled": "true" if password else "false",
            "mfa_active": "true" if mfa else "false", "password_last_used": date(signed_in) if password else "N/A"}
    for number in (1, 2):
        active, rotated, used = keys[number - 1] if len(keys) >= number else (False, None, None)
        made.update({"access_key_%d_active" % number: "true" if active else "false",
                     "access_key_%d_last_rotated" % number: date(rotated), "access_key_%d_last_used_date" % number: date(used)})
    return made


def device(serial, kind="virtual", user_name=None):
    return {"serial_number": serial, "type": kind, "user_name": user_name, "enable_date": None, "assigned": True, "root": False}


def ids(findings):
    return [(item["id"], item["user_name"], item["serial_number"]) for item in findings]


def test_every_finding_id_has_control_severity_and_title():
    assert list(findings.FINDINGS) == list(findings.STANDARDS)
    for finding_id, (control, severity, title) in findings.FINDINGS.items():
        assert control and title
        assert severity in ("critical", "high", "medium", "low", "informational")
        # CIS numbers move between versions: one is only ever cited with its version
        assert "CIS" not in control or "CIS AWS Foundations v7.0 " in control
    # the root credentials audit's own ids, and the fan-out's, are not counted by the account audit
    assert set(findings.FINDINGS) - set(audit.AUDIT_FINDING_IDS) == {"centralized_root_access_disabled", "root_credentials_present",
                                                                     "account_unreachable"}


def test_console_user_without_mfa_is_also_user_without_mfa():
    found = audit.user_findings(dict(row("alice", password=True), password_last_used="never"), [], OPTIONS, NOW)
    assert ids(found) == [("console_user_without_mfa", "alice", None), ("user_without_mfa", "alice", None)]
    assert found[0]["detail"] == {"password_last_used": "never"}
    assert found[0]["control"].startswith("Security Hub IAM.5")
    assert found[1]["control"] == "Security Hub IAM.19" and found[1]["detail"] == {"console_access": True}


def test_user_with_mfa_and_no_keys_has_no_findings():
    assert audit.user_findings(row("bob", password=True, mfa=True), [device("s", user_name="bob")], OPTIONS, NOW) == []


def test_access_key_without_mfa_is_informational_and_names_active_keys_only():
    found = audit.user_findings(row("svc", keys=[(True, NOW, NOW), (False, NOW, None)]), [], OPTIONS, NOW)
    assert ids(found) == [("user_without_mfa", "svc", None), ("access_key_without_mfa", "svc", None)]
    assert found[1]["severity"] == "informational" and found[1]["detail"] == {"active_access_keys": [1]}


@pytest.mark.parametrize(
    "last_used, rotated, days, expected",
    [
        (NOW - timedelta(days=45), None, 45, False),  # exactly N days: not more than N
        (NOW - timedelta(days=45, seconds=1), None, 45, True),
        (None, NOW - timedelta(days=45), 45, False),  # never used: counted from creation / rotation
        (None, NOW - timedelta(days=46), 45, True),
        (NOW - timedelta(days=2), NOW - timedelta(days=400), 45, False),  # old key, used lately
        (NOW - timedelta(days=11), None, 10, True),  # the option moves the boundary
        (NOW - timedelta(days=10), None, 10, False),
    ],
)
def test_unused_access_key_boundaries(last_used, rotated, days, expected):
    rotated = rotated or NOW - timedelta(days=500)
    keys = credential_report.access_keys(row("k", keys=[(True, rotated, last_used)]))
    found = audit.unused_key_findings("k", keys, days, NOW)
    assert bool(found) is expected
    if expected:
        assert found[0]["id"] == "unused_access_key" and found[0]["detail"]["access_key"] == 1
        assert found[0]["detail"]["days_unused"] == (NOW - (last_used or rotated)).days


def test_inactive_unused_key_is_no_finding():
    keys = credential_report.access_keys(row("k", keys=[(False, NOW - timedelta(days=900), None)]))
    assert audit.unused_key_findings("k", keys, 45, NOW) == []


def test_root_without_mfa():
    assert ids(audit.root_findings(row(credential_report.ROOT_USER), None)) == [("root_without_mfa", None, None)]


def test_root_with_virtual_device():
    root_device = dict(device(ROOT_SERIAL), root=True)
    found = audit.root_findings(row(credential_report.ROOT_USER, mfa=True), root_device)
    assert ids(found) == [("root_virtual_mfa", None, ROOT_SERIAL)]
    assert found[0]["control"].startswith("Security Hub IAM.6")


def test_root_with_hardware_device_and_keys():
    # MFA active and no virtual device of root's: a hardware device, no IAM.6 finding
    found = audit.root_findings(row(credential_report.ROOT_USER, mfa=True, keys=[(True, NOW, None), (False, NOW, NOW)]), None)
    assert ids(found) == [("root_access_key", None, None)] * 2
    assert [item["detail"] for item in found] == [
        {"access_key": 1, "active": True, "last_used": None},
        {"access_key": 2, "active": False, "last_used": NOW.isoformat()},
    ]


def test_virtual_where_hardware_required():
    options = dict(OPTIONS, require_hardware_for=["break-glass-*", "Admin"])
    virtual = [device("arn:aws:iam::1:mfa/bg", user_name="break-glass-1"), device("arn:aws:iam::1:mfa/bg2", user_name="break-glass-1")]
    found = audit.user_findings(row("Break-Glass-1", mfa=True), virtual, options, NOW)
    assert ids(found) == [("virtual_mfa_where_hardware_required", "Break-Glass-1", "arn:aws:iam::1:mfa/bg")]
    assert found[0]["detail"] == {"pattern": "break-glass-*", "devices": ["arn:aws:iam::1:mfa/bg", "arn:aws:iam::1:mfa/bg2"]}
    # a hardware token or passkey besides the virtual device satisfies the rule
    assert audit.user_findings(row("admin", mfa=True), virtual[:1] + [device("GAHT1", "hardware")], options, NOW) == []
    assert audit.user_findings(row("admin", mfa=True), [device("x:u2f/y", "passkey")], options, NOW) == []
    # not matching: virtual is fine
    assert audit.user_findings(row("alice", mfa=True), virtual, options, NOW) == []


def test_orphan_with_and_without_age():
    with_age = dict(device("arn:aws:iam::1:mfa/gone"), assigned=False, age_minutes=90, created_at="2026-11-25T07:30:00+00:00")
    found = audit.orphan_finding(with_age)
    assert (found["id"], found["serial_number"], found["detail"]) == (
        "orphaned_virtual_mfa_device", "arn:aws:iam::1:mfa/gone", {"age_minutes": 90, "created_at": "2026-11-25T07:30:00+00:00"})
    # devices described before creation tags existed have no age keys: no crash, age unknown
    assert audit.orphan_finding(device("arn:aws:iam::1:mfa/old"))["detail"] == {"age_minutes": None, "created_at": None}


def test_evaluate_order_and_counts():
    rows = [row("zed", password=True), row(credential_report.ROOT_USER), row("Amy", mfa=True)]
    orphans = [dict(device("arn:aws:iam::1:mfa/o"), assigned=False)]
    found = audit.evaluate(rows, {"amy": [device("v", user_name="Amy")]}, None, orphans, OPTIONS, NOW)
    assert [item["id"] for item in found] == ["root_without_mfa", "console_user_without_mfa", "user_without_mfa", "orphaned_virtual_mfa_device"]
    counts = audit.counts(found)
    assert set(counts) == set(audit.AUDIT_FINDING_IDS)
    assert counts["user_without_mfa"] == 1 and counts["unused_access_key"] == 0


def test_typing_by_serial_differences():
    devices = [
        device("arn:aws:iam::1:mfa/alice", "virtual", "alice"),
        device("arn:aws:iam::1:mfa/token-bob", "hardware", "bob"),  # console-registered hardware token with an mfa/ ARN
        device("arn:aws:iam::1:u2f/user/carol/key", "passkey", "carol"),
        device("GAHT12345678", "hardware", "dan"),
    ]
    assert audit.type_differences(devices) == [
        {"user_name": "bob", "serial_number": "arn:aws:iam::1:mfa/token-bob", "type": "hardware", "type_by_serial": "virtual"}
    ]
    assert findings.type_by_serial("arn:aws:iam::1:sms-mfa/x") == "virtual"


def test_device_mix():
    assert audit.device_mix([device("a"), device("b"), device("c", "passkey")]) == {"virtual": 2, "hardware": 0, "passkey": 1}


def test_users_to_list_only_where_no_account_wide_source_answers():
    rows = [row(credential_report.ROOT_USER, mfa=True), row("virtual-only", mfa=True), row("hw", mfa=True), row("nomfa"),
            row("admin-1", mfa=True)]
    virtual_by_user = {"virtual-only": [device("v1")], "admin-1": [device("v2")]}
    assert audit.users_to_list(rows, virtual_by_user, dict(OPTIONS, require_hardware_for=["admin-*"])) == ["hw", "admin-1"]
    # a passkey is required of console users only: virtual-only has no password, so it is still not listed
    rows.append(row("console", password=True, mfa=True))
    virtual_by_user["console"] = [device("v3")]
    assert audit.users_to_list(rows, virtual_by_user, dict(OPTIONS, require_phishing_resistant_for=["*"])) == ["hw", "console"]


@pytest.mark.parametrize("report, live, expected", [
    ("2026-11-20T08:00:00+00:00", None, "2026-11-20T08:00:00+00:00"),
    ("2026-11-20T08:00:00+00:00", datetime(2026, 11, 24, 7, 0, tzinfo=timezone.utc), "2026-11-24T07:00:00+00:00"),  # ListUsers is live
    ("no_information", None, "never"),  # not used since IAM began tracking
    ("N/A", None, "never"),
    (None, datetime(2026, 11, 24, 7, 0, tzinfo=timezone.utc), "2026-11-24T07:00:00+00:00"),  # a live row has no report column
])
def test_password_last_used_prefers_the_live_list(report, live, expected):
    user = dict(iam_user("alice"), PasswordLastUsed=live) if live else iam_user("alice")
    assert audit.password_last_used({"password_last_used": report}, user) == expected


def test_console_users_without_mfa_come_most_recent_sign_in_first():
    rows = [row("amy", password=True, signed_in=NOW - timedelta(days=30)), row("bob", password=True),
            row("cy", password=True, signed_in=NOW - timedelta(hours=1)), row("dee", password=True, signed_in=NOW - timedelta(days=30)),
            row(credential_report.ROOT_USER)]
    rows = [r if r["user"] == credential_report.ROOT_USER else dict(r, password_last_used=audit.password_last_used(r, None)) for r in rows]
    found = audit.evaluate(rows, {}, None, [], OPTIONS, NOW)
    assert [(item["id"], item["user_name"]) for item in found][:5] == [
        ("root_without_mfa", None), ("console_user_without_mfa", "cy"), ("console_user_without_mfa", "amy"),
        ("console_user_without_mfa", "dee"), ("console_user_without_mfa", "bob")]  # ties by name, never last
    month = date(NOW - timedelta(days=30))
    assert [item["detail"]["password_last_used"] for item in found[1:5]] == [date(NOW - timedelta(hours=1)), month, month, "never"]
    assert [item["id"] for item in found[5:]] == ["user_without_mfa"] * 4


@pytest.mark.parametrize("user, password, devices, expected", [
    ("admin", True, [device("v", user_name="admin")], [("no_phishing_resistant_mfa", "admin", None)]),
    ("admin", True, [device("GAHT1", "hardware")], [("no_phishing_resistant_mfa", "admin", None)]),  # hardware TOTP can be phished too
    ("admin", True, [], [("console_user_without_mfa", "admin", None), ("user_without_mfa", "admin", None),
                         ("no_phishing_resistant_mfa", "admin", None)]),
    ("admin", True, [device("v"), device("k:u2f/1", "passkey")], []),  # certifications not read: no opinion on them
    ("admin", True, [device("k:u2f/1", "passkey") | {"certifications": {"FIDO": "L1"}}], []),
    ("admin", True, [device("k:u2f/1", "passkey") | {"certifications": {}}], [("passkey_not_certified", "admin", "k:u2f/1")]),
    ("admin", False, [device("v")], []),  # no password: no sign-in page to phish
    ("alice", True, [device("v")], []),  # not matching the patterns
])
def test_phishing_resistant_mfa_for_matching_console_users(user, password, devices, expected):
    options = dict(OPTIONS, require_phishing_resistant_for=["ADMIN*"])
    found = audit.user_findings(row(user, password=password, mfa=bool(devices)), devices, options, NOW)
    assert ids(found) == expected
    for item in found:
        if item["id"] == "no_phishing_resistant_mfa":
            assert item["detail"] == {"pattern": "ADMIN*", "device_types": sorted({d["type"] for d in devices})}
            assert item["severity"] == "high"


def test_account_of():
    assert audit.account_of([row(credential_report.ROOT_USER)]) == ACCOUNT


PARAMS = {"require_hardware_for": [], "require_phishing_resistant_for": [], "unused_access_key_days": 45, "max_report_age_hours": None,
          "report_wait_seconds": 120,
          "report_dir": None, "report_formats": ["markdown", "json", "csv"]}


@pytest.mark.parametrize(
    "change, option",
    [
        ({"require_hardware_for": [" "]}, "require_hardware_for"),
        ({"require_phishing_resistant_for": [""]}, "require_phishing_resistant_for"),
        ({"unused_access_key_days": 0}, "unused_access_key_days"),
        ({"max_report_age_hours": 0}, "max_report_age_hours"),
        ({"report_wait_seconds": -1}, "report_wait_seconds"),
        ({"report_wait_seconds": 3601}, "report_wait_seconds"),
        ({"report_dir": "/nonexistent/folder"}, "report_dir"),
        ({"report_formats": []}, "report_formats"),
    ],
)
def test_bad_options_name_the_option(change, option):
    with pytest.raises(validation.InvalidInput) as caught:
        audit.audit_options(dict(PARAMS, **change))
    assert caught.value.option == option and "Nothing was changed" in caught.value.message


def test_report_dir_symlink_refused(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(validation.InvalidInput, match="report_dir"):
        audit.audit_options(dict(PARAMS, report_dir=str(tmp_path / "link")))
    assert audit.audit_options(dict(PARAMS, report_dir=str(tmp_path / "real")))["report_dir"] == str(tmp_path / "real")


def report_answer(rows, generated):
    header = list(rows[0])
    content = ",".join(header) + "\n" + "".join(",".join(r[column] for column in header) + "\n" for r in rows)
    return {"Content": content.encode(), "GeneratedTime": generated, "ReportFormat": "text/csv"}


def iam_user(name, created=CREATED):
    return {"UserName": name, "Path": "/", "UserId": "AIDA" + name.upper().ljust(17, "X"), "Arn": "arn:aws:iam::%s:user/%s" % (ACCOUNT, name),
            "CreateDate": created.replace(microsecond=123000)}


def virtual_device(serial, user=None):
    return dict({"SerialNumber": serial, "EnableDate": NOW, "User": user} if user else {"SerialNumber": serial})


def stub_account_reads(stub, rows, generated, users, virtual):
    stub.add_response("generate_credential_report", {"State": "COMPLETE"}, {})
    stub.add_response("get_credential_report", report_answer(rows, generated), {})
    stub.add_response("list_users", {"Users": users, "IsTruncated": False}, {"MaxItems": 1000})
    stub.add_response("list_virtual_mfa_devices", {"VirtualMFADevices": virtual, "IsTruncated": False}, {"AssignmentStatus": "Any", "MaxItems": 1000})


def test_audit_reads_account_wide_and_lists_devices_only_where_needed(iam, stub):
    rows = [row(credential_report.ROOT_USER, mfa=True), row("alice", password=True, mfa=True), row("hw", mfa=True)]
    users = [iam_user(name) for name in ("alice", "hw")]
    root = {"Path": "/", "UserName": "root", "UserId": ACCOUNT + "0000", "Arn": "arn:aws:iam::%s:root" % ACCOUNT, "CreateDate": NOW}
    stub_account_reads(stub, rows, NOW - timedelta(hours=1), users,
                       [virtual_device(ROOT_SERIAL, root), virtual_device("arn:aws:iam::%s:mfa/alice" % ACCOUNT, users[0])])
    stub.add_response("list_mfa_devices", {"MFADevices": [{"UserName": "hw", "SerialNumber": "GAHT00000001", "EnableDate": LONG_AGO}], "IsTruncated": False},
                      {"UserName": "hw", "MaxItems": 1000})
    result = audit.audit(iam, dict(PARAMS, require_hardware_for=[]), NOW)
    assert result["account_id"] == ACCOUNT and result["users_audited"] == 2
    assert ids(result["findings"]) == [("root_virtual_mfa", None, ROOT_SERIAL)]
    assert result["device_mix"] == {"virtual": 2, "hardware": 1, "passkey": 0}
    assert result["credential_report"] == {"generated_time": (NOW - timedelta(hours=1)).isoformat(), "age_hours": 1.0}
    assert "warnings" not in result and result["changed"] is False
    assert result["summary"][0].startswith("Account %s: 2 users audited" % ACCOUNT)
    assert result["device_mix_users_listed"] == 1  # hw; alice's virtual device is all the account-wide list tells
    assert result["summary"][1:] == [
        "root_virtual_mfa: 1 - Security Hub IAM.6; CIS AWS Foundations v7.0 2.6 (v3.0 1.6)",
        "MFA devices: 2 virtual (every one in the account); 1 hardware and 0 passkey among the 1 users whose devices were listed "
        "(a hardware token or passkey beside a virtual device is listed only under require_hardware_for)."]


def test_a_fresh_report_is_set_against_todays_users_and_devices(iam, stub):
    """Minutes after an offboarding and an enrolment IAM still hands out the same report: the live lists correct it."""
    rows = [row(credential_report.ROOT_USER, mfa=True), row("gone", password=True), row("enrolled", password=True),
            row("reset", password=True, mfa=True)]
    users = [iam_user(name) for name in ("enrolled", "reset", "newcomer")]
    stub_account_reads(stub, rows, NOW - timedelta(minutes=2), users, [virtual_device("arn:aws:iam::%s:mfa/enrolled" % ACCOUNT, users[0])])
    # reset's only device was removed since the report
    stub.add_response("list_mfa_devices", {"MFADevices": [], "IsTruncated": False}, {"UserName": "reset", "MaxItems": 1000})
    # newcomer was created after the report: read live
    stub.add_response("list_mfa_devices", {"MFADevices": [], "IsTruncated": False}, {"UserName": "newcomer", "MaxItems": 1000})
    key = {"UserName": "newcomer", "AccessKeyId": "AKIAEXAMPLEEXAMPLE01", "Status": "Active", "CreateDate": NOW - timedelta(minutes=1)}
    stub.add_response("list_access_keys", {"AccessKeyMetadata": [key], "IsTruncated": False}, {"UserName": "newcomer", "MaxItems": 1000})
    stub.add_client_error("get_login_profile", "NoSuchEntity", "no profile", 404, expected_params={"UserName": "newcomer"})
    result = audit.audit(iam, dict(PARAMS), NOW)
    assert result["users_audited"] == 3  # gone is not counted
    assert sorted(ids(result["findings"])) == sorted([
        ("console_user_without_mfa", "reset", None),
        ("user_without_mfa", "reset", None),
        ("user_without_mfa", "newcomer", None),
        ("access_key_without_mfa", "newcomer", None),
    ])
    assert result["device_mix"] == {"virtual": 1, "hardware": 0, "passkey": 0}


def test_a_name_deleted_and_created_again_since_the_report_is_read_live(iam, stub):
    """The report's row of "dana" (console, no MFA) is an earlier user of that name: today's dana is read live, not blamed."""
    rows = [row(credential_report.ROOT_USER, mfa=True), row("dana", password=True), row("Kept", password=True)]
    users = [iam_user("dana", created=NOW - timedelta(minutes=5)), iam_user("kept")]  # the same name, any case, the same second: the same user
    stub_account_reads(stub, rows, NOW - timedelta(hours=2), users, [])
    stub.add_response("list_mfa_devices", {"MFADevices": [], "IsTruncated": False}, {"UserName": "dana", "MaxItems": 1000})
    stub.add_response("list_access_keys", {"AccessKeyMetadata": [], "IsTruncated": False}, {"UserName": "dana", "MaxItems": 1000})
    stub.add_client_error("get_login_profile", "NoSuchEntity", "no profile", 404, expected_params={"UserName": "dana"})
    result = audit.audit(iam, dict(PARAMS), NOW)
    assert result["users_audited"] == 2
    assert sorted(ids(result["findings"])) == [("console_user_without_mfa", "Kept", None), ("user_without_mfa", "Kept", None),
                                               ("user_without_mfa", "dana", None)]
    assert [f["detail"] for f in result["findings"] if f["user_name"] == "dana"] == [{"console_access": False}]


def test_live_row_of_a_new_user_reads_like_a_report_row(iam, stub):
    keys = [{"UserName": "n", "AccessKeyId": "AKIAEXAMPLEEXAMPLE0%d" % number, "Status": status, "CreateDate": NOW - timedelta(minutes=number)}
            for number, status in ((1, "Inactive"), (2, "Active"))]
    stub.add_response("list_access_keys", {"AccessKeyMetadata": keys, "IsTruncated": False}, {"UserName": "n", "MaxItems": 1000})
    stub.add_response("get_login_profile", {"LoginProfile": {"UserName": "n", "CreateDate": NOW}}, {"UserName": "n"})
    made = audit.live_row(iam, iam_user("n"), [device("GAHT1", "hardware", "n")])
    assert made["password_enabled"] == "true" and made["mfa_active"] == "true"
    # oldest key first, as the report numbers them
    parsed = credential_report.access_keys(made)
    assert [(key["number"], key["active"], key["last_rotated"], key["last_used"]) for key in parsed] == [
        (1, True, NOW - timedelta(minutes=2), None), (2, False, NOW - timedelta(minutes=1), None)]
    assert audit.user_findings(made, [device("GAHT1", "hardware", "n")], OPTIONS, NOW) == []


def test_a_new_user_deleted_while_read_is_left_out(iam, stub):
    stub.add_client_error("list_access_keys", "NoSuchEntity", "gone", 404, expected_params={"UserName": "n", "MaxItems": 1000})
    assert audit.live_row(iam, iam_user("n"), []) is None


def test_phishing_resistant_check_lists_matching_console_users_and_reads_their_passkeys_only(iam, stub):
    """The check's cost: ListMFADevices for a matching console user with a virtual device, GetMFADevice per passkey of a
    matching console user; nothing for others (bob has a passkey too, and is not matched)."""
    rows = [row(credential_report.ROOT_USER, mfa=True), row("admin", password=True, mfa=True), row("bob", password=True, mfa=True),
            row("admin-api", mfa=True)]
    users = [iam_user(name) for name in ("admin", "bob", "admin-api")]
    passkey, bob_key = "arn:aws:iam::%s:u2f/user/admin/key-1" % ACCOUNT, "arn:aws:iam::%s:u2f/user/bob/key-1" % ACCOUNT
    virtual = "arn:aws:iam::%s:mfa/admin" % ACCOUNT
    stub_account_reads(stub, rows, NOW - timedelta(hours=1), users,
                       [virtual_device(virtual, users[0]), virtual_device("arn:aws:iam::%s:mfa/admin-api" % ACCOUNT, users[2])])
    stub.add_response("list_mfa_devices", {"MFADevices": [{"UserName": "admin", "SerialNumber": s, "EnableDate": LONG_AGO} for s in (passkey, virtual)],
                                           "IsTruncated": False}, {"UserName": "admin", "MaxItems": 1000})
    stub.add_response("list_mfa_devices", {"MFADevices": [{"UserName": "bob", "SerialNumber": bob_key, "EnableDate": LONG_AGO}], "IsTruncated": False},
                      {"UserName": "bob", "MaxItems": 1000})
    stub.add_response("get_mfa_device", {"UserName": "admin", "SerialNumber": passkey, "EnableDate": LONG_AGO},
                      {"UserName": "admin", "SerialNumber": passkey})
    result = audit.audit(iam, dict(PARAMS, require_phishing_resistant_for=["admin*"]), NOW)
    assert ids(result["findings"]) == [("passkey_not_certified", "admin", passkey)]
    assert result["findings"][0]["detail"] == {"pattern": "admin*", "certifications": {}}
    assert result["passkeys_checked"] == [{"user_name": "admin", "serial_number": passkey, "certifications": {}}]
    assert result["counts"]["passkey_not_certified"] == 1 and result["counts"]["no_phishing_resistant_mfa"] == 0
