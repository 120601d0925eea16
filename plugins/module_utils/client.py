# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""IAM client creation, paginated reads and the meaning of IAM errors.

Plain functions over a boto3 client, so every other module_utils file can be
unit-tested with a stub client and no Ansible.
"""

from __future__ import annotations

try:
    import botocore.config
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:  # handled by AnsibleAWSModule's own boto3 check
    BotoCoreError = ClientError = Exception

# botocore's adaptive mode retries Throttling and 5xx on every request,
# paginator pages included, and slows the shared client down when IAM
# pushes back: no hand-written sleep loop anywhere in the collection.
RETRY_SETTINGS = {"mode": "adaptive", "max_attempts": 10}

MISSING_CODES = frozenset(("NoSuchEntity", "NoSuchEntityException"))
MFA_REQUIRED_HINTS = ("authenticated with an mfa device", "multifactorauthpresent", "multi-factor")

MFA_SESSION_FIX = (
    "The account's policy requires an MFA-authenticated session for this call. "
    "Obtain one with STS GetSessionToken and your MFA device (aws sts get-session-token "
    "--serial-number <your MFA ARN> --token-code <6 digits>, or amazon.aws.sts_session_token "
    "with mfa_serial_number and mfa_token), then run this task again with its "
    "access_key, secret_key and session_token."
)


class IamGuardError(Exception):
    """A failure described in a sentence a person can act on.

    ``exception`` keeps the botocore error, if any, for ``fail_json_aws``.
    """

    def __init__(self, message, exception=None):
        super().__init__(message)
        self.message = message
        self.exception = exception


def iam_client(module):
    """The IAM client of an AnsibleAWSModule, with botocore's retry mode."""
    return module.client("iam", config=botocore.config.Config(retries=RETRY_SETTINGS))


def sts_client(module):
    return module.client("sts", config=botocore.config.Config(retries=RETRY_SETTINGS))


def paginate(client, operation, result_key, **params):
    """Every item of a paginated IAM list, all pages read.

    A few IAM lists take Marker/MaxItems but have no botocore paginator
    (ListServiceSpecificCredentials): those follow the markers here.
    """
    if client.can_paginate(operation):
        pages = client.get_paginator(operation).paginate(**params)
    else:
        pages = _marker_pages(client, operation, params)
    items = []
    for page in pages:
        items.extend(page.get(result_key, []))
    return items


def _marker_pages(client, operation, params):
    page = getattr(client, operation)(**params)
    yield page
    while page.get("IsTruncated") and page.get("Marker"):
        page = getattr(client, operation)(Marker=page["Marker"], **params)
        yield page


def iso_date(value):
    """A boto3 datetime as ISO 8601 text (results are JSON); anything else as it is."""
    return value.isoformat() if hasattr(value, "isoformat") else value


def error_code(exception):
    if isinstance(exception, ClientError):
        return exception.response.get("Error", {}).get("Code")
    return None


def error_message(exception):
    if isinstance(exception, ClientError):
        return exception.response.get("Error", {}).get("Message") or ""
    return str(exception)


def is_missing(exception):
    return error_code(exception) in MISSING_CODES


def is_conflict(exception):
    return error_code(exception) == "DeleteConflict"


def is_mfa_required(exception):
    """AccessDenied caused by a policy that demands aws:MultiFactorAuthPresent (S4)."""
    if error_code(exception) not in ("AccessDenied", "AccessDeniedException"):
        return False
    message = error_message(exception).lower()
    return any(hint in message for hint in MFA_REQUIRED_HINTS)


def explain(exception, doing):
    """An IamGuardError that says what failed, why, and what to do about it."""
    if is_mfa_required(exception):
        return IamGuardError("%s was denied: %s" % (doing, MFA_SESSION_FIX), exception)
    code = error_code(exception)
    if code == "EntityTemporarilyUnmodifiable":
        return IamGuardError(
            "%s failed: IAM reports the entity as temporarily unmodifiable (it was changed moments ago); run the task again." % doing,
            exception,
        )
    if code:
        return IamGuardError("%s failed: %s: %s" % (doing, code, error_message(exception)), exception)
    return IamGuardError("%s failed: %s" % (doing, exception), exception)


def call(client, operation, doing, missing_ok=False, **params):
    """Run one IAM call; translate its failure into an IamGuardError.

    With ``missing_ok`` a NoSuchEntity answer means "already gone" and returns None.
    """
    try:
        return getattr(client, operation)(**params)
    except (BotoCoreError, ClientError) as e:
        if missing_ok and is_missing(e):
            return None
        raise explain(e, doing)


def read(client, operation, result_key, doing, missing_ok=False, **params):
    """A paginated read whose failures become IamGuardError.

    With ``missing_ok`` a NoSuchEntity answer (the user is gone) returns None.
    """
    try:
        return paginate(client, operation, result_key, **params)
    except (BotoCoreError, ClientError) as e:
        if missing_ok and is_missing(e):
            return None
        raise explain(e, doing)
