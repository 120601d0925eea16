# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One AWS call: the installed SDK checked, retried by the collection's policy, its failure explained.

Plain functions over a boto3 client, so every other module_utils file can be
unit-tested with a stub client and no Ansible.
"""

from __future__ import annotations

try:
    import botocore
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:  # handled by AnsibleAWSModule's own boto3 check
    BotoCoreError = ClientError = Exception
    botocore = None

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError, SETTLING_CODES, error_code, error_message, is_missing, retry_reason

# Each IAM call (a paginated read as a whole, see paging.read) gets its own bounded jittered
# backoff (session.BOTOCORE_RETRIES says why botocore's own retries are off).
RETRY_ATTEMPTS = 20
RETRY_DELAY = 0.1  # seconds before the first retry, doubled each time, fully jittered
RETRY_MAX_DELAY = 5.0


class IamRetry(AWSRetry):
    """amazon.aws's retry decorator, taught which IAM failures deserve another attempt."""

    base_class = (ClientError, BotoCoreError)

    @staticmethod
    def status_code_from_exception(error):
        return retry_reason(error)

    @staticmethod
    def found(response_code, catch_extra_error_codes=None):
        return response_code is not None


def retried(function):
    """``function`` with the collection's bounded, jittered backoff.

    A new decorator per call: amazon.aws keeps the backoff sequence in the
    decorator, and calls from several threads must not share (and reset) one.
    """
    return IamRetry.jittered_backoff(retries=RETRY_ATTEMPTS, delay=RETRY_DELAY, max_delay=RETRY_MAX_DELAY)(function)


# --- calls that need a newer SDK ---------------------------------------------------

# The calls newer than the rest, with the botocore release whose API model brought them
# (boto3 of the same number requires it): sts AssumeRoot and iam ListOrganizationsFeatures
# came with centralized root access in 1.35.61 (November 2024), ListServiceSpecificCredentials'
# AllUsers in 1.39.0 (June 2025). The loaded model is asked, not the version number: a
# vendored or patched botocore is judged by what it can send.
NEWER_SDK_CALLS = {
    "assume_root": "1.35.61",
    "list_organizations_features": "1.35.61",
    "list_service_specific_credentials": "1.39.0",
}
MINIMUM_SDK = "1.39.0"  # of botocore and boto3: the newest of NEWER_SDK_CALLS; requirements.txt says the same


def require_sdk(client, operation, params, doing):
    """Raise IamGuardError, before the call is sent, when the installed botocore's model of the
    client's service lacks ``operation`` or one of ``params``; any other call passes unchecked."""
    if operation not in NEWER_SDK_CALLS:
        return
    api = client.meta.method_to_api_mapping.get(operation)
    if api is None:
        lacking = "the call"
    else:
        shape = client.meta.service_model.operation_model(api).input_shape
        unknown = sorted(set(params) - set(shape.members if shape is not None else ()))
        if not unknown:
            return
        lacking = "its parameter %s" % ", ".join(unknown)
    raise IamGuardError(
        "%s needs botocore >= %s: the installed botocore %s does not know %s, so it was not made. Upgrade the AWS SDK "
        "for Python on the host that runs the module (pip install 'boto3>=%s' 'botocore>=%s'; iamguard.aws needs %s or later)."
        % (doing, NEWER_SDK_CALLS[operation], getattr(botocore, "__version__", "(unknown version)"), lacking, MINIMUM_SDK,
           MINIMUM_SDK, MINIMUM_SDK)
    )


def explain(exception, doing):
    """An IamGuardError that says what failed and why, quoting IAM's answer once."""
    code = error_code(exception)
    if code in SETTLING_CODES:
        return IamGuardError(
            "%s failed: IAM still reported the entity as being changed (%s) after %d attempts; run the task again." % (doing, code, RETRY_ATTEMPTS),
            exception,
        )
    if code:
        return IamGuardError("%s failed: %s: %s" % (doing, code, error_message(exception)), exception)
    return IamGuardError("%s failed: %s" % (doing, exception), exception)


def call(client, operation, doing, missing_ok=False, **params):
    """Run one IAM call, retried by the collection's policy; translate its failure into an IamGuardError.

    With ``missing_ok`` a NoSuchEntity answer means "already gone" and returns None
    (also when an earlier attempt removed it and its answer was lost).
    """
    require_sdk(client, operation, params, doing)
    try:
        return retried(getattr(client, operation))(**params)
    except (BotoCoreError, ClientError) as e:
        if missing_ok and is_missing(e):
            return None
        raise explain(e, doing)
