# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""iam_root_credentials_info over many member accounts in one run: AssumeRoot per account, side by side.

The organization's checks (caller, management account, centralized root access) are made
once for the run, and every target is checked before the first AssumeRoot. Then each
account gets a root session of its own (the audit task policy: reads only) and an IAM
client made from the run's one SDK session (accounts.Connection); an account whose
AssumeRoot or reads fail is listed as unreachable and the others go on. With report_dir,
each account's JSON report (root-credentials-<account>-<UTC stamp>.json) is written here,
every one with the run's stamp.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone

from ansible_collections.iamguard.aws.plugins.module_utils import accounts as fanout, validation
from ansible_collections.iamguard.aws.plugins.module_utils.files import write_private_file
from ansible_collections.iamguard.aws.plugins.module_utils.report.inputs import STAMP_FORMAT
from ansible_collections.iamguard.aws.plugins.module_utils.root.audit import audit_member
from ansible_collections.iamguard.aws.plugins.module_utils.root.credentials import prepare
from ansible_collections.iamguard.aws.plugins.module_utils.root.organization import organization_features
from ansible_collections.iamguard.aws.plugins.module_utils.root.session import Clients, regional_sts_client


def connection_clients(connection):
    """The caller's Clients on a Connection; each root session's IAM client is made from the Connection's one SDK session.

    A root session is used for its account's reads only, right after AssumeRoot, well inside its 900 seconds: the
    client signs with the session's credentials as issued.
    """
    def root_iam(session):
        frozen = session.credentials.get_frozen_credentials()
        return connection.client("iam", {"aws_access_key_id": frozen.access_key, "aws_secret_access_key": frozen.secret_key,
                                         "aws_session_token": frozen.token})

    sts = regional_sts_client(lambda endpoint_url=None: connection.client("sts", endpoint_url=endpoint_url), connection.region)
    return Clients(sts, connection.caller_client("iam"), connection.caller_client("organizations"), root_iam)


def target_list(account_ids, names):
    """[{account_id, name}] of the validated ids, or InvalidInput before any AWS call."""
    targets, seen = [], set()
    for account_id in account_ids:
        if not isinstance(account_id, str) or not validation.ACCOUNT_ID.fullmatch(account_id) or account_id in seen:
            raise validation.InvalidInput("account_ids", account_id, "12-digit AWS account ids, each once (quote them in YAML so leading zeros stay)")
        seen.add(account_id)
        targets.append({"account_id": account_id, "name": (names or {}).get(account_id) or account_id})
    return targets


def report_document(result, organization, stamp):
    """The JSON report of one account (the schema the playbook wrote); an unreachable account's says why, with no credentials."""
    document = {"account_id": result["account_id"], "generated_time": stamp, "organization": organization}
    if "code" in result:
        document.update(account_name=result["name"], credentials=None, findings=[], counts={},
                        unreachable={"code": result["code"], "message": result["message"]})
    else:
        document.update({key: result[key] for key in ("credentials", "credentials_audited", "scp_blockers", "findings", "counts")})
    return document


def write_report(folder, document):
    path = os.path.join(folder, "root-credentials-%s-%s.json" % (document["account_id"], document["generated_time"]))
    return write_private_file(path, json.dumps(document, indent=4, sort_keys=True) + "\n", "report_dir")


def audit_root_accounts(connection, params):
    """iam_root_credentials_info with account_ids: see the module's RETURN."""
    targets = target_list(params["account_ids"], params.get("account_names"))
    fanout.worker_count(params["max_workers"], targets)
    folder = params.get("report_dir")
    clients = connection_clients(connection)
    caller, organization = prepare(clients, [target["account_id"] for target in targets], features_of=organization_features)
    stamp = datetime.now(timezone.utc).strftime(STAMP_FORMAT)

    def audit_one(target):
        result = dict(audit_member(clients, target["account_id"], organization, caller["Partition"]), name=target["name"])
        if folder:
            result["report_file"] = write_report(folder, report_document(result, organization, stamp))
        return result

    audited, unreachable = fanout.fan_out(targets, audit_one, params["max_workers"])
    if folder:
        for item in unreachable:
            item["report_file"] = write_report(folder, report_document(item, organization, stamp))
    result = {"changed": False, "generated_time": stamp, "organization": organization, "accounts": audited, "unreachable_accounts": unreachable,
              "warnings": [warning for item in audited for warning in item.pop("warnings")]}
    if unreachable and params.get("fail_on_unreachable"):
        # After every report is written, so the run still leaves the whole picture.
        result["failure"] = "Not audited (fail_on_unreachable): %s" % ", ".join(
            "%s (%s): %s" % (item["account_id"], item["name"], item["code"]) for item in unreachable)
    return result
