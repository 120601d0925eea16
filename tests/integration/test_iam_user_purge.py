"""iamguard.aws.iam_user_purge through ansible-playbook against the simulator."""

import json
import os
import stat
import time

import pytest

from tests.integration.faults import Faults
from tests.integration.refusals import assert_each_refused
from tests.simulator.seed import account_snapshot, caller_user, make_user

MODULE = "iamguard.aws.iam_user_purge"
CREDENTIAL_ACTIONS = ("delete_login_profile", "delete_access_key", "update_access_key", "delete_ssh_public_key", "delete_signing_certificate",
                      "delete_service_specific_credential", "tag_mfa_device", "deactivate_mfa_device", "delete_virtual_mfa_device")
PERMISSION_ACTIONS = ("detach_user_policy", "delete_user_policy", "remove_user_from_group")
EVERYTHING = dict(login_profile=True, access_keys=2, ssh_keys=1, signing_certs=1, service_credentials=1, virtual_mfa=1, hardware_mfa=1,
                  passkeys=1, groups=("staff", "deploy"), inline_policies=2, managed_policies=2, boundary=True, tags={"team": "ops"})


def users(iam):
    return sorted(u["UserName"] for page in iam.get_paginator("list_users").paginate() for u in page["Users"])


def orphans(iam):
    pages = iam.get_paginator("list_virtual_mfa_devices").paginate(AssignmentStatus="Unassigned")
    return [d["SerialNumber"] for page in pages for d in page["VirtualMFADevices"]]


def by_user(result):
    return {user["requested"]: user for user in result["users"]}


def kinds(user_result):
    return [action["action"] for action in user_result["actions"]]


def test_every_dependent_check_apply_idempotent(sim, iam, run_module):
    make_user(iam, "alice", **EVERYTHING)
    make_user(iam, "bystander", **EVERYTHING)
    before = account_snapshot(iam)

    sim.reset_counters()
    planned = run_module(MODULE, {"user_names": "alice"}, check=True)
    called = [key.split(":")[-1] for key in sim.counters()]
    assert called and all(action.startswith(("Get", "List")) for action in called), called  # check mode only reads
    assert planned["changed"] is True
    alice = by_user(planned)["alice"]
    assert alice["status"] == "deleted" and alice["manifest"] is None
    assert sorted(set(kinds(alice))) == sorted(set(CREDENTIAL_ACTIONS + PERMISSION_ACTIONS + ("delete_user",)) - {"update_access_key"})
    assert kinds(alice).count("deactivate_mfa_device") == 3
    assert kinds(alice).count("delete_virtual_mfa_device") == 1
    assert account_snapshot(iam) == before

    applied = run_module(MODULE, {"user_names": "alice"})
    assert applied["changed"] is True
    assert by_user(applied)["alice"]["actions"] == alice["actions"]
    assert users(iam) == ["bystander"]
    assert orphans(iam) == []
    after = account_snapshot(iam)
    assert after["users"]["bystander"] == before["users"]["bystander"]

    for check in (True, False):
        again = run_module(MODULE, {"user_names": "alice"}, check=check)
        assert again["changed"] is False
        assert by_user(again)["alice"]["status"] == "absent"


def test_credentials_are_removed_before_permissions(sim, iam, run_module):
    make_user(iam, "bob", **EVERYTHING)
    result = run_module(MODULE, {"user_names": ["bob"]}, check=True)
    order = kinds(by_user(result)["bob"])
    last_credential = max(i for i, kind in enumerate(order) if kind in CREDENTIAL_ACTIONS)
    first_permission = min(i for i, kind in enumerate(order) if kind in PERMISSION_ACTIONS)
    assert order[0] == "delete_login_profile"
    assert last_credential < first_permission
    assert order[-1] == "delete_user"


@pytest.mark.parametrize("devices", [
    {"virtual_mfa": 1}, {"hardware_mfa": 1}, {"passkeys": 1}, {"virtual_mfa": 1, "passkeys": 1},
    {"virtual_mfa": 2, "hardware_mfa": 1, "passkeys": 2},
])
def test_any_mix_of_device_types_goes_in_one_run(sim, iam, run_module, devices):
    make_user(iam, "carol", login_profile=True, **devices)
    result = run_module(MODULE, {"user_names": "carol"})
    carol = by_user(result)["carol"]
    assert result.get("failed") is not True, result
    assert carol["status"] == "deleted" and carol["error"] is None
    assert kinds(carol).count("deactivate_mfa_device") == sum(devices.values())
    assert kinds(carol).count("delete_virtual_mfa_device") == devices.get("virtual_mfa", 0)
    assert users(iam) == [] and orphans(iam) == []


def test_user_given_by_id(sim, iam, run_module):
    make_user(iam, "dave", access_keys=1)
    user_id = iam.get_user(UserName="dave")["User"]["UserId"]
    sim.reset_counters()
    planned = run_module(MODULE, {"user_ids": [user_id]}, check=True)
    assert by_user(planned)[user_id]["user_name"] == "dave"
    assert sim.counters().get("iam:ListUsers") == 1
    result = run_module(MODULE, {"user_ids": [user_id]})
    assert by_user(result)[user_id]["status"] == "deleted"
    assert users(iam) == []
    again = run_module(MODULE, {"user_ids": [user_id]})
    assert again["changed"] is False and by_user(again)[user_id]["status"] == "absent"


def test_missing_user_is_not_an_error(sim, iam, run_module):
    result = run_module(MODULE, {"user_names": ["ghost"]})
    assert result.get("failed") is not True
    assert result["changed"] is False
    assert by_user(result)["ghost"]["status"] == "absent"


def test_protected_users_are_reported_and_others_proceed(sim, iam, run_module):
    # Before issue 12's fix a protected target failed the whole task, even in --check, and the diff was lost.
    make_user(iam, "break-glass-1", access_keys=1)
    make_user(iam, "erin", access_keys=1)
    before = account_snapshot(iam)["users"]["break-glass-1"]
    args = {"user_names": ["break-glass-1", "erin", "root"], "protected_users": ["break-glass-*"]}
    planned = run_module(MODULE, args, check=True, diff=True)
    assert planned.get("failed") is not True, planned.get("msg")
    assert planned["changed"] is True
    assert "erin" in planned["diff"]["before"] and planned["diff"]["after"]["erin"] == {}
    assert any("break-glass-1 was not touched" in warning for warning in planned["warnings"])

    result = run_module(MODULE, args)
    assert result.get("failed") is not True, result.get("msg")
    statuses = {name: user["status"] for name, user in by_user(result).items()}
    assert statuses == {"break-glass-1": "protected", "erin": "deleted", "root": "protected"}
    assert by_user(result)["break-glass-1"]["actions"] == []
    assert len([w for w in result["warnings"] if "was not touched" in w]) == 2
    assert account_snapshot(iam)["users"]["break-glass-1"] == before
    assert users(iam) == ["break-glass-1"]
    again = run_module(MODULE, args)
    assert again["changed"] is False and again.get("failed") is not True


def test_fail_on_protected_fails_at_the_end(sim, iam, run_module):
    make_user(iam, "break-glass-1", access_keys=1)
    make_user(iam, "erin", access_keys=1)
    args = {"user_names": ["break-glass-1", "erin"], "protected_users": ["break-glass-*"], "fail_on_protected": True}
    planned = run_module(MODULE, args, check=True)
    assert planned["failed"] is True and "1 of 2 users" in planned["msg"] and "break-glass-1" in planned["msg"]
    assert by_user(planned)["erin"]["status"] == "deleted"  # the others' plans are still returned
    result = run_module(MODULE, args)
    assert result["failed"] is True
    assert users(iam) == ["break-glass-1"]


def test_the_caller_itself_is_never_purged(sim, iam, run_module):
    me = caller_user(iam, "ops-admin")
    env = {"AWS_ACCESS_KEY_ID": me["access_key_id"], "AWS_SECRET_ACCESS_KEY": me["secret_access_key"]}
    user_id = iam.get_user(UserName="ops-admin")["User"]["UserId"]
    for args in ({"user_names": ["ops-admin"]}, {"user_ids": [user_id]}):
        result = run_module(MODULE, args, env=env)
        assert result.get("failed") is not True and result["changed"] is False
        assert any("identity running this task" in warning for warning in result["warnings"])
        assert result["users"][0]["status"] == "protected"
        refused = run_module(MODULE, dict(args, fail_on_protected=True), env=env)
        assert refused["failed"] is True and "identity running this task" in refused["msg"]
    assert "ops-admin" in users(iam)
    assert me["secret_access_key"] not in result.stdout


def test_disabled_keeps_the_user_and_its_permissions(sim, iam, run_module):
    make_user(iam, "frank", **EVERYTHING)
    args = {"user_names": "frank", "state": "disabled", "access_key_action": "deactivate"}
    planned = run_module(MODULE, args, check=True)
    frank = by_user(planned)["frank"]
    assert frank["status"] == "disabled"
    assert "delete_user" not in kinds(frank) and not set(kinds(frank)) & set(PERMISSION_ACTIONS)
    assert kinds(frank).count("update_access_key") == 2

    run_module(MODULE, args)
    snap = account_snapshot(iam)["users"]["frank"]
    assert snap["login_profile"] is False
    assert sorted(snap["access_keys"].values()) == ["Inactive", "Inactive"]
    for kind in ("ssh_keys", "signing_certs", "service_credentials", "mfa_devices"):
        assert not snap[kind], kind
    assert snap["groups"] == ["deploy", "staff"]
    assert len(snap["inline_policies"]) == 2 and len(snap["managed_policies"]) == 2
    assert orphans(iam) == []
    for check in (True, False):
        again = run_module(MODULE, args, check=check)
        assert again["changed"] is False and by_user(again)["frank"]["status"] == "disabled"

    stripped = run_module(MODULE, {"user_names": "frank", "state": "disabled", "remove_permissions": True})
    assert set(kinds(by_user(stripped)["frank"])) == {"delete_access_key", *PERMISSION_ACTIONS}
    snap = account_snapshot(iam)["users"]["frank"]
    assert snap["groups"] == [] and snap["access_keys"] == {} and snap["managed_policies"] == []


def test_manifest_written_before_changes_with_everything_but_secrets(sim, iam, run_module, tmp_path):
    made = make_user(iam, "grace", **EVERYTHING)
    manifest_dir = tmp_path / "manifests"
    manifest_dir.mkdir()
    planned = run_module(MODULE, {"user_names": "grace", "manifest_dir": str(manifest_dir)}, check=True)
    assert by_user(planned)["grace"]["manifest"] is None and list(manifest_dir.iterdir()) == []

    result = run_module(MODULE, {"user_names": "grace", "manifest_dir": str(manifest_dir)})
    path = by_user(result)["grace"]["manifest"]
    assert os.path.dirname(path) == str(manifest_dir)
    assert os.path.basename(path).startswith("123456789012-grace-") and path.endswith(".json")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    manifest = json.load(open(path))
    assert manifest["user"]["user_name"] == "grace" and manifest["user"]["arn"].endswith(":user/grace")
    assert manifest["user"]["tags"] == {"team": "ops"}
    assert manifest["user"]["permissions_boundary"]
    assert sorted(manifest["groups"]) == ["deploy", "staff"]
    assert len(manifest["inline_policies"]) == 2 and all(manifest["inline_policies"].values())
    assert len(manifest["attached_policies"]) == 2
    assert {k["access_key_id"] for k in manifest["access_keys"]} == set(made["access_key_ids"])
    assert all("last_used" in k and "status" in k for k in manifest["access_keys"])
    assert all(k["body"].startswith("ssh-rsa ") for k in manifest["ssh_public_keys"])
    assert all("BEGIN CERTIFICATE" in c["body"] for c in manifest["signing_certificates"])
    assert len(manifest["service_specific_credentials"]) == 1
    assert sorted(d["type"] for d in manifest["mfa_devices"]) == ["hardware", "passkey", "virtual"]
    assert manifest["actions"] == by_user(result)["grace"]["actions"]
    text = open(path).read()
    for secret in made["secrets"]:
        assert secret not in text
        assert secret not in result.stdout


def test_batch_of_fifty_with_one_failure(sim, iam, run_module):
    names = ["batch-%02d" % i for i in range(50)]
    for name in names:
        make_user(iam, name, login_profile=True, access_keys=1, groups=("staff",))
    make_user(iam, "batch-mfa", virtual_mfa=1)
    make_user(iam, "bystander", access_keys=1)
    sim.configure(require_mfa_session=True)  # batch-mfa cannot be deactivated without an MFA session
    result = run_module(MODULE, {"user_names": names + ["batch-mfa"], "max_workers": 8})
    assert result["failed"] is True
    assert "1 of 51 users" in result["msg"] and "batch-mfa" in result["msg"]
    failed = by_user(result)["batch-mfa"]
    # The dummy credentials are long-term keys (no session token): they never carry MFA, so the fix is named.
    assert failed["status"] == "failed" and "GetSessionToken" in failed["error"] and "long-term access keys" in failed["error"]
    assert all(by_user(result)[name]["status"] == "deleted" for name in names)
    assert users(iam) == ["batch-mfa", "bystander"]


def test_diff_shows_before_and_after_without_secrets(sim, iam, run_module):
    made = make_user(iam, "heidi", **EVERYTHING)
    result = run_module(MODULE, {"user_names": "heidi", "state": "disabled"}, check=True, diff=True)
    before, after = result["diff"]["before"]["heidi"], result["diff"]["after"]["heidi"]
    assert before["login_profile"] is True and after["login_profile"] is False
    assert len(before["access_keys"]) == 2 and after["access_keys"] == []
    assert after["groups"] == before["groups"]
    for secret in made["secrets"]:
        assert secret not in result.stdout


def test_invalid_input_changes_nothing(sim, iam, run_module, tmp_path):
    make_user(iam, "ivan", access_keys=1)
    a_file = tmp_path / "a-file"
    a_file.write_text("", encoding="utf-8")
    open_folder = tmp_path / "open"
    open_folder.mkdir()
    open_folder.chmod(0o777)
    before = account_snapshot(iam)
    cases = [
        ({"user_names": ["*"]}, "user_names"),
        ({"user_names": ["a" * 65]}, "user_names"),
        ({"user_names": [""]}, "user_names"),
        ({"user_ids": ["AKIAEXAMPLE"]}, "user_ids"),
        ({"user_names": []}, "user_names"),
        ({"user_names": ["ivan"], "max_workers": 0}, "max_workers"),
        ({"user_names": ["ivan"], "max_workers": 1000}, "max_workers"),
        ({"user_names": ["ivan"], "access_key_action": "deactivate"}, "access_key_action"),
        ({"user_names": ["ivan"], "access_keys": "deactivate"}, "access_keys"),  # the old name: refused, not ignored
        ({"user_names": "ivan,x"}, "YAML list"),
        # A missing folder is created 0700, so it is no refusal; one under a file never can be, and others may not write to one.
        ({"user_names": ["ivan"], "manifest_dir": str(a_file / "manifests")}, "manifest_dir"),
        ({"user_names": ["ivan"], "manifest_dir": str(open_folder)}, "manifest_dir"),
        ({"user_names": ["ivan"], "state": "gone"}, "state"),
    ]
    assert_each_refused(run_module, MODULE, cases)
    assert account_snapshot(iam) == before


def test_api_calls_for_a_typical_user(sim, iam, run_module, record_property):
    typical = dict(login_profile=True, access_keys=1, virtual_mfa=1, groups=("staff",), managed_policies=1, inline_policies=1)
    make_user(iam, "typical", **typical)
    sim.reset_counters()
    run_module(MODULE, {"user_names": "typical"})
    counts = sim.counters()
    calls = sum(count for key, count in counts.items() if key.startswith(("iam:", "sts:")))
    mutating = sum(count for key, count in counts.items() if key.split(":")[-1].startswith(("Delete", "Deactivate", "Detach", "Remove")))
    record_property("calls_per_typical_user", calls)
    print("API calls for one typical user: %d (%d mutating): %s" % (calls, mutating, json.dumps(counts, sort_keys=True)))
    assert mutating == 8  # profile, key, deactivate+delete MFA, detach, inline, group, user (and TagMFADevice, the intent, besides)
    assert calls <= 22 and counts["iam:TagMFADevice"] == 1


def test_dependent_appearing_during_the_run_is_removed_and_recorded(sim, iam, run_module, tmp_path):
    make_user(iam, "judy", login_profile=True, groups=("staff",))
    sim.configure(race_before_delete_user=["judy"])  # an access key appears just before DeleteUser
    result = run_module(MODULE, {"user_names": "judy", "manifest_dir": str(tmp_path)})
    judy = by_user(result)["judy"]
    assert judy["status"] == "deleted", judy
    assert kinds(judy) == ["delete_login_profile", "remove_user_from_group", "delete_user", "delete_access_key"]
    assert users(iam) == []
    manifest = json.load(open(judy["manifest"]))
    assert manifest["login_profile"] and manifest["groups"] == ["staff"]  # the first inventory stays
    appeared = manifest["appeared_during_run"][0]
    assert len(appeared["access_keys"]) == 1 and appeared["actions"][0]["action"] == "delete_access_key"


def test_conflict_retries_are_bounded(sim, iam, run_module):
    make_user(iam, "kim")
    sim.configure(race_before_delete_user=["kim"])
    result = run_module(MODULE, {"user_names": "kim", "max_conflict_retries": 0})
    assert result["failed"] is True
    kim = by_user(result)["kim"]
    assert kim["status"] == "failed" and "DeleteConflict" in kim["error"] and "0 re-inventories" in kim["error"]
    assert users(iam) == ["kim"]


@pytest.mark.parametrize("max_workers", [1, 16])
def test_batch_under_throttling_converges(sim, iam, run_module, max_workers):
    names = ["load-%02d" % i for i in range(12)]
    for name in names:
        make_user(iam, name, login_profile=True, access_keys=1, virtual_mfa=1, hardware_mfa=1, groups=("staff",))
    sim.configure(throttle_rate=25, throttle_burst=5)  # IAM-like: excess calls answered "Throttling: Rate exceeded"
    sim.reset_counters()
    started = time.monotonic()
    result = run_module(MODULE, {"user_names": names, "max_workers": max_workers})
    wall = time.monotonic() - started
    sim.configure(throttle_rate=None)
    assert result.get("failed") is not True, result.get("msg")
    assert all(user["status"] == "deleted" for user in result["users"])
    assert users(iam) == [] and orphans(iam) == []
    counts = sim.counters()
    accepted = sum(count for key, count in counts.items() if key.startswith(("iam:", "sts:")))  # throttled calls are counted apart
    print("max_workers=%d: %d calls accepted in %.1f s (%.1f/s against a limit of 25/s; ansible-playbook start-up included), %d throttled"
          % (max_workers, accepted, wall, accepted / wall, counts.get("throttled", 0)))
    if max_workers > 1:
        assert counts.get("throttled", 0) > 0  # the throttle really bit, and the retries absorbed it
        # botocore's adaptive mode held such a run to 1-2 calls/s; the limit is 25/s. A loose floor, as the machine may be busy.
        assert accepted / wall > 5


# --- issue 12 ------------------------------------------------------------------------------


def test_one_string_with_a_comma_deletes_nobody(sim, iam, run_module):
    # Before the fix Ansible's list type split 'x,y' and both users were deleted.
    make_user(iam, "x", access_keys=1)
    make_user(iam, "y", access_keys=1)
    before = account_snapshot(iam)
    for check in (True, False):
        result = run_module(MODULE, {"user_names": "x,y"}, check=check)
        assert result["failed"] is True
        assert "user_names" in result["msg"] and "YAML list" in result["msg"] and "Nothing was changed" in result["msg"]
    assert account_snapshot(iam) == before
    both = run_module(MODULE, {"user_names": ["x", "y"]})
    assert [user["status"] for user in both["users"]] == ["deleted", "deleted"]


def _deactivated_by_a_stopped_run(iam, name):
    """The state kill -9 leaves between DeactivateMFADevice and DeleteVirtualMFADevice."""
    serial = iam.list_mfa_devices(UserName=name)["MFADevices"][0]["SerialNumber"]
    iam.deactivate_mfa_device(UserName=name, SerialNumber=serial)
    return serial


def test_rerun_deletes_the_device_a_stopped_run_only_deactivated(sim, iam, run_module, tmp_path):
    make_user(iam, "lara", login_profile=True, virtual_mfa=1, groups=("staff",))
    make_user(iam, "bystander", virtual_mfa=1)
    serial = _deactivated_by_a_stopped_run(iam, "lara")
    assert orphans(iam) == [serial]
    args = {"user_names": "lara", "manifest_dir": str(tmp_path)}
    planned = run_module(MODULE, args, check=True)
    assert ("delete_virtual_mfa_device", serial) in [(a["action"], a["target"]) for a in by_user(planned)["lara"]["actions"]]
    assert orphans(iam) == [serial]
    result = run_module(MODULE, args)
    lara = by_user(result)["lara"]
    assert lara["actions"] == by_user(planned)["lara"]["actions"]
    assert users(iam) == ["bystander"] and orphans(iam) == []
    manifest = json.load(open(lara["manifest"]))
    assert [d["serial_number"] for d in manifest["mfa_devices"]] == [serial]  # recorded before its removal
    again = run_module(MODULE, args)
    assert again["changed"] is False and by_user(again)["lara"]["status"] == "absent"


def test_purge_of_a_user_deleted_by_the_stopped_run_removes_its_device(sim, iam, run_module):
    make_user(iam, "mona", virtual_mfa=1)
    make_user(iam, "bystander", virtual_mfa=1)
    serial = _deactivated_by_a_stopped_run(iam, "mona")
    iam.delete_user(UserName="mona")  # as a rerun did before the fix, leaving the device behind
    planned = run_module(MODULE, {"user_names": "mona"}, check=True)
    assert planned["changed"] is True
    assert by_user(planned)["mona"]["status"] == "absent"
    assert by_user(planned)["mona"]["actions"] == [{"action": "delete_virtual_mfa_device", "target": serial}]
    assert orphans(iam) == [serial]
    result = run_module(MODULE, {"user_names": "mona"})
    assert result["changed"] is True and by_user(result)["mona"]["actions"] == by_user(planned)["mona"]["actions"]
    assert orphans(iam) == []
    assert users(iam) == ["bystander"]
    again = run_module(MODULE, {"user_names": "mona"})
    assert again["changed"] is False


# 20 users show the batch converging through the fault mix; IAMGUARD_BIG_FAULTS=1 runs the 50 of the README's figures.
FAULT_BATCH = 50 if os.environ.get("IAMGUARD_BIG_FAULTS") == "1" else 20


def test_batch_purge_converges_through_faults(sim, iam, run_module, record_property):
    names = ["fault-%02d" % i for i in range(FAULT_BATCH)]
    for name in names:
        make_user(iam, name, login_profile=True, access_keys=1, virtual_mfa=1, hardware_mfa=1, groups=("staff",), inline_policies=1)
    make_user(iam, "bystander", **EVERYTHING)
    before = account_snapshot(iam)
    args = {"user_names": names, "max_workers": 8}
    faults = Faults(sim, seed=12)
    with faults:
        planned = run_module(MODULE, args, check=True)
    assert planned.get("failed") is not True, planned.get("msg")
    assert [user["status"] for user in planned["users"]] == ["deleted"] * FAULT_BATCH
    assert account_snapshot(iam) == before

    started = time.monotonic()
    with faults:
        result = run_module(MODULE, args)
    wall = time.monotonic() - started
    assert result.get("failed") is not True, result.get("msg")
    assert [user["actions"] for user in result["users"]] == [user["actions"] for user in planned["users"]]

    with faults:
        again = run_module(MODULE, args)
    assert again.get("failed") is not True, again.get("msg")
    assert again["changed"] is False and {user["status"] for user in again["users"]} == {"absent"}
    assert users(iam) == ["bystander"] and orphans(iam) == []
    assert account_snapshot(iam)["users"]["bystander"] == before["users"]["bystander"]
    counts = faults.summary()
    assert faults.injected("throttling") > 0.2 * faults.requests and faults.injected("drop_after") > 0  # the mix really bit
    record_property("fault_counts", json.dumps(counts, sort_keys=True))
    print("%d-user purge through faults (check, apply, again): %s; apply took %.1f s" % (FAULT_BATCH, json.dumps(counts, sort_keys=True), wall))
