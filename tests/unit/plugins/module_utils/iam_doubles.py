# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test doubles shared by the unit tests of the purge: ids, Stubber scripts of one user's reads, facts, and a small in-memory IAM."""

from __future__ import annotations

import json
import os
import re
import threading
import time
from datetime import datetime, timezone

import boto3
from botocore.exceptions import ClientError
from botocore.stub import ANY

from ansible_collections.iamguard.aws.plugins.module_utils import users


ACCOUNT = "123456789012"


DATE = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


ISO = "2024-01-02T03:04:05+00:00"


CALLER = {"UserId": "AIDAADMIN00000000000", "Account": ACCOUNT, "Arn": "arn:aws:iam::%s:user/ops/admin" % ACCOUNT, "Partition": "aws"}


POLICY = "arn:aws:iam::aws:policy/ReadOnlyAccess"


POLICY_2 = "arn:aws:iam::%s:policy/deploy" % ACCOUNT


PASSKEY = "arn:aws:iam::%s:u2f/user/alice/passkey-CRESUIN32BFJPIIGIL2PLPODPM" % ACCOUNT


def mfa_serial(name):
    return "arn:aws:iam::%s:mfa/%s" % (ACCOUNT, name)


def user_id(name):
    return ("AIDA" + re.sub("[^A-Z0-9]", "", name.upper()) + "0" * 20)[:21]


def raw_user(name, **extra):
    raw = {"Path": "/", "UserName": name, "UserId": user_id(name), "Arn": "arn:aws:iam::%s:user/%s" % (ACCOUNT, name), "CreateDate": DATE}
    raw.update(extra)
    return raw


def key_id(n):
    return "AKIAEXAMPLE%09d" % n


def ssh_id(n):
    return "APKAEXAMPLE%09d" % n


def cert_id(n):
    return "CERTEXAMPLEEXAMPLE%06d" % n


def cred_id(n):
    return "ACCAEXAMPLE%09d" % n


def purge_params(**overrides):
    params = {
        "user_names": [], "user_ids": [], "state": "absent", "access_key_action": "delete", "remove_permissions": None,
        "protected_users": [], "fail_on_protected": False, "manifest_dir": None, "max_workers": 1, "max_conflict_retries": 3,
        "inventory_source": "auto", "report_wait_seconds": 120,
    }
    params.update(overrides)
    return params


def purge_options(**overrides):
    return users.purge_options(purge_params(**overrides))


def stub_inventory(stub, name, spec, virtual=()):
    """Stub the reads ``inventory`` makes for ``name``.

    ``virtual``: the raw devices of the account-wide virtual list, read once per VirtualDevices (for typing the
    user's devices and finding leftovers); None when the run has read it already.
    """
    stub.add_response("get_user", {"User": raw_user(name)}, {"UserName": name})
    if spec.get("login"):
        stub.add_response("get_login_profile", {"LoginProfile": {"UserName": name, "CreateDate": DATE, "PasswordResetRequired": False}}, {"UserName": name})
    else:
        stub.add_client_error("get_login_profile", "NoSuchEntity", "Login Profile for User %s cannot be found." % name, 404, expected_params={"UserName": name})
    keys = [{"UserName": name, "AccessKeyId": key, "Status": status, "CreateDate": DATE} for key, status in spec.get("keys", [])]
    stub.add_response("list_access_keys", {"AccessKeyMetadata": keys, "IsTruncated": False}, {"UserName": name, "MaxItems": 1000})
    if spec.get("ssh_invalid"):
        stub.add_client_error("list_ssh_public_keys", "InvalidAction", "not available", 400, expected_params={"UserName": name, "MaxItems": 1000})
    else:
        ssh = [{"UserName": name, "SSHPublicKeyId": key, "Status": "Active", "UploadDate": DATE} for key in spec.get("ssh", [])]
        stub.add_response("list_ssh_public_keys", {"SSHPublicKeys": ssh, "IsTruncated": False}, {"UserName": name, "MaxItems": 1000})
    certs = [{"UserName": name, "CertificateId": cert, "CertificateBody": "-----BEGIN CERTIFICATE-----", "Status": "Active"} for cert in spec.get("certs", [])]
    stub.add_response("list_signing_certificates", {"Certificates": certs, "IsTruncated": False}, {"UserName": name, "MaxItems": 1000})
    creds = [
        {"UserName": name, "Status": "Active", "CreateDate": DATE, "ServiceSpecificCredentialId": cred, "ServiceName": "codecommit.amazonaws.com",
         "ServiceUserName": "%s-at-%s" % (name, ACCOUNT)}
        for cred in spec.get("creds", [])
    ]
    stub.add_response("list_service_specific_credentials", {"ServiceSpecificCredentials": creds}, {"UserName": name, "MaxItems": 1000})
    devices = [{"UserName": name, "SerialNumber": serial, "EnableDate": DATE} for serial in spec.get("mfa", [])]
    stub.add_response("list_mfa_devices", {"MFADevices": devices, "IsTruncated": False}, {"UserName": name, "MaxItems": 1000})
    if virtual is not None:
        stub_virtual(stub, virtual)
    groups = [
        {"Path": "/", "GroupName": group, "GroupId": ("AGPA" + group.upper() + "0" * 16)[:20], "Arn": "arn:aws:iam::%s:group/%s" % (ACCOUNT, group),
         "CreateDate": DATE}
        for group in spec.get("groups", [])
    ]
    stub.add_response("list_groups_for_user", {"Groups": groups, "IsTruncated": False}, {"UserName": name, "MaxItems": 1000})
    stub.add_response("list_user_policies", {"PolicyNames": list(spec.get("inline", [])), "IsTruncated": False}, {"UserName": name, "MaxItems": 1000})
    attached = [{"PolicyName": arn.rsplit("/", 1)[-1], "PolicyArn": arn} for arn in spec.get("attached", [])]
    stub.add_response("list_attached_user_policies", {"AttachedPolicies": attached, "IsTruncated": False}, {"UserName": name, "MaxItems": 1000})


def stub_virtual(stub, virtual):
    stub.add_response("list_virtual_mfa_devices", {"VirtualMFADevices": list(virtual), "IsTruncated": False}, {"AssignmentStatus": "Any", "MaxItems": 1000})


def stub_missing_user(stub, name):
    stub.add_client_error("get_user", "NoSuchEntity", "The user with name %s cannot be found." % name, 404, expected_params={"UserName": name})


def stub_calls(stub, calls):
    for operation, params in calls:
        stub.add_response(operation, {}, params)


ALICE = {
    "login": True,
    "keys": [(key_id(1), "Active"), (key_id(2), "Inactive")],
    "ssh": [ssh_id(1)],
    "certs": [cert_id(1)],
    "creds": [cred_id(1)],
    "mfa": [mfa_serial("alice"), PASSKEY],
    "groups": ["devs"],
    "inline": ["zeta", "alpha"],
    "attached": [POLICY],
}


ALICE_VIRTUAL = [{"SerialNumber": mfa_serial("alice"), "User": raw_user("alice"), "EnableDate": DATE}]


ALICE_PURGE = [
    ("delete_login_profile", {"UserName": "alice"}),
    ("delete_access_key", {"UserName": "alice", "AccessKeyId": key_id(1)}),
    ("delete_access_key", {"UserName": "alice", "AccessKeyId": key_id(2)}),
    ("delete_ssh_public_key", {"UserName": "alice", "SSHPublicKeyId": ssh_id(1)}),
    ("delete_signing_certificate", {"UserName": "alice", "CertificateId": cert_id(1)}),
    ("delete_service_specific_credential", {"UserName": "alice", "ServiceSpecificCredentialId": cred_id(1)}),
    ("tag_mfa_device", {"SerialNumber": mfa_serial("alice"),
                        "Tags": [{"Key": "iamguard:removing-from", "Value": "alice"}, {"Key": "iamguard:removing-since", "Value": ANY}]}),
    ("deactivate_mfa_device", {"UserName": "alice", "SerialNumber": mfa_serial("alice")}),
    ("delete_virtual_mfa_device", {"SerialNumber": mfa_serial("alice")}),
    ("deactivate_mfa_device", {"UserName": "alice", "SerialNumber": PASSKEY}),
    ("detach_user_policy", {"UserName": "alice", "PolicyArn": POLICY}),
    ("delete_user_policy", {"UserName": "alice", "PolicyName": "alpha"}),
    ("delete_user_policy", {"UserName": "alice", "PolicyName": "zeta"}),
    ("remove_user_from_group", {"GroupName": "devs", "UserName": "alice"}),
    ("delete_user", {"UserName": "alice"}),
]


def facts_of(name="alice", **overrides):
    facts = {
        "user": {"user_name": name, "user_id": user_id(name), "arn": "arn:aws:iam::%s:user/%s" % (ACCOUNT, name), "path": "/", "create_date": ISO,
                 "tags": {}, "permissions_boundary": None},
        "login_profile": {"create_date": ISO, "password_reset_required": False},
        "access_keys": [
            {"access_key_id": key_id(1), "status": "Active", "create_date": ISO},
            {"access_key_id": key_id(2), "status": "Inactive", "create_date": ISO},
        ],
        "ssh_public_keys": [{"ssh_public_key_id": ssh_id(1), "status": "Active", "upload_date": ISO}],
        "signing_certificates": [{"certificate_id": cert_id(1), "status": "Active", "upload_date": None, "body": "-----BEGIN CERTIFICATE-----"}],
        "service_specific_credentials": [{"service_specific_credential_id": cred_id(1), "service_name": "codecommit.amazonaws.com",
                                          "service_user_name": "x", "status": "Active"}],
        "mfa_devices": [
            {"serial_number": mfa_serial(name), "type": "virtual", "user_name": name, "enable_date": ISO, "assigned": True, "root": False},
            {"serial_number": PASSKEY, "type": "passkey", "user_name": name, "enable_date": ISO, "assigned": True, "root": False},
        ],
        "groups": ["devs"],
        "inline_policies": {"zeta": None, "alpha": None},
        "attached_policies": [POLICY],
    }
    facts.update(overrides)
    return facts


def client_error_of(code, message, operation):
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


REPORT_TIME = datetime(2024, 1, 2, 6, 0, 0, tzinfo=timezone.utc)
REPORT_HEADER = ("user,arn,user_creation_time,password_enabled,mfa_active,access_key_1_active,access_key_1_last_rotated,"
                 "access_key_1_last_used_date,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
                 "cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n")


def assert_largest_page(max_items):
    assert max_items == 1000, "every IAM list asks for its largest page"


class Pages:
    def __init__(self, method):
        self._method = method

    def paginate(self, **params):
        return [self._method(**params)]


class FakeIam:
    """Just enough IAM for purge: users with dependents, MFA devices, DeleteConflict, call log."""

    def __init__(self):
        self.lock = threading.Lock()
        self.users = {}
        self.virtual = {}  # serial -> user name or None
        self.tags = {}  # serial -> {key: value}
        self.calls = []
        self.on_delete_user = None
        self.report = None
        self.in_flight = 0
        self.peak = 0
        self.meta = boto3.client("iam", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x").meta  # the API model

    def add_user(self, name, keys=(), virtual=(), other_devices=(), attached=()):
        self.users[name] = {"keys": list(keys), "devices": list(virtual) + list(other_devices), "attached": list(attached)}
        for serial in virtual:
            self.virtual[serial] = name

    def _log(self, operation, params):
        with self.lock:
            self.calls.append((operation, params))

    def _user(self, name, operation):
        if name not in self.users:
            raise client_error_of("NoSuchEntity", "The user with name %s cannot be found." % name, operation)
        return self.users[name]

    def can_paginate(self, operation):
        return operation != "list_service_specific_credentials"

    def get_paginator(self, operation):
        return Pages(getattr(self, operation))

    def get_user(self, UserName):
        self._log("get_user", {"UserName": UserName})
        with self.lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        time.sleep(0.01)  # long enough for the pool's other workers to overlap
        with self.lock:
            self.in_flight -= 1
        self._user(UserName, "GetUser")
        return {"User": raw_user(UserName)}

    def get_login_profile(self, UserName):
        self._log("get_login_profile", {"UserName": UserName})
        raise client_error_of("NoSuchEntity", "no login profile", "GetLoginProfile")

    def list_access_keys(self, UserName, MaxItems):
        assert_largest_page(MaxItems)
        self._log("list_access_keys", {"UserName": UserName})
        return {"AccessKeyMetadata": [{"AccessKeyId": key, "Status": "Active"} for key in self._user(UserName, "ListAccessKeys")["keys"]]}

    def _empty(self, operation, key, UserName):
        self._log(operation, {"UserName": UserName})
        self._user(UserName, operation)
        return {key: []}

    def list_ssh_public_keys(self, UserName, MaxItems):
        assert_largest_page(MaxItems)
        return self._empty("list_ssh_public_keys", "SSHPublicKeys", UserName)

    def list_signing_certificates(self, UserName, MaxItems):
        assert_largest_page(MaxItems)
        return self._empty("list_signing_certificates", "Certificates", UserName)

    def list_service_specific_credentials(self, MaxItems, UserName=None, AllUsers=False):
        assert_largest_page(MaxItems)
        if AllUsers:
            self._log("list_service_specific_credentials", {"AllUsers": True})
            return {"ServiceSpecificCredentials": []}
        return self._empty("list_service_specific_credentials", "ServiceSpecificCredentials", UserName)

    # The account-wide reads (sources/account.py). The credential report is built on the first
    # GenerateCredentialReport and then kept, as IAM keeps one for 4 hours: what changes later is not in it.

    def get_account_summary(self):
        self._log("get_account_summary", {})
        return {"SummaryMap": {"Users": len(self.users)}}

    def get_account_authorization_details(self, Filter, MaxItems):
        assert Filter == ["User"]
        assert_largest_page(MaxItems)
        self._log("get_account_authorization_details", {})
        with self.lock:
            return {"UserDetailList": [
                dict(raw_user(name), GroupList=[], UserPolicyList=[],
                     AttachedManagedPolicies=[{"PolicyName": arn.rsplit("/", 1)[-1], "PolicyArn": arn} for arn in user["attached"]])
                for name, user in self.users.items()
            ]}

    def generate_credential_report(self):
        self._log("generate_credential_report", {})
        with self.lock:
            if self.report is None:
                self.report = REPORT_HEADER + "".join(self._report_row(name, user) for name, user in self.users.items())
        return {"State": "COMPLETE"}

    def get_credential_report(self):
        self._log("get_credential_report", {})
        return {"Content": self.report.encode(), "ReportFormat": "text/csv", "GeneratedTime": REPORT_TIME}

    @staticmethod
    def _report_row(name, user):
        keys = [("true", ISO, "N/A") for dummy in user["keys"][:2]] + [("false", "N/A", "N/A")] * (2 - len(user["keys"][:2]))
        return ",".join([name, raw_user(name)["Arn"], ISO, "false", "true" if user["devices"] else "false"]
                        + [cell for key in keys for cell in key] + ["false", "N/A", "false", "N/A"]) + "\n"

    def list_groups_for_user(self, UserName, MaxItems):
        assert_largest_page(MaxItems)
        return self._empty("list_groups_for_user", "Groups", UserName)

    def list_user_policies(self, UserName, MaxItems):
        assert_largest_page(MaxItems)
        return self._empty("list_user_policies", "PolicyNames", UserName)

    def list_attached_user_policies(self, UserName, MaxItems):
        assert_largest_page(MaxItems)
        self._log("list_attached_user_policies", {"UserName": UserName})
        return {"AttachedPolicies": [{"PolicyArn": arn} for arn in self._user(UserName, "ListAttachedUserPolicies")["attached"]]}

    def list_mfa_devices(self, UserName, MaxItems):
        assert_largest_page(MaxItems)
        self._log("list_mfa_devices", {"UserName": UserName})
        return {"MFADevices": [{"UserName": UserName, "SerialNumber": s, "EnableDate": DATE} for s in self._user(UserName, "ListMFADevices")["devices"]]}

    def list_virtual_mfa_devices(self, AssignmentStatus, MaxItems):
        assert_largest_page(MaxItems)
        self._log("list_virtual_mfa_devices", {"AssignmentStatus": AssignmentStatus})
        with self.lock:
            return {"VirtualMFADevices": [
                {"SerialNumber": s, "User": raw_user(owner), "EnableDate": DATE} if owner else {"SerialNumber": s} for s, owner in self.virtual.items()
            ]}

    def list_mfa_device_tags(self, SerialNumber, MaxItems):
        """No device here was created by iam_mfa_device: the only tags are a removal's intent (tag_mfa_device)."""
        assert_largest_page(MaxItems)
        self._log("list_mfa_device_tags", {"SerialNumber": SerialNumber})
        with self.lock:
            return {"Tags": [{"Key": key, "Value": value} for key, value in self.tags.get(SerialNumber, {}).items()]}

    def tag_mfa_device(self, SerialNumber, Tags):
        self._log("tag_mfa_device", {"SerialNumber": SerialNumber, "Tags": Tags})
        with self.lock:
            if SerialNumber not in self.virtual:
                raise client_error_of("NoSuchEntity", "MFA Device with serial number %s does not exist." % SerialNumber, "TagMFADevice")
            self.tags.setdefault(SerialNumber, {}).update({tag["Key"]: tag["Value"] for tag in Tags})

    def delete_access_key(self, UserName, AccessKeyId):
        self._log("delete_access_key", {"UserName": UserName, "AccessKeyId": AccessKeyId})
        self._user(UserName, "DeleteAccessKey")["keys"].remove(AccessKeyId)

    def detach_user_policy(self, UserName, PolicyArn):
        self._log("detach_user_policy", {"UserName": UserName, "PolicyArn": PolicyArn})
        self._user(UserName, "DetachUserPolicy")["attached"].remove(PolicyArn)

    def deactivate_mfa_device(self, UserName, SerialNumber):
        self._log("deactivate_mfa_device", {"UserName": UserName, "SerialNumber": SerialNumber})
        self._user(UserName, "DeactivateMFADevice")["devices"].remove(SerialNumber)
        with self.lock:
            if SerialNumber in self.virtual:
                self.virtual[SerialNumber] = None

    def delete_virtual_mfa_device(self, SerialNumber):
        self._log("delete_virtual_mfa_device", {"SerialNumber": SerialNumber})
        with self.lock:
            if SerialNumber not in self.virtual:
                raise client_error_of("NoSuchEntity", "MFA Device with serial number %s does not exist." % SerialNumber, "DeleteVirtualMFADevice")
            if self.virtual[SerialNumber]:
                raise client_error_of("DeleteConflict", "MFA device is still in use", "DeleteVirtualMFADevice")
            del self.virtual[SerialNumber]
            self.tags.pop(SerialNumber, None)

    def delete_user(self, UserName):
        self._log("delete_user", {"UserName": UserName})
        hook, self.on_delete_user = self.on_delete_user, None
        if hook:
            hook(self, UserName)
        user = self._user(UserName, "DeleteUser")
        if user["keys"] or user["devices"] or user["attached"]:
            raise client_error_of("DeleteConflict", "Cannot delete entity, must remove dependents first.", "DeleteUser")
        with self.lock:
            del self.users[UserName]

    def mutations(self):
        return [(op, params) for op, params in self.calls if not op.startswith(("get_", "list_"))]


def write_manifest(folder, user_name, serials, stamp="20261124T101500Z"):
    document = {"format": "iamguard.aws/user-manifest/1", "user": {"user_name": user_name},
                "mfa_devices": [{"serial_number": serial, "type": "virtual", "enable_date": ISO} for serial in serials]}
    path = os.path.join(folder, "%s-%s-%s.json" % (ACCOUNT, user_name, stamp))
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(document, handle)
    return path
