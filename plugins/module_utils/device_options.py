# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""iam_mfa_device's options, checked before any AWS call: bad input, or a task that is not what it seems, changes nothing."""

from __future__ import annotations

import os

from ansible_collections.iamguard.aws.plugins.module_utils import validation
from ansible_collections.iamguard.aws.plugins.module_utils.enrolment import SECRET_DESTINATIONS, has_pyotp
from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError
from ansible_collections.iamguard.aws.plugins.module_utils.files import check_destination
from ansible_collections.iamguard.aws.plugins.module_utils.tags import TAG_PREFIX

PRESENT_ONLY_OPTIONS = ("generate_codes", "qr_code_png_path", "seed_path", "return_secret", "force", "tags")


def device_options(params, task_no_log):
    """Validated iam_mfa_device options, or InvalidInput before any AWS call."""
    options = dict(params)
    if options["user_name"] is not None:
        validation.user_name(options["user_name"])
    if options["name"] is not None:
        validation.device_name(options["name"])
    validation.path(options["path"])
    if options["serial_number"] is not None:
        validation.serial_number(options["serial_number"])
    options["codes"] = validation.authentication_codes(options.pop("authentication_code_1"), options.pop("authentication_code_2"))
    if options["state"] == "absent":
        _refuse_present_only(options)
        return options
    if options["serial_number"] is not None:
        raise validation.InvalidInput("serial_number", options["serial_number"], "state=present creates virtual devices by user_name/name and path, "
                                      "so serial_number is only for state=absent")
    if options["return_secret"] and not task_no_log:
        raise validation.InvalidInput("return_secret", True, "the seed and QR code may only be returned to a task with no_log: true")
    for key in options["tags"] or {}:
        if str(key).startswith(TAG_PREFIX):
            raise validation.InvalidInput("tags", key, "tag keys starting with %r are this collection's bookkeeping" % TAG_PREFIX)
    _check_destinations(options)
    if options["generate_codes"]:
        if not options["user_name"]:
            raise validation.InvalidInput("generate_codes", True, "generated codes enable the device for user_name, which is missing")
        if not (options["seed_path"] or options["qr_code_png_path"] or options["return_secret"]):
            raise validation.InvalidInput("generate_codes", True, "the new device's secret must be kept somewhere: set seed_path, "
                                          "qr_code_png_path or return_secret, or nobody could ever produce a code for it")
        if not has_pyotp():
            raise IamGuardError("generate_codes needs the Python library pyotp on the host that runs the module (pip install pyotp, "
                                "or requirements.txt of this collection); nothing was changed.")
    return options


def _refuse_present_only(options):
    """state=absent removes devices: an option that only makes sense for enrolment means the task is not what it seems."""
    if options["codes"] is not None:
        raise validation.InvalidInput("authentication_code_1", "******", "state=absent removes devices; codes only enable one (state=present)")
    for option in PRESENT_ONLY_OPTIONS:
        if options[option] not in (None, False):
            raise validation.InvalidInput(option, options[option], "state=absent removes devices; %s only applies to state=present" % option)


def _check_destinations(options):
    """Refuse, before any call, secret paths that can never be written: the same file twice, a FIFO, a device node..."""
    given = [(option, options[option]) for dummy, option in SECRET_DESTINATIONS if options[option]]
    if len(given) == 2 and os.path.realpath(given[0][1]) == os.path.realpath(given[1][1]):
        raise validation.InvalidInput("seed_path", given[1][1], "seed_path and qr_code_png_path must be two different files")
    for option, path in given:
        # force=True: an existing regular file may be a two-step enrolment's own; whether it may be replaced is decided later.
        check_destination(path, option, force=True)
