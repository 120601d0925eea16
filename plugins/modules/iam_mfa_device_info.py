#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: iam_mfa_device_info
version_added: 0.1.0
short_description: List the MFA devices of an AWS account, typed, with orphans and pending enrolments
description:
  - Lists every virtual MFA device of the account with its assignment, in one paginated account-wide read
    (ListVirtualMFADevices). The root user's device is listed with C(root=true) and is never an orphan.
  - Splits the unassigned ones in two. RV(pending_enrolments) are devices M(iamguard.aws.iam_mfa_device) created for step 1
    of a person's two-step enrolment, which wait for the person's codes (told by the C(iamguard:) tags that module puts on
    them, read with one ListMFADeviceTags call per unassigned device). RV(orphans) are all the others (leftovers of cancelled
    enrolments that block the next enrolment with C(EntityAlreadyExists)), safe to clean up. Both carry their age when a tag
    tells it.
  - For each user in O(user_names), lists that user's devices of every type (virtual, hardware TOTP, passkey / security
    key) with one ListMFADevices call per user; IAM has no account-wide list of non-virtual devices.
  - Reads only; never changes anything, also outside check mode.
author:
  - iamguard maintainers (@iamguard)
options:
  user_names:
    description:
      - Users whose devices of every type to list. A user that does not exist is listed in RV(missing_users), not in RV(users).
    type: list
    elements: str
    default: []
    aliases: ['user_name']
  assignment_status:
    description:
      - Which virtual devices RV(virtual_devices) lists. RV(orphans) is always the unassigned ones.
    type: str
    choices: [Any, Assigned, Unassigned]
    default: Any
notes:
  - "IAM permissions: C(iam:ListVirtualMFADevices), C(iam:ListMFADeviceTags), and C(iam:ListMFADevices) with O(user_names)."
requirements:
  - python >= 3.8
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Find orphaned virtual MFA devices
  iamguard.aws.iam_mfa_device_info:
  register: mfa

- name: Show them, and the enrolments still waiting for a person's codes
  ansible.builtin.debug:
    msg:
      - "Orphans: {{ mfa.orphans | map(attribute='serial_number') | list }}"
      - "Waiting for codes: {{ mfa.pending_enrolments | map(attribute='serial_number') | list }}"

- name: Devices of two users, every type
  iamguard.aws.iam_mfa_device_info:
    user_names: [alice, bob]
"""

RETURN = r"""
virtual_devices:
  description: Virtual devices of the account matching O(assignment_status), sorted by serial number.
  returned: always
  type: list
  elements: dict
  contains:
    serial_number:
      description: Serial number (ARN) of the device.
      type: str
    type:
      description: Always C(virtual) here.
      type: str
    user_name:
      description: The user the device is enabled for; null when unassigned or root's.
      type: str
    enable_date:
      description: When the device was enabled (ISO 8601).
      type: str
    assigned:
      description: Whether the device is enabled for someone.
      type: bool
    root:
      description: Whether this is the root user's device.
      type: bool
    created_at:
      description: When this collection created the device (ISO 8601, UTC), from its C(iamguard:created-at) tag; null when unknown.
      returned: for unassigned devices
      type: str
    age_minutes:
      description: Whole minutes since RV(virtual_devices[].created_at); null when unknown.
      returned: for unassigned devices
      type: int
    pending_enrolment:
      description: Whether the device waits for a person's codes (step 1 of a two-step enrolment by M(iamguard.aws.iam_mfa_device)).
      returned: for unassigned devices
      type: bool
    removing_from:
      description:
        - The user a removal by this collection was taking the device from (its C(iamguard:removing-from) tag), or null. Such a
          device was deactivated by a run that stopped before deleting it; M(iamguard.aws.iam_mfa_orphans) deletes it.
      returned: for unassigned devices
      type: str
orphans:
  description: Unassigned virtual devices (root's excluded) that are not pending enrolments, with the keys of RV(virtual_devices).
  returned: always
  type: list
  elements: dict
pending_enrolments:
  description:
    - Unassigned virtual devices created by step 1 of a person's enrolment, waiting for the two codes, with the keys of RV(virtual_devices).
    - Not orphans; an old one (see C(age_minutes)) is an enrolment the person never finished.
  returned: always
  type: list
  elements: dict
missing_users:
  description: The users of O(user_names) that do not exist (each also gives a warning).
  returned: always
  type: list
  elements: str
users:
  description:
    - For each existing user of O(user_names), its devices, each with C(type) C(virtual), C(hardware) or C(passkey).
    - An empty list means the user exists and has no MFA device; a missing user is in RV(missing_users) instead.
  returned: always
  type: dict
  sample: {"alice": [{"serial_number": "arn:aws:iam::123456789012:u2f/user/alice/key-1", "type": "passkey", "user_name": "alice",
           "enable_date": "2026-01-02T03:04:05+00:00", "assigned": true, "root": false}]}
summary:
  description: Counts of virtual devices, of assigned ones, of orphans and of pending enrolments.
  returned: always
  type: dict
  sample: {"virtual": 12, "virtual_assigned": 9, "orphans": 2, "pending_enrolments": 1}
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.iamguard.aws.plugins.module_utils.devices import device_inventory
from ansible_collections.iamguard.aws.plugins.module_utils.runner import run
from ansible_collections.iamguard.aws.plugins.module_utils.session import iam_client


def main():
    argument_spec = dict(
        user_names=dict(type="list", elements="str", default=[], aliases=["user_name"]),
        assignment_status=dict(type="str", choices=["Any", "Assigned", "Unassigned"], default="Any"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    run(module, lambda: device_inventory(iam_client(module), module.params["user_names"], module.params["assignment_status"]))


if __name__ == "__main__":
    main()
