#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: iam_user_purge
version_added: 0.1.0
short_description: Delete or disable IAM users completely, in one run, with an exact plan and a manifest
description:
  - O(state=absent) removes everything that makes DeleteUser fail with C(DeleteConflict) - login profile, access keys,
    SSH public keys, signing certificates, service-specific credentials, MFA devices, attached managed policies, inline
    policies and group memberships - then deletes the user. One run is enough whatever the mix of MFA device types;
    every device is deactivated and only virtual devices are deleted (hardware tokens and passkeys cannot be).
  - O(state=disabled) keeps the user (retention, legal hold) and removes every way to authenticate - login profile,
    access keys (deleted, or deactivated with O(access_key_action=deactivate)), SSH keys, signing certificates,
    service-specific credentials and MFA devices. Groups and policies stay unless O(remove_permissions=true).
  - Credentials are always removed first, so a run that stops half-way never leaves a user who can still sign in with
    fewer restrictions.
  - For each user one planner lists the actions; check mode returns that list without changing anything, and a real run
    applies the very same list. A dependent that appears during the run (C(DeleteConflict) on DeleteUser) is listed and
    removed again, at most O(max_conflict_retries) times.
  - Never touches the identity running the task, users matching O(protected_users), or the root user; such a target gets
    status V(protected) and a warning, nothing is changed for it, and the task goes on (check mode and C(--diff) show the
    others' plans). With O(fail_on_protected=true) the task fails at the end instead.
  - One user's failure does not stop the others; the task fails at the end and lists which users failed and why.
  - A virtual MFA device of the user that is enabled for nobody - named after the user, or named by an earlier manifest of
    the user in O(manifest_dir) - is deleted too. A run stopped between deactivating and deleting a device leaves one; the
    next run removes it, even when that run had already deleted the user (status V(absent), the deletion is listed).
  - Users are processed concurrently (O(max_workers)). Every IAM call is retried on throttling, server errors, dropped
    connections and IAM's short-lived C(EntityTemporarilyUnmodifiable) / C(ConcurrentModification) answers, up to 20
    attempts each with a jittered backoff from 0.1 to 5 seconds; a removal whose answer was lost and that then finds the
    item gone counts as done. Paginated lists are retried as a whole and read 1000 items per page.
  - A batch reads the account as a whole when that takes fewer calls (O(inventory_source)) - a 200-user offboarding then
    makes about 1.4 times the calls its changes strictly need instead of 2.5 times. A user of a small batch has its reads
    sent at once.
  - The permissions boundary and tags do not block DeleteUser and go with the user; they are recorded in the manifest.
author:
  - iamguard maintainers (@iamguard)
options:
  user_names:
    description:
      - Names of the users, as a YAML list. A single string is taken as one name.
      - A single string that contains a comma is refused - IAM allows commas inside user names, and this option never
        turns one string into several users. Give V([x, y]) for two users, or V(['x,y']) for one user named C(x,y).
    type: raw
    default: []
    aliases: ['user_name', 'names']
  user_ids:
    description:
      - Unique ids (C(AIDA...)) of users. All ids are resolved through one paginated ListUsers read.
    type: list
    elements: str
    default: []
  state:
    description:
      - V(absent) deletes the users; V(disabled) removes their credentials and keeps them.
    type: str
    choices: [absent, disabled]
    default: absent
  access_key_action:
    description:
      - With O(state=disabled), V(delete) deletes access keys and V(deactivate) makes them C(Inactive) (kept for audit).
    type: str
    choices: [delete, deactivate]
    default: delete
  remove_permissions:
    description:
      - With O(state=disabled), also detach managed policies, delete inline policies and remove the user from its groups.
      - O(state=absent) always does.
    type: bool
  protected_users:
    description:
      - User names or shell-style patterns (C(break-glass-*)) that are never purged.
    type: list
    elements: str
    default: []
  fail_on_protected:
    description:
      - Fail the task (at the end, after the other users) when a target is protected - the caller, root, or a
        O(protected_users) match. By default such a target is reported with status V(protected) and a warning.
    type: bool
    default: false
  fail_on_missing:
    description:
      - Fail the task (at the end, after the other users) when a name or id matches no IAM user (RV(missing_users)), a typo
        more often than a user already gone. By default such a target is reported with status V(absent) and a warning naming it.
    type: bool
    default: false
  manifest_dir:
    description:
      - Folder for one JSON manifest per user (C(<account>-<user>-<UTC timestamp>-<random token>.json)), written with mode 0600 before the
        first change to that user - path, ARN, id, tags, permissions boundary, login profile dates, access keys with status
        and last use, SSH key and signing certificate ids and bodies, service-specific credential ids, MFA serials with
        type, groups, inline policy documents, attached policy ARNs, and the actions. Never a secret value.
      - Not written in check mode.
      - An absolute path (C(~) is expanded; a relative path is refused). A missing folder, and each missing parent, is created
        with mode 0700 (not in check mode); an existing folder's mode is never changed. A symbolic link, a file, or a folder
        others may write to (group- or world-writable, C(/tmp) itself) is refused before any AWS call, with a message naming
        this option.
      - The earlier manifests of a user in this folder are read too - a virtual device they name that is now enabled for
        nobody is deleted with the user.
    type: path
  max_workers:
    description:
      - How many users are processed at once (1 to 32).
    type: int
    default: 4
  max_conflict_retries:
    description:
      - How many times a C(DeleteConflict) on DeleteUser leads to a fresh inventory and plan before the user fails (0 to 10).
    type: int
    default: 3
  inventory_source:
    description:
      - How the users' dependents are found. Both ways find the same dependents; they differ in how many API calls they take.
      - V(per_user) - for each user GetUser, GetLoginProfile and one list per kind of dependent (ten reads), most of them
        answering empty.
      - V(account) - account-wide reads first - GetAccountAuthorizationDetails (each user's groups and policies),
        ListServiceSpecificCredentials for all users, and the credential report (generated if needed, waited for up to
        O(report_wait_seconds)) - then per user only ListSSHPublicKeys, and ListAccessKeys, ListSigningCertificates and ListMFADevices where the
        report or the run's virtual-device list shows something. The report may be up to 4 hours old - IAM builds one at most
        that often - so a credential added since is not in the plan; DeleteUser then answers C(DeleteConflict) and that user is
        read again per user and the rest is removed (see O(max_conflict_retries)). Only with O(state=absent).
      - V(auto) - V(account) when it saves calls - O(state=absent), at least 8 users, and about six reads saved per user
        outweigh the account's size (GetAccountSummary) - else V(per_user). If the account-wide reads fail (for example
        C(AccessDenied) on the credential report), every user is read on its own and a warning says why.
      - RV(inventory) tells which was used.
    type: str
    choices: [auto, per_user, account]
    default: auto
  report_wait_seconds:
    description:
      - How long the account-wide source waits for IAM to build the credential report, between 0 and 3600. When it is not
        ready by then, O(inventory_source=auto) reads every user on its own (with a warning) and O(inventory_source=account)
        fails with nothing changed.
    type: int
    default: 120
notes:
  - "IAM permissions: C(sts:GetCallerIdentity); C(iam:GetUser), C(iam:ListUsers) (with O(user_ids)), C(iam:GetLoginProfile),
    C(iam:ListAccessKeys), C(iam:ListSSHPublicKeys), C(iam:ListSigningCertificates), C(iam:ListServiceSpecificCredentials),
    C(iam:ListMFADevices), C(iam:ListVirtualMFADevices), C(iam:ListGroupsForUser), C(iam:ListUserPolicies),
    C(iam:ListAttachedUserPolicies); with O(manifest_dir) also C(iam:GetAccessKeyLastUsed), C(iam:GetSSHPublicKey),
    C(iam:GetUserPolicy); to change: C(iam:DeleteLoginProfile), C(iam:DeleteAccessKey) or C(iam:UpdateAccessKey),
    C(iam:DeleteSSHPublicKey), C(iam:DeleteSigningCertificate), C(iam:DeleteServiceSpecificCredential),
    C(iam:DeactivateMFADevice), C(iam:DeleteVirtualMFADevice), C(iam:DetachUserPolicy), C(iam:DeleteUserPolicy),
    C(iam:RemoveUserFromGroup), C(iam:DeleteUser). For the account-wide source (O(inventory_source)) also
    C(iam:GetAccountSummary), C(iam:GetAccountAuthorizationDetails), C(iam:GenerateCredentialReport) and
    C(iam:GetCredentialReport). GenerateCredentialReport changes no IAM resource and is called in check mode too."
  - ListSSHPublicKeys answers C(InvalidAction) in some partitions; the module then takes the user to have no SSH keys and warns.
requirements:
  - python >= 3.8
  - boto3 >= 1.39.0
  - botocore >= 1.39.0 (ListServiceSpecificCredentials for all users, the account-wide source; with an older one it fails clearly)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - iamguard.aws.permissions.mfa_session
"""

EXAMPLES = r"""
- name: See what offboarding two users would do (run with --check, or read the plan)
  iamguard.aws.iam_user_purge:
    user_names: [alice, bob]
    protected_users: ["break-glass-*", "terraform"]
  check_mode: true
  register: plan

- name: Offboard them, keeping a manifest of everything removed
  iamguard.aws.iam_user_purge:
    user_names: [alice, bob]
    protected_users: ["break-glass-*", "terraform"]
    manifest_dir: /var/lib/offboarding

- name: Legal hold - keep the user, remove every way to sign in, keep its access keys inactive
  iamguard.aws.iam_user_purge:
    user_names: carol
    state: disabled
    access_key_action: deactivate

- name: Delete a user known only by its id
  iamguard.aws.iam_user_purge:
    user_ids: [AIDAEXAMPLEID1234567]

- name: Offboard a whole team in one run - read the account as a whole, wait up to 5 minutes for the credential report
  iamguard.aws.iam_user_purge:
    user_names: "{{ leavers }}"
    inventory_source: account
    report_wait_seconds: 300
    manifest_dir: /var/lib/offboarding
  register: offboarding   # offboarding.inventory tells the credential report's age

- name: A user whose name contains a comma, in a run that must fail if any target is protected
  iamguard.aws.iam_user_purge:
    user_names: ['contractor,acme']
    protected_users: ["break-glass-*"]
    fail_on_protected: true
"""

RETURN = r"""
missing_users:
  description:
    - The names and ids given that match no IAM user (status V(absent) with nothing done), each also named in a warning;
      see O(fail_on_missing).
  returned: always
  type: list
  elements: str
  sample: ["alcie"]
inventory:
  description: How the users' dependents were read (see O(inventory_source)).
  returned: always
  type: dict
  contains:
    source:
      description: V(per_user) or V(account).
      type: str
    reason:
      description: Why every user was read on its own (with V(per_user)).
      type: str
    users_read:
      description: Users in the account-wide reads (with V(account)).
      type: int
    credential_report_generated_at:
      description: When the credential report used was generated (with V(account)).
      type: str
    credential_report_age_hours:
      description: Its age when read, in hours (with V(account)).
      type: float
  sample: {"source": "account", "users_read": 220, "credential_report_generated_at": "2026-12-06T12:00:05+00:00",
           "credential_report_age_hours": 0.01}
users:
  description: One entry per requested user, in the order given (names first, then ids).
  returned: always
  type: list
  elements: dict
  contains:
    requested:
      description: The name or id as given.
      type: str
    user_name:
      description: The user's name, when known.
      type: str
    user_id:
      description: The user's unique id, when known.
      type: str
    arn:
      description: The user's ARN, when the user exists.
      type: str
    status:
      description:
        - V(deleted) or V(disabled) - the state reached (in check mode, the state the plan reaches);
          V(absent) - no such user (RV(users[].actions) lists leftover virtual devices deleted all the same);
          V(protected) - refused by a guard, nothing changed, a warning given (a failure with O(fail_on_protected=true));
          V(failed) - see RV(users[].error).
      type: str
    actions:
      description: The actions performed (or planned, in check mode), in order.
      type: list
      elements: dict
      contains:
        action:
          description: The IAM call in snake_case, for example C(delete_access_key).
          type: str
        target:
          description: What it acts on - key id, serial number, group name, policy ARN or name, user name.
          type: str
    manifest:
      description: Path of the manifest written for this user, if any.
      type: str
    error:
      description: Why this user failed or was refused.
      type: str
  sample: [{"requested": "alice", "user_name": "alice", "user_id": "AIDAEXAMPLE000000001", "arn": "arn:aws:iam::123456789012:user/alice",
            "status": "deleted", "manifest": "/var/lib/offboarding/123456789012-alice-20261124T101500Z-5f0c2a9e41d7b36c.json", "error": null,
            "actions": [{"action": "delete_login_profile", "target": "alice"}, {"action": "delete_user", "target": "alice"}]}]
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.iamguard.aws.plugins.module_utils.files import prepare_folder
from ansible_collections.iamguard.aws.plugins.module_utils.runner import caller_identity_ahead, run
from ansible_collections.iamguard.aws.plugins.module_utils.session import credentials_lack_mfa, iam_client, sts_client
from ansible_collections.iamguard.aws.plugins.module_utils.users import purge, purge_options


def main():
    argument_spec = dict(
        # raw: the list type would split 'x,y' into two users; validation.name_list decides.
        user_names=dict(type="raw", default=[], aliases=["user_name", "names"]),
        user_ids=dict(type="list", elements="str", default=[]),
        state=dict(type="str", choices=["absent", "disabled"], default="absent"),
        access_key_action=dict(type="str", choices=["delete", "deactivate"], default="delete", no_log=False),
        remove_permissions=dict(type="bool"),
        protected_users=dict(type="list", elements="str", default=[]),
        fail_on_protected=dict(type="bool", default=False),
        fail_on_missing=dict(type="bool", default=False),
        manifest_dir=dict(type="path"),
        max_workers=dict(type="int", default=4),
        max_conflict_retries=dict(type="int", default=3),
        inventory_source=dict(type="str", choices=["auto", "per_user", "account"], default="auto"),
        report_wait_seconds=dict(type="int", default=120),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)

    def work():
        module.params["manifest_dir"] = prepare_folder(module.params["manifest_dir"], "manifest_dir", private=True, create=not module.check_mode)
        options = purge_options(module.params)
        caller = caller_identity_ahead(sts_client(module))
        return purge(iam_client(module), caller, options, module.check_mode, lambda: credentials_lack_mfa(module))

    run(module, work)


if __name__ == "__main__":
    main()
