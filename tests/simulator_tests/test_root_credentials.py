"""The root user's own credentials: root calls without UserName, the account summary, the <root_account> report row, seeding."""

import csv
import io
import time

import pytest

from tests.simulator import realism, root, seed

from .conftest import NO_RETRIES
from .helpers import aws_error
from .test_assume_root import AUDIT, DELETE, PASSWORD, assume_root, session_client
from .test_organizations import member_client

HOME, OTHER = "123456789012", "111111111111"
ROOT_SERIAL = f"arn:aws:iam::{HOME}:mfa/root-account-mfa-device"


def _report_root_row(iam):
    iam.generate_credential_report()
    time.sleep(realism.REPORT_BUILD_TIME.total_seconds() + 0.1)
    iam.generate_credential_report()
    realism.backdate_credential_report(HOME, 5)  # the next generation starts a fresh report
    return list(csv.DictReader(io.StringIO(iam.get_credential_report()["Content"].decode())))[0]


def _root_iam(sim, account=HOME):
    return sim.client("iam", config=NO_RETRIES, **sim.root_credentials(account))


def test_task_policies_allow_what_aws_documents():
    audit = {"GetAccessKeyLastUsed", "GetAccountSummary", "GetLoginProfile", "GetUser", "ListAccessKeys", "ListMFADevices",
             "ListSigningCertificates"}
    delete = {"DeactivateMFADevice", "DeleteAccessKey", "DeleteLoginProfile", "DeleteSigningCertificate", "DeleteVirtualMFADevice",
              "GetAccessKeyLastUsed", "GetLoginProfile", "GetUser", "ListAccessKeys", "ListMFADevices", "ListSigningCertificates"}
    assert root.TASK_POLICIES == {AUDIT: audit, DELETE: delete, PASSWORD: {"CreateLoginProfile", "GetLoginProfile"},
                                  "S3UnlockBucketPolicy": set(), "SQSUnlockQueuePolicy": set()}


def test_root_keys_act_on_roots_own_credentials(sim, iam):
    root_iam = _root_iam(sim)
    key_id = root_iam.list_access_keys()["AccessKeyMetadata"][0]["AccessKeyId"]
    assert root_iam.get_user()["User"] == {**root_iam.get_user()["User"], "UserId": HOME, "Arn": f"arn:aws:iam::{HOME}:root"}
    assert [d["SerialNumber"] for d in root_iam.list_mfa_devices()["MFADevices"]] == [ROOT_SERIAL]
    assert root_iam.list_signing_certificates()["Certificates"] == []
    used = iam.get_access_key_last_used(AccessKeyId=key_id)["AccessKeyLastUsed"]  # asked by another caller of the account
    assert (used["ServiceName"], used["Region"]) == ("iam", "us-east-1") and used["LastUsedDate"]
    assert iam.list_users()["Users"] == []  # root is no IAM user


@pytest.mark.parametrize("call,kwargs", (("get_login_profile", {}), ("delete_login_profile", {}),
                                         ("create_login_profile", {"Password": "Xy1!" * 4}),
                                         ("deactivate_mfa_device", {"SerialNumber": ROOT_SERIAL})))
def test_long_term_root_keys_need_a_session_to_omit_the_user_name(sim, call, kwargs):
    code, message, status = aws_error(getattr(_root_iam(sim), call), **kwargs)
    assert (code, status) == ("ValidationError", 400) and "AssumeRoot session" in message


def test_deleted_root_key_no_longer_signs(sim, sts):
    org = seed.seed_organization(sim)
    dev = org["accounts"]["dev"]
    made = seed.seed_root_credentials(sim, dev, access_keys=2)
    iam = session_client(sim, assume_root(sts, dev, DELETE))
    iam.delete_access_key(AccessKeyId=made["access_key_ids"][0])
    assert [k["AccessKeyId"] for k in iam.list_access_keys()["AccessKeyMetadata"]] == made["access_key_ids"][1:]
    deleted = sim.client("sts", config=NO_RETRIES, access_key=made["access_key_ids"][0], secret_key=made["secrets"][0])
    assert aws_error(deleted.get_caller_identity) == ("InvalidClientTokenId", "The security token included in the request is invalid.", 403)
    kept = sim.client("sts", config=NO_RETRIES, access_key=made["access_key_ids"][1], secret_key=made["secrets"][1])
    assert kept.get_caller_identity()["Arn"] == f"arn:aws:iam::{dev}:root"


def test_missing_entities(sim, sts):
    dev = seed.seed_organization(sim)["accounts"]["dev"]
    seed.seed_root_credentials(sim, dev, login_profile=False, access_keys=0, signing_certificates=0, mfa_devices=())
    iam = session_client(sim, assume_root(sts, dev, DELETE))
    assert aws_error(iam.get_login_profile)[0::2] == ("NoSuchEntity", 404)
    assert aws_error(iam.delete_login_profile)[0::2] == ("NoSuchEntity", 404)
    assert aws_error(iam.delete_access_key, AccessKeyId="AKIAEXAMPLEEXAMPLE01") == (
        "NoSuchEntity", "The Access Key with id AKIAEXAMPLEEXAMPLE01 cannot be found.", 404)
    assert aws_error(iam.delete_signing_certificate, CertificateId="A" * 24)[0] == "NoSuchEntity"
    assert aws_error(iam.deactivate_mfa_device, SerialNumber="GAHT00000000") == (
        "NoSuchEntity", "MFA Device with serial number GAHT00000000 does not exist.", 404)
    assert iam.list_mfa_devices()["MFADevices"] == [] and iam.list_access_keys()["AccessKeyMetadata"] == []


def test_create_root_password_session(sim, sts):
    dev = seed.seed_organization(sim)["accounts"]["dev"]
    seed.seed_root_credentials(sim, dev, login_profile=False)
    iam = session_client(sim, assume_root(sts, dev, PASSWORD))
    assert aws_error(iam.get_login_profile)[0] == "NoSuchEntity"
    code, message, dummy = aws_error(iam.create_login_profile, Password="Xy1!" * 4)  # AWS: Password must be omitted here
    assert code == "ValidationError" and "Password must be omitted" in message
    assert iam.create_login_profile()["LoginProfile"]["PasswordResetRequired"] is True
    assert iam.get_login_profile()["LoginProfile"]["CreateDate"]
    assert aws_error(iam.create_login_profile)[0::2] == ("EntityAlreadyExists", 409)


def test_removing_every_root_credential_follows_through_summary_and_report(sim, sts):
    org = seed.seed_organization(sim)
    dev = org["accounts"]["dev"]
    made = seed.seed_root_credentials(sim, dev, access_keys=2, signing_certificates=2, mfa_devices=("virtual", "hardware", "passkey"))
    assert len(made["secrets"]) == 3  # two secret keys, one virtual seed
    audit = session_client(sim, assume_root(sts, dev, AUDIT))
    summary = audit.get_account_summary()["SummaryMap"]
    assert (summary["AccountMFAEnabled"], summary["AccountAccessKeysPresent"], summary["AccountSigningCertificatesPresent"]) == (1, 1, 1)
    assert sorted(d["SerialNumber"] for d in audit.list_mfa_devices()["MFADevices"]) == sorted(made["mfa_serials"].values())
    assert audit.get_login_profile()["LoginProfile"]["CreateDate"]
    delete = session_client(sim, assume_root(sts, dev, DELETE))
    virtual = made["mfa_serials"]["virtual"]
    assert aws_error(delete.delete_virtual_mfa_device, SerialNumber=virtual)[0] == "DeleteConflict"  # still enabled
    for serial in made["mfa_serials"].values():
        delete.deactivate_mfa_device(SerialNumber=serial)
    admin = member_client(sim, dev, "iam")  # not root: root's own keys would be credentials of root's too
    orphan = [d for d in admin.list_virtual_mfa_devices()["VirtualMFADevices"] if d["SerialNumber"] == virtual]
    assert orphan == [{"SerialNumber": virtual}]  # deactivated: unassigned until deleted, as for users
    delete.delete_virtual_mfa_device(SerialNumber=virtual)
    for key_id in made["access_key_ids"]:
        delete.delete_access_key(AccessKeyId=key_id)
    for certificate_id in made["certificate_ids"]:
        delete.delete_signing_certificate(CertificateId=certificate_id)
    delete.delete_login_profile()
    summary = audit.get_account_summary()["SummaryMap"]
    assert (summary["AccountMFAEnabled"], summary["AccountAccessKeysPresent"], summary["AccountSigningCertificatesPresent"]) == (0, 0, 0)
    assert audit.list_mfa_devices()["MFADevices"] == [] and audit.list_signing_certificates()["Certificates"] == []
    assert aws_error(audit.get_login_profile)[0] == "NoSuchEntity"
    assert admin.list_virtual_mfa_devices()["VirtualMFADevices"] == []


def test_report_row_follows_roots_credentials(sim, iam):
    row = _report_root_row(iam)
    assert (row["user"], row["password_enabled"], row["mfa_active"], row["access_key_1_active"], row["cert_1_active"]) == (
        "<root_account>", "not_supported", "true", "false", "false")
    made = seed.seed_root_credentials(sim, HOME, access_keys=1, signing_certificates=1, mfa_devices=("passkey",))
    sim.client("sts", access_key=made["access_key_ids"][0], secret_key=made["secrets"][0]).get_caller_identity()
    row = _report_root_row(iam)
    assert (row["mfa_active"], row["access_key_1_active"], row["cert_1_active"], row["access_key_2_active"]) == ("true", "true", "true", "false")
    assert (row["access_key_1_last_used_region"], row["access_key_1_last_used_service"]) == ("us-east-1", "sts")
    assert row["access_key_1_last_used_date"] != "N/A" and row["cert_1_last_rotated"] != "N/A"
    seed.seed_root_credentials(sim, HOME, access_keys=0, signing_certificates=0, mfa_devices=())
    assert _report_root_row(iam)["mfa_active"] == "false"


def test_option_root_mfa_device_does_not_bring_back_a_removed_device(sim, sts):
    dev = seed.seed_organization(sim)["accounts"]["dev"]
    root_iam = _root_iam(sim, dev)
    serial = f"arn:aws:iam::{dev}:mfa/root-account-mfa-device"
    assert [d["SerialNumber"] for d in root_iam.list_mfa_devices()["MFADevices"]] == [serial]  # the option's device
    delete = session_client(sim, assume_root(sts, dev, DELETE))
    delete.deactivate_mfa_device(SerialNumber=serial)
    delete.delete_virtual_mfa_device(SerialNumber=serial)
    assert root_iam.list_mfa_devices()["MFADevices"] == [] and delete.list_mfa_devices()["MFADevices"] == []


def test_seeded_devices_are_exact_whatever_the_option(sim):
    made = seed.seed_root_credentials(sim, HOME, access_keys=0, mfa_devices=("hardware",))
    root_iam = _root_iam(sim)
    assert [d["SerialNumber"] for d in root_iam.list_mfa_devices()["MFADevices"]] == [made["mfa_serials"]["hardware"]]
    assert made["mfa_serials"]["hardware"].startswith("GAHT")
    sim.configure(root_mfa_device=False)
    sim.configure(root_mfa_device=True)
    assert [d["SerialNumber"] for d in root_iam.list_mfa_devices()["MFADevices"]] == [made["mfa_serials"]["hardware"]]


@pytest.mark.parametrize("kwargs,match", (({"mfa_devices": ("virtual", "virtual")}, "at most once"),
                                          ({"mfa_devices": ("yubikey",)}, "at most once"),
                                          ({"access_keys": 3}, "at most 2")))
def test_seed_root_credentials_refuses_bad_input(sim, kwargs, match):
    with pytest.raises(ValueError, match=match):
        seed.seed_root_credentials(sim, HOME, **kwargs)
    assert _root_iam(sim).list_signing_certificates()["Certificates"] == []
