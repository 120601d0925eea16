# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place where a module's work meets Ansible's exit and failure calls."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible.module_utils.common.warnings import warn

from ansible_collections.iamguard.aws.plugins.module_utils.calls import call
from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError, with_mfa_hint
from ansible_collections.iamguard.aws.plugins.module_utils.session import credentials_lack_mfa


def run(module, work):
    """Call ``work()`` and exit with its result, or fail with its IamGuardError.

    ``work`` returns the result dict; a ``warnings`` list in it becomes the task's warnings,
    and a ``failure`` message (some targets of a batch failed) fails the task with
    the rest of the result still returned. IAM's refusal of an MFA-gated call made
    with credentials that cannot carry MFA gets the fix appended.
    """
    hide_access_key_id(module)
    try:
        result = work()
    except IamGuardError as e:
        e = with_mfa_hint(e, lambda: credentials_lack_mfa(module))
        # The message already quotes IAM's answer: fail_json_aws would append it a
        # second time, so only its structured fields (error code, request id) are kept.
        response = getattr(e.exception, "response", None)
        module.fail_json(msg=e.message, **(camel_dict_to_snake_dict(response) if response else {}))
    for warning in result.pop("warnings", []):
        # ansible-core's own warn (what AnsibleModule.warn calls), not AnsibleAWSModule.warn: on
        # ansible-core >= 2.19 amazon.aws 10 passes the warnings it recorded to exit_json as
        # warnings=, which ansible-core 2.19 deprecates (removed in 2.23) in every such result.
        warn(warning)
    failure = result.pop("failure", None)
    if failure:
        module.fail_json(msg=failure, **result)
    module.exit_json(**result)


# An access key id: AKIA... (long-term) or ASIA... (a temporary session's).
ACCESS_KEY_ID = re.compile(r"A[KS]IA[A-Z0-9]{12,124}")


def hide_access_key_id(module):
    """Mask the access_key option's value in everything the module returns (its module_args at -vvv included).

    amazon.aws declares access_key with no_log=False (an id is not a secret), but the temporary session a
    playbook passes through module_defaults is better kept out of job logs with its secret and token.
    """
    key = (getattr(module, "params", None) or {}).get("access_key")
    inner = getattr(module, "_module", None)
    if isinstance(key, str) and ACCESS_KEY_ID.fullmatch(key) and inner is not None:
        inner.no_log_values.add(key)


def caller_identity(sts):
    """GetCallerIdentity's answer, plus the partition read from its ARN."""
    identity = call(sts, "get_caller_identity", "GetCallerIdentity")
    return dict(identity, Partition=identity["Arn"].split(":")[1])


def caller_identity_ahead(sts):
    """caller_identity(sts) asked at once, in a thread of its own; returns the function that waits for its answer (or error).

    Every guard needs the caller before the first call about a target: asked ahead, its
    round trip overlaps the building of the IAM client, the costliest step of a small run.
    """
    pool = ThreadPoolExecutor(max_workers=1)
    answer = pool.submit(caller_identity, sts)
    pool.shutdown(wait=False)
    return answer.result
