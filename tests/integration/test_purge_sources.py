"""iam_user_purge's two inventory sources through ansible-playbook against the simulator: per user and account-wide."""

import string
import time

from tests.integration.test_iam_user_purge import EVERYTHING, MODULE, by_user, kinds, orphans, users
from tests.simulator.seed import _certificate, _random, account_snapshot, consecutive_codes, make_orphan, make_user

ACCOUNT_WIDE = ("iam:GetAccountSummary", "iam:GetAccountAuthorizationDetails", "iam:GenerateCredentialReport", "iam:GetCredentialReport")
PER_USER_ONLY = ("iam:GetUser", "iam:GetLoginProfile", "iam:ListGroupsForUser", "iam:ListUserPolicies", "iam:ListAttachedUserPolicies")
LEAVERS = ["leaver-%02d" % n for n in range(10)]


def _seed_leavers(iam):
    mixes = [EVERYTHING, dict(login_profile=True), {}, dict(access_keys=1, passkeys=1), dict(virtual_mfa=2, groups=("staff",))]
    for index, name in enumerate(LEAVERS):
        make_user(iam, name, **mixes[index % len(mixes)])
    make_user(iam, "leaver-00-stays", **EVERYTHING)


def _actions(result):
    return {name: (user["status"], user["actions"]) for name, user in by_user(result).items()}


def _ready_report(iam):
    while iam.generate_credential_report()["State"] != "COMPLETE":
        time.sleep(0.2)


def test_both_sources_plan_the_same_and_a_batch_reads_the_account_once(sim, iam, run_module):
    _seed_leavers(iam)
    before = account_snapshot(iam)
    per_user = run_module(MODULE, {"user_names": LEAVERS, "inventory_source": "per_user"}, check=True)
    sim.reset_counters()
    auto = run_module(MODULE, {"user_names": LEAVERS}, check=True)
    assert per_user["inventory"]["source"] == "per_user" and auto["inventory"]["source"] == "account"
    assert _actions(auto) == _actions(per_user)
    counts = sim.counters()
    assert all(counts.get(call) == 1 for call in ACCOUNT_WIDE[:3]) and counts["iam:GetCredentialReport"] <= 3, counts  # polled while built
    assert not [call for call in PER_USER_ONLY if call in counts], counts
    assert [key for key in counts if not key.split(":")[-1].startswith(("Get", "List"))] == ["iam:GenerateCredentialReport"]
    assert account_snapshot(iam) == before

    applied = run_module(MODULE, {"user_names": LEAVERS})
    assert _actions(applied) == _actions(auto)
    assert users(iam) == ["leaver-00-stays"] and orphans(iam) == []
    assert account_snapshot(iam)["users"]["leaver-00-stays"] == before["users"]["leaver-00-stays"]


def test_a_stale_report_misses_no_dependent(sim, iam, run_module):
    """What changed after the credential report was built: the account-wide run still removes all of it."""
    _seed_leavers(iam)
    _ready_report(iam)  # IAM keeps serving this report for 4 hours
    iam.create_access_key(UserName="leaver-02")
    iam.enable_mfa_device(UserName="leaver-01", SerialNumber="GAHT" + _random(string.digits, 8), AuthenticationCode1="123456",
                          AuthenticationCode2="654321")
    iam.create_login_profile(UserName="leaver-07", Password="Xx1!" + _random(string.ascii_letters, 20))
    certificate = iam.upload_signing_certificate(UserName="leaver-06", CertificateBody=_certificate("leaver-06"))["Certificate"]
    iam.update_signing_certificate(UserName="leaver-06", CertificateId=certificate["CertificateId"], Status="Inactive")
    device = make_orphan(iam, "leaver-02-phone")  # a virtual device enabled since: the fresh device list shows it
    iam.enable_mfa_device(UserName="leaver-02", SerialNumber=device["serial_number"], AuthenticationCode1=consecutive_codes(device["seed"])[0],
                          AuthenticationCode2=consecutive_codes(device["seed"])[1])
    make_user(iam, "leaver-10", **EVERYTHING)  # created after the report: not in it

    result = run_module(MODULE, {"user_names": LEAVERS + ["leaver-10"]})
    assert result["inventory"]["source"] == "account"
    assert {user["status"] for user in result["users"]} == {"deleted"}, result["users"]
    assert users(iam) == ["leaver-00-stays"] and orphans(iam) == []
    done = by_user(result)
    # Found after DeleteConflict, read again per user:
    assert kinds(done["leaver-02"]).index("delete_user") < kinds(done["leaver-02"]).index("delete_access_key")
    assert "deactivate_mfa_device" in kinds(done["leaver-01"])[kinds(done["leaver-01"]).index("delete_user"):]
    # Found at once: the device list is read during the run, the newcomer is read per user.
    assert kinds(done["leaver-02"]).index("delete_virtual_mfa_device") < kinds(done["leaver-02"]).index("delete_user")
    assert kinds(done["leaver-10"])[-1] == "delete_user"


def test_a_small_purge_never_reads_the_whole_account(sim, iam, run_module):
    _seed_leavers(iam)
    sim.reset_counters()
    result = run_module(MODULE, {"user_names": LEAVERS[:3]})
    assert result["inventory"] == {"source": "per_user", "reason": "3 users: fewer than 8"}
    assert not [call for call in ACCOUNT_WIDE if call in sim.counters()]
    assert users(iam) == sorted(set(LEAVERS[3:]) | {"leaver-00-stays"})
