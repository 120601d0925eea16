"""The root user of each account, which moto lacks: its own credentials, calls made as root, and STS AssumeRoot.

In AWS every account has a root user (arn:aws:iam::<account>:root) that may have a password
(login profile), up to two access keys, signing certificates and MFA devices (virtual,
hardware, passkey); the credential report's first row, <root_account>, shows them. IAM calls
made as root without UserName act on root's own credentials. With centralized root access the
management account (or IAM's delegated administrator) gets a short root session in a member
account through sts:AssumeRoot; the session's task policy allows only a few IAM actions.
Here root's credentials live in a RootUser kept on moto's IAM backend of the account (moto's
reset forgets it with the account). Each difference from moto is listed in the README's
"The simulator" section.
"""

import datetime
import re

from moto.iam.models import VirtualMfaDevice, iam_backends

from .organizations import is_member
from .protocol import AwsError, result_reply
from .sessions import is_root, issue_session, now, random_id, root_identity, secret_key

ACCOUNT_CREATED = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
ROOT_DEVICE_NAME = "root-account-mfa-device"
MFA_KINDS = ("virtual", "hardware", "passkey")
MAX_ROOT_SESSION = 900
TASK_POLICY_PREFIX = "arn:aws:iam::aws:policy/root-task/"
_AUDIT = ("GetAccessKeyLastUsed", "GetLoginProfile", "GetUser", "ListAccessKeys", "ListMFADevices", "ListSigningCertificates")
# The IAM actions each AWS managed root-task policy allows (the S3 and SQS unlock policies allow S3 / SQS actions only).
TASK_POLICIES = {
    "IAMAuditRootUserCredentials": frozenset((*_AUDIT, "GetAccountSummary")),
    "IAMDeleteRootUserCredentials": frozenset((*_AUDIT, "DeactivateMFADevice", "DeleteAccessKey", "DeleteLoginProfile",
                                               "DeleteSigningCertificate", "DeleteVirtualMFADevice")),
    "IAMCreateRootUserPassword": frozenset(("CreateLoginProfile", "GetLoginProfile")),
    "S3UnlockBucketPolicy": frozenset(),
    "SQSUnlockQueuePolicy": frozenset(),
}
# Root's own calls without UserName that AWS accepts only in an AssumeRoot session (documented for these four).
SESSION_ONLY_ACTIONS = ("CreateLoginProfile", "GetLoginProfile", "DeleteLoginProfile", "DeactivateMFADevice")
EXPIRED = AwsError("ExpiredToken", "The security token included in the request is expired", 403)
INVALID_KEY = AwsError("InvalidClientTokenId", "The security token included in the request is invalid.", 403)


def _no_such_entity(message):
    return AwsError("NoSuchEntity", message, 404)


def _validation(message):
    return AwsError("ValidationError", message, 400)


class RootMfaDevice(VirtualMfaDevice):
    """A virtual MFA device of the root user (moto has none); `from_option`: made by option root_mfa_device."""

    def __init__(self, account, from_option=False):
        super().__init__(account, "us-east-1", "/" + ROOT_DEVICE_NAME)
        self.account = account
        self.enable_date = ACCOUNT_CREATED
        self.from_option = from_option


class RootUser:
    """Root's credentials in one account. Virtual MFA devices stay in moto's virtual device list (as AWS lists them)."""

    def __init__(self, account):
        self.account = account
        self.arn = f"arn:aws:iam::{account}:root"
        self.login_profile = None  # {"created": datetime, "last_used": datetime or None}
        self.access_keys = {}  # id -> {"id", "status", "created", "last_used", "region", "service"}
        self.certificates = {}  # id -> {"id", "body", "status", "uploaded"}
        self.other_devices = {}  # serial -> {"serial", "kind", "enabled"}: hardware tokens and passkeys
        self.mfa_seeded = False  # seeded devices: option root_mfa_device leaves them alone
        self.option_applied = None  # the root_mfa_device value last applied to this account

    def virtual_devices(self):
        return [d for d in iam_backends[self.account]["aws"].virtual_mfa_devices.values() if isinstance(d, RootMfaDevice) and d.enable_date]

    def mfa_devices(self):
        """(serial, enable date) of every enabled device, sorted by serial."""
        devices = [(d.serial_number, d.enable_date) for d in self.virtual_devices()]
        devices += [(d["serial"], d["enabled"]) for d in self.other_devices.values()]
        return sorted(devices)

    def add_access_key(self, created=None, active=True, last_used=None):
        key = {"id": random_id("AKIA", 16), "status": "Active" if active else "Inactive", "created": created or now(),
               "last_used": last_used, "region": "us-east-1" if last_used else None, "service": "iam" if last_used else None}
        self.access_keys[key["id"]] = key
        return key["id"]

    def add_certificate(self, body):
        certificate = {"id": random_id("", 32), "body": body, "status": "Active", "uploaded": now()}
        self.certificates[certificate["id"]] = certificate
        return certificate["id"]

    def add_device(self, kind):
        """Enable a root MFA device of `kind`; return its serial (and the seed of a virtual one, else None)."""
        if kind == "virtual":
            device = RootMfaDevice(self.account)
            iam_backends[self.account]["aws"].virtual_mfa_devices[device.serial_number] = device
            return device.serial_number, device.base32_string_seed
        # Serial formats as AWS shows them: hardware tokens GAHT..., passkeys an u2f ARN (root's form is our guess).
        serial = "GAHT" + random_id("", 8) if kind == "hardware" else f"arn:aws:iam::{self.account}:u2f/root/passkey-{random_id('', 26)}"
        self.other_devices[serial] = {"serial": serial, "kind": kind, "enabled": now()}
        return serial, None

    def forget_devices(self):
        backend = iam_backends[self.account]["aws"]
        for device in [d for d in backend.virtual_mfa_devices.values() if isinstance(d, RootMfaDevice)]:
            del backend.virtual_mfa_devices[device.serial_number]
        self.other_devices = {}


def root_user(account):
    backend = iam_backends[account]["aws"]
    if not isinstance(getattr(backend, "iamguard_root", None), RootUser):
        backend.iamguard_root = RootUser(account)
    return backend.iamguard_root


def root_device_in_sync(account, wanted):
    """Whether option root_mfa_device (`wanted`) needs nothing done in `account` (a read; sync_root_device writes)."""
    root = getattr(iam_backends[account]["aws"], "iamguard_root", None)
    return root is not None and (root.mfa_seeded or root.option_applied == wanted)


def sync_root_device(account, wanted):
    """AWS accounts usually have a root MFA device (moto's none): option root_mfa_device adds one, or takes it away again.

    Applied once per option value, so a device root removes stays removed.
    """
    root = root_user(account)
    if root.mfa_seeded or root.option_applied == wanted:
        return
    backend = iam_backends[account]["aws"]
    present = backend.virtual_mfa_devices.get(f"arn:aws:iam::{account}:mfa/{ROOT_DEVICE_NAME}")
    if wanted and present is None:
        device = RootMfaDevice(account, from_option=True)
        backend.virtual_mfa_devices[device.serial_number] = device
    elif not wanted and getattr(present, "from_option", False):
        del backend.virtual_mfa_devices[present.serial_number]
    root.option_applied = wanted


def seed_root(account, access_keys=(), hardware_mfa=False):
    """Give root access keys (dicts with created, and optional last_used and active) and a hardware MFA device, replacing earlier ones."""
    root = root_user(account)
    root.access_keys = {}
    for key in access_keys:
        root.add_access_key(key["created"], key.get("active", True), key.get("last_used"))
    root.other_devices = {}
    if hardware_mfa:
        root.add_device("hardware")


def seed_credentials(account, password=False, certificate_bodies=(), mfa_kinds=()):
    """Root's login profile, signing certificates and exactly the MFA devices of `mfa_kinds` (option root_mfa_device then leaves them)."""
    root = root_user(account)
    if password:
        root.login_profile = {"created": now(), "last_used": None}
    certificate_ids = [root.add_certificate(body) for body in certificate_bodies]
    root.forget_devices()
    root.mfa_seeded = True
    serials, seeds = {}, []
    for kind in mfa_kinds:
        serials[kind], seed = root.add_device(kind)
        seeds += [seed] if seed else []
    return {"certificate_ids": certificate_ids, "mfa_serials": serials, "seeds": seeds}


def _report_date(value):
    return value.strftime("%Y-%m-%dT%H:%M:%S+00:00") if value else "N/A"


def root_report_row(account):
    """The <root_account> row AWS puts first in the credential report (root's password columns always say not_supported)."""
    root = root_user(account)
    keys = sorted(root.access_keys.values(), key=lambda key: key["created"])[:2]
    certificates = sorted(root.certificates.values(), key=lambda certificate: certificate["uploaded"])[:2]
    columns = []
    for key in keys + [None] * (2 - len(keys)):
        columns += (["false", "N/A", "N/A", "N/A", "N/A"] if key is None else
                    [str(key["status"] == "Active").lower(), _report_date(key["created"]), _report_date(key["last_used"]),
                     key["region"] or "N/A", key["service"] or "N/A"])
    for certificate in certificates + [None] * (2 - len(certificates)):
        columns += ["false", "N/A"] if certificate is None else [str(certificate["status"] == "Active").lower(), _report_date(certificate["uploaded"])]
    used = root.login_profile and root.login_profile["last_used"]
    return ",".join(["<root_account>", root.arn, _report_date(ACCOUNT_CREATED), "not_supported", _report_date(used), "not_supported",
                     "not_supported", str(bool(root.mfa_devices())).lower(), *columns])


def _listing(req, member, entities, order, view):
    """A one-page List answer of root's `entities` (id -> dict), oldest first."""
    return result_reply("iam", req.action, {member: [view(e) for e in sorted(entities.values(), key=lambda e: e[order])], "IsTruncated": False})


def _remove(entities, entity_id, kind):
    if entities.pop(entity_id, None) is None:
        raise _no_such_entity(f"The {kind} with id {entity_id} cannot be found.")


def _denied(req, principal, resource, session_policy):
    """IAM's wording for an implicit deny; a root session's task policy is a session policy."""
    action = f"{req.service}:{req.action}"
    because = f"because no session policy allows the {action} action" if session_policy else f"because no identity-based policy allows the {action} action"
    return AwsError("AccessDeniedException" if req.service == "organizations" else "AccessDenied",
                    f"User: {principal} is not authorized to perform: {action} on resource: {resource} {because}", 403)


class Root:
    """Root's access keys that authenticate, the checks on calls made as root, and root's own IAM calls."""

    def __init__(self, sessions, caller, organizations):
        self._sessions = sessions  # Realism's access key id -> Session
        self._caller = caller
        self._organizations = organizations
        self.keys = {}  # root access key id -> account, for keys that sign calls
        self._revoked = set()
        # root's calls on its own credentials (no UserName)
        self._own = {"GetUser": self._get_user, "ListAccessKeys": self._list_access_keys, "DeleteAccessKey": self._delete_access_key,
                     "ListSigningCertificates": self._list_signing_certificates, "DeleteSigningCertificate": self._delete_signing_certificate,
                     "ListMFADevices": self._list_mfa_devices, "CreateLoginProfile": self._create_login_profile,
                     "GetLoginProfile": self._get_login_profile, "DeleteLoginProfile": self._delete_login_profile,
                     "DeactivateMFADevice": self._deactivate_mfa_device}

    def reset(self):
        self.keys.clear()
        self._revoked.clear()

    def handlers(self):
        def on_root(method):
            return lambda req, forward: method(req, root_user(req.account), forward)
        return {"sts:AssumeRoot": self._assume_root, "iam:GetAccessKeyLastUsed": on_root(self._get_access_key_last_used),
                "iam:GetAccountSummary": on_root(self._get_account_summary)}

    def credentials(self, account):
        """A new access key of `account`'s root (listed by root's ListAccessKeys, in the report) that signs calls as root."""
        if not re.fullmatch(r"[0-9]{12}", account):
            raise ValueError("account must be a 12-digit AWS account id")
        key_id = root_user(account).add_access_key()
        self.keys[key_id] = account
        return {"access_key": key_id, "secret_key": secret_key()}

    # -- before any handler ----------------------------------------------------------

    def check(self, req):
        """Refuse what AWS refuses before looking at the call: deleted root keys, expired sessions, a root session's task policy."""
        if req.access_key in self._revoked:
            raise INVALID_KEY
        account = self.keys.get(req.access_key)
        if account is not None:
            key = root_user(account).access_keys[req.access_key]
            key.update(last_used=now(), region=req.region, service=req.service)
        session = self._sessions.get(req.access_key)
        if session is None:
            return
        if session.expiration <= now():
            raise EXPIRED
        if session.task_policy is None or (req.service, req.action) == ("sts", "GetCallerIdentity"):
            return
        name = req.params.get("UserName")
        resource = f"arn:aws:iam::{session.account}:user/{name}" if name else session.identity.arn
        if req.service != "iam" or req.action not in TASK_POLICIES[session.task_policy] or name:
            raise _denied(req, session.identity.arn, resource, session_policy=True)

    def own_call(self, req):
        """Answer a call root makes on its own credentials (no UserName); None when the call is not one."""
        if req.service != "iam" or req.action not in self._own or req.params.get("UserName"):
            return None
        caller = self._caller(req)
        if not is_root(caller):
            return None
        session = self._sessions.get(req.access_key)
        if req.action in SESSION_ONLY_ACTIONS and (session is None or session.task_policy is None):
            # AWS: with root's own (long-term) credentials these calls omit UserName only in an AssumeRoot session; our wording.
            raise _validation(f"{req.action} without UserName acts on the root user only in an AssumeRoot session.")
        return self._own[req.action](req, root_user(req.account), None)

    # -- root's own credentials ------------------------------------------------------

    def _get_user(self, req, root, _forward):
        used = root.login_profile and root.login_profile["last_used"]
        return result_reply("iam", req.action, {"User": {"UserId": root.account, "Arn": root.arn, "CreateDate": ACCOUNT_CREATED,
                                                         "PasswordLastUsed": used or None}})

    def _login_profile(self, root):
        if root.login_profile is None:
            raise _no_such_entity(f"Login Profile for the root user of account {root.account} cannot be found.")  # our wording
        return root.login_profile

    def _get_login_profile(self, req, root, _forward):
        profile = self._login_profile(root)
        return result_reply("iam", req.action, {"LoginProfile": {"CreateDate": profile["created"], "PasswordResetRequired": False}})

    def _delete_login_profile(self, req, root, _forward):
        self._login_profile(root)
        root.login_profile = None
        return result_reply("iam", req.action)

    def _create_login_profile(self, req, root, _forward):
        """In an AssumeRoot session (IAMCreateRootUserPassword) AWS wants no Password: root then sets one by password recovery."""
        if req.params.get("Password"):
            raise _validation("Password must be omitted when creating the root user's login profile in an AssumeRoot session.")  # our wording
        if root.login_profile is not None:
            raise AwsError("EntityAlreadyExists", f"Login Profile for the root user of account {root.account} already exists.", 409)
        root.login_profile = {"created": now(), "last_used": None}
        return result_reply("iam", req.action, {"LoginProfile": {"CreateDate": root.login_profile["created"], "PasswordResetRequired": True}})

    def _list_access_keys(self, req, root, _forward):
        return _listing(req, "AccessKeyMetadata", root.access_keys, "created",
                        lambda k: {"AccessKeyId": k["id"], "Status": k["status"], "CreateDate": k["created"]})

    def _delete_access_key(self, req, root, _forward):
        key_id = req.params.get("AccessKeyId", "")
        _remove(root.access_keys, key_id, "Access Key")
        if self.keys.pop(key_id, None) is not None:
            self._revoked.add(key_id)
        return result_reply("iam", req.action)

    def _get_access_key_last_used(self, req, root, forward):
        """Root's keys are the layer's: answer for them (whoever asks in the account); moto answers for users' keys."""
        key = root.access_keys.get(req.params.get("AccessKeyId", ""))
        if key is None:
            return forward()
        used = {"LastUsedDate": key["last_used"], "ServiceName": key["service"] or "N/A", "Region": key["region"] or "N/A"}
        return result_reply("iam", req.action, {"AccessKeyLastUsed": used})

    def _list_signing_certificates(self, req, root, _forward):
        return _listing(req, "Certificates", root.certificates, "uploaded",
                        lambda c: {"CertificateId": c["id"], "CertificateBody": c["body"], "Status": c["status"], "UploadDate": c["uploaded"]})

    def _delete_signing_certificate(self, req, root, _forward):
        _remove(root.certificates, req.params.get("CertificateId", ""), "Certificate")
        return result_reply("iam", req.action)

    def _list_mfa_devices(self, req, root, _forward):
        devices = [{"SerialNumber": serial, "EnableDate": enabled} for serial, enabled in root.mfa_devices()]
        return result_reply("iam", req.action, {"MFADevices": devices, "IsTruncated": False})

    def _deactivate_mfa_device(self, req, root, _forward):
        """A virtual device stays, unassigned, until DeleteVirtualMFADevice; a hardware token or passkey is gone."""
        serial = req.params.get("SerialNumber", "")
        virtual = {d.serial_number: d for d in root.virtual_devices()}
        if serial in virtual:
            virtual[serial].enable_date = None
        elif root.other_devices.pop(serial, None) is None:
            raise _no_such_entity(f"MFA Device with serial number {serial} does not exist.")
        return result_reply("iam", req.action)

    def _get_account_summary(self, _req, root, forward):
        """moto's summary knows nothing of root: its MFA, access keys and signing certificates flags follow root's credentials."""
        summary = iam_backends[root.account]["aws"].account_summary
        # pylint: disable=protected-access
        summary._account_mfa_enabled = int(bool(root.mfa_devices()))
        summary._account_access_keys_present = int(bool(root.access_keys))
        summary._account_signing_certificates_present = int(bool(root.certificates))
        return forward()

    # -- STS AssumeRoot (moto: not implemented) ----------------------------------------

    def _assume_root(self, req, _forward):
        """A root session in a member account for the management account or IAM's delegated administrator.

        Codes are AWS's; where AWS's exact wording is not known to us the messages are ours.
        """
        caller = self._caller(req)
        if is_root(caller):
            raise AwsError("AccessDenied", "AssumeRoot cannot be called with root user credentials.", 403)  # our wording
        duration = req.params.get("DurationSeconds", str(MAX_ROOT_SESSION))
        if not duration.isdigit() or int(duration) > MAX_ROOT_SESSION:
            raise _validation(f"1 validation error detected: Value '{duration}' at 'durationSeconds' failed to satisfy constraint: "
                              f"Member must have value less than or equal to {MAX_ROOT_SESSION}")
        target = req.params.get("TargetPrincipal", "")
        match = re.fullmatch(r"(?:arn:aws:iam::)?([0-9]{12})(?::root)?", target)
        if match is None:
            raise _validation(f"TargetPrincipal {target} is neither an account id nor an account's root ARN.")  # our wording
        policy_arn = req.params.get("TaskPolicyArn.arn", "")
        policy = policy_arn[len(TASK_POLICY_PREFIX):] if policy_arn.startswith(TASK_POLICY_PREFIX) else None
        if policy not in TASK_POLICIES:
            raise _validation(f"TaskPolicyArn {policy_arn} is not one of AWS's root task policies ({TASK_POLICY_PREFIX}...).")  # our wording
        account = match.group(1)
        refusal = self._assume_root_refusal(req.account, account)
        if refusal:
            raise AwsError("AccessDenied", f"User: {caller.arn} is not authorized to perform: sts:AssumeRoot on resource: "
                                           f"arn:aws:iam::{account}:root ({refusal})", 403)  # AWS's form; the reason in brackets is ours
        credentials = issue_session(self._sessions, root_identity(account), account, int(duration), task_policy=policy)
        return result_reply("sts", req.action, {"Credentials": credentials})

    def _assume_root_refusal(self, caller_account, target):
        management, allowed = self._organizations.may_manage_root(caller_account)
        if not allowed:
            return "the caller is neither in the organization's management account nor in IAM's delegated administrator account"
        if "RootSessions" not in self._organizations.root_features(management):
            return "centralized root access: the organization has not enabled RootSessions"
        if target == management:
            return "the management account cannot be the target of AssumeRoot"
        if not is_member(management, target):
            return f"account {target} is not a member of the organization"
        return None
