"""Who a call is made as, and the temporary credentials the layer issues (GetSessionToken, AssumeRoot).

moto gives every GetSessionToken caller the same fixed keys and has no AssumeRoot; AWS issues
fresh keys per call that stop working when they expire.
"""

import base64
import collections
import datetime
import secrets
import string

UTC = datetime.timezone.utc
KEY_ALPHABET = string.ascii_uppercase + string.digits

Identity = collections.namedtuple("Identity", "arn user_id user_name")
# task_policy: the root-task policy name of an AssumeRoot session, None for other sessions.
Session = collections.namedtuple("Session", "access_key_id token identity account mfa expiration task_policy", defaults=(None,))


def now():
    return datetime.datetime.now(UTC)


def random_id(prefix, length):
    """An AWS-style id: `prefix` and upper-case letters and digits, e.g. AKIA + 16."""
    return prefix + "".join(secrets.choice(KEY_ALPHABET) for dummy in range(length))


def secret_key():
    return base64.b64encode(secrets.token_bytes(30)).decode()


def root_identity(account):
    """The root user of `account` as AWS names it (GetCallerIdentity: the account id as UserId)."""
    return Identity(f"arn:aws:iam::{account}:root", account, None)


def is_root(identity):
    return identity.arn.endswith(":root")


def issue_session(sessions, identity, account, seconds, mfa=False, task_policy=None):
    """Record a new session in `sessions` (access key id -> Session); return its Credentials element."""
    session = Session(access_key_id=random_id("ASIA", 16), token=base64.b64encode(secrets.token_bytes(192)).decode(), identity=identity,
                      account=account, mfa=mfa, expiration=now() + datetime.timedelta(seconds=seconds), task_policy=task_policy)
    sessions[session.access_key_id] = session
    return {"AccessKeyId": session.access_key_id, "SecretAccessKey": secret_key(), "SessionToken": session.token,
            "Expiration": session.expiration}
