#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: iam_mfa_orphans
version_added: 0.1.0
short_description: Delete the orphaned virtual MFA devices of an AWS account, only those still orphaned
description:
  - Deletes virtual MFA devices enabled for nobody (orphans) - left by cancelled console enrolments, or by tools that
    deactivated a device without deleting it, they block the next enrolment of the same name with C(EntityAlreadyExists).
  - "One call per account: one paginated ListVirtualMFADevices, one ListMFADeviceTags per unassigned device, then for each
    chosen device its tags read again and one DeleteVirtualMFADevice."
  - Chooses the unassigned devices whose path matches one of O(path_patterns) and whose name matches one of O(name_patterns),
    at least O(min_age_minutes) old (the age comes from the C(iamguard:created-at) tag M(iamguard.aws.iam_mfa_device) puts on
    the devices it creates); a device of unknown age is chosen when O(include_unknown_age=true).
  - Also chooses, whatever the patterns and the age, every unassigned device tagged C(iamguard:removing-from) - a removal by
    this collection that stopped after deactivating it; deleting it finishes what that run recorded it would do.
  - Never chosen - the root user's device; devices enabled for anyone; pending enrolments (step 1 of a person's enrolment by
    M(iamguard.aws.iam_mfa_device), waiting for the person's codes).
  - Deletes with DeleteVirtualMFADevice alone, never DeactivateMFADevice. A device someone enabled since the list is refused
    by IAM (C(DeleteConflict)) - it is no orphan any more, and is listed in RV(changed_meanwhile), not an error. Right before each deletion
    the device's tags are read again, and a device whose tags changed since the list (a person's enrolment created it again or
    made it a pending enrolment) is skipped too. A device gone meanwhile is skipped as C(gone).
  - Check mode lists what would be deleted and deletes nothing.
author:
  - iamguard maintainers (@iamguard)
options:
  state:
    description:
      - Only V(absent) - the chosen orphans are deleted.
    type: str
    choices: [absent]
    default: absent
  name_patterns:
    description:
      - Shell patterns on the device name, case-insensitive. C(*) and C(?) match within the name; nothing else is special.
      - A name holds no C(/), so neither may a pattern.
    type: list
    elements: str
    default: ['*']
  path_patterns:
    description:
      - Shell patterns on the device path (C(/) or C(/team/...)), case-insensitive. Here C(*) and C(?) also match C(/), so
        C(/team/*) matches C(/team/) and every folder under it.
      - Each pattern starts with C(/) or C(*).
    type: list
    elements: str
    default: ['*']
  min_age_minutes:
    description:
      - Devices younger than this are kept, so an enrolment in progress is not swept from under the person.
    type: int
    default: 60
  include_unknown_age:
    description:
      - Whether a device of unknown age (created by the console or another tool, so without this collection's creation tag)
        counts as old enough. Those are the orphans this cleanup exists for.
      - A console enrolment created right now cannot be told from an old orphan; with V(true) keep the sweep away from the
        hours in which people enrol, or use O(name_patterns) and O(path_patterns).
    type: bool
    default: true
notes:
  - "IAM permissions: C(iam:ListVirtualMFADevices), C(iam:ListMFADeviceTags) and C(iam:DeleteVirtualMFADevice)."
  - The playbook C(iamguard.aws.orphan_cleanup) calls this module once per account of an inventory.
requirements:
  - python >= 3.8
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - iamguard.aws.permissions.mfa_session
"""

EXAMPLES = r"""
- name: What would be deleted
  iamguard.aws.iam_mfa_orphans:
  check_mode: true
  register: orphans

- name: Delete orphans of the team folders older than a day, known age only
  iamguard.aws.iam_mfa_orphans:
    path_patterns: ['/team/*']
    name_patterns: ['*']
    min_age_minutes: 1440
    include_unknown_age: false
"""

RETURN = r"""
actions:
  description: The deletions planned (check mode) or attempted, in order - the same list in check mode and for real.
  returned: always
  type: list
  elements: dict
  sample: [{"action": "delete_virtual_mfa_device", "target": "arn:aws:iam::123456789012:mfa/alice"}]
deleted:
  description:
    - The devices deleted (in check mode, those that would be), as M(iamguard.aws.iam_mfa_device_info) lists unassigned devices,
      plus C(reason) - C(orphan), C(unknown_age) or C(removal_intent).
  returned: always
  type: list
  elements: dict
changed_meanwhile:
  description:
    - Chosen devices that were not deleted because they changed since the list, with C(reason) - C(assigned_meanwhile) (IAM
      answered DeleteConflict), C(gone), C(recreated_meanwhile) (its C(iamguard:created-at) tag changed),
      C(pending_enrolment_meanwhile) or C(tags_changed_meanwhile). Always empty in check mode.
  returned: always
  type: list
  elements: dict
kept:
  description: Matching devices left alone, with C(reason) - C(too_young), C(unknown_age) or C(pending_enrolment).
  returned: always
  type: list
  elements: dict
summary:
  description: Counts of unassigned devices (root's excluded), and of those deleted, changed meanwhile and kept.
  returned: always
  type: dict
  sample: {"unassigned": 5, "deleted": 2, "changed_meanwhile": 1, "kept": 1}
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.iamguard.aws.plugins.module_utils.mfa_orphans import sweep
from ansible_collections.iamguard.aws.plugins.module_utils.runner import run
from ansible_collections.iamguard.aws.plugins.module_utils.session import iam_client


def main():
    argument_spec = dict(
        state=dict(type="str", choices=["absent"], default="absent"),
        name_patterns=dict(type="list", elements="str", default=["*"]),
        path_patterns=dict(type="list", elements="str", default=["*"]),
        min_age_minutes=dict(type="int", default=60),
        include_unknown_age=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    run(module, lambda: sweep(iam_client(module), module.params, module.check_mode))


if __name__ == "__main__":
    main()
