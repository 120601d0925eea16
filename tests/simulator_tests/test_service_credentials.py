"""Service-specific credentials, which moto does not implement."""

import re

from tests.simulator import seed

from .helpers import aws_error

CODECOMMIT = "codecommit.amazonaws.com"


def _create(iam, user="alice", service=CODECOMMIT):
    return iam.create_service_specific_credential(UserName=user, ServiceName=service)["ServiceSpecificCredential"]


def test_create_returns_the_credential_once_with_its_password(iam):
    iam.create_user(UserName="alice")
    credential = _create(iam)
    assert re.fullmatch(r"ACCA[A-Z0-9]{17}", credential["ServiceSpecificCredentialId"])
    assert credential["ServiceUserName"] == "alice-at-123456789012"
    assert credential["ServiceName"] == CODECOMMIT and credential["UserName"] == "alice" and credential["Status"] == "Active"
    assert len(credential["ServicePassword"]) >= 20 and "CreateDate" in credential
    bodies = []
    iam.meta.events.register("before-parse.iam.ListServiceSpecificCredentials", lambda response_dict, **_: bodies.append(response_dict["body"]))
    listed = iam.list_service_specific_credentials(UserName="alice")["ServiceSpecificCredentials"]
    assert [c["ServiceSpecificCredentialId"] for c in listed] == [credential["ServiceSpecificCredentialId"]]
    assert b"ServicePassword" not in bodies[0]  # botocore would drop it; the answer must not carry it


def test_at_most_two_per_service_and_user(iam):
    iam.create_user(UserName="alice")
    _create(iam)
    _create(iam)
    assert aws_error(_create, iam)[:2] == ("LimitExceeded", "Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: 2")
    _create(iam, service="cassandra.amazonaws.com")
    assert len(iam.list_service_specific_credentials(UserName="alice")["ServiceSpecificCredentials"]) == 3
    assert len(iam.list_service_specific_credentials(UserName="alice", ServiceName=CODECOMMIT)["ServiceSpecificCredentials"]) == 2


def test_unknown_user_service_or_credential(iam):
    assert aws_error(_create, iam, user="nobody")[0] == "NoSuchEntity"
    assert aws_error(iam.list_service_specific_credentials, UserName="nobody")[0] == "NoSuchEntity"
    iam.create_user(UserName="alice")
    iam.create_user(UserName="bob")
    assert aws_error(_create, iam, service="s3.amazonaws.com")[0] == "NotSupportedService"
    bobs = _create(iam, user="bob")["ServiceSpecificCredentialId"]
    for call in (iam.delete_service_specific_credential, iam.reset_service_specific_credential):
        assert aws_error(call, UserName="alice", ServiceSpecificCredentialId="ACCAAAAAAAAAAAAAAAAAA")[0] == "NoSuchEntity"
        assert aws_error(call, UserName="alice", ServiceSpecificCredentialId=bobs)[0] == "NoSuchEntity"


def test_update_reset_and_delete(iam):
    iam.create_user(UserName="alice")
    credential = _create(iam)
    credential_id = credential["ServiceSpecificCredentialId"]
    iam.update_service_specific_credential(UserName="alice", ServiceSpecificCredentialId=credential_id, Status="Inactive")
    assert iam.list_service_specific_credentials(UserName="alice")["ServiceSpecificCredentials"][0]["Status"] == "Inactive"
    reset = iam.reset_service_specific_credential(UserName="alice", ServiceSpecificCredentialId=credential_id)["ServiceSpecificCredential"]
    assert reset["ServicePassword"] != credential["ServicePassword"] and reset["ServiceSpecificCredentialId"] == credential_id
    iam.delete_service_specific_credential(UserName="alice", ServiceSpecificCredentialId=credential_id)
    assert iam.list_service_specific_credentials(UserName="alice")["ServiceSpecificCredentials"] == []


def test_caller_default_and_all_users(iam, admin):
    seed.make_user(iam, "alice", service_credentials=1)
    _create(iam, user="ops-admin")
    mine = admin["iam"].list_service_specific_credentials()["ServiceSpecificCredentials"]
    assert [c["UserName"] for c in mine] == ["ops-admin"]
    everyone = iam.list_service_specific_credentials(AllUsers=True)["ServiceSpecificCredentials"]
    assert sorted(c["UserName"] for c in everyone) == ["alice", "ops-admin"]


def test_reset_wipes_them_and_they_block_delete_user(sim, iam):
    made = seed.make_user(iam, "alice", service_credentials=1)
    assert aws_error(iam.delete_user, UserName="alice")[0] == "DeleteConflict"
    iam.delete_service_specific_credential(UserName="alice", ServiceSpecificCredentialId=made["service_credential_ids"][0])
    iam.delete_user(UserName="alice")
    seed.make_user(iam, "bob", service_credentials=2)
    sim.reset()
    iam.create_user(UserName="bob")
    assert iam.list_service_specific_credentials(UserName="bob")["ServiceSpecificCredentials"] == []
