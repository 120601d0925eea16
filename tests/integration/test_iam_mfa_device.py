"""iamguard.aws.iam_mfa_device through ansible-playbook against the simulator.

Every scenario runs in check mode (nothing may change), for real, and again
(changed: false), as amazon.aws's own integration tests do.
"""

import hashlib
import os
import stat
import time

import pyotp
import pytest

from tests.integration.refusals import assert_each_refused
from tests.simulator.seed import make_orphan, make_user

MODULE = "iamguard.aws.iam_mfa_device"


def virtual_devices(iam, status="Any"):
    pages = iam.get_paginator("list_virtual_mfa_devices").paginate(AssignmentStatus=status)
    return {d["SerialNumber"]: d for page in pages for d in page["VirtualMFADevices"]}


def user_serials(iam, user):
    return sorted(d["SerialNumber"] for d in iam.list_mfa_devices(UserName=user)["MFADevices"])


def actions(result):
    return [(a["action"], a["target"]) for a in result["actions"]]


def serial(name, path="/"):
    return "arn:aws:iam::123456789012:mfa%s%s" % (path, name)


def assert_private_file(path):
    mode = stat.S_IMODE(os.stat(path).st_mode)
    assert mode == 0o600, oct(mode)


def test_unattended_enrolment_check_apply_idempotent(sim, iam, run_module, tmp_path):
    iam.create_user(UserName="svc-backup")
    seed_path = str(tmp_path / "svc.seed")
    args = {"user_name": "svc-backup", "generate_codes": True, "seed_path": seed_path}

    sim.reset_counters()
    planned = run_module(MODULE, args, check=True)
    called = [key.split(":")[-1] for key in sim.counters()]
    assert called and all(action.startswith(("Get", "List")) for action in called), called  # check mode only reads
    assert planned["changed"] is True
    assert actions(planned) == [
        ("create_virtual_mfa_device", serial("svc-backup")),
        ("tag_mfa_device", serial("svc-backup")),
        ("write_seed", seed_path),
        ("enable_mfa_device", serial("svc-backup")),
    ]
    assert serial("svc-backup") not in virtual_devices(iam)
    assert not os.path.exists(seed_path)

    applied = run_module(MODULE, args)
    assert applied["changed"] is True
    assert actions(applied) == actions(planned)
    assert applied["device"]["assigned"] is True and applied["device"]["user_name"] == "svc-backup"
    assert applied["device"]["enable_date"]
    assert user_serials(iam, "svc-backup") == [serial("svc-backup")]
    assert_private_file(seed_path)
    seed = open(seed_path).read().strip()
    pyotp.TOTP(seed).now()  # a usable seed
    assert seed not in applied.stdout

    for check in (True, False):
        again = run_module(MODULE, args, check=check)
        assert again["changed"] is False and again["actions"] == []


def test_two_step_enrolment_for_a_person(sim, iam, run_module, tmp_path):
    iam.create_user(UserName="alice")
    qr_path, seed_path = str(tmp_path / "alice.png"), str(tmp_path / "alice.seed")
    step_1 = {"user_name": "alice", "qr_code_png_path": qr_path, "seed_path": seed_path}

    planned = run_module(MODULE, step_1, check=True)
    assert actions(planned) == [
        ("create_virtual_mfa_device", serial("alice")), ("tag_mfa_device", serial("alice")), ("write_qr_code_png", qr_path),
        ("write_seed", seed_path)]
    assert not os.path.exists(qr_path)

    created = run_module(MODULE, step_1)
    assert created["changed"] is True and created["device"]["assigned"] is False
    assert_private_file(qr_path)
    assert open(qr_path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    assert virtual_devices(iam, "Unassigned").keys() == {serial("alice")}

    # Rerunning step 1 changes nothing: the device waits for its codes.
    for check in (True, False):
        assert run_module(MODULE, step_1, check=check)["changed"] is False

    totp = pyotp.TOTP(open(seed_path).read().strip())
    now = time.time()
    step_2 = dict(step_1, authentication_code_1=totp.at(now - 30), authentication_code_2=totp.at(now))
    planned = run_module(MODULE, step_2, check=True)
    assert actions(planned) == [("enable_mfa_device", serial("alice"))]
    assert user_serials(iam, "alice") == []

    enabled = run_module(MODULE, step_2)
    assert enabled["changed"] is True and enabled["device"]["assigned"] is True
    assert user_serials(iam, "alice") == [serial("alice")]
    for code in (step_2["authentication_code_1"], step_2["authentication_code_2"]):
        assert code not in enabled.stdout
    for check in (True, False):
        assert run_module(MODULE, step_2, check=check)["changed"] is False


def test_wrong_codes_leave_the_device_waiting(sim, iam, run_module, tmp_path):
    iam.create_user(UserName="dave")
    seed_path = str(tmp_path / "dave.seed")
    run_module(MODULE, {"user_name": "dave", "seed_path": seed_path})
    totp = pyotp.TOTP(open(seed_path).read().strip())
    wrong = "%06d" % ((int(totp.now()) + 1) % 1000000)
    also_wrong = "%06d" % ((int(totp.now()) + 2) % 1000000)
    result = run_module(MODULE, {"user_name": "dave", "seed_path": seed_path, "authentication_code_1": wrong, "authentication_code_2": also_wrong})
    assert result["failed"] is True
    assert "rejected the two codes" in result["msg"] and serial("dave") in result["msg"]
    assert virtual_devices(iam, "Unassigned").keys() == {serial("dave")}
    assert wrong not in result.stdout


def test_orphan_from_cancelled_console_enrolment_is_replaced(sim, iam, run_module, tmp_path):
    iam.create_user(UserName="test")
    make_orphan(iam, "test")
    seed_path = str(tmp_path / "test.seed")
    args = {"user_name": "test", "generate_codes": True, "seed_path": seed_path}

    refused = run_module(MODULE, dict(args, replace_orphan=False))
    assert refused["failed"] is True and "orphan" in refused["msg"] and "replace_orphan" in refused["msg"]
    assert not os.path.exists(seed_path)

    planned = run_module(MODULE, args, check=True)
    assert planned["replaced_orphan"] is True
    assert [kind for kind, dummy in actions(planned)] == [
        "delete_virtual_mfa_device", "create_virtual_mfa_device", "tag_mfa_device", "write_seed", "enable_mfa_device"]
    assert virtual_devices(iam, "Unassigned").keys() == {serial("test")}

    applied = run_module(MODULE, args)
    assert applied["replaced_orphan"] is True and applied["device"]["assigned"] is True
    assert virtual_devices(iam, "Unassigned") == {}
    assert run_module(MODULE, args)["changed"] is False


def test_secret_with_nowhere_to_go_is_refused(sim, iam, run_module):
    iam.create_user(UserName="erin")
    for args in ({"user_name": "erin"}, {"user_name": "erin", "generate_codes": True}):
        result = run_module(MODULE, args)
        assert result["failed"] is True
        assert "qr_code_png_path" in result["msg"] and "seed_path" in result["msg"]
    assert serial("erin") not in virtual_devices(iam)


def test_return_secret_needs_no_log(sim, iam, run_module, run_playbook):
    iam.create_user(UserName="frank")
    refused = run_module(MODULE, {"user_name": "frank", "generate_codes": True, "return_secret": True})
    assert refused["failed"] is True and "no_log" in refused["msg"]
    assert serial("frank") not in virtual_devices(iam)

    run = run_playbook([{
        "hosts": "localhost", "gather_facts": False,
        "tasks": [
            {"name": "enrol", "no_log": True, "register": "enrolled",
             MODULE: {"user_name": "frank", "generate_codes": True, "return_secret": True}},
            {"name": "seed came back", "ansible.builtin.assert": {"that": [
                "enrolled.secret.base32_string_seed | length >= 16",
                "enrolled.secret.qr_code_png | length > 0",
                "enrolled.device.assigned"]}},
        ],
    }])
    assert run.rc == 0, run.stdout
    assert user_serials(iam, "frank") == [serial("frank")]


def test_failed_enable_after_create_leaves_no_orphan(sim, iam, run_module, tmp_path):
    # IAM allows 8 MFA devices per user; the 9th EnableMFADevice fails after CreateVirtualMFADevice succeeded.
    make_user(iam, "grace", hardware_mfa=8)
    seed_path = str(tmp_path / "grace.seed")
    result = run_module(MODULE, {"user_name": "grace", "generate_codes": True, "seed_path": seed_path})
    assert result["failed"] is True
    assert "deleted again" in result["msg"]
    assert serial("grace") not in virtual_devices(iam)
    assert not os.path.exists(seed_path)


def test_existing_secret_file_is_not_overwritten(sim, iam, run_module, tmp_path):
    iam.create_user(UserName="heidi")
    seed_path = tmp_path / "heidi.seed"
    seed_path.write_text("keep me\n")
    result = run_module(MODULE, {"user_name": "heidi", "generate_codes": True, "seed_path": str(seed_path)})
    assert result["failed"] is True and "force" in result["msg"]
    assert seed_path.read_text() == "keep me\n"
    assert serial("heidi") not in virtual_devices(iam)

    link = tmp_path / "link.seed"
    link.symlink_to(tmp_path / "elsewhere")
    result = run_module(MODULE, {"user_name": "heidi", "generate_codes": True, "seed_path": str(link), "force": True})
    assert result["failed"] is True and "symbolic link" in result["msg"]
    assert not (tmp_path / "elsewhere").exists()


def test_lost_device_reset_every_type(sim, iam, run_module):
    made = make_user(iam, "ivan", virtual_mfa=1, hardware_mfa=1, passkeys=1)
    devices = made["mfa_devices"]
    by_type = {d["type"]: d["serial_number"] for d in devices}
    args = {"user_name": "ivan", "state": "absent"}

    planned = run_module(MODULE, args, check=True)
    assert planned["changed"] is True
    planned_actions = actions(planned)
    assert ("tag_mfa_device", by_type["virtual"]) in planned_actions  # the intent, recorded on the device before its deactivation
    assert ("deactivate_mfa_device", by_type["virtual"]) in planned_actions
    assert ("delete_virtual_mfa_device", by_type["virtual"]) in planned_actions
    assert ("deactivate_mfa_device", by_type["hardware"]) in planned_actions
    assert ("deactivate_mfa_device", by_type["passkey"]) in planned_actions
    assert len(planned_actions) == 5
    assert len(user_serials(iam, "ivan")) == 3

    applied = run_module(MODULE, args)
    assert applied["changed"] is True and actions(applied) == planned_actions
    assert sorted(d["type"] for d in applied["devices"]) == ["hardware", "passkey", "virtual"]
    assert user_serials(iam, "ivan") == []
    assert by_type["virtual"] not in virtual_devices(iam)  # deleted, not left as an orphan
    for check in (True, False):
        assert run_module(MODULE, args, check=check)["changed"] is False


def test_hardware_device_with_virtual_looking_serial_is_only_deactivated(sim, iam, run_module):
    iam.create_user(UserName="judy")
    hardware = serial("judy-token")  # console-registered hardware tokens get arn:...:mfa/ serials too
    iam.enable_mfa_device(UserName="judy", SerialNumber=hardware, AuthenticationCode1="123456", AuthenticationCode2="654321")
    result = run_module(MODULE, {"user_name": "judy", "state": "absent"})
    assert actions(result) == [("deactivate_mfa_device", hardware)]
    assert result["devices"][0]["type"] == "hardware"
    assert user_serials(iam, "judy") == []


def test_remove_orphan_by_serial(sim, iam, run_module):
    made = make_orphan(iam, "kate")
    args = {"serial_number": made["serial_number"], "state": "absent"}
    planned = run_module(MODULE, args, check=True)
    assert actions(planned) == [("delete_virtual_mfa_device", made["serial_number"])]
    assert made["serial_number"] in virtual_devices(iam)
    assert run_module(MODULE, args)["changed"] is True
    assert made["serial_number"] not in virtual_devices(iam)
    for check in (True, False):
        assert run_module(MODULE, args, check=check)["changed"] is False


def test_root_device_is_never_touched(sim, iam, run_module):
    root = serial("root-account-mfa-device")
    assert root in virtual_devices(iam)
    result = run_module(MODULE, {"serial_number": root, "state": "absent"})
    assert result["failed"] is True and "root" in result["msg"]
    assert root in virtual_devices(iam, "Assigned")


def test_device_enabled_for_someone_else_is_refused(sim, iam, run_module):
    make_user(iam, "leo", virtual_mfa=1)
    iam.create_user(UserName="mallory")
    result = run_module(MODULE, {"serial_number": serial("leo"), "user_name": "mallory", "state": "absent"})
    assert result["failed"] is True and "leo" in result["msg"]
    assert user_serials(iam, "leo") == [serial("leo")]


def test_removals_that_are_not_what_they_seem_are_refused_and_change_nothing(sim, iam, run_playbook):
    """Issue 18 #5, in one ansible-playbook run: each task fails with the reason, the account is as it was."""
    make_user(iam, "bob", virtual_mfa=1)
    make_user(iam, "carol", virtual_mfa=1)
    make_orphan(iam, "spare-phone")  # never bob's: not named after him, no tag of his
    hardware = serial("bob-token")  # console-registered hardware tokens get arn:...:mfa/ serials too
    iam.enable_mfa_device(UserName="bob", SerialNumber=hardware, AuthenticationCode1="123456", AuthenticationCode2="654321")
    cases = [
        ({"user_name": "bob", "serial_number": serial("spare-phone"), "state": "absent"}, "enabled for nobody and was never bob's"),
        ({"user_name": "bob", "name": "spare-phone", "state": "absent"}, "enabled for nobody and was never bob's"),
        ({"user_name": "bob", "serial_number": serial("carol"), "state": "absent"}, "enabled for user carol, not bob"),
        ({"serial_number": "GAHT12345678", "state": "absent"}, "give user_name as well"),
        ({"serial_number": "arn:aws:iam::123456789012:u2f/user/bob/key-1", "state": "absent"}, "give user_name as well"),
        ({"serial_number": "arn:aws:iam::210987654321:mfa/bob", "state": "absent"}, "belongs to account 210987654321"),
        ({"serial_number": "arn:aws:iam::123456789012:mfa/x/../bob", "state": "absent"}, "never holds '..'"),
        ({"user_name": "root", "state": "absent"}, "iam_root_credentials"),
    ]
    tasks = [{"name": "case %d" % index, "iamguard.aws.iam_mfa_device": args, "ignore_errors": True} for index, (args, dummy) in enumerate(cases)]
    # and a hardware token's arn:...:mfa/ serial without user_name: nothing found, and the warning says what that means
    tasks.append({"name": "hardware", "iamguard.aws.iam_mfa_device": {"serial_number": hardware, "state": "absent"}})
    before = (virtual_devices(iam), user_serials(iam, "bob"), user_serials(iam, "carol"))
    run = run_playbook([{"name": "refusals", "hosts": "localhost", "gather_facts": False, "tasks": tasks}])
    for (args, fragment), record in zip(cases, run.results):
        assert record["failed"] and fragment in record["result"]["msg"], (args, record["result"].get("msg"))
        assert "Nothing was changed" in record["result"]["msg"] or "nothing was changed" in record["result"]["msg"]
    warned = run.task("hardware")
    assert warned["changed"] is False and "hardware token" in " ".join(warned.get("warnings", [])) + run.stderr + run.stdout
    assert (virtual_devices(iam), user_serials(iam, "bob"), user_serials(iam, "carol")) == before


def test_mfa_enforcing_policy_names_the_fix(sim, iam, run_module):
    """S4: DeactivateMFADevice is denied until the caller uses an STS session obtained with MFA."""
    made = make_user(iam, "nina", virtual_mfa=1)
    sim.configure(require_mfa_session=True)
    args = {"user_name": "nina", "state": "absent"}
    denied = run_module(MODULE, args)
    assert denied["failed"] is True
    assert "GetSessionToken" in denied["msg"] and "session_token" in denied["msg"]
    assert "Traceback" not in denied.stdout
    assert user_serials(iam, "nina") == [serial("nina")]

    seed = made["seeds"][serial("nina")]
    sts = sim.client("sts")
    creds = sts.get_session_token(SerialNumber=serial("nina"), TokenCode=pyotp.TOTP(seed).now())["Credentials"]
    allowed = run_module(MODULE, dict(args, access_key=creds["AccessKeyId"], secret_key=creds["SecretAccessKey"],
                                      session_token=creds["SessionToken"]))
    assert allowed["changed"] is True, allowed
    assert user_serials(iam, "nina") == []
    assert creds["SessionToken"] not in allowed.stdout


def test_invalid_input_changes_nothing(sim, iam, run_module, tmp_path):
    iam.create_user(UserName="olga")
    a_file = tmp_path / "a-file"
    a_file.write_text("", encoding="utf-8")
    before = virtual_devices(iam)
    cases = [
        ({"user_name": "bad name!", "generate_codes": True, "return_secret": True}, "user_name"),
        ({"user_name": "olga", "path": "no-slashes", "seed_path": "/tmp/x"}, "path"),
        ({"user_name": "olga", "authentication_code_1": "12345a", "authentication_code_2": "123456"}, "authentication_code_1"),
        ({"user_name": "olga", "authentication_code_1": "123456"}, "authentication_code"),
        ({"user_name": "olga", "authentication_code_1": "123456", "authentication_code_2": "123456"}, "authentication_code_2"),
        ({"serial_number": "x", "state": "absent"}, "serial_number"),
        ({"serial_number": serial("olga"), "state": "present", "user_name": "olga"}, "serial_number"),
        # A missing folder is created 0700 (so a missing one is no refusal); one under a file never can be.
        ({"user_name": "olga", "seed_path": str(a_file / "no-such-folder" / "olga.seed")}, "seed_path"),
    ]
    assert_each_refused(run_module, MODULE, cases)
    assert virtual_devices(iam) == before


def test_secrets_never_reach_output(sim, iam, run_module, tmp_path):
    iam.create_user(UserName="pat")
    seed_path = str(tmp_path / "pat.seed")
    qr_path = str(tmp_path / "pat.png")
    result = run_module(MODULE, {"user_name": "pat", "generate_codes": True, "seed_path": seed_path, "qr_code_png_path": qr_path},
                        diff=True, verbosity=4, env={"ANSIBLE_DEBUG": "1"})
    assert result["changed"] is True
    seed = open(seed_path).read().strip()
    import base64
    png_b64 = base64.b64encode(open(qr_path, "rb").read()).decode()
    for secret in (seed, seed.lower(), png_b64[:40]):
        assert secret not in result.stdout
        assert secret not in result.stderr


def test_throttling_is_absorbed(sim, iam, run_module, tmp_path):
    make_user(iam, "quinn", virtual_mfa=1, hardware_mfa=1)
    sim.configure(throttle_rate=2, throttle_burst=1)
    try:
        result = run_module(MODULE, {"user_name": "quinn", "state": "absent"})
    finally:
        sim.configure(throttle_rate=None)
    assert result["changed"] is True, result
    assert sim.counters().get("throttled", 0) > 0
    assert user_serials(iam, "quinn") == []


def test_info_lists_types_orphans_and_root(sim, iam, run_module):
    make_user(iam, "ruth", virtual_mfa=1, hardware_mfa=1, passkeys=1)
    orphan = make_orphan(iam, "stale")["serial_number"]
    sim.reset_counters()
    info = run_module("iamguard.aws.iam_mfa_device_info", {"user_names": ["ruth", "ghost"]}, check=True)
    assert info["changed"] is False
    assert [d["serial_number"] for d in info["orphans"]] == [orphan]
    root = [d for d in info["virtual_devices"] if d["root"]]
    assert len(root) == 1 and root[0]["assigned"] is True
    assert sorted(d["type"] for d in info["users"]["ruth"]) == ["hardware", "passkey", "virtual"]
    assert "ghost" not in info["users"] and info["missing_users"] == ["ghost"]
    assert info["summary"] == {"virtual": 3, "virtual_assigned": 2, "orphans": 1, "pending_enrolments": 0}
    counts = sim.counters()
    # ruth's hardware token was enabled moments ago, maybe after the list was read: one re-read before calling it hardware
    assert counts.get("iam:ListVirtualMFADevices") == 2
    assert counts.get("iam:ListMFADevices") == 2
    assert counts.get("iam:ListMFADeviceTags") == 1  # the one unassigned device: an enrolment of ours?

    unassigned = run_module("iamguard.aws.iam_mfa_device_info", {"assignment_status": "Unassigned"})
    assert [d["serial_number"] for d in unassigned["virtual_devices"]] == [orphan]


@pytest.mark.parametrize("check", [True, False])
def test_module_defaults_group_reaches_both_collections(sim, iam, run_playbook, check):
    """group/iamguard.aws.aws extends amazon.aws.aws: one module_defaults entry serves both."""
    make_orphan(iam, "grouped")
    run = run_playbook([{
        "hosts": "localhost", "gather_facts": False,
        "module_defaults": {"group/iamguard.aws.aws": {"endpoint_url": sim.url, "region": "us-east-1"}},
        "tasks": [{"name": "info", "register": "info", "iamguard.aws.iam_mfa_device_info": {}},
                  {"name": "caller", "register": "caller", "amazon.aws.aws_caller_info": {}},
                  {"ansible.builtin.assert": {"that": ["info.orphans | length == 1", "caller.account == '123456789012'"]}}],
    }], env={"AWS_ENDPOINT_URL": "http://127.0.0.1:9"}, check=check)
    assert run.rc == 0, run.stdout


def test_tags_and_path_of_a_new_device(sim, iam, run_module, tmp_path):
    iam.create_user(UserName="tina")
    args = {"user_name": "tina", "path": "/team/", "generate_codes": True, "seed_path": str(tmp_path / "tina.seed"),
            "tags": {"owner": "security", "ticket": "SEC-42"}}
    result = run_module(MODULE, args)
    assert result["device"]["serial_number"] == serial("tina", "/team/")
    assert user_serials(iam, "tina") == [serial("tina", "/team/")]
    tags = {t["Key"]: t["Value"] for t in iam.list_mfa_device_tags(SerialNumber=serial("tina", "/team/"))["Tags"]}
    assert {k: v for k, v in tags.items() if not k.startswith("iamguard:")} == {"owner": "security", "ticket": "SEC-42"}
    assert tags["iamguard:enrolment"] == "unattended" and tags["iamguard:enrolment-user"] == "tina"
    seed = open(str(tmp_path / "tina.seed")).read().strip()
    assert tags["iamguard:seed-sha256"] == hashlib.sha256(seed.encode()).hexdigest()
    assert run_module(MODULE, args)["changed"] is False


def test_enrolment_for_a_missing_user_changes_nothing(sim, iam, run_module, tmp_path):
    for check in (True, False):
        result = run_module(MODULE, {"user_name": "nobody", "generate_codes": True, "seed_path": str(tmp_path / "x.seed")}, check=check)
        assert result["failed"] is True and "does not exist" in result["msg"]
    assert serial("nobody") not in virtual_devices(iam)
    assert not (tmp_path / "x.seed").exists()


def two_codes(seed_path):
    totp = pyotp.TOTP(open(seed_path).read().strip())
    now = time.time()
    return {"authentication_code_1": totp.at(now - 30), "authentication_code_2": totp.at(now)}


def test_stale_secret_file_after_the_device_was_created_again(sim, iam, run_module, tmp_path):
    """Issue 12 #4: the files of an earlier device are never handed out as the current device's secret."""
    iam.create_user(UserName="uma")
    qr_path, seed_path = str(tmp_path / "uma.png"), str(tmp_path / "uma.seed")
    step_1 = {"user_name": "uma", "qr_code_png_path": qr_path, "seed_path": seed_path}
    assert run_module(MODULE, step_1)["changed"] is True
    stale_seed = open(seed_path).read()
    # Someone deletes the device and enrols again in the console (or another run), but cancels: same name, new seed.
    iam.delete_virtual_mfa_device(SerialNumber=serial("uma"))
    iam.create_virtual_mfa_device(VirtualMFADeviceName="uma")

    for check in (True, False):
        refused = run_module(MODULE, step_1, check=check)
        assert refused["failed"] is True and "force=true" in refused["msg"] and seed_path in refused["msg"], refused
    assert open(seed_path).read() == stale_seed

    forced = dict(step_1, force=True)
    planned = run_module(MODULE, forced, check=True)
    assert [kind for kind, dummy in actions(planned)] == [
        "delete_virtual_mfa_device", "create_virtual_mfa_device", "tag_mfa_device", "write_qr_code_png", "write_seed"]
    assert open(seed_path).read() == stale_seed
    applied = run_module(MODULE, forced)
    assert applied["changed"] is True and actions(applied) == actions(planned)
    assert open(seed_path).read() != stale_seed
    for check in (True, False):  # force replaces a stale secret only: the device's own one stays
        assert run_module(MODULE, forced, check=check)["changed"] is False

    # The file now holds the device's real secret: its codes enable it.
    assert run_module(MODULE, dict(step_1, **two_codes(seed_path)))["device"]["assigned"] is True
    assert user_serials(iam, "uma") == [serial("uma")]


def test_pending_enrolment_is_not_an_orphan_and_a_removed_serial_is_already_absent(sim, iam, run_module, tmp_path):
    """Issue 12 #9: step 1 of a person's enrolment is reported apart from orphans; removing a gone serial is no warning."""
    iam.create_user(UserName="vera")
    run_module(MODULE, {"user_name": "vera", "qr_code_png_path": str(tmp_path / "vera.png")})
    console_orphan = make_orphan(iam, "old-laptop")["serial_number"]

    info = run_module("iamguard.aws.iam_mfa_device_info", {}, check=True)
    assert [d["serial_number"] for d in info["orphans"]] == [console_orphan]
    assert info["orphans"][0]["created_at"] is None and info["orphans"][0]["pending_enrolment"] is False
    pending = info["pending_enrolments"]
    assert [d["serial_number"] for d in pending] == [serial("vera")]
    assert pending[0]["pending_enrolment"] is True and pending[0]["age_minutes"] in (0, 1) and pending[0]["created_at"].endswith("Z")
    assert info["summary"]["orphans"] == 1 and info["summary"]["pending_enrolments"] == 1

    args = {"serial_number": console_orphan, "state": "absent"}
    assert actions(run_module(MODULE, args, check=True)) == [("delete_virtual_mfa_device", console_orphan)]
    assert run_module(MODULE, args)["changed"] is True
    for check in (True, False):
        again = run_module(MODULE, args, check=check)
        assert again["changed"] is False and again["devices"] == []
        assert "not a virtual MFA device" not in again.stdout and "[WARNING]" not in again.stdout
    assert serial("vera") in virtual_devices(iam, "Unassigned")


def test_reset_removes_a_device_deactivated_by_hand(sim, iam, run_module):
    """Issue 12 #14: a deactivated virtual device no longer shows through the user; the reset still deletes it."""
    made = make_user(iam, "walt", virtual_mfa=1, hardware_mfa=1)
    by_type = {d["type"]: d["serial_number"] for d in made["mfa_devices"]}
    iam.deactivate_mfa_device(UserName="walt", SerialNumber=by_type["virtual"])
    args = {"user_name": "walt", "state": "absent"}
    planned = run_module(MODULE, args, check=True)
    assert sorted(actions(planned)) == sorted([("deactivate_mfa_device", by_type["hardware"]),
                                               ("delete_virtual_mfa_device", by_type["virtual"])])
    assert by_type["virtual"] in virtual_devices(iam)
    applied = run_module(MODULE, args)
    assert actions(applied) == actions(planned)
    assert by_type["virtual"] not in virtual_devices(iam) and user_serials(iam, "walt") == []
    for check in (True, False):
        assert run_module(MODULE, args, check=check)["changed"] is False


def test_absent_refuses_enrolment_options_and_bad_output_paths_before_any_call(sim, iam, run_module, tmp_path):
    """Issue 12 #18 and #16: options that contradict state=absent, and secret paths that can never be written."""
    make_user(iam, "xena", virtual_mfa=1)
    fifo = str(tmp_path / "xena.fifo")
    os.mkfifo(fifo)
    same = str(tmp_path / "xena.secret")
    cases = [
        ({"user_name": "xena", "state": "absent", "generate_codes": True}, "generate_codes"),
        ({"user_name": "xena", "state": "absent", "authentication_code_1": "123456", "authentication_code_2": "654321"},
         "authentication_code_1"),
        ({"user_name": "xena", "state": "absent", "seed_path": str(tmp_path / "s")}, "seed_path"),
        ({"user_name": "xena", "state": "absent", "qr_code_png_path": str(tmp_path / "q.png")}, "qr_code_png_path"),
        ({"user_name": "xena", "state": "absent", "tags": {"a": "b"}}, "tags"),
        ({"user_name": "xena", "name": "phone", "seed_path": same, "qr_code_png_path": same}, "seed_path"),
        ({"user_name": "xena", "name": "phone", "seed_path": fifo}, "not a regular file"),
        ({"user_name": "xena", "name": "phone", "seed_path": fifo, "force": True}, "not a regular file"),
        ({"user_name": "xena", "name": "phone", "qr_code_png_path": "/dev/null", "force": True}, "not a regular file"),
        # Input rules do not depend on the account: xena already has a device, the missing destination is still refused.
        ({"user_name": "xena", "generate_codes": True}, "generate_codes"),
    ]
    sim.reset_counters()
    assert_each_refused(run_module, MODULE, cases)
    assert not [key for key in sim.counters() if key.startswith("iam:")], sim.counters()
    assert user_serials(iam, "xena") == [serial("xena")]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and not os.path.exists(same)


def test_generate_codes_without_pyotp_fails_before_any_call(sim, iam, run_module, tmp_path):
    """Issue 12 #5: the optional library is checked first; issue 19: the message says what to install where."""
    iam.create_user(UserName="yuri")
    blocker = tmp_path / "no-pyotp" / "pyotp"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('pyotp is not installed here')\n")
    pythonpath = os.pathsep.join(p for p in (str(blocker.parent), os.environ.get("PYTHONPATH")) if p)
    sim.reset_counters()
    result = run_module(MODULE, {"user_name": "yuri", "generate_codes": True, "seed_path": str(tmp_path / "yuri.seed")},
                        env={"PYTHONPATH": pythonpath})
    assert result["failed"] is True and result["msg"].startswith(
        "generate_codes needs the Python library pyotp on the host that runs the module (pip install pyotp"), result
    assert result["msg"].endswith("nothing was changed."), result
    assert not [key for key in sim.counters() if key.startswith("iam:")], sim.counters()
    assert serial("yuri") not in virtual_devices(iam)


# Only EnableMFADevice draws faults; with this seed the first draw drops the answer after IAM acted and the
# second (the retry) goes through. The test checks that exactly one answer was lost.
LOSE_FIRST_ENABLE = {"faults": {"drop_after": 0.5}, "fault_actions": ["iam:EnableMFADevice"], "fault_seed": 1}


def test_lost_answer_to_enable_is_success_and_the_secret_is_kept(sim, iam, run_module, tmp_path):
    """Issue 12 #13: the retry meets EntityAlreadyExists; the device is this user's, so the enrolment succeeded."""
    iam.create_user(UserName="zoe")
    seed_path = str(tmp_path / "zoe.seed")
    args = {"user_name": "zoe", "generate_codes": True, "seed_path": seed_path}
    sim.configure(**LOSE_FIRST_ENABLE)
    assert run_module(MODULE, args, check=True)["changed"] is True
    applied = run_module(MODULE, args)
    assert sim.counters().get("fault:drop_after") == 1  # the answer of EnableMFADevice was dropped after IAM acted, once
    assert applied.get("failed") is not True, applied.get("msg")
    assert applied["changed"] is True and applied["device"]["assigned"] is True
    assert user_serials(iam, "zoe") == [serial("zoe")]
    seed = open(seed_path).read().strip()
    tags = {t["Key"]: t["Value"] for t in iam.list_mfa_device_tags(SerialNumber=serial("zoe"))["Tags"]}
    assert tags["iamguard:seed-sha256"] == hashlib.sha256(seed.encode()).hexdigest()  # the live device's secret, kept
    for check in (True, False):
        assert run_module(MODULE, args, check=check)["changed"] is False
