# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: preflight
short_description: The playbooks' checks before any AWS call - the hosts a run acts on, list variables, folders
version_added: 0.1.0
description:
  - The first task of every playbook of this collection (C(playbooks/tasks/preflight.yml)), an action that runs on the
    controller and calls nothing in AWS. Run it on every host of the play (the hosts of group C(aws_accounts) and
    localhost) with C(any_errors_fatal), so that its failure on one host stops the whole run.
  - "Where a run acts, failing closed: a run given an inventory acts on the hosts of its group C(aws_accounts) only. The run
    fails when an inventory source failed (the C(iamguard.aws.accounts) plugin records its failures in variable
    C(iamguard_inventory_errors) of group C(all), where Ansible's default is only a warning), or when an inventory was given
    (C(-i), or a default inventory that holds more than comments) and C(aws_accounts) is empty. With no inventory at all
    the run acts on the account of the caller's own credentials, from localhost, and says so; O(caller_account=true) (the
    playbooks' C(aws_target_caller_account)) allows the same with an inventory that has no C(aws_accounts), such as an AWX
    inventory of localhost alone."
  - RV(target) tells whether the host is one the run acts on; the playbooks end the other hosts (localhost, when the run
    acts on C(aws_accounts)) with C(meta) V(end_host).
  - For a target, it also refuses malformed account variables of the host, turns list variables into lists (RV(lists)),
    and checks folders (RV(folders)).
options:
  caller_account:
    description: Act on the caller's own account (localhost) although an inventory was given, when it has no C(aws_accounts).
    type: raw
    default: false
  account_variables:
    description:
      - The host's C(aws_role_arn), C(aws_account_id), C(mfa_serial), C(mfa_token_code) (null when not set), refused unless
        well-formed.
    type: dict
    default: {}
  lists:
    description:
      - Variable name to value. Each value is a YAML list, or one string separated by commas or newlines (as an AWX survey
        gives it); the entries come back trimmed, without empty ones or repeats, in RV(lists). A mapping is refused.
    type: dict
    default: {}
  folders:
    description:
      - Variable name to C({path, private, create}). Each path is checked as the modules check theirs (absolute after C(~)
        is expanded; not a symbolic link or a file; with C(private), not writable by others) and never changed when it
        exists; with C(create), a missing one is created 0700 (also in check mode, so give C(create) only for a folder the
        playbook writes to in check mode). The absolute paths come back in RV(folders).
    type: dict
    default: {}
  settings:
    description:
      - A playbook's own variables, checked and turned into the options of its module (RV(settings)), so the playbook
        decides nothing in Jinja. Every broken rule is named in one message.
    type: dict
    suboptions:
      playbook:
        description: Whose variables these are.
        type: str
        required: true
        choices: [enroll_mfa, mfa_audit, offboard, orphan_cleanup, reset_mfa, root_credentials_audit]
      values:
        description:
          - The variables as given (null when not set). V(offboard) takes C(offboard_users), C(protected_users),
            C(offboard_mode), C(offboard_access_key_action), C(offboard_inventory_source), C(offboard_fail_on_missing);
            V(orphan_cleanup) takes C(orphan_name_patterns), C(orphan_path_patterns), C(orphan_min_age_minutes),
            C(orphan_include_unknown_age); V(mfa_audit) takes C(audit_fail_on), C(audit_require_hardware_for),
            C(audit_require_phishing_resistant_for), C(audit_unused_access_key_days), C(audit_max_report_age_hours),
            C(audit_report_formats), C(audit_max_workers); V(root_credentials_audit) takes C(account_ids),
            C(root_audit_max_workers), C(root_audit_fail_on_unreachable) and, with O(fan_out), reads the member accounts from
            RV(accounts) (the hosts of C(aws_accounts); the management account refused); V(enroll_mfa) takes C(enroll_user_name),
            C(enroll_mode), C(enroll_code_1), C(enroll_code_2) (checked, never returned), C(enroll_force); V(reset_mfa) takes
            C(reset_user_name), C(mfa_serial).
        type: dict
        default: {}
  fan_out:
    description:
      - For a playbook that acts on every account with one module call from localhost (C(hosts) V(localhost)), such as
        C(mfa_audit.yml). The run's targets are decided as above (a failed inventory, or one without C(aws_accounts),
        still fails it), localhost is the target, and RV(accounts) lists the accounts, each host's account variables
        checked.
    type: bool
    default: false
notes:
  - An action plugin only; nothing runs on the target. It supports check mode (it changes nothing but the folders of
    O(folders) given with C(create)).
author:
  - iamguard maintainers (@iamguard)
"""

EXAMPLES = r"""
- name: Pre-flight
  iamguard.aws.preflight:
    caller_account: "{{ aws_target_caller_account | default(false) }}"
    account_variables:
      aws_role_arn: "{{ aws_role_arn | default(none) }}"
      aws_account_id: "{{ aws_account_id | default(none) }}"
    lists:
      offboard_users: "{{ offboard_users | default([]) }}"
    folders:
      manifest_dir:
        path: "{{ manifest_dir | default('~/iamguard/manifests') }}"
        private: true
  register: preflight
  any_errors_fatal: true
"""

RETURN = r"""
target:
  description: Whether the run acts on this host.
  returned: always
  type: bool
msg:
  description: Where the run acts (or why it acts nowhere).
  returned: always
  type: str
  sample: "No inventory was given: this run acts on the account of the caller's own credentials, from localhost."
accounts:
  description:
    - With O(fan_out), the accounts the run acts on - for each host of C(aws_accounts) its C(name) (the host), C(account_id)
      (C(aws_account_id), else the account of C(aws_role_arn), else null), C(role_arn) (C(aws_role_arn) or null) and
      C(management) (C(aws_is_management_account)). With no C(aws_accounts), the caller's own account alone, named
      C(localhost), with a null C(account_id) and C(role_arn).
  returned: with O(fan_out)
  type: list
  elements: dict
  sample: [{"name": "dev", "account_id": "210987654321", "role_arn": "arn:aws:iam::210987654321:role/OrganizationAccountAccessRole",
            "management": false}]
lists:
  description: Each variable of O(lists) as a list.
  returned: for a target
  type: dict
  sample: {"offboard_users": ["alice", "bob"]}
folders:
  description: Each folder of O(folders) as an absolute path (null when its path was null).
  returned: for a target
  type: dict
  sample: {"manifest_dir": "/home/admin/iamguard/manifests"}
settings:
  description: The module options O(settings) stands for (empty without O(settings)).
  returned: for a target
  type: dict
  sample: {"name_patterns": ["*"], "path_patterns": ["*"], "min_age_minutes": 60, "include_unknown_age": true}
"""
