"""Users: DeleteUser prerequisites, login profiles, paging, permissions boundaries, the caller's own user."""

import re

import pytest

from tests.simulator import seed

from .helpers import aws_error

BLOCKERS = [
    ({"login_profile": True}, "Cannot delete entity, must delete login profile first."),
    ({"access_keys": 1}, "Cannot delete entity, must delete access keys first."),
    ({"signing_certs": 1}, "Cannot delete entity, must delete signing certificates first."),
    ({"ssh_keys": 1}, "Cannot delete entity, must delete SSH public keys first."),
    ({"service_credentials": 1}, "Cannot delete entity, must delete service specific credentials first."),
    ({"virtual_mfa": 1}, "Cannot delete entity, must delete MFA device first."),
    ({"hardware_mfa": 1}, "Cannot delete entity, must delete MFA device first."),
    ({"passkeys": 1}, "Cannot delete entity, must delete MFA device first."),
    ({"groups": ("devs",)}, "Cannot delete entity, must remove users from group first."),
    ({"inline_policies": 1}, "Cannot delete entity, must delete policies first."),
    ({"managed_policies": 1}, "Cannot delete entity, must detach all policies first."),
]


@pytest.mark.parametrize("dependent, message", BLOCKERS, ids=[next(iter(b[0])) for b in BLOCKERS])
def test_delete_user_with_a_dependent_is_delete_conflict(iam, dependent, message):
    seed.make_user(iam, "alice", **dependent)
    assert aws_error(iam.delete_user, UserName="alice") == ("DeleteConflict", message, 409)
    assert iam.get_user(UserName="alice")["User"]["UserName"] == "alice"


def test_boundary_and_tags_do_not_block_delete_user(iam):
    made = seed.make_user(iam, "alice", tags={"team": "ops"}, boundary=True)
    assert iam.get_user(UserName="alice")["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == made["boundary_arn"]
    iam.delete_user(UserName="alice")
    assert aws_error(iam.get_user, UserName="alice")[0] == "NoSuchEntity"


def test_delete_user_after_removing_every_dependent(iam):
    made = seed.make_user(iam, "alice", login_profile=True, access_keys=2, ssh_keys=1, signing_certs=1, service_credentials=1,
                          virtual_mfa=1, hardware_mfa=1, groups=("devs",), inline_policies=1, managed_policies=1)
    iam.delete_login_profile(UserName="alice")
    for key_id in made["access_key_ids"]:
        iam.delete_access_key(UserName="alice", AccessKeyId=key_id)
    iam.delete_ssh_public_key(UserName="alice", SSHPublicKeyId=made["ssh_key_ids"][0])
    iam.delete_signing_certificate(UserName="alice", CertificateId=made["signing_cert_ids"][0])
    iam.delete_service_specific_credential(UserName="alice", ServiceSpecificCredentialId=made["service_credential_ids"][0])
    for device in made["mfa_devices"]:
        iam.deactivate_mfa_device(UserName="alice", SerialNumber=device["serial_number"])
    iam.remove_user_from_group(GroupName="devs", UserName="alice")
    iam.delete_user_policy(UserName="alice", PolicyName=made["inline_policies"][0])
    iam.detach_user_policy(UserName="alice", PolicyArn=made["managed_policy_arns"][0])
    iam.delete_user(UserName="alice")
    assert seed.account_snapshot(iam)["users"] == {}
    assert aws_error(iam.delete_user, UserName="alice")[0] == "NoSuchEntity"


def test_missing_login_profile_is_no_such_entity(iam):
    iam.create_user(UserName="alice")
    expected = ("NoSuchEntity", "Login Profile for User alice cannot be found.", 404)
    assert aws_error(iam.get_login_profile, UserName="alice") == expected
    assert aws_error(iam.delete_login_profile, UserName="alice") == expected
    assert aws_error(iam.get_login_profile, UserName="nobody")[0] == "NoSuchEntity"


def test_list_users_pages(iam):
    for name in ("dave", "alice", "erin", "carol", "bob"):
        iam.create_user(UserName=name, Path="/staff/" if name in ("bob", "erin") else "/")
    first = iam.list_users(MaxItems=2)
    assert [u["UserName"] for u in first["Users"]] == ["alice", "bob"] and first["IsTruncated"] is True
    second = iam.list_users(MaxItems=2, Marker=first["Marker"])
    third = iam.list_users(MaxItems=2, Marker=second["Marker"])
    assert [u["UserName"] for u in second["Users"] + third["Users"]] == ["carol", "dave", "erin"]
    assert third["IsTruncated"] is False
    assert [u["UserName"] for u in iam.list_users(PathPrefix="/staff/")["Users"]] == ["bob", "erin"]
    assert all("Tags" not in u for u in first["Users"])


def test_permissions_boundary_calls(iam):
    policy = iam.create_policy(PolicyName="boundary", PolicyDocument=seed.ADMIN_POLICY)["Policy"]["Arn"]
    created = iam.create_user(UserName="alice", PermissionsBoundary=policy, Tags=[{"Key": "team", "Value": "ops"}])["User"]
    assert created["PermissionsBoundary"]["PermissionsBoundaryArn"] == policy and created["Tags"] == [{"Key": "team", "Value": "ops"}]
    assert iam.get_user(UserName="alice")["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == policy
    iam.delete_user_permissions_boundary(UserName="alice")
    assert "PermissionsBoundary" not in iam.get_user(UserName="alice")["User"]
    missing = "arn:aws:iam::123456789012:policy/missing"
    assert aws_error(iam.put_user_permissions_boundary, UserName="alice", PermissionsBoundary=missing)[0] == "NoSuchEntity"
    iam.put_user_permissions_boundary(UserName="alice", PermissionsBoundary=policy)
    details = iam.get_account_authorization_details(Filter=["User"])["UserDetailList"][0]
    assert details["PermissionsBoundary"]["PermissionsBoundaryArn"] == policy


def test_user_name_defaults_to_the_caller(iam, admin):
    seed.make_user(iam, "alice", access_keys=1, ssh_keys=1, signing_certs=1)
    caller = admin["iam"]
    assert [k["UserName"] for k in caller.list_access_keys()["AccessKeyMetadata"]] == ["ops-admin"]
    assert caller.list_ssh_public_keys()["SSHPublicKeys"] == []
    assert caller.list_signing_certificates()["Certificates"] == []
    caller.create_login_profile(Password="Secret-password-1")
    assert caller.get_login_profile()["LoginProfile"]["UserName"] == "ops-admin"
    caller.delete_login_profile()
    assert aws_error(iam.list_ssh_public_keys)[0] == "ValidationError"


def test_user_ids_look_like_aws(iam):
    # moto: 20 lower-case characters; AWS: AIDA + 17 upper-case letters and digits.
    created = iam.create_user(UserName="ids")["User"]["UserId"]
    assert re.fullmatch(r"AIDA[A-Z0-9]{17}", created)
    assert iam.get_user(UserName="ids")["User"]["UserId"] == created
    assert [u["UserId"] for u in iam.list_users()["Users"]] == [created]


def test_race_before_delete_user_adds_a_key_once(sim, iam):
    iam.create_user(UserName="racer")
    sim.configure(race_before_delete_user=["racer"])
    assert aws_error(iam.delete_user, UserName="racer") == ("DeleteConflict", "Cannot delete entity, must delete access keys first.", 409)
    keys = iam.list_access_keys(UserName="racer")["AccessKeyMetadata"]
    assert len(keys) == 1
    iam.delete_access_key(UserName="racer", AccessKeyId=keys[0]["AccessKeyId"])
    iam.delete_user(UserName="racer")
