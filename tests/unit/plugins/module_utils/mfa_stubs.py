# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stubber scripts and facts shared by the MFA device tests (devices, plans/mfa, enrolment, device_options, mfa_removal)."""

from __future__ import annotations

import os
import stat
from datetime import datetime, timezone

from ansible_collections.iamguard.aws.plugins.module_utils import tags as mfa_tags
from ansible_collections.iamguard.aws.plugins.module_utils.plans.action import Action


ACCOUNT = "123456789012"
DATE = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
ISO = "2024-01-02T03:04:05+00:00"
# RFC 6238 test secret ("12345678901234567890"); its codes at t=1111111111 and the step before
# are the last six digits of the RFC's published values 14050471 and 07081804.
SEED = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
NOW = 1111111111
CODES = ("081804", "050471")
PNG = b"\x89PNG\r\n\x1a\nfake-qr"
IDENTITY = {"Partition": "aws", "Account": ACCOUNT, "Arn": "arn:aws:iam::%s:user/admin" % ACCOUNT, "UserId": "AIDAADMINADMINADMIN0"}


def serial(name, path="/"):
    return "arn:aws:iam::%s:mfa%s%s" % (ACCOUNT, path, name)


ROOT_SERIAL = serial("root-account-mfa-device")
PASSKEY = "arn:aws:iam::%s:u2f/user/alice/passkey-CRESUIN32BFJPIIGIL2PLPODPM" % ACCOUNT
HARDWARE_ARN = serial("alice-token")
VENDOR = "GAHT12345678"


def user(name):
    arn = "arn:aws:iam::%s:user/%s" % (ACCOUNT, name)
    return {"Path": "/", "UserName": name, "UserId": ("AIDA" + name.upper() + "X" * 16)[:20], "Arn": arn, "CreateDate": DATE}


def assigned(serial_number, name):
    return {"SerialNumber": serial_number, "User": user(name), "EnableDate": DATE}


def orphan(serial_number):
    return {"SerialNumber": serial_number}


ROOT_RAW = {
    "SerialNumber": ROOT_SERIAL,
    "User": {"Path": "/", "UserName": "root", "UserId": ACCOUNT + "0000", "Arn": "arn:aws:iam::%s:root" % ACCOUNT, "CreateDate": DATE},
    "EnableDate": DATE,
}


def stub_virtual(stub, *devices):
    stub.add_response("list_virtual_mfa_devices", {"VirtualMFADevices": list(devices), "IsTruncated": False}, {"AssignmentStatus": "Any", "MaxItems": 1000})


def stub_user_devices(stub, name, *serials):
    devices = [{"UserName": name, "SerialNumber": s, "EnableDate": DATE} for s in serials]
    stub.add_response("list_mfa_devices", {"MFADevices": devices, "IsTruncated": False}, {"UserName": name, "MaxItems": 1000})


def stub_tags(stub, serial_number, tags=None):
    listed = [{"Key": key, "Value": value} for key, value in (tags or {}).items()]
    stub.add_response("list_mfa_device_tags", {"Tags": listed, "IsTruncated": False}, {"SerialNumber": serial_number, "MaxItems": 1000})


def pending_tags(user_name="alice", created_at="2005-03-18T01:43:31Z"):
    """The tags step 1 of a two-step enrolment leaves (created 30 minutes before NOW), seed bound."""
    return {mfa_tags.TAG_CREATED_AT: created_at, mfa_tags.TAG_ENROLMENT: mfa_tags.TWO_STEP, mfa_tags.TAG_ENROLMENT_USER: user_name,
            mfa_tags.TAG_SEED_SHA256: mfa_tags.digest(SEED), mfa_tags.TAG_QR_SHA256: mfa_tags.digest(PNG)}


def stub_no_user(stub, name):
    stub.add_client_error("list_mfa_devices", "NoSuchEntity", "The user with name %s cannot be found." % name, 404,
                          expected_params={"UserName": name, "MaxItems": 1000})


def bookkeeping(user_name="alice", kind=mfa_tags.TWO_STEP, created_at="2005-03-18T01:58:31Z"):
    """This collection's creation tags (created at NOW) as a Tags parameter, merged with ``extra`` by the caller."""
    tags = {mfa_tags.TAG_CREATED_AT: created_at, mfa_tags.TAG_ENROLMENT: kind}
    if user_name:
        tags[mfa_tags.TAG_ENROLMENT_USER] = user_name
    return tags


def tag_list(tags):
    return [{"Key": key, "Value": value} for key, value in sorted(tags.items())]


def stub_create(stub, name, path="/", tags=None, serial_number=None):
    """CreateVirtualMFADevice with ``tags`` (all of them, bookkeeping included), then the TagMFADevice that binds the seed."""
    created = serial_number or serial(name, path)
    params = {"VirtualMFADeviceName": name, "Path": path, "Tags": tag_list(tags if tags is not None else bookkeeping(name))}
    device = {"SerialNumber": created, "Base32StringSeed": SEED.encode("ascii"), "QRCodePNG": PNG}
    stub.add_response("create_virtual_mfa_device", {"VirtualMFADevice": device}, params)
    binding = [{"Key": mfa_tags.TAG_SEED_SHA256, "Value": mfa_tags.digest(SEED)}, {"Key": mfa_tags.TAG_QR_SHA256, "Value": mfa_tags.digest(PNG)}]
    stub.add_response("tag_mfa_device", {}, {"SerialNumber": created, "Tags": binding})


def stub_enable(stub, name, serial_number, codes=CODES):
    params = {"UserName": name, "SerialNumber": serial_number, "AuthenticationCode1": codes[0], "AuthenticationCode2": codes[1]}
    stub.add_response("enable_mfa_device", {}, params)
    return params


def _mode(path):
    return stat.S_IMODE(os.lstat(str(path)).st_mode)


def _params(**overrides):
    params = {
        "state": "present", "user_name": "alice", "name": None, "path": "/", "serial_number": None, "authentication_code_1": None,
        "authentication_code_2": None, "generate_codes": False, "qr_code_png_path": None, "seed_path": None, "force": False,
        "return_secret": False, "replace_orphan": True, "tags": None,
    }
    params.update(overrides)
    return params


def _request(**overrides):
    request = {
        "user_name": "alice", "name": "alice", "path": "/", "serial": serial("alice"), "tags": None, "codes_given": False,
        "generate_codes": False, "replace_orphan": True, "destinations": [("write_seed", "/secrets/alice.seed")], "return_secret": False,
        "created_at": "2005-03-18T01:58:31Z",
    }
    request.update(overrides)
    return request


ENABLE = Action("enable_mfa_device", serial("alice"), {"UserName": "alice", "SerialNumber": serial("alice")})
