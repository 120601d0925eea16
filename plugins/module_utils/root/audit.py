# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""iam_root_credentials_info: the organization's centralized root access, the SCPs a root session meets, and root's credentials.

Unlike root cleanup, the audit does not stop at an organization with centralized root access off: that is
its first finding (centralized_root_access_disabled, naming the features that are off). It still audits
what it can. Without RootSessions, sts:AssumeRoot is impossible, so root's credentials cannot be read and
the result says so (credentials null, credentials_audited false, a warning). With RootSessions on and
RootCredentialsManagement off it tries the root session; AWS may refuse it, which is then said the same way.
"""

from __future__ import annotations

from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError, error_code
from ansible_collections.iamguard.aws.plugins.module_utils.findings import CENTRALIZED_ROOT_ACCESS_DISABLED, finding
from ansible_collections.iamguard.aws.plugins.module_utils.root import scp
from ansible_collections.iamguard.aws.plugins.module_utils.root.credentials import counts, findings, prepare, read_credentials, root_options
from ansible_collections.iamguard.aws.plugins.module_utils.root.organization import (
    ROOT_SESSIONS, assume_root, features_off, organization_features,
)
from ansible_collections.iamguard.aws.plugins.module_utils.root.session import AUDIT_TASK_POLICY


def disabled_finding(organization, credentials_audited):
    return finding(CENTRALIZED_ROOT_ACCESS_DISABLED, disabled_features=organization["disabled_features"],
                   enabled_features=organization["enabled_features"], trusted_access=organization["trusted_access"],
                   credentials_audited=credentials_audited, how_to_enable=features_off(organization))


def not_audited(account_id, why):
    return "The root user's credentials of account %s were not read: %s" % (account_id, why)


def summary_line(facts, found):
    """What root holds and the findings, in one line (as the playbook prints each account)."""
    ids = ", ".join(item["id"] for item in found) or "none"
    if facts is None:
        return "root's credentials not read (centralized root access is off: see the warning); findings %s" % ids
    devices = ", ".join(device["type"] for device in facts["mfa_devices"]) or "none"
    return "password %s, %d access key(s), %d signing certificate(s), MFA %s; findings %s" % (
        "yes" if facts["login_profile"] else "no", len(facts["access_keys"]), len(facts["signing_certificates"]), devices, ids)


def audit_member(clients, account_id, organization, partition):
    """One member account's SCP blockers, root credentials (unless AssumeRoot is impossible) and findings; warnings say what was not read."""
    checked = scp.scp_blockers(clients.organizations, account_id, scp.needed_actions(), partition)
    warnings = [checked["warning"]] if checked["warning"] else []
    warnings.extend("The root session of account %s may be refused: %s." % (account_id, scp.describe(found)) for found in checked["blockers"])
    facts = None
    if ROOT_SESSIONS in organization["disabled_features"]:
        warnings.append(not_audited(account_id, "without RootSessions sts:AssumeRoot is impossible. %s" % features_off(organization)))
    else:
        try:
            session = assume_root(clients, account_id, AUDIT_TASK_POLICY, partition)
        except IamGuardError as e:
            if not organization["disabled_features"] or error_code(e.exception) not in ("AccessDenied", "AccessDeniedException"):
                raise
            warnings.append(not_audited(account_id, "sts:AssumeRoot was refused (%s). %s" % (e.message, features_off(organization))))
        else:
            facts = read_credentials(clients.root_iam(session))
    found = [disabled_finding(organization, facts is not None)] if organization["disabled_features"] else []
    found.extend(findings(facts) if facts is not None else [])
    return {"account_id": account_id, "credentials": facts, "credentials_audited": facts is not None, "scp_blockers": checked["blockers"],
            "scp_checked": checked["checked"], "findings": found, "counts": counts(found), "summary": summary_line(facts, found), "warnings": warnings}


def audit_root(clients, params):
    """The audit's result (see iam_root_credentials_info's RETURN); reads only (the audit task policy)."""
    options = root_options(params)
    caller, organization = prepare(clients, [options["account_id"]], features_of=organization_features)
    return dict(audit_member(clients, options["account_id"], organization, caller["Partition"]), changed=False, organization=organization)
