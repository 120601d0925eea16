"""MFA devices: where the realism layer makes moto answer as IAM does."""

import base64
import json
import struct
import time
import urllib.error
import urllib.request

import pyotp
import pytest

from tests.simulator import realism, seed

from .helpers import aws_error

ACCOUNT = "123456789012"
ROOT_SERIAL = f"arn:aws:iam::{ACCOUNT}:mfa/root-account-mfa-device"


def _serials(iam, **kwargs):
    return [d["SerialNumber"] for d in iam.list_virtual_mfa_devices(**kwargs)["VirtualMFADevices"]]


def _codes(seed_value, step_offset):
    """Codes of steps (now + offset, next); waits out the last second of a step so the server sees the same step."""
    if time.time() % 30 > 29:
        time.sleep(1.1)
    totp = pyotp.TOTP(seed_value)
    step = int(time.time()) // 30 + step_offset
    return totp.generate_otp(step), totp.generate_otp(step + 1)


def test_create_returns_a_valid_seed_and_a_png_qr_code(iam):
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice", Path="/team/")["VirtualMFADevice"]
    assert device["SerialNumber"] == f"arn:aws:iam::{ACCOUNT}:mfa/team/alice"
    seed_value = device["Base32StringSeed"].decode()
    assert len(base64.b32decode(seed_value)) >= 10
    assert pyotp.TOTP(seed_value).now().isdigit()
    png = device["QRCodePNG"]
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    assert width == height and width >= 100  # a QR code of the otpauth URI, not a placeholder


def test_duplicate_name_is_entity_already_exists(iam):
    seed.make_orphan(iam, "alice")
    assert aws_error(iam.create_virtual_mfa_device, VirtualMFADeviceName="alice")[0] == "EntityAlreadyExists"


def test_list_never_returns_seed_or_qr_code(iam):
    seed.make_orphan(iam, "orphan")
    seed.make_user(iam, "alice", virtual_mfa=1)
    for status in ("Any", "Assigned", "Unassigned"):
        for device in iam.list_virtual_mfa_devices(AssignmentStatus=status)["VirtualMFADevices"]:
            assert "Base32StringSeed" not in device and "QRCodePNG" not in device


def test_list_filters_by_assignment_status(iam):
    orphan = seed.make_orphan(iam, "orphan")["serial_number"]
    alice = seed.make_user(iam, "alice", virtual_mfa=1)["mfa_devices"][0]["serial_number"]
    assert sorted(_serials(iam)) == sorted([alice, orphan, ROOT_SERIAL])
    assert sorted(_serials(iam, AssignmentStatus="Assigned")) == sorted([alice, ROOT_SERIAL])
    assert _serials(iam, AssignmentStatus="Unassigned") == [orphan]
    assigned = iam.list_virtual_mfa_devices(AssignmentStatus="Assigned")["VirtualMFADevices"]
    assert {d["User"].get("UserName") for d in assigned} == {"alice", None}
    assert all("EnableDate" in d for d in assigned)
    unassigned = iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned")["VirtualMFADevices"][0]
    assert set(unassigned) == {"SerialNumber"}


def test_list_pages_with_max_items_and_marker(iam):
    for index in range(5):
        seed.make_orphan(iam, f"d{index}")
    first = iam.list_virtual_mfa_devices(MaxItems=3)
    assert len(first["VirtualMFADevices"]) == 3 and first["IsTruncated"] is True
    second = iam.list_virtual_mfa_devices(MaxItems=3, Marker=first["Marker"])
    assert len(second["VirtualMFADevices"]) == 3 and second["IsTruncated"] is False and "Marker" not in second
    listed = [d["SerialNumber"] for page in (first, second) for d in page["VirtualMFADevices"]]
    assert sorted(listed) == sorted(_serials(iam)) and len(set(listed)) == 6


def test_deleting_while_paging_skips_nothing(iam):
    for index in range(6):
        seed.make_orphan(iam, f"d{index}")
    pages = iam.get_paginator("list_virtual_mfa_devices").paginate(AssignmentStatus="Unassigned", PaginationConfig={"PageSize": 2})
    seen = []
    for page in pages:
        for device in page["VirtualMFADevices"]:
            seen.append(device["SerialNumber"])
            iam.delete_virtual_mfa_device(SerialNumber=device["SerialNumber"])
    assert len(seen) == 6
    assert _serials(iam, AssignmentStatus="Unassigned") == []


def test_root_device_is_listed_assigned_to_root(iam):
    root = [d for d in iam.list_virtual_mfa_devices()["VirtualMFADevices"] if d["SerialNumber"] == ROOT_SERIAL][0]
    assert root["User"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"
    assert root["User"]["UserId"] == ACCOUNT
    assert "UserName" not in root["User"] and "EnableDate" in root
    assert ROOT_SERIAL in _serials(iam, AssignmentStatus="Assigned")
    assert ROOT_SERIAL not in _serials(iam, AssignmentStatus="Unassigned")
    assert iam.get_account_summary()["SummaryMap"]["AccountMFAEnabled"] == 1


def test_root_device_cannot_be_deleted_or_enabled(iam):
    assert aws_error(iam.delete_virtual_mfa_device, SerialNumber=ROOT_SERIAL)[0] == "DeleteConflict"
    iam.create_user(UserName="alice")
    code = aws_error(iam.enable_mfa_device, UserName="alice", SerialNumber=ROOT_SERIAL, AuthenticationCode1="123456", AuthenticationCode2="234567")[0]
    assert code == "EntityAlreadyExists"
    assert ROOT_SERIAL in _serials(iam)


def test_root_device_option(sim, iam):
    sim.configure(root_mfa_device=False)
    assert _serials(iam) == []
    assert iam.get_account_summary()["SummaryMap"]["AccountMFAEnabled"] == 0
    sim.configure(root_mfa_device=True)
    assert _serials(iam) == [ROOT_SERIAL]


def test_delete_enabled_virtual_device_is_delete_conflict(iam):
    serial = seed.make_user(iam, "alice", virtual_mfa=1)["mfa_devices"][0]["serial_number"]
    code, status = aws_error(iam.delete_virtual_mfa_device, SerialNumber=serial)[::2]
    assert (code, status) == ("DeleteConflict", 409)
    assert serial in _serials(iam, AssignmentStatus="Assigned")
    iam.deactivate_mfa_device(UserName="alice", SerialNumber=serial)
    assert serial in _serials(iam, AssignmentStatus="Unassigned")  # S2: deactivated device stays as an orphan
    iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert serial not in _serials(iam)


def test_delete_unknown_or_non_virtual_device_is_no_such_entity(iam):
    passkey = seed.make_user(iam, "alice", passkeys=1)["mfa_devices"][0]["serial_number"]
    for serial in (f"arn:aws:iam::{ACCOUNT}:mfa/ghost", passkey, "GAHT12345678"):
        code, message, status = aws_error(iam.delete_virtual_mfa_device, SerialNumber=serial)
        assert (code, status) == ("NoSuchEntity", 404)
        assert message == f"MFA Device with serial number {serial} does not exist."


@pytest.mark.parametrize("offset", [-2, -1, 0])
def test_enable_accepts_consecutive_codes_with_clock_drift(iam, offset):
    iam.create_user(UserName="alice")
    device = seed.make_orphan(iam, "alice")
    code1, code2 = _codes(device["seed"], offset)
    iam.enable_mfa_device(UserName="alice", SerialNumber=device["serial_number"], AuthenticationCode1=code1, AuthenticationCode2=code2)
    assert [d["SerialNumber"] for d in iam.list_mfa_devices(UserName="alice")["MFADevices"]] == [device["serial_number"]]


def test_enable_rejects_wrong_or_non_consecutive_codes(iam):
    iam.create_user(UserName="alice")
    device = seed.make_orphan(iam, "alice")
    code1, code2 = _codes(device["seed"], -1)
    wrong = f"{(int(code1) + 1) % 1000000:06d}"
    for pair in ((wrong, code2), (code2, code1), (code1, code1), _codes(device["seed"], -5)):
        code, message, status = aws_error(iam.enable_mfa_device, UserName="alice", SerialNumber=device["serial_number"],
                                          AuthenticationCode1=pair[0], AuthenticationCode2=pair[1])
        assert (code, message, status) == ("InvalidAuthenticationCode", "Authentication code for device is not valid.", 403)
    assert iam.list_mfa_devices(UserName="alice")["MFADevices"] == []
    assert _serials(iam, AssignmentStatus="Unassigned") == [device["serial_number"]]


def test_enable_wants_six_digit_codes(iam):
    iam.create_user(UserName="alice")
    code = aws_error(iam.enable_mfa_device, UserName="alice", SerialNumber="GAHT12345678", AuthenticationCode1="12345a",
                     AuthenticationCode2="123456")[0]
    assert code == "ValidationError"


def test_enable_hardware_and_passkey_serials_with_any_codes(iam):
    iam.create_user(UserName="alice")
    passkey = f"arn:aws:iam::{ACCOUNT}:u2f/user/alice/key-ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    for serial in ("GAHT12345678", f"arn:aws:iam::{ACCOUNT}:mfa/hardware-token", passkey):
        iam.enable_mfa_device(UserName="alice", SerialNumber=serial, AuthenticationCode1="111111", AuthenticationCode2="999999")
    assert len(iam.list_mfa_devices(UserName="alice")["MFADevices"]) == 3
    assert _serials(iam, AssignmentStatus="Unassigned") == []


def test_enable_device_in_use_by_another_user_is_entity_already_exists(iam):
    alice = seed.make_user(iam, "alice", virtual_mfa=1, hardware_mfa=1)
    iam.create_user(UserName="bob")
    virtual, hardware = (d["serial_number"] for d in alice["mfa_devices"])
    code1, code2 = seed.consecutive_codes(alice["seeds"][virtual])
    for serial, codes in ((virtual, (code1, code2)), (hardware, ("123456", "654321"))):
        error = aws_error(iam.enable_mfa_device, UserName="bob", SerialNumber=serial, AuthenticationCode1=codes[0], AuthenticationCode2=codes[1])
        assert error[0] == "EntityAlreadyExists"
    assert iam.list_mfa_devices(UserName="bob")["MFADevices"] == []


def test_at_most_eight_devices_per_user(iam):
    seed.make_user(iam, "alice", virtual_mfa=3, hardware_mfa=3, passkeys=2)
    code, status = aws_error(iam.enable_mfa_device, UserName="alice", SerialNumber="GAHT99999999", AuthenticationCode1="123456",
                             AuthenticationCode2="654321")[::2]
    assert (code, status) == ("LimitExceeded", 409)


def test_deactivate_unknown_device_or_user_is_no_such_entity(iam):
    iam.create_user(UserName="alice")
    assert aws_error(iam.deactivate_mfa_device, UserName="alice", SerialNumber="GAHT12345678")[0] == "NoSuchEntity"
    assert aws_error(iam.deactivate_mfa_device, UserName="nobody", SerialNumber="GAHT12345678")[0] == "NoSuchEntity"
    assert aws_error(iam.list_mfa_devices, UserName="nobody")[0] == "NoSuchEntity"


def test_deactivate_leaves_other_types_out_of_the_virtual_list(iam):
    alice = seed.make_user(iam, "alice", hardware_mfa=1, passkeys=1)
    for device in alice["mfa_devices"]:
        iam.deactivate_mfa_device(UserName="alice", SerialNumber=device["serial_number"])
    assert iam.list_mfa_devices(UserName="alice")["MFADevices"] == []
    assert _serials(iam) == [ROOT_SERIAL]


def test_get_mfa_device_answers_for_passkeys_only(iam):
    alice = seed.make_user(iam, "alice", virtual_mfa=1, passkeys=1)
    virtual, passkey = (d["serial_number"] for d in alice["mfa_devices"])
    device = iam.get_mfa_device(UserName="alice", SerialNumber=passkey)
    assert device["SerialNumber"] == passkey and device["UserName"] == "alice" and "EnableDate" in device
    assert aws_error(iam.get_mfa_device, UserName="alice", SerialNumber=virtual)[0] == "NoSuchEntity"
    assert "Certifications" not in device  # none set: AWS leaves the key out


def test_get_mfa_device_answers_the_certifications_a_test_sets(sim, iam):
    alice = seed.make_user(iam, "alice", passkeys=2)
    certified, plain = (d["serial_number"] for d in alice["mfa_devices"])
    realism.certify_mfa_device(alice["account_id"], "alice", certified, {"FIDO": "L1", "FIPS-140-3": "L2"})
    assert iam.get_mfa_device(UserName="alice", SerialNumber=certified)["Certifications"] == {"FIDO": "L1", "FIPS-140-3": "L2"}
    assert "Certifications" not in iam.get_mfa_device(UserName="alice", SerialNumber=plain)
    assert aws_error(iam.get_mfa_device, UserName="alice", SerialNumber=certified + "X")[0] == "NoSuchEntity"
    # the control endpoint does the same for a simulator in another process
    assert _control(sim, {"account": alice["account_id"], "user_name": "alice", "serial": plain, "certifications": {"FIDO": "L2"}})[0] == 200
    assert iam.get_mfa_device(UserName="alice", SerialNumber=plain)["Certifications"] == {"FIDO": "L2"}
    status, answer = _control(sim, {"user_name": "alice", "serial": "GAHT00000001", "certifications": {}})
    assert status == 400 and "u2f" in answer["error"]


def _control(sim, arguments):
    request = urllib.request.Request(sim.url + "/_iamguard/mfa-certifications", data=json.dumps(arguments).encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the local simulator
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_list_mfa_devices_without_user_name_means_the_caller(iam, admin):
    seed.make_user(iam, "alice", hardware_mfa=1)
    iam.enable_mfa_device(UserName="ops-admin", SerialNumber="GAHT00000001", AuthenticationCode1="123456", AuthenticationCode2="654321")
    devices = admin["iam"].list_mfa_devices()["MFADevices"]
    assert [(d["UserName"], d["SerialNumber"]) for d in devices] == [("ops-admin", "GAHT00000001")]
    assert aws_error(iam.list_mfa_devices)[0] == "ValidationError"  # dummy credentials belong to no IAM user


class TestMfaSession:
    """S4: an MFA-enforcing policy, played by option require_mfa_session."""

    @staticmethod
    def _admin_with_device(iam):
        device = seed.make_orphan(iam, "ops-admin")
        code1, code2 = seed.consecutive_codes(device["seed"])
        iam.enable_mfa_device(UserName="ops-admin", SerialNumber=device["serial_number"], AuthenticationCode1=code1, AuthenticationCode2=code2)
        return device

    def test_deactivate_needs_an_mfa_session(self, sim, iam, admin):
        sim.configure(require_mfa_session=True)
        serial = seed.make_user(iam, "alice", hardware_mfa=1)["mfa_devices"][0]["serial_number"]
        code, message, status = aws_error(admin["iam"].deactivate_mfa_device, UserName="alice", SerialNumber=serial)
        assert (code, status) == ("AccessDenied", 403)
        # IAM's wording for an explicit deny: nothing in it says MFA.
        assert message == (f"User: {admin['arn']} is not authorized to perform: iam:DeactivateMFADevice on resource: "
                           f"arn:aws:iam::{ACCOUNT}:user/alice with an explicit deny in an identity-based policy")
        assert "mfa" not in message.lower().replace("deactivatemfadevice", "")
        plain = admin["sts"].get_session_token()["Credentials"]
        no_mfa = sim.client(access_key=plain["AccessKeyId"], secret_key=plain["SecretAccessKey"], session_token=plain["SessionToken"])
        assert aws_error(no_mfa.deactivate_mfa_device, UserName="alice", SerialNumber=serial)[0] == "AccessDenied"

        device = self._admin_with_device(iam)
        credentials = admin["sts"].get_session_token(SerialNumber=device["serial_number"], TokenCode=seed.current_code(device["seed"]))["Credentials"]
        with_mfa = sim.client(access_key=credentials["AccessKeyId"], secret_key=credentials["SecretAccessKey"],
                              session_token=credentials["SessionToken"])
        with_mfa.deactivate_mfa_device(UserName="alice", SerialNumber=serial)
        assert iam.list_mfa_devices(UserName="alice")["MFADevices"] == []

    def test_without_the_option_no_session_is_needed(self, iam, admin):
        serial = seed.make_user(iam, "alice", hardware_mfa=1)["mfa_devices"][0]["serial_number"]
        admin["iam"].deactivate_mfa_device(UserName="alice", SerialNumber=serial)

    def test_session_token_checks_the_code_and_the_device(self, iam, admin):
        device = self._admin_with_device(iam)
        current = seed.current_code(device["seed"])
        wrong = f"{(int(current) + 1) % 1000000:06d}"
        assert aws_error(admin["sts"].get_session_token, SerialNumber=device["serial_number"], TokenCode=wrong) == (
            "AccessDenied", "MultiFactorAuthentication failed with invalid MFA one time pass code.", 403)
        alice = seed.make_user(iam, "alice", virtual_mfa=1, passkeys=1)
        for other in alice["mfa_devices"]:  # not the caller's device; a passkey cannot sign API sessions
            assert aws_error(admin["sts"].get_session_token, SerialNumber=other["serial_number"], TokenCode=current)[0] == "AccessDenied"

    def test_sessions_are_fresh_and_belong_to_the_caller(self, sim, admin):
        first = admin["sts"].get_session_token(DurationSeconds=900)["Credentials"]
        second = admin["sts"].get_session_token()["Credentials"]
        assert first["AccessKeyId"] != second["AccessKeyId"] and first["SessionToken"] != second["SessionToken"]
        assert first["AccessKeyId"].startswith("ASIA")
        session_sts = sim.client("sts", access_key=first["AccessKeyId"], secret_key=first["SecretAccessKey"], session_token=first["SessionToken"])
        assert session_sts.get_caller_identity()["Arn"] == admin["arn"]
        assert aws_error(session_sts.get_session_token)[0] == "AccessDenied"
        assert aws_error(admin["sts"].get_session_token, DurationSeconds=129601)[0] == "ValidationError"


def test_session_keys_stay_in_their_account(sim):
    other = sim.client("iam")
    other.meta.events.register("before-sign.iam.*", lambda request, **_: request.headers.add_header("x-moto-account-id", "111122223333"))
    made = seed.caller_user(other)
    assert made["arn"] == "arn:aws:iam::111122223333:user/ops-admin"
    credentials = sim.client("sts", access_key=made["access_key_id"], secret_key=made["secret_access_key"]).get_session_token()["Credentials"]
    session = {"access_key": credentials["AccessKeyId"], "secret_key": credentials["SecretAccessKey"], "session_token": credentials["SessionToken"]}
    assert sim.client("iam", **session).get_user(UserName="ops-admin")["User"]["Arn"] == made["arn"]
    assert sim.client("sts", **session).get_caller_identity()["Account"] == "111122223333"


def test_resync_wants_consecutive_codes_of_the_device(iam):
    alice = seed.make_user(iam, "alice", virtual_mfa=1, hardware_mfa=1)
    virtual, hardware = (d["serial_number"] for d in alice["mfa_devices"])
    code1, code2 = _codes(alice["seeds"][virtual], -8)
    iam.resync_mfa_device(UserName="alice", SerialNumber=virtual, AuthenticationCode1=code1, AuthenticationCode2=code2)
    error = aws_error(iam.resync_mfa_device, UserName="alice", SerialNumber=virtual, AuthenticationCode1=code2, AuthenticationCode2=code1)
    assert error[0] == "InvalidAuthenticationCode"
    iam.resync_mfa_device(UserName="alice", SerialNumber=hardware, AuthenticationCode1="123456", AuthenticationCode2="654321")
    assert aws_error(iam.resync_mfa_device, UserName="alice", SerialNumber="GAHT00000000", AuthenticationCode1="123456",
                     AuthenticationCode2="654321")[0] == "NoSuchEntity"


def test_virtual_devices_keep_their_tags(iam):
    created = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice", Tags=[{"Key": "owner", "Value": "alice"}])["VirtualMFADevice"]
    serial = created["SerialNumber"]
    assert created["Tags"] == [{"Key": "owner", "Value": "alice"}]
    iam.tag_mfa_device(SerialNumber=serial, Tags=[{"Key": "team", "Value": "ops"}, {"Key": "owner", "Value": "bob"}])
    assert iam.list_mfa_device_tags(SerialNumber=serial)["Tags"] == [{"Key": "owner", "Value": "bob"}, {"Key": "team", "Value": "ops"}]
    iam.untag_mfa_device(SerialNumber=serial, TagKeys=["owner"])
    assert iam.list_mfa_device_tags(SerialNumber=serial)["Tags"] == [{"Key": "team", "Value": "ops"}]
    assert "Tags" not in iam.list_virtual_mfa_devices()["VirtualMFADevices"][0]
    iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert aws_error(iam.list_mfa_device_tags, SerialNumber=serial)[0] == "NoSuchEntity"
    assert aws_error(iam.tag_mfa_device, SerialNumber=ROOT_SERIAL, Tags=[{"Key": "a", "Value": "b"}])[0] == "NoSuchEntity"
