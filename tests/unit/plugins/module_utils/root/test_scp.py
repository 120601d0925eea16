# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""root.scp: which SCP statements block the actions of a root session (pure), and the reads up to the organization's root."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber

from ansible_collections.iamguard.aws.plugins.module_utils.root import scp

ACCOUNT = "210987654321"
ROOT_ARN = "arn:aws:iam::%s:root" % ACCOUNT
FULL = {"id": "p-FullAWSAccess", "name": "FullAWSAccess", "document": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}


@pytest.mark.parametrize("statement, action, resource, expected", [
    ({"Action": "iam:DeleteLoginProfile"}, "iam:DeleteLoginProfile", ROOT_ARN, True),
    ({"Action": "IAM:deleteloginprofile"}, "iam:DeleteLoginProfile", ROOT_ARN, True),  # case-insensitive
    ({"Action": ["s3:*", "iam:Delete*"]}, "iam:DeleteAccessKey", ROOT_ARN, True),
    ({"Action": "iam:Delete*"}, "iam:DeactivateMFADevice", ROOT_ARN, False),
    ({"Action": "iam:De?ete*"}, "iam:DeleteAccessKey", ROOT_ARN, True),
    ({"Action": "*"}, "sts:AssumeRoot", ROOT_ARN, True),
    ({"Action": "sts:AssumeRole"}, "sts:AssumeRoot", ROOT_ARN, False),
    ({"NotAction": ["iam:List*", "iam:Get*"]}, "iam:DeleteAccessKey", ROOT_ARN, True),
    ({"NotAction": ["iam:List*", "iam:Get*"]}, "iam:ListAccessKeys", ROOT_ARN, False),
    ({"Action": "iam:*", "Resource": "arn:aws:iam::*:root"}, "iam:DeleteAccessKey", ROOT_ARN, True),
    ({"Action": "iam:*", "Resource": "arn:aws:iam::*:user/*"}, "iam:DeleteAccessKey", ROOT_ARN, False),
    ({"Action": "iam:*", "NotResource": "arn:aws:iam::*:root"}, "iam:DeleteAccessKey", ROOT_ARN, False),
    ({"Action": "iam:*", "NotResource": ["arn:aws:iam::*:user/*"]}, "iam:DeleteAccessKey", ROOT_ARN, True),
    ({"Action": []}, "iam:DeleteAccessKey", ROOT_ARN, False),
])
def test_applies(statement, action, resource, expected):
    assert scp.applies(dict(statement, Effect="Deny"), action, resource) is expected


def level(*policies, target_id=ACCOUNT, target_type="ACCOUNT"):
    return {"target_id": target_id, "target_type": target_type, "policies": list(policies)}


def policy(policy_id, *statements):
    return {"id": policy_id, "name": policy_id + "-name", "document": {"Version": "2012-10-17", "Statement": list(statements)}}


DELETE_ALL = scp.needed_actions(["login_profile", "access_keys", "signing_certificates", "mfa_devices"])


@pytest.mark.parametrize("levels, actions, expected", [
    # FullAWSAccess everywhere: nothing blocks
    ([level(FULL), level(FULL, target_id="r-1", target_type="ROOT")], DELETE_ALL, []),
    # a Deny of MFA removal at an OU names the OU, the policy and the Sid
    ([level(FULL), level(FULL, policy("p-ou", {"Sid": "KeepMfa", "Effect": "Deny", "Action": "iam:Deactivate*", "Resource": "*"}),
                         target_id="ou-1", target_type="ORGANIZATIONAL_UNIT")],
     DELETE_ALL, [("p-ou", "ou-1", "KeepMfa", ["iam:DeactivateMFADevice"], "deny")]),
    # the same Deny is nothing to an audit
    ([level(FULL, policy("p-ou", {"Sid": "KeepMfa", "Effect": "Deny", "Action": "iam:Deactivate*", "Resource": "*"}))], scp.needed_actions(), []),
    # DeleteVirtualMFADevice names root's device, not root: a Deny on mfa/* blocks it alone
    ([level(FULL, policy("p-dev", {"Effect": "Deny", "Action": "iam:*", "Resource": "arn:aws:iam::*:mfa/*"}))], DELETE_ALL,
     [("p-dev", ACCOUNT, "statement 1", ["iam:DeleteVirtualMFADevice"], "deny")]),
    # a conditional Deny may deny
    ([level(FULL, policy("p-c", {"Sid": "NoRoot", "Effect": "Deny", "Action": "sts:AssumeRoot", "Resource": "*",
                                 "Condition": {"Bool": {"aws:ViaAWSService": "false"}}}))],
     scp.needed_actions(), [("p-c", ACCOUNT, "NoRoot", ["sts:AssumeRoot"], "may deny (conditional)")]),
    # an allow list without FullAWSAccess that allows reads only: the removals are implicitly denied at that level
    ([level(policy("p-reads", {"Effect": "Allow", "Action": ["iam:Get*", "iam:List*", "sts:*"], "Resource": "*"}))], scp.needed_actions(["access_keys"]),
     [(None, ACCOUNT, None, ["iam:DeleteAccessKey"], "implicit deny")]),
    # a single statement (not a list), and Allow statements never block
    ([level({"id": "p-one", "name": "one", "document": {"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}})], DELETE_ALL, []),
])
def test_evaluate(levels, actions, expected):
    found = scp.evaluate(levels, actions, "aws", ACCOUNT)
    assert [(b["policy_id"], b["target_id"], b["sid"], b["actions"], b["effect"]) for b in found] == expected
    for blocker in found:
        assert blocker["conditional"] is (blocker["effect"] == "may deny (conditional)")


def test_describe_names_policy_target_and_statement():
    deny = scp.blocker(level(target_id="ou-ab12-cdef3456", target_type="ORGANIZATIONAL_UNIT"), policy("p-x", {}), ["iam:DeleteAccessKey"], "Sid1",
                       {"Bool": {"aws:ViaAWSService": "false"}})
    assert scp.describe(deny) == ('SCP p-x (p-x-name) attached to organizational unit ou-ab12-cdef3456, statement Sid1, may deny iam:DeleteAccessKey '
                                  '(conditional: {"Bool": {"aws:ViaAWSService": "false"}})')
    assert scp.describe(scp.blocker(level(), None, ["iam:A", "iam:B"], None, None)) == "no SCP attached to account %s allows iam:A, iam:B" % ACCOUNT


def test_needed_actions_follow_the_credential_types():
    assert scp.needed_actions() == ("sts:AssumeRoot",) + scp.READ_ACTIONS
    assert scp.needed_actions(["mfa_devices"])[-2:] == ("iam:DeactivateMFADevice", "iam:DeleteVirtualMFADevice")


def test_levels_read_up_to_the_root_once_per_policy_and_not_for_full_access():
    client = boto3.client("organizations", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(client)
    deny = {"Statement": [{"Effect": "Deny", "Action": "iam:*", "Resource": "*"}]}
    for child, parent, kind in ((ACCOUNT, "ou-ab12-11111111", "ORGANIZATIONAL_UNIT"), ("ou-ab12-11111111", "r-ab12", "ROOT")):
        stub.add_response("list_parents", {"Parents": [{"Id": parent, "Type": kind}]}, {"ChildId": child, "MaxResults": 20})
    for target, ids in ((ACCOUNT, ["p-FullAWSAccess", "p-deny0001"]), ("ou-ab12-11111111", ["p-FullAWSAccess", "p-deny0001"]), ("r-ab12", ["p-FullAWSAccess"])):
        stub.add_response("list_policies_for_target", {"Policies": [{"Id": i, "Name": i} for i in ids]},
                          {"TargetId": target, "Filter": "SERVICE_CONTROL_POLICY", "MaxResults": 20})
        if target == ACCOUNT:  # read once, though attached twice
            stub.add_response("describe_policy", {"Policy": {"PolicySummary": {"Id": "p-deny0001"}, "Content": json.dumps(deny)}}, {"PolicyId": "p-deny0001"})
    with stub:
        levels = scp.levels_of(client, ACCOUNT)
    stub.assert_no_pending_responses()
    assert [(lv["target_id"], lv["target_type"], [p["id"] for p in lv["policies"]]) for lv in levels] == [
        (ACCOUNT, "ACCOUNT", ["p-FullAWSAccess", "p-deny0001"]), ("ou-ab12-11111111", "ORGANIZATIONAL_UNIT", ["p-FullAWSAccess", "p-deny0001"]),
        ("r-ab12", "ROOT", ["p-FullAWSAccess"])]
    assert len(scp.evaluate(levels, scp.needed_actions(), "aws", ACCOUNT)) == 2  # the Deny, at the account and at the OU


def test_scps_not_enabled_block_nothing():
    client = boto3.client("organizations", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(client)
    stub.add_response("list_parents", {"Parents": [{"Id": "r-ab12", "Type": "ROOT"}]}, {"ChildId": ACCOUNT, "MaxResults": 20})
    stub.add_client_error("list_policies_for_target", "PolicyTypeNotEnabledException", "not enabled", 400)
    with stub:
        assert scp.scp_blockers(client, ACCOUNT, scp.needed_actions(), "aws") == {"blockers": [], "checked": True, "warning": None}
