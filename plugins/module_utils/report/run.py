# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""iam_posture_report's work: read the folder's latest account report sets, write one organization report set, and
(optionally) export it as ASFF and import it into Security Hub.

The set is ``posture-report-<UTC YYYYmmddTHHMMSSZ>`` ``.md``, ``.json``, ``.csv``, ``.html``
(and ``.asff.json``), each 0600, and ``.sha256``: the sums of every file of the set in
``sha256sum -c`` format (run it in the folder). The JSON lists the sums of the input files
it merged and of its sibling files, so the evidence chain is: .sha256 -> JSON -> inputs.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone

from ansible_collections.iamguard.aws.plugins.module_utils import validation
from ansible_collections.iamguard.aws.plugins.module_utils.files import write_private_file
from ansible_collections.iamguard.aws.plugins.module_utils.report import asff, html, inputs, posture, text
from ansible_collections.iamguard.aws.plugins.module_utils.runner import caller_identity

FORMATS = ("markdown", "json", "csv", "html")
EXTENSIONS = {"markdown": "md", "csv": "csv", "html": "html", "json": "json", "asff": "asff.json"}
OPTION_KEYS = ("report_dir", "formats", "asff", "import_to_security_hub", "caller_identity")


def file_name(stamp, fmt):
    return "%s%s.%s" % (inputs.REPORT_PREFIX, stamp, EXTENSIONS[fmt])


def check_options(options, region):
    """InvalidInput before anything is read or written."""
    folder = options["report_dir"]
    if os.path.islink(folder) or not os.path.isdir(folder) or not os.access(folder, os.R_OK | os.W_OK | os.X_OK):
        raise validation.InvalidInput("report_dir", folder, "must be an existing folder this user can read and write, not a symbolic link")
    if "json" not in options["formats"]:
        raise validation.InvalidInput("formats", options["formats"], "must include json: it is the next report's baseline and holds the evidence")
    if (options["asff"] or options["import_to_security_hub"]) and not region:
        raise validation.InvalidInput("region", region, "ASFF findings name the Security Hub region: set region (or AWS_REGION)")


def write_set(folder, report, stamp, formats, asff_findings):
    """Write the report set; returns ({format: path}, path of the .sha256 file). JSON last: it holds its siblings' sums."""
    renderers = {"markdown": lambda: text.markdown(report, stamp), "csv": lambda: text.csv_text(report), "html": lambda: html.html_page(report, stamp)}
    if asff_findings is not None:
        renderers["asff"] = lambda: json.dumps(asff_findings, indent=2, sort_keys=True) + "\n"
    paths, sums = {}, {}
    for fmt, render in renderers.items():
        if fmt in formats or fmt == "asff":
            data = render().encode("utf-8")
            paths[fmt] = write_private_file(os.path.join(folder, file_name(stamp, fmt)), data, "report_dir")
            sums[fmt] = inputs.sha256_hex(data)
    report["files"] = {fmt: {"file": os.path.basename(path), "sha256": sums[fmt]} for fmt, path in paths.items()}
    data = (json.dumps(report, indent=2, sort_keys=True) + "\n").encode("utf-8")
    paths["json"] = write_private_file(os.path.join(folder, file_name(stamp, "json")), data, "report_dir")
    sums["json"] = inputs.sha256_hex(data)
    listing = "".join("%s  %s\n" % (sums[fmt], os.path.basename(path)) for fmt, path in sorted(paths.items(), key=lambda pair: pair[1]))
    return paths, write_private_file(os.path.join(folder, "%s%s.sha256" % (inputs.REPORT_PREFIX, stamp)), listing, "report_dir")


def posture_report(params, region, sts=None, securityhub=None, check_mode=False, now=None):
    """The module's result. ``sts`` / ``securityhub``: functions returning those clients, called only when needed."""
    options = {key: params[key] for key in OPTION_KEYS}
    check_options(options, region)
    folder = options["report_dir"]
    now = now or datetime.now(timezone.utc)
    stamp = now.strftime(inputs.STAMP_FORMAT)
    wants_asff = options["asff"] or options["import_to_security_hub"]
    identity = caller_identity(sts()) if options["caller_identity"] or wants_asff else None
    caller = {"arn": identity["Arn"], "account_id": identity["Account"]} if identity else None
    found, rejected = inputs.read_inputs(folder)
    previous_file, previous = inputs.previous_report(folder, stamp)
    report = posture.posture(found, rejected, now, dict(options, region=region, check_mode=check_mode), caller, previous_file, previous)
    findings = None
    if wants_asff:
        findings = asff.asff_findings(report, {"partition": identity["Partition"], "region": region, "account_id": identity["Account"]})
    paths, sums_path = write_set(folder, report, stamp, options["formats"], findings)
    change = report["changes"]
    result = {
        "changed": False,
        "verdict": report["verdict"],
        "totals": report["totals"],
        "unreachable_accounts": report["unreachable_accounts"],
        "changes": {"previous_file": change["previous_file"], "new": len(change["new"]), "resolved": len(change["resolved"]),
                    "not_reassessed": change["not_reassessed"]},
        "report_files": dict(paths, sha256=sums_path),
        "inputs_rejected": rejected,
        "caller": caller,
    }
    if options["import_to_security_hub"]:
        if check_mode:
            result["security_hub"] = {"imported": 0, "failed": [], "would_import": len(findings)}
        else:
            result["security_hub"] = asff.import_findings(securityhub(), findings)
            result["changed"] = result["security_hub"]["imported"] > 0
            if result["security_hub"]["failed"]:
                result["failure"] = "Security Hub did not import %d of %d findings (see security_hub.failed); the report set is written." % (
                    len(result["security_hub"]["failed"]), len(findings))
    return result
