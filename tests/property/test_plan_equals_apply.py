"""Plan == apply, over generated account states (hypothesis).

For each generated account — targets with any mix of dependents and MFA device kinds, a device
left unassigned by a crashed run (named after its user, or of another name and tagged with the
removal's intent), an unrelated orphan, pending enrolments (of a target and of a bystander), missing
and protected targets, a bystander — and each generated purge request (delete, or disable with or
without removing permissions and with keys deleted or deactivated):
- check mode changes nothing and its per-user action list is exactly what the real run applies;
- the end state is the expected one, computed here from the state before;
- a second run reports changed: false.

CI runs a deterministic 25 examples; the documented long run is
``IAMGUARD_HYPOTHESIS_EXAMPLES=500 python -m pytest tests/property``.
"""

import os
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.iamguard.aws.plugins.module_utils.device_options import device_options
from ansible_collections.iamguard.aws.plugins.module_utils.enrolment import ensure_present
from ansible_collections.iamguard.aws.plugins.module_utils.runner import caller_identity
from ansible_collections.iamguard.aws.plugins.module_utils.users import purge, purge_options
from tests.simulator.seed import account_snapshot, make_orphan, make_user

EXAMPLES = int(os.environ.get("IAMGUARD_HYPOTHESIS_EXAMPLES", "25"))
LONG_RUN = EXAMPLES > 25
CREDENTIALS = ("access_keys", "ssh_keys", "signing_certs", "service_credentials", "mfa_devices")
PERMISSIONS = ("groups", "inline_policies", "managed_policies")


@st.composite
def dependents(draw):
    virtual = draw(st.integers(0, 2))
    return dict(
        login_profile=draw(st.booleans()), access_keys=draw(st.integers(0, 2)), ssh_keys=draw(st.integers(0, 1)),
        signing_certs=draw(st.integers(0, 1)), service_credentials=draw(st.integers(0, 1)), virtual_mfa=virtual,
        hardware_mfa=draw(st.integers(0, 1)), passkeys=draw(st.integers(0, 1)),
        groups=tuple(draw(st.lists(st.sampled_from(("staff", "deploy", "ops")), unique=True, max_size=2))),
        inline_policies=draw(st.integers(0, 2)), managed_policies=draw(st.integers(0, 2)), boundary=draw(st.booleans()),
    )


@st.composite
def accounts(draw):
    targets = draw(st.lists(dependents(), min_size=1, max_size=3))
    return {
        "targets": {"leaver-%d" % index: deps for index, deps in enumerate(targets)},
        "leftover": draw(st.booleans()),  # a device named after a missing target, left unassigned by a crashed run
        # a device of another name a crashed run deactivated after tagging it as being removed from the first target
        "tagged_leftover": draw(st.booleans()),
        "missing": draw(st.booleans()),
        "protected": draw(st.none() | dependents()),
        "stray_orphan": draw(st.booleans()),
        # step 1 of a person's enrolment (device created, QR code handed out, codes not yet given), by the collection itself
        "pending_for_target": draw(st.booleans()),
        "pending_for_bystander": draw(st.booleans()),
        "state": draw(st.sampled_from(("absent", "disabled"))),
        "access_key_action": draw(st.sampled_from(("delete", "deactivate"))),
        "remove_permissions": draw(st.booleans()),
        "inventory_source": draw(st.sampled_from(("auto", "per_user", "account"))),
    }


def _start_enrolment(iam, identity, user_name, device_name, folder):
    params = {"state": "present", "user_name": user_name, "name": device_name, "path": "/", "serial_number": None,
              "authentication_code_1": None, "authentication_code_2": None, "generate_codes": False,
              "qr_code_png_path": os.path.join(folder, device_name + ".png"), "seed_path": None, "force": False,
              "return_secret": False, "replace_orphan": True, "tags": None}
    ensure_present(iam, device_options(params, task_no_log=False), False, identity)
    return "arn:aws:iam::123456789012:mfa/" + device_name


def _seed(iam, account):
    for name, deps in account["targets"].items():
        make_user(iam, name, **deps)
    if account["protected"] is not None:
        make_user(iam, "break-glass", **account["protected"])
    if account["leftover"]:
        make_orphan(iam, "gone-leaver")
    if account["stray_orphan"]:
        make_orphan(iam, "someone-else-cancelled")
    if account["tagged_leftover"]:
        serial = make_orphan(iam, "spare-phone")["serial_number"]
        iam.tag_mfa_device(SerialNumber=serial, Tags=[{"Key": "iamguard:removing-from", "Value": "leaver-0"}])
    make_user(iam, "bystander", login_profile=True, access_keys=1, virtual_mfa=1, groups=("staff",), inline_policies=1)


def _seed_enrolments(iam, identity, account, folder):
    """Pending enrolments: the target's goes with it (it is the user's device), the bystander's stays."""
    if account["pending_for_target"]:
        account["pending_serial"] = _start_enrolment(iam, identity, "leaver-0", "leaver-0-new-phone", folder)
    if account["pending_for_bystander"]:
        _start_enrolment(iam, identity, "bystander", "bystander-new-phone", folder)


def _request(account):
    names = list(account["targets"])
    names += ["gone-leaver"] if account["leftover"] or account["missing"] else []
    names += ["break-glass"] if account["protected"] is not None else []
    params = {"user_names": names, "user_ids": [], "state": account["state"], "access_key_action": "delete", "remove_permissions": None,
              "protected_users": ["break-glass*"], "fail_on_protected": False, "manifest_dir": None, "max_workers": 4,
              "max_conflict_retries": 3, "inventory_source": account["inventory_source"],
              "report_wait_seconds": 120}
    if account["state"] == "disabled":
        params.update(access_key_action=account["access_key_action"], remove_permissions=account["remove_permissions"])
        if account["inventory_source"] == "account":
            params["inventory_source"] = "per_user"  # refused with state=disabled (test_users covers the refusal)
    return purge_options(params)


def _expected(before, account):
    """The account the request must lead to, from the account before it."""
    expected = {"users": dict(before["users"]), "virtual_mfa_devices": dict(before["virtual_mfa_devices"])}
    for name in account["targets"]:
        user = before["users"][name]
        for serial in user["mfa_devices"]:
            if serial in before["virtual_mfa_devices"]:
                del expected["virtual_mfa_devices"][serial]
        if account["state"] == "absent":
            del expected["users"][name]
            continue
        keys = {key: "Inactive" for key in user["access_keys"]} if account["access_key_action"] == "deactivate" else {}
        after = dict(user, login_profile=False, access_keys=keys, ssh_keys={}, signing_certs={}, service_credentials={}, mfa_devices=[])
        if account["remove_permissions"]:
            after.update(groups=[], inline_policies=[], managed_policies=[])
        expected["users"][name] = after
    if account["leftover"]:
        del expected["virtual_mfa_devices"]["arn:aws:iam::123456789012:mfa/gone-leaver"]
    if account["tagged_leftover"]:
        del expected["virtual_mfa_devices"]["arn:aws:iam::123456789012:mfa/spare-phone"]
    if account.get("pending_serial"):
        del expected["virtual_mfa_devices"][account["pending_serial"]]
    return expected


def _actions(result):
    return {user["requested"]: (user["status"], user["actions"]) for user in result["users"]}


@settings(max_examples=EXAMPLES, deadline=None, derandomize=not LONG_RUN, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(account=accounts())
def test_check_mode_plan_is_what_apply_does(simulator, account):
    simulator.reset()
    iam = simulator.client("iam")
    sts = simulator.client("sts")

    def identity():
        return caller_identity(sts)

    _seed(iam, account)
    with tempfile.TemporaryDirectory() as folder:
        _seed_enrolments(iam, identity, account, folder)
    before = account_snapshot(iam)
    options = _request(account)

    planned = purge(iam, identity, options, check_mode=True)
    assert account_snapshot(iam) == before
    applied = purge(iam, identity, options, check_mode=False)
    assert _actions(applied) == _actions(planned)
    assert "failure" not in applied, applied["failure"]

    after = account_snapshot(iam)
    expected = _expected(before, account)
    assert after["users"] == expected["users"]
    assert after["virtual_mfa_devices"] == expected["virtual_mfa_devices"]
    statuses = {user["requested"]: user["status"] for user in applied["users"]}
    if account["protected"] is not None:
        assert statuses["break-glass"] == "protected"

    again = purge(iam, identity, options, check_mode=False)
    assert again["changed"] is False, _actions(again)
