# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Many accounts in one module run: one shared SDK session, a session per account, accounts side by side.

A Connection holds ONE botocore session for the whole run: its loader reads each service
model once, however many accounts' clients are made from it. botocore sessions are not
thread-safe (clients are), so clients are made under a lock. Each account gets its own
clients, so its own SendRate (IAM throttles each account on its own) and the retry policy
of calls.py for every call. Timestamps are parsed by fast_timestamp, not dateutil.

fan_out runs one function per account in a thread pool. An account that cannot be read
(its role missing or refused, an SCP's deny, throttled out after the retries, any other
error of AWS) is recorded as unreachable, with its error code and a one-line reason, and
the others go on.
"""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

try:
    import boto3
    import botocore.config
    import botocore.session
    import botocore.utils
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:  # handled by AnsibleAWSModule's own boto3 check
    BotoCoreError = ClientError = Exception

from ansible_collections.amazon.aws.plugins.module_utils.botocore import get_aws_connection_info

from ansible_collections.iamguard.aws.plugins.module_utils import validation
from ansible_collections.iamguard.aws.plugins.module_utils.calls import call
from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError, error_code
from ansible_collections.iamguard.aws.plugins.module_utils.session import BOTOCORE_RETRIES, rate_limited

DEFAULT_MAX_WORKERS = validation.DEFAULT_ACCOUNT_WORKERS
MAX_WORKERS_LIMIT = validation.MAX_ACCOUNT_WORKERS
ROLE_SESSION_NAME = "iamguard-aws"
SESSION_NAME = re.compile(r"[A-Za-z0-9_+=,.@-]{2,64}")
REASON_LENGTH = 400  # characters of an unreachable account's one-line reason


def fast_timestamp(value):
    """A response timestamp as an aware datetime: ISO 8601 (what IAM and STS send) without dateutil, anything else as botocore parses it."""
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return botocore.utils.parse_timestamp(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


class Connection:
    """The caller's connection options and one botocore session shared by every account's clients."""

    def __init__(self, region, endpoint_url=None, verify=None, config=None, credentials=None, profile_name=None):
        core = botocore.session.Session(profile=profile_name)
        core.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=fast_timestamp)
        self.session = boto3.session.Session(botocore_session=core)
        self.region = region
        self.endpoint_url = endpoint_url
        self.verify = verify
        # A connection per worker: the caller's STS client serves every worker at once.
        own = botocore.config.Config(retries=BOTOCORE_RETRIES, user_agent_extra="iamguard.aws", max_pool_connections=MAX_WORKERS_LIMIT)
        self.config = config.merge(own) if config is not None else own
        self.credentials = credentials or {}
        self._lock = threading.Lock()
        self._shared = {}

    def client(self, service, credentials=None, endpoint_url=None):
        """A new rate-limited client (its own SendRate) signing with ``credentials`` ({aws_access_key_id, ...}) or the caller's."""
        try:
            with self._lock:
                client = self.session.client(service, region_name=self.region, endpoint_url=endpoint_url or self.endpoint_url,
                                             config=self.config, verify=self.verify,
                                             **(self.credentials if credentials is None else credentials))
        except (BotoCoreError, ValueError) as e:
            raise IamGuardError("Connecting to AWS %s failed: %s" % (service.upper(), e), e)
        return rate_limited(client)

    def caller_client(self, service):
        """The caller's one client of ``service``, shared by every thread (clients are thread-safe)."""
        with self._lock:
            known = self._shared.get(service)
        if known is None:
            known = self.client(service)
            with self._lock:
                known = self._shared.setdefault(service, known)
        return known


def module_connection(module):
    """The Connection of an AnsibleAWSModule: its region, endpoint, credentials and botocore config."""
    region, endpoint_url, params = get_aws_connection_info(module)
    credentials = {key: params[key] for key in ("aws_access_key_id", "aws_secret_access_key", "aws_session_token") if params.get(key)}
    return Connection(region, endpoint_url, params.get("verify"), params.get("aws_config"), credentials, params.get("profile_name"))


# --- the accounts ------------------------------------------------------------------


def account_list(entries, role_session_name=ROLE_SESSION_NAME):
    """Validated accounts: [{account_id, role_arn, name, role_session_name}], or InvalidInput before any AWS call.

    An entry without role_arn is read with the caller's own credentials: its account is checked with GetCallerIdentity,
    or, without account_id too, it is the caller's account, whatever it is (account_id None until read).
    """
    accounts, seen = [], set()
    for entry in entries:
        account_id = str(entry.get("account_id") or "")
        role_arn = entry.get("role_arn")
        session_name = entry.get("role_session_name") or role_session_name
        if not (validation.ACCOUNT_ID.fullmatch(account_id) or (not account_id and not role_arn)):
            raise validation.InvalidInput("accounts", entry, "each account_id is 12 digits (quote it in YAML so leading zeros stay)")
        if role_arn and not validation.ROLE_ARN.fullmatch(role_arn):
            raise validation.InvalidInput("accounts", entry, "role_arn must be an IAM role ARN (arn:aws:iam::<12-digit account id>:role/<name>)")
        if not SESSION_NAME.fullmatch(session_name):
            raise validation.InvalidInput("role_session_name", session_name, "2 to 64 letters, digits or _+=,.@-")
        if account_id in seen:
            raise validation.InvalidInput("accounts", entry, "account %s is listed twice" % account_id)
        seen.add(account_id)
        accounts.append({"account_id": account_id or None, "role_arn": role_arn or None, "name": entry.get("name") or account_id or "caller",
                         "role_session_name": session_name})
    return accounts


def worker_count(value, accounts):
    if not 1 <= value <= MAX_WORKERS_LIMIT:
        raise validation.InvalidInput("max_workers", value, "between 1 and %d" % MAX_WORKERS_LIMIT)
    return max(1, min(value, len(accounts)))


class AccountMismatch(IamGuardError):
    """The credentials of an account's entry are of another account (its code in the unreachable list is this class's name)."""


def role_credentials(connection, account):
    """The account's credentials: AssumeRole into its role_arn, or the caller's own (checked to be of the account)."""
    sts = connection.caller_client("sts")
    if not account["role_arn"]:
        if not account["account_id"]:
            return None
        caller = call(sts, "get_caller_identity", "GetCallerIdentity")
        if caller["Account"] != account["account_id"]:
            raise AccountMismatch("The caller's credentials (%s) are of account %s, not %s; nothing was read in it."
                                  % (caller["Arn"], caller["Account"], account["account_id"]))
        return None
    if validation.ROLE_ARN.fullmatch(account["role_arn"]).group(1) != account["account_id"]:
        raise AccountMismatch("role_arn %s is a role of another account than %s; nothing was read in it." % (account["role_arn"], account["account_id"]))
    answer = call(sts, "assume_role", "sts:AssumeRole %s" % account["role_arn"], RoleArn=account["role_arn"],
                  RoleSessionName=account["role_session_name"])
    issued = answer["Credentials"]
    return {"aws_access_key_id": issued["AccessKeyId"], "aws_secret_access_key": issued["SecretAccessKey"],
            "aws_session_token": issued["SessionToken"]}


def account_client(connection, account, service="iam"):
    """A client of ``service`` in the account, through its role (or the caller's credentials)."""
    return connection.client(service, role_credentials(connection, account))


# --- side by side ------------------------------------------------------------------


def unreachable(account, error):
    """{account_id, name, code, message}: why the account could not be read, in one line."""
    code = error_code(getattr(error, "exception", None) or error) or type(getattr(error, "exception", None) or error).__name__
    message = " ".join(str(getattr(error, "message", error)).split())
    if len(message) > REASON_LENGTH:
        message = message[:REASON_LENGTH - 3] + "..."
    return {"account_id": account["account_id"], "name": account["name"], "code": code, "message": message}


def fan_out(accounts, work, max_workers):
    """``work(account)`` for every account, ``max_workers`` at a time: (results in the accounts' order, unreachable list).

    An IamGuardError or botocore error of one account makes it unreachable; any other error is a bug and fails the run,
    and so does any error of the caller's own account given without an id (the run has nothing to name it by).
    """
    def guarded(account):
        try:
            return work(account), None
        except (IamGuardError, BotoCoreError, ClientError) as e:
            if not account["account_id"]:
                raise
            return None, unreachable(account, e)

    with ThreadPoolExecutor(max_workers=worker_count(max_workers, accounts)) as pool:
        outcomes = list(pool.map(guarded, accounts))
    return [result for result, dummy in outcomes if result is not None], [failed for dummy, failed in outcomes if failed is not None]
