#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: iam_mfa_device
version_added: 0.1.0
short_description: Enrol, reset and delete IAM MFA devices of every type
description:
  - Enrols a virtual MFA device for an IAM user (CreateVirtualMFADevice, then EnableMFADevice with two consecutive codes),
    in one unattended run or in the two runs a person needs (create and hand over the QR code, then enable with the codes
    the person reads from the app).
  - Removes MFA devices of every type. Every device is deactivated; only virtual devices are then deleted. Hardware TOTP
    tokens and passkeys / security keys (serials with C(:u2f/)) are deactivated only, so the run never fails with
    C(NoSuchEntity) on them.
  - Whether a device is virtual is read from ListVirtualMFADevices (one account-wide, paginated read per run), never
    guessed from the shape of its serial number.
  - The root user's MFA device is never changed.
  - Unassigned virtual devices (left by a cancelled console enrolment, they make the next enrolment fail with
    C(EntityAlreadyExists)) are replaced when a fresh secret is needed, see O(replace_orphan).
  - Check mode and diff mode report the exact list of actions the run would perform.
  - "Every virtual device it creates carries these tags, so later runs and M(iamguard.aws.iam_mfa_device_info) can tell
    its story: C(iamguard:created-at) (UTC, for example C(2026-11-25T09:00:00Z)), C(iamguard:enrolment) (C(two-step) for a
    person's enrolment, C(unattended) with O(generate_codes)), C(iamguard:enrolment-user) (the user it is for; a comma in
    the name is stored as a colon, since tag values cannot hold commas), and, set right after creation,
    C(iamguard:seed-sha256) and C(iamguard:qr-sha256) (SHA-256 of the seed and of the QR code PNG). The hashes bind the
    secret files to the device: a file whose hash does not match is never taken for the device's secret. The prefix
    C(iamguard:) is reserved, so O(tags) cannot use it."
author:
  - iamguard maintainers (@iamguard)
options:
  state:
    description:
      - V(present) makes the virtual device O(path)/O(name) exist and, when O(user_name) and codes are available, enabled for that user.
      - V(absent) with O(serial_number) removes that device; with O(name) the virtual device of that name;
        with only O(user_name) every MFA device of that user (the lost-device reset), and the unassigned virtual devices
        left over for that user (named after it, or tagged by this module as its enrolment), such as one deactivated by
        hand or by a run that stopped between deactivation and deletion.
      - A virtual device serial that no longer exists is already absent (C(changed=false), with a warning that says so, since such
        a serial may also be a hardware token's, which only O(user_name) finds).
      - "Before a virtual device is deactivated it is tagged with the removal's intent: C(iamguard:removing-from) (the user) and
        C(iamguard:removing-since) (UTC). A run stopped between deactivation and deletion leaves an unassigned device that says
        whose it was: the next reset or purge of that user, and M(iamguard.aws.iam_mfa_orphans), delete it, whatever local files
        they have."
      - "Refused, with nothing changed: O(user_name=root) (root's devices are removed with M(iamguard.aws.iam_root_credentials));
        with O(user_name), an unassigned virtual device that was never that user's (not named after the user, nor tagged by this
        collection as the user's enrolment or removal), or a device enabled for another user; a serial of another account than
        the one the credentials act in, or holding C(..); a hardware token or passkey serial (not C(arn:...:mfa/)) without
        O(user_name), which cannot be found without it."
      - V(absent) refuses the options of an enrolment (O(generate_codes), the two codes, O(seed_path), O(qr_code_png_path),
        O(return_secret), O(force), O(tags)), since a task that sets them is not what it seems.
    type: str
    choices: [present, absent]
    default: present
  user_name:
    description:
      - The IAM user the device is enabled for (V(present)) or whose devices are removed (V(absent)).
      - At least one of O(user_name), O(name) and O(serial_number) is required.
    type: str
  name:
    description:
      - Name of the virtual MFA device. Defaults to O(user_name) for O(state=present).
    type: str
  path:
    description:
      - Path of the virtual MFA device.
    type: str
    default: /
  serial_number:
    description:
      - Serial number (ARN or vendor serial) of one existing device of any type, for O(state=absent).
      - A hardware token or passkey is found through O(user_name), so give both for such a device.
    type: str
  authentication_code_1:
    description:
      - First of two consecutive 6-digit codes from the authenticator that holds the device's secret.
      - Used to enable an existing, unassigned virtual device (the second run of a two-step enrolment).
      - Required together with O(authentication_code_2); mutually exclusive with O(generate_codes).
    type: str
  authentication_code_2:
    description:
      - The code that follows O(authentication_code_1), required together with it.
    type: str
  generate_codes:
    description:
      - Compute both codes from the seed of the device this run creates and enable it for O(user_name) at once
        (unattended enrolment of service or break-glass users). Requires O(user_name); mutually exclusive with
        O(authentication_code_1) and O(authentication_code_2).
      - The seed must still go somewhere (O(seed_path), O(qr_code_png_path) or O(return_secret)); without one the task is
        refused before any AWS call, whatever devices the user already has.
      - Needs the Python library C(pyotp) where the module runs; without it the task fails before any AWS call.
    type: bool
    default: false
  qr_code_png_path:
    description:
      - File to write the new device's QR code (PNG) to, with mode 0600, atomically.
      - An absolute path (C(~) is expanded; a relative path is refused). Its folder is handled as the other modules' folders of
        secrets are - created 0700 with its missing parents when missing (not in check mode), never changed when it exists;
        a folder that is a symbolic link or a file, or that others may write to (group- or world-writable), is refused.
      - An existing file is an error unless O(force=true); a symbolic link, a folder, a FIFO, a socket or a device node is
        always refused, before any AWS call. It must not be the same file as O(seed_path).
      - If the file already exists and holds the secret of the unassigned device of that name (its hash matches the device's
        C(iamguard:) tag), the device is taken to be waiting for its codes and is left as it is. A file that does not match
        (the device was created again since, or not by this module) is refused unless O(force=true), which replaces the device
        and the file.
    type: path
  seed_path:
    description:
      - File to write the new device's Base32 seed to, with mode 0600, atomically. Same rules as O(qr_code_png_path).
    type: path
  force:
    description:
      - Replace existing files at O(qr_code_png_path) / O(seed_path) when a new secret is written, including files that hold
        the secret of an earlier device of the same name. Files that hold the secret of the current device are kept, so a
        rerun with O(force=true) changes nothing.
    type: bool
    default: false
  return_secret:
    description:
      - "Return the new device's seed and QR code in RV(secret). Refused unless the task has C(no_log: true)."
    type: bool
    default: false
  replace_orphan:
    description:
      - When a fresh secret must be minted and an unassigned virtual device of the requested name exists (an orphan whose
        seed nobody can read back), delete it and create the device again. The result says so in RV(replaced_orphan).
      - With V(false) such an orphan is an error.
    type: bool
    default: true
  tags:
    description:
      - Tags of a virtual device this module creates, besides this module's own C(iamguard:) tags.
    type: dict
    aliases: ['resource_tags']
requirements:
  - python >= 3.8
  - pyotp (only with O(generate_codes=true))
notes:
  - "IAM permissions: V(present) needs C(iam:ListVirtualMFADevices), C(iam:ListMFADevices), C(iam:ListMFADeviceTags),
    C(iam:CreateVirtualMFADevice), C(iam:TagMFADevice), C(iam:EnableMFADevice), C(iam:DeleteVirtualMFADevice) (orphan
    replacement and rollback) and C(sts:GetCallerIdentity). V(absent) needs C(iam:ListVirtualMFADevices), C(iam:ListMFADevices),
    C(iam:ListMFADeviceTags), C(iam:TagMFADevice), C(iam:DeactivateMFADevice), C(iam:DeleteVirtualMFADevice), and
    C(sts:GetCallerIdentity) with O(serial_number)."
  - If a step after CreateVirtualMFADevice fails in the same run, whatever the error, the new device and then the secret
    files written for it are deleted again, so no orphan is left behind.
  - If EnableMFADevice fails (or its answer is lost), the module first asks IAM (ListMFADevices) whether the device got
    enabled for the user anyway. If it did, the enrolment succeeded. If that cannot be read, the device and its secret files
    are kept and the error says so, because a secret is never destroyed while its device may be in use.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - iamguard.aws.permissions.mfa_session
"""

EXAMPLES = r"""
- name: Step 1 of a person's enrolment - create the device and hand over its QR code
  iamguard.aws.iam_mfa_device:
    user_name: alice
    qr_code_png_path: /secure/alice-mfa.png

- name: Step 2 - enable it with two consecutive codes the person reads from the app
  iamguard.aws.iam_mfa_device:
    user_name: alice
    qr_code_png_path: /secure/alice-mfa.png
    authentication_code_1: "{{ code_1 }}"
    authentication_code_2: "{{ code_2 }}"

- name: Unattended enrolment of a break-glass user, seed kept in a 0600 file
  iamguard.aws.iam_mfa_device:
    user_name: break-glass
    generate_codes: true
    seed_path: /secure/break-glass.seed

- name: Lost device - deactivate every device of the user, delete the virtual ones
  iamguard.aws.iam_mfa_device:
    user_name: bob
    state: absent

- name: Remove one orphaned virtual device by serial number (iamguard.aws.iam_mfa_orphans sweeps them all)
  iamguard.aws.iam_mfa_device:
    serial_number: arn:aws:iam::123456789012:mfa/test
    state: absent
"""

RETURN = r"""
actions:
  description: The actions performed, or in check mode the actions that would be performed, in order.
  returned: always
  type: list
  elements: dict
  contains:
    action:
      description:
        - The IAM call (snake_case) or local step, for example C(deactivate_mfa_device) or C(write_qr_code_png).
        - C(tag_mfa_device) before C(deactivate_mfa_device) records the removal's intent on a virtual device.
      type: str
    target:
      description: The device serial number, or the file path for a local step.
      type: str
  sample: [{"action": "tag_mfa_device", "target": "arn:aws:iam::123456789012:mfa/bob"},
           {"action": "deactivate_mfa_device", "target": "arn:aws:iam::123456789012:mfa/bob"},
           {"action": "delete_virtual_mfa_device", "target": "arn:aws:iam::123456789012:mfa/bob"}]
device:
  description: The virtual device as this run leaves it (O(state=present)).
  returned: when O(state=present)
  type: dict
  contains:
    serial_number:
      description: Serial number (ARN) of the device.
      type: str
    type:
      description: Always C(virtual) here (this module creates and enables virtual devices only).
      type: str
    user_name:
      description: The user the device is enabled for, if any.
      type: str
    enable_date:
      description: When the device was enabled (ISO 8601), if it is.
      type: str
    assigned:
      description: Whether the device is enabled for a user.
      type: bool
    root:
      description: Whether this is the root user's device.
      type: bool
devices:
  description:
    - The devices removed (or, in check mode, to be removed), as they were before, with the same keys as RV(device).
    - C(type) is C(virtual), C(hardware) or C(passkey), read from the account's list of virtual devices, never guessed from the serial.
    - Unassigned virtual devices also have C(created_at), C(age_minutes), C(pending_enrolment) and C(removing_from), see
      M(iamguard.aws.iam_mfa_device_info).
  returned: when O(state=absent)
  type: list
  elements: dict
replaced_orphan:
  description: Whether an unassigned virtual device of the same name was deleted and created again.
  returned: when O(state=present)
  type: bool
secret:
  description: The new device's secret. Only with O(return_secret=true) on a task with C(no_log), and only when a device was created.
  returned: when O(return_secret=true) and a device was created
  type: dict
  contains:
    base32_string_seed:
      description: The Base32 TOTP seed.
      type: str
    qr_code_png:
      description: The QR code PNG, base64-encoded.
      type: str
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.iamguard.aws.plugins.module_utils.device_options import device_options
from ansible_collections.iamguard.aws.plugins.module_utils.enrolment import ensure_present
from ansible_collections.iamguard.aws.plugins.module_utils.files import prepare_file
from ansible_collections.iamguard.aws.plugins.module_utils.mfa_removal import ensure_absent
from ansible_collections.iamguard.aws.plugins.module_utils.runner import caller_identity, run
from ansible_collections.iamguard.aws.plugins.module_utils.session import iam_client, sts_client


def main():
    argument_spec = dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        user_name=dict(type="str"),
        name=dict(type="str"),
        path=dict(type="str", default="/"),
        serial_number=dict(type="str"),
        authentication_code_1=dict(type="str", no_log=True),
        authentication_code_2=dict(type="str", no_log=True),
        generate_codes=dict(type="bool", default=False),
        qr_code_png_path=dict(type="path"),
        seed_path=dict(type="path"),
        force=dict(type="bool", default=False),
        return_secret=dict(type="bool", default=False),
        replace_orphan=dict(type="bool", default=True),
        tags=dict(type="dict", aliases=["resource_tags"]),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        required_one_of=[("user_name", "name", "serial_number")],
        required_together=[("authentication_code_1", "authentication_code_2")],
        required_if=[("generate_codes", True, ("user_name",))],
        mutually_exclusive=[("generate_codes", "authentication_code_1"), ("generate_codes", "authentication_code_2")],
        supports_check_mode=True,
    )

    def identity():
        return caller_identity(sts_client(module))

    def work():
        for option in ("qr_code_png_path", "seed_path"):
            module.params[option] = prepare_file(module.params[option], option, create=module.params["state"] == "present" and not module.check_mode)
        options = device_options(module.params, module._module.no_log)
        client = iam_client(module)
        if options["state"] == "absent":
            return ensure_absent(client, options, module.check_mode, identity)
        return ensure_present(client, options, module.check_mode, identity)

    run(module, work)


if __name__ == "__main__":
    main()
