# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Service control policies that stand in the way of root cleanup: read (Organizations), then evaluated (pure).

A member account's root session can do only what every SCP level above it allows: the organization's
root, each OU down to the account, and the account itself. An action is blocked at a level when an SCP
attached there denies it (Deny, by Action or NotAction, on ``*`` or a Resource matching root's), or
when no SCP attached there allows it (an allow-list SCP strategy). A Deny with a Condition may or may not
apply: it is reported as conditional. The management account is subject to no SCP; root cleanup never
targets it (root.organization refuses it first).

Reads: ListParents up to the root, ListPoliciesForTarget (SERVICE_CONTROL_POLICY) for the account, each
OU and the root, DescribePolicy once per policy other than AWS's FullAWSAccess (``p-FullAWSAccess``,
whose content AWS fixes: allow everything).
"""

from __future__ import annotations

import fnmatch
import json

from ansible_collections.iamguard.aws.plugins.module_utils.calls import call
from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError, error_code
from ansible_collections.iamguard.aws.plugins.module_utils.paging import read
from ansible_collections.iamguard.aws.plugins.module_utils.root.organization import refusal

ASSUME_ROOT = "sts:AssumeRoot"
# What a root session of this collection reads (both task policies allow these) and what each removal adds.
READ_ACTIONS = ("iam:GetLoginProfile", "iam:ListAccessKeys", "iam:GetAccessKeyLastUsed", "iam:ListSigningCertificates", "iam:ListMFADevices")
REMOVAL_ACTIONS = {
    "login_profile": ("iam:DeleteLoginProfile",),
    "access_keys": ("iam:DeleteAccessKey",),
    "signing_certificates": ("iam:DeleteSigningCertificate",),
    "mfa_devices": ("iam:DeactivateMFADevice", "iam:DeleteVirtualMFADevice"),
}
FULL_ACCESS_POLICY_ID = "p-FullAWSAccess"
SCP = "SERVICE_CONTROL_POLICY"
ROOT_DEVICE = "mfa/root-account-mfa-device"  # the resource DeleteVirtualMFADevice names: root's device as the console names it
NEEDED_PERMISSIONS = "organizations:ListParents, organizations:ListPoliciesForTarget and organizations:DescribePolicy"


def needed_actions(credential_types=None):
    """The actions a root session needs: AssumeRoot and the reads (an audit, ``credential_types`` None), and each removal's."""
    return (ASSUME_ROOT, *READ_ACTIONS, *(action for kind in credential_types or () for action in REMOVAL_ACTIONS[kind]))


def resource_of(action, partition, account_id):
    """The resource an action of a root session names: root's ARN, or root's virtual device for DeleteVirtualMFADevice."""
    name = ROOT_DEVICE if action == "iam:DeleteVirtualMFADevice" else "root"
    return "arn:%s:iam::%s:%s" % (partition, account_id, name)


# --- evaluation (pure) ----------------------------------------------------------------------


def _listed(value):
    """A policy element that may be one value or a list of them, as a list."""
    return [value] if isinstance(value, (str, dict)) else list(value or [])


def _matches(patterns, value):
    """Whether ``value`` matches one of the IAM wildcard patterns (``*`` and ``?``), case-insensitive."""
    folded = value.lower()
    return any(fnmatch.fnmatchcase(folded, pattern.lower()) for pattern in patterns)


def applies(statement, action, resource):
    """Whether the statement's Action/NotAction and Resource/NotResource cover ``action`` on ``resource`` (its Condition aside)."""
    if "NotAction" in statement:
        covered = not _matches(_listed(statement["NotAction"]), action)
    else:
        covered = _matches(_listed(statement.get("Action")), action)
    if "NotResource" in statement:
        return covered and not _matches(_listed(statement["NotResource"]), resource)
    return covered and _matches(_listed(statement.get("Resource", "*")), resource)


def statements(document):
    return [statement for statement in _listed(document.get("Statement")) if isinstance(statement, dict)]


def denials(level, actions, partition, account_id):
    """The blockers at one level: ``level`` is {"target_id", "target_type", "policies": [{"id", "name", "document"}]}."""
    found = []
    for policy in level["policies"]:
        for index, statement in enumerate(statements(policy["document"])):
            if statement.get("Effect") != "Deny":
                continue
            denied = [action for action in actions if applies(statement, action, resource_of(action, partition, account_id))]
            if denied:
                found.append(blocker(level, policy, denied, statement.get("Sid") or "statement %d" % (index + 1), statement.get("Condition")))
    allowed = {action for policy in level["policies"] for statement in statements(policy["document"]) if statement.get("Effect") == "Allow"
               for action in actions if applies(statement, action, resource_of(action, partition, account_id))}
    unallowed = [action for action in actions if action not in allowed]
    if unallowed:
        found.append(blocker(level, None, unallowed, None, None))
    return found


def blocker(level, policy, actions, sid, condition):
    """One SCP that blocks ``actions``; ``policy`` None: no SCP at the level allows them (an implicit deny)."""
    return {
        "policy_id": policy["id"] if policy else None,
        "policy_name": policy["name"] if policy else None,
        "target_id": level["target_id"],
        "target_type": level["target_type"],
        "sid": sid,
        "actions": actions,
        "conditional": bool(condition),
        "condition": condition or None,
        "effect": "implicit deny" if policy is None else ("may deny (conditional)" if condition else "deny"),
    }


def evaluate(levels, actions, partition, account_id):
    """Every blocker of ``actions`` over the levels (the account first, up to the organization's root)."""
    return [found for level in levels for found in denials(level, actions, partition, account_id)]


def describe(found):
    """One blocker in a sentence, naming the policy, its target and its statement."""
    where = "%s %s" % (found["target_type"].lower().replace("_", " "), found["target_id"])
    if found["policy_id"] is None:
        return "no SCP attached to %s allows %s" % (where, ", ".join(found["actions"]))
    return "SCP %s (%s) attached to %s, statement %s, %s %s%s" % (
        found["policy_id"], found["policy_name"], where, found["sid"], "may deny" if found["conditional"] else "denies",
        ", ".join(found["actions"]), " (conditional: %s)" % json.dumps(found["condition"], sort_keys=True) if found["conditional"] else "")


# --- reads (Organizations, from the management account or a delegated administrator) ----------


def levels_of(organizations, account_id):
    """[{"target_id", "target_type", "policies"}] of the account, each OU above it, and the organization's root; or None
    when SCPs are not enabled in the organization (then none applies)."""
    targets = [{"target_id": account_id, "target_type": "ACCOUNT"}]
    while targets[-1]["target_type"] != "ROOT":
        parents = read(organizations, "list_parents", "Parents", "ListParents of %s" % targets[-1]["target_id"], ChildId=targets[-1]["target_id"])
        targets.append({"target_id": parents[0]["Id"], "target_type": parents[0]["Type"]})
    documents = {}
    try:
        for target in targets:
            attached = read(organizations, "list_policies_for_target", "Policies", "ListPoliciesForTarget %s" % target["target_id"],
                            TargetId=target["target_id"], Filter=SCP)
            target["policies"] = [{"id": policy["Id"], "name": policy["Name"], "document": document(organizations, policy["Id"], documents)}
                                  for policy in attached]
    except IamGuardError as e:
        if error_code(e.exception) == "PolicyTypeNotEnabledException":
            return None
        raise
    return targets


def document(organizations, policy_id, documents):
    """A policy's content as a dict, read once per run (FullAWSAccess's is known)."""
    if policy_id == FULL_ACCESS_POLICY_ID:
        return {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    if policy_id not in documents:
        answer = call(organizations, "describe_policy", "DescribePolicy %s" % policy_id, PolicyId=policy_id)
        documents[policy_id] = json.loads(answer["Policy"]["Content"])
    return documents[policy_id]


def scp_blockers(organizations, account_id, actions, partition):
    """{"blockers": [...], "checked": bool, "warning": str or None}; a caller that may not read the SCPs gets a warning, not a failure."""
    try:
        levels = levels_of(organizations, account_id)
    except IamGuardError as e:
        if error_code(e.exception) not in ("AccessDeniedException", "AccessDenied"):
            raise
        return {"blockers": [], "checked": False,
                "warning": "The service control policies of account %s were not checked (%s needed): %s" % (account_id, NEEDED_PERMISSIONS, e.message)}
    return {"blockers": evaluate(levels or [], actions, partition, account_id), "checked": True, "warning": None}


def check_cleanup(organizations, account_id, credential_types, partition):
    """(blockers, warnings) for root cleanup of ``credential_types``; refused, before any root session, when an SCP surely blocks it.

    Check mode checks the delete task policy's actions too: it says what the real run would do, refusal included.
    """
    checked = scp_blockers(organizations, account_id, needed_actions(credential_types), partition)
    blocking = [found for found in checked["blockers"] if not found["conditional"]]
    if blocking:
        raise refusal("Root cleanup of account %s would be stopped by service control policies: %s. Change or detach them, or leave this "
                      "account out, first." % (account_id, "; ".join(describe(found) for found in blocking)))
    warnings = [checked["warning"]] if checked["warning"] else []
    warnings.extend("Root cleanup of account %s may be stopped: %s." % (account_id, describe(found)) for found in checked["blockers"])
    return checked["blockers"], warnings
