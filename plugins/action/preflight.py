# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""iamguard.aws.preflight: the playbooks' first task, on the controller, before any AWS call (see plugins/modules/preflight.py)."""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.iamguard.aws.plugins.module_utils import files, playbook_settings, preflight, validation
from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError

ARGUMENT_SPEC = dict(
    caller_account=dict(type="raw", default=False),
    account_variables=dict(type="dict", default={}),
    lists=dict(type="dict", default={}),
    folders=dict(type="dict", default={}),
    settings=dict(type="dict", options=dict(
        playbook=dict(type="str", required=True, choices=sorted(playbook_settings.PLAYBOOKS)),
        values=dict(type="dict", default={}),
    )),
    fan_out=dict(type="bool", default=False),
)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        host = task_vars.get("inventory_hostname")
        try:
            target, message = preflight.targets(
                host, task_vars.get("groups") or {}, task_vars.get("ansible_inventory_sources") or [],
                list(task_vars.get("iamguard_inventory_errors") or []), args["caller_account"],
            )
            result.update(target=target, msg=message, lists={}, folders={}, settings={}, changed=False)
            if args["fan_out"]:
                result.update(target=True, accounts=preflight.fan_out_accounts(host, task_vars.get("groups") or {}, task_vars.get("hostvars") or {}))
            if not result["target"]:
                return result
            preflight.account_variables(host, **{key: value for key, value in args["account_variables"].items() if value is not None})
            if args["settings"]:
                result["settings"] = playbook_settings.settings(args["settings"]["playbook"], args["settings"]["values"], result.get("accounts"))
            for name, value in args["lists"].items():
                result["lists"][name] = validation.survey_list(value, name)
            for name, spec in args["folders"].items():
                spec = dict({"private": False, "create": False}, **(spec or {}))
                if spec.get("path") is None:
                    result["folders"][name] = None
                    continue
                folder, existed = files.check_folder(spec["path"], name, validation.boolean(spec["private"], name))
                if validation.boolean(spec["create"], name) and not existed:
                    files.prepare_folder(folder, name, spec["private"])
                    result["changed"] = True
                result["folders"][name] = folder
        except IamGuardError as error:
            result.update(failed=True, msg=error.message)
        return result
