# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The posture report's findings in the AWS Security Finding Format (ASFF), and their import into Security Hub.

One ASFF finding per report finding, its Id made of the finding's identity (so a later
import updates it), FAILED; each finding the report lists as resolved goes too, PASSED and
ARCHIVED, so Security Hub closes it. BatchImportFindings takes at most 100 findings a call.
"""

from __future__ import annotations

from ansible_collections.iamguard.aws.plugins.module_utils.calls import call
from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError
from ansible_collections.iamguard.aws.plugins.module_utils.report.cells import detail_text, who

SCHEMA_VERSION = "2018-10-08"
BATCH_SIZE = 100
GENERATOR_PREFIX = "iamguard.aws/"
CIS_TYPE = "Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark"
BEST_PRACTICE_TYPE = "Software and Configuration Checks/AWS Security Best Practices"


def related_requirements(item):
    requirements = []
    if item.get("cis_v7"):
        requirements.append("CIS AWS Foundations Benchmark v7.0.0/%s" % item["cis_v7"])
    if item.get("cis_v3"):
        requirements.append("CIS AWS Foundations Benchmark v3.0.0/%s" % item["cis_v3"])
    if item.get("security_hub"):
        requirements.append("AWS Foundational Security Best Practices v1.0.0/%s" % item["security_hub"])
    return requirements


def finding_id(item):
    return "%s%s/%s/%s/%s" % (GENERATOR_PREFIX, item["account_id"], item["id"], item.get("user_name") or "", item.get("serial_number") or "")


def resource(item, partition, region):
    if item.get("user_name"):
        return {"Type": "AwsIamUser", "Id": "arn:%s:iam::%s:user/%s" % (partition, item["account_id"], item["user_name"]),
                "Partition": partition, "Region": region}
    return {"Type": "AwsAccount", "Id": "AWS::::Account:%s" % item["account_id"], "Partition": partition, "Region": region}


def asff_finding(item, product, at, resolved=False):
    """``product``: {"partition", "region", "account_id"} of the account importing the findings; ``at``: ISO 8601 time."""
    requirements = related_requirements(item)
    description = "%s. Control: %s. About: %s.%s" % (item["title"], item["control"], who(item),
                                                     " " + detail_text(item["detail"]) if item.get("detail") else "")
    severity = (item.get("severity") or "informational").upper()
    document = {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": finding_id(item)[:512],
        "ProductArn": "arn:{partition}:securityhub:{region}:{account_id}:product/{account_id}/default".format(**product),
        "GeneratorId": GENERATOR_PREFIX + item["id"],
        "AwsAccountId": item["account_id"],
        "Types": [CIS_TYPE if item.get("cis_v7") or item.get("cis_v3") else BEST_PRACTICE_TYPE],
        "CreatedAt": at,
        "UpdatedAt": at,
        "Severity": {"Label": severity if severity in ("INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL") else "INFORMATIONAL"},
        "Title": item["title"][:256],
        "Description": description[:1024],
        "Resources": [resource(item, product["partition"], product["region"])],
        "Compliance": {"Status": "PASSED" if resolved else "FAILED"},
        "RecordState": "ARCHIVED" if resolved else "ACTIVE",
        "ProductFields": {"iamguard/finding_id": item["id"], "iamguard/source": item.get("source") or ""},
    }
    if requirements:
        document["Compliance"]["RelatedRequirements"] = requirements
    return document


def asff_findings(report, product):
    at = report["generated_at"]
    return ([asff_finding(item, product, at) for item in report["findings"]]
            + [asff_finding(item, product, at, resolved=True) for item in report["changes"]["resolved"]])


def import_findings(client, findings):
    """BatchImportFindings in batches of 100: {"imported": n, "failed": [{"id", "error_code", "error_message"}]}."""
    imported, failed = 0, []
    for start in range(0, len(findings), BATCH_SIZE):
        batch = findings[start:start + BATCH_SIZE]
        try:
            answer = call(client, "batch_import_findings", "Security Hub BatchImportFindings", Findings=batch)
        except IamGuardError as e:
            failed.extend({"id": item["Id"], "error_code": "CallFailed", "error_message": e.message} for item in batch)
            continue
        imported += answer.get("SuccessCount", 0)
        failed.extend({"id": item.get("Id"), "error_code": item.get("ErrorCode"), "error_message": item.get("ErrorMessage")}
                      for item in answer.get("FailedFindings", []))
    return {"imported": imported, "failed": failed}
