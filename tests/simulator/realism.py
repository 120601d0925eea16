"""Where moto 5.2 answers IAM and STS calls differently from AWS, answer as AWS does.

Every deviation from moto lives here or in the modules whose handlers it registers
(organizations.py: Organizations and IAM's root-access features; root.py: the root user and
STS AssumeRoot), and the README's "The simulator" section lists them (faults and concurrency
are no deviations: see faults.py and concurrency.py). A handler
gets the parsed request and `forward` (let moto answer; returns its Reply) and returns a
Reply; an AwsError it raises becomes an AWS error answer. The handlers may read and change moto's in-process IAM state.
"""

import base64
import csv
import datetime
import io
import os
import re
import secrets
import string
import time
import urllib.parse

import pyotp
import segno
from moto.iam.models import get_account_id_from, iam_backends
from moto.sts.models import sts_backends

from .faults import RecentlyDeleted
from .organizations import Organizations
from .protocol import AwsError, Reply, XmlMap, error_reply, result_reply
from .root import ACCOUNT_CREATED, Root, RootMfaDevice, root_device_in_sync, root_report_row, seed_root, sync_root_device
from .sessions import Identity, issue_session, now, root_identity

MAX_MFA_DEVICES_PER_USER = 8
MAX_TAGS = 50
RESYNC_WINDOW = 10  # steps of drift ResyncMFADevice repairs
SSC_PER_SERVICE = 2
SSC_SERVICES = ("codecommit.amazonaws.com", "cassandra.amazonaws.com", "bedrock.amazonaws.com")
TOTP_STEP = 30
MIN_SESSION, MAX_SESSION, DEFAULT_SESSION = 900, 129600, 43200
UNKNOWN_CALLER_ID = "AKIAIOSFODNN7EXAMPLE"
# Calls whose UserName is optional in the API and then means the caller's own user.
# (moto already resolves the access key calls itself.)
CALLER_DEFAULT_ACTIONS = ("CreateLoginProfile", "ListMFADevices", "ListSSHPublicKeys", "ListSigningCertificates")
REPORT_BUILD_TIME = datetime.timedelta(seconds=1)  # how long the simulated credential report takes to build
REPORT_REFRESH_AFTER = datetime.timedelta(hours=4)  # AWS builds a new credential report at most every 4 hours
REPORT_COLUMNS = ("user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,"
                  "mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,"
                  "access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
                  "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,"
                  "cert_2_last_rotated")
MFA_UNVERIFIABLE = ("MultiFactorAuthentication failed, unable to validate MFA code. "
                    "Please verify your MFA serial number is valid and associated with this user.")

# seed_root: from root.py
__all__ = ["Realism", "backdate_access_key", "backdate_credential_report", "backdate_mfa_devices", "certify_mfa_device", "sign_in", "seed_root"]
_now = now


def _random(alphabet, length):
    return "".join(secrets.choice(alphabet) for dummy in range(length))


def _no_such_entity(message):
    return AwsError("NoSuchEntity", message, 404)


def _validation(message):
    return AwsError("ValidationError", message, 400)


def _serial(account, path_and_name):
    return f"arn:aws:iam::{account}:mfa{path_and_name}"


def _totp(seed, step):
    return pyotp.TOTP(seed).generate_otp(step)


def _step():
    return int(time.time()) // TOTP_STEP


def _consecutive_codes(seed, code1, code2, drift=2):
    """AWS wants two consecutive codes and tolerates a little clock drift."""
    return any(_totp(seed, s) == code1 and _totp(seed, s + 1) == code2 for s in range(_step() - drift, _step() + 1))


def _current_code(seed, code):
    return any(_totp(seed, s) == code for s in range(_step() - 1, _step() + 2))


def _check_codes(params):
    codes = (params.get("AuthenticationCode1", ""), params.get("AuthenticationCode2", ""))
    for index, code in enumerate(codes, 1):
        if not re.fullmatch(r"[0-9]{6}", code):
            raise _validation(f"1 validation error detected: Value at 'authenticationCode{index}' failed to satisfy constraint: "
                              "Member must be a string of 6 digits")
    return codes


def _tags(params):
    """Query-protocol tag list (Tags.member.N.Key / .Value) as a dict."""
    tags, index = {}, 1
    while f"Tags.member.{index}.Key" in params:
        tags[params[f"Tags.member.{index}.Key"]] = params.get(f"Tags.member.{index}.Value", "")
        index += 1
    return tags


def _tag_list(tags):
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def _qr_png(text):
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=4)
    return buffer.getvalue()


def _user_view(user, full=False):
    """A User element; list calls leave out the permissions boundary and tags (full=False)."""
    view = {"Path": user.path, "UserName": user.name, "UserId": user.id, "Arn": user.arn,
            "CreateDate": user.create_date, "PasswordLastUsed": user.password_last_used}
    if full:
        view["PermissionsBoundary"] = getattr(user, "permissions_boundary", None)
        view["Tags"] = user.tags
    return view


def _boundary(arn):
    return {"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": arn}


def _paginate(items, params, key):
    """Marker/MaxItems paging of sorted items; the marker names the next item, so deletions between pages skip nothing."""
    try:
        max_items = int(params.get("MaxItems", 100))
    except ValueError:
        max_items = 0
    if not 1 <= max_items <= 1000:
        raise _validation("1 validation error detected: Value at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000")
    if params.get("Marker"):
        try:
            start = base64.b64decode(params["Marker"], validate=True).decode()
        except ValueError:
            raise _validation("Invalid Marker.") from None
        items = [item for item in items if key(item) >= start]
    page, rest = items[:max_items], items[max_items:]
    more = {"IsTruncated": bool(rest)}
    if rest:
        more["Marker"] = base64.b64encode(key(rest[0]).encode()).decode()
    return page, more


def _members(params, name):
    """A query-protocol list parameter (Name.member.N) as a list."""
    values, index = [], 1
    while f"{name}.member.{index}" in params:
        values.append(params[f"{name}.member.{index}"])
        index += 1
    return values


def _user_detail(user):
    """A UserDetail element of GetAccountAuthorizationDetails, as AWS sends it: policy documents as URL-encoded JSON
    (botocore decodes them for this call), the permissions boundary when the user has one (moto has none for users;
    the layer keeps it as user.permissions_boundary), Tags only when there are some."""
    return {"Path": user.path, "UserName": user.name, "UserId": user.id, "Arn": user.arn, "CreateDate": user.create_date,
            "UserPolicyList": [{"PolicyName": name, "PolicyDocument": urllib.parse.quote(document, safe="")}
                               for name, document in user.policies.items()],
            "GroupList": [group.name for group in iam_backends[user.account_id]["aws"].get_groups_for_user(user.name)],
            "AttachedManagedPolicies": [{"PolicyName": policy.name, "PolicyArn": policy.arn} for policy in user.managed_policies.values()],
            "PermissionsBoundary": getattr(user, "permissions_boundary", None),
            "Tags": user.tags}


def _report_date(value):
    return value.strftime("%Y-%m-%dT%H:%M:%S+00:00")  # moto's naive UTC datetimes, as the report's other dates


def _user_report_row(user):
    """moto's row for the user, with the signing certificates' dates.

    moto writes cert_1_last_rotated and cert_2_last_rotated as "N/A" always; AWS writes the certificate's upload
    date when it exists, active or not (so an inactive certificate shows in the report). cert_1 and cert_2 are
    the user's certificates in moto's order (as to_csv takes them). moto joins its fields with bare commas, so
    the 20 fields after user and arn are taken from the end (a user name may contain a comma) and the row is
    written again as CSV.
    """
    fields = user.to_csv().rstrip("\n").split(",")[-20:]
    certificates = list(user.signing_certificates.values())[:2]
    for index, certificate in enumerate(certificates):
        fields[-3 + 2 * index] = _report_date(certificate.upload_date)  # cert_1_last_rotated, cert_2_last_rotated
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([user.name, user.arn, *fields])
    return out.getvalue()


def _credential_report_csv(account, backend):
    """The report as AWS words it: the root row first, then one row per user (moto's own user rows, see _user_report_row)."""
    users = sorted(backend.users.values(), key=lambda user: user.name.lower())
    return REPORT_COLUMNS + "\n" + root_report_row(account) + "\n" + "".join(_user_report_row(user) for user in users)


def backdate_access_key(account, access_key_id, created, last_used=None):
    """Make an access key as old (and last used when) the test needs; AWS keys can be years old, moto's are new."""
    key = iam_backends[account]["aws"].access_keys[access_key_id]
    key.create_date = created
    key.last_used = last_used


def backdate_mfa_devices(account, enabled):
    """Make every enabled MFA device of the account's users enabled at ``enabled``; real devices are often years old."""
    backend = iam_backends[account]["aws"]
    for user in backend.users.values():
        for device in user.mfa_devices.values():
            device.enable_date = enabled
            virtual = backend.virtual_mfa_devices.get(device.serial_number)
            if virtual is not None:
                virtual.enable_date = enabled


def certify_mfa_device(account, user_name, serial, certifications):
    """Give a user's enabled passkey the Certifications GetMFADevice answers ({"FIDO": "L1"}; {} for none, AWS's answer for a
    passkey without one). Kept on moto's device object, so moto's reset forgets it with the device."""
    if ":u2f/" not in serial:
        raise ValueError("only a passkey or security key (a :u2f/ serial) has certifications")
    if not isinstance(certifications, dict) or not all(isinstance(v, str) for v in certifications.values()):
        raise ValueError("certifications must map a certification (FIDO, FIPS-140-2, ...) to its level")
    iam_backends[account]["aws"].get_user(user_name).mfa_devices[serial].iamguard_certifications = dict(certifications)


def sign_in(account, user_name, when):
    """Record a console sign-in of the user at ``when`` (ListUsers' PasswordLastUsed and the report's password_last_used)."""
    iam_backends[account]["aws"].get_user(user_name).password_last_used = when


def backdate_credential_report(account, hours):
    """Make the account's newest credential report (and its build) ``hours`` older, as if generated that long ago."""
    report = iam_backends[account]["aws"].iamguard_credential_report
    report["generated"] -= datetime.timedelta(hours=hours)
    report["ready"] -= datetime.timedelta(hours=hours)


class Realism:
    """The request handlers that make moto behave like AWS, and the state moto lacks."""

    def __init__(self, options):
        self.options = options
        self._credentials = {}
        self._sessions = {}
        self._raced = set()
        self.recently_deleted = RecentlyDeleted()
        self._handlers = {f"iam:{action}": self._caller_default for action in CALLER_DEFAULT_ACTIONS}
        self._handlers.update({"iam:ListMFADevices": self._list_mfa_devices, "iam:ListAccessKeys": self._list_access_keys,
                               "iam:DeleteAccessKey": self._delete_access_key})
        self._handlers.update({
            "iam:CreateUser": self._create_user,
            "iam:ListUsers": self._list_users,
            "iam:GetAccountAuthorizationDetails": self._account_authorization_details,
            "iam:DeleteUser": self._delete_user,
            "iam:PutUserPermissionsBoundary": self._put_boundary,
            "iam:DeleteUserPermissionsBoundary": self._delete_boundary,
            "iam:GetLoginProfile": self._login_profile,
            "iam:DeleteLoginProfile": self._login_profile,
            "iam:CreateVirtualMFADevice": self._create_virtual_mfa_device,
            "iam:ListVirtualMFADevices": self._list_virtual_mfa_devices,
            "iam:DeleteVirtualMFADevice": self._delete_virtual_mfa_device,
            "iam:EnableMFADevice": self._enable_mfa_device,
            "iam:DeactivateMFADevice": self._deactivate_mfa_device,
            "iam:GetMFADevice": self._get_mfa_device,
            "iam:ResyncMFADevice": self._resync_mfa_device,
            "iam:TagMFADevice": self._tag_mfa_device,
            "iam:UntagMFADevice": self._untag_mfa_device,
            "iam:ListMFADeviceTags": self._list_mfa_device_tags,
            "iam:CreateServiceSpecificCredential": self._create_credential,
            "iam:ListServiceSpecificCredentials": self._list_credentials,
            "iam:DeleteServiceSpecificCredential": self._delete_credential,
            "iam:UpdateServiceSpecificCredential": self._update_credential,
            "iam:ResetServiceSpecificCredential": self._reset_credential,
            "sts:GetSessionToken": self._get_session_token,
            "sts:GetCallerIdentity": self._get_caller_identity,
            "sts:AssumeRole": self._assume_role,
        })
        self._handlers.update(self._credential_report_handlers())
        self.organizations = Organizations()
        self.root = Root(self._sessions, self._caller, self.organizations)
        for handlers in (self.organizations.handlers(), self.root.handlers()):
            self._handlers.update(handlers)

    def reset(self):
        """Forget the layer's own state (service-specific credentials, STS sessions, root keys, organizations' features)."""
        self._credentials = {}
        self._sessions.clear()
        self._raced = set()
        self.recently_deleted.clear()
        self.organizations.reset()
        self.root.reset()

    def handle(self, req, forward):
        """Answer one IAM/STS/Organizations call, by a handler ("service:Action", else "service:*") or by moto; req.account is set (account_of)."""
        if req.service not in ("iam", "sts", "organizations"):
            return forward()
        try:
            self.root.check(req)
            own = self.root.own_call(req)
            if own is not None:
                return own
            handler = self._handlers.get(f"{req.service}:{req.action}") or self._handlers.get(f"{req.service}:*")
            return handler(req, forward) if handler else forward()
        except AwsError as error:
            return error_reply(req.service, error)

    # -- who is calling ----------------------------------------------------------------

    def account_of(self, req):
        """The account moto will use; moto cannot place the layer's STS session keys and root keys, so name their account for it.

        (Keys from sts:AssumeRole are moto's own: it places them in the role's account.)
        """
        if os.environ.get("MOTO_ACCOUNT_ID"):
            return os.environ["MOTO_ACCOUNT_ID"]
        if req.environ.get("HTTP_X_MOTO_ACCOUNT_ID"):
            return req.environ["HTTP_X_MOTO_ACCOUNT_ID"]
        session = self._sessions.get(req.access_key)
        account = session.account if session else self.root.keys.get(req.access_key)
        if account:
            req.environ["HTTP_X_MOTO_ACCOUNT_ID"] = account
            return account
        return get_account_id_from(req.access_key or "")

    @staticmethod
    def _backend(account):
        return iam_backends[account]["aws"]

    def root_credentials(self, account):
        """moto has no root user; AWS accounts do. A new access key of root's (see root.py) that calls as arn:aws:iam::<account>:root."""
        return self.root.credentials(account)

    def _assumed_role(self, req):
        """The moto AssumedRole whose keys make this call, or None."""
        return sts_backends[req.account]["aws"].get_assumed_role_from_access_key(req.access_key) if req.access_key else None

    def _caller(self, req):
        session = self._sessions.get(req.access_key)
        if session:
            return session.identity
        if req.access_key in self.root.keys:
            return root_identity(req.account)
        role = self._assumed_role(req)
        if role is not None:
            return Identity(role.arn, role.user_id, None)
        user = self._backend(req.account).get_user_from_access_key_id(req.access_key) if req.access_key else None
        if user is not None:
            return Identity(user.arn, user.id, user.name)
        # moto answers GetCallerIdentity this way for keys it did not issue.
        return Identity(f"arn:aws:sts::{req.account}:user/moto", UNKNOWN_CALLER_ID, None)

    def _user(self, req, name):
        user = self._backend(req.account).users.get(name)
        if user is None:
            raise _no_such_entity(f"The user with name {name} cannot be found.")
        return user

    def _user_name_or_caller(self, req):
        """UserName, or the calling user's name (moto looks up user "None" instead)."""
        name = req.params.get("UserName")
        if not name:
            name = self._caller(req).user_name
            if name is None:
                raise _validation("Must specify userName when calling with non-User credentials")
            req.set_param("UserName", name)
        return name

    def _caller_default(self, req, forward):
        self._user_name_or_caller(req)
        return forward()

    # -- root's MFA device -----------------------------------------------------------

    def root_device_in_sync(self, account):
        """Whether the account's root MFA device matches option root_mfa_device (a read; sync_root_device writes)."""
        return root_device_in_sync(account, self.options.root_mfa_device)

    def sync_root_device(self, account):
        sync_root_device(account, self.options.root_mfa_device)

    # -- users -----------------------------------------------------------------------

    def _list_users(self, req, _forward):
        """moto ignores MaxItems and Marker (always one page); AWS pages."""
        prefix = req.params.get("PathPrefix", "/")
        live = self._backend(req.account).users
        users = [*live.values(), *self.recently_deleted.still_listed(req.account, "users", live)]
        users = sorted((u for u in users if u.path.startswith(prefix)), key=lambda u: u.name.lower())
        page, more = _paginate(users, req.params, key=lambda u: u.name.lower())
        return result_reply("iam", "ListUsers", {"Users": [_user_view(u) for u in page], **more})

    def _account_authorization_details(self, req, forward):
        """moto ignores MaxItems and Marker (everything in one page, IsTruncated false); AWS pages (MaxItems 1..1000,
        default 100). The users are paged here, by name, whatever the Filter; the other entity lists (moto's answer)
        come whole with the first page and empty with the next ones, so a paginator sees each entity once."""
        filters = _members(req.params, "Filter")
        users = sorted(self._backend(req.account).users.values(), key=lambda u: u.name.lower()) if not filters or "User" in filters else []
        page, more = _paginate(users, req.params, key=lambda u: u.name.lower())
        details = {"UserDetailList": [_user_detail(u) for u in page], **more}
        if req.params.get("Marker") or filters == ["User"]:
            return result_reply("iam", req.action, {**details, "GroupDetailList": [], "RoleDetailList": [], "Policies": []})
        reply = forward()
        if reply.status != 200:
            return reply
        # moto's answer with its UserDetailList and IsTruncated replaced by ours (UserDetailList, IsTruncated, Marker)
        ours = re.search(r"<GetAccountAuthorizationDetailsResult>(.*)</GetAccountAuthorizationDetailsResult>",
                         result_reply("iam", req.action, details).body.decode(), re.DOTALL).group(1)
        body = re.sub(r"<IsTruncated>false</IsTruncated>", "", reply.body.decode(), count=1)
        body = re.sub(r"<UserDetailList>.*?</UserDetailList>|<UserDetailList\s*/>", lambda match: ours, body, count=1, flags=re.DOTALL)
        return Reply(reply.status, body.encode(), reply.headers)

    def _delete_user(self, req, forward):
        """moto only refuses while policies remain; AWS refuses while the user has any dependent (DeleteConflict)."""
        name = req.params.get("UserName", "")
        user = self._user(req, name)
        if name in self.options.race_before_delete_user and name not in self._raced:
            # Fault injection, not a deviation: another process adds a credential between the
            # caller's last read and its DeleteUser (once per user), as happens in busy accounts.
            self._raced.add(name)
            self._backend(req.account).create_access_key(name)
        blockers = (
            (user.password is not None, "must delete login profile first"),
            (user.access_keys, "must delete access keys first"),
            (user.signing_certificates, "must delete signing certificates first"),
            (user.ssh_public_keys, "must delete SSH public keys first"),
            (self._credentials_of(req.account, name), "must delete service specific credentials first"),
            (user.mfa_devices, "must delete MFA device first"),
            (self._backend(req.account).get_groups_for_user(name), "must remove users from group first"),
        )
        for blocked, what in blockers:
            if blocked:
                raise AwsError("DeleteConflict", f"Cannot delete entity, {what}.", 409)
        return self._linger_if_deleted(req, forward(), "users", name, user)  # moto itself refuses while policies remain

    def _linger_if_deleted(self, req, reply, listing, key, entity):
        """Fault stale_list (faults.py): the deleted entity stays in its List call for a while, as IAM's eventual consistency shows."""
        if reply.status == 200 and req.linger_seconds and entity:
            self.recently_deleted.add(req.account, listing, key, entity, req.linger_seconds)
        return reply

    def _check_boundary_policy(self, req, arn):
        if not (arn.startswith("arn:aws:iam::aws:policy/") or arn in self._backend(req.account).managed_policies):
            raise _no_such_entity(f"Policy {arn} does not exist or is not attachable.")

    def _create_user(self, req, forward):
        """moto ignores CreateUser's PermissionsBoundary (AWS sets it), and its user ids are
        20 lower-case characters; AWS's are AIDA + 17 upper-case letters and digits."""
        arn = req.params.get("PermissionsBoundary")
        if arn:
            self._check_boundary_policy(req, arn)
        reply = forward()
        if reply.status != 200:
            return reply
        user = self._user(req, req.params["UserName"])
        user.id = "AIDA" + _random(string.ascii_uppercase + string.digits, 17)
        if arn:
            user.permissions_boundary = _boundary(arn)
        return result_reply("iam", "CreateUser", {"User": _user_view(user, full=True)})

    def _put_boundary(self, req, _forward):
        """moto has no user permissions boundaries (NotImplemented); GetUser then shows it, DeleteUser ignores it."""
        user = self._user(req, req.params.get("UserName", ""))
        arn = req.params.get("PermissionsBoundary", "")
        self._check_boundary_policy(req, arn)
        user.permissions_boundary = _boundary(arn)
        return result_reply("iam", req.action)

    def _delete_boundary(self, req, _forward):
        self._user(req, req.params.get("UserName", "")).permissions_boundary = None
        return result_reply("iam", req.action)

    def _login_profile(self, req, forward):
        """Same code as moto (NoSuchEntity) but AWS's message, and UserName defaults to the caller."""
        name = self._user_name_or_caller(req)
        if self._user(req, name).password is None:
            raise _no_such_entity(f"Login Profile for User {name} cannot be found.")
        return forward()

    # -- MFA devices -----------------------------------------------------------------

    def _create_virtual_mfa_device(self, req, forward):
        """moto's QRCodePNG is random bytes (AWS: a PNG QR code of the otpauth URI), and moto drops the Tags."""
        tags = _tags(req.params)
        if len(tags) > MAX_TAGS:
            raise AwsError("LimitExceeded", f"Cannot exceed quota for TagsPerMFADevice: {MAX_TAGS}", 409)
        reply = forward()
        if reply.status != 200:
            return reply
        path = req.params.get("Path") or "/"
        name = req.params["VirtualMFADeviceName"]
        device = self._backend(req.account).virtual_mfa_devices[_serial(req.account, path + name)]
        label = urllib.parse.quote(f"{(path + name).lstrip('/')}@{req.account}")
        device.qr_code_png = _qr_png(f"otpauth://totp/{label}?secret={device.base32_string_seed}&issuer=Amazon%20Web%20Services")
        device.layer_tags = tags
        return result_reply("iam", "CreateVirtualMFADevice", {"VirtualMFADevice": {
            "SerialNumber": device.serial_number,
            "Base32StringSeed": device.base32_string_seed.encode(),
            "QRCodePNG": device.qr_code_png,
            "Tags": _tag_list(tags) or None,
        }})

    @staticmethod
    def _device_view(device):
        view = {"SerialNumber": device.serial_number}
        if isinstance(device, RootMfaDevice):
            if device.enable_date:
                view["User"] = {"UserId": device.account, "Arn": f"arn:aws:iam::{device.account}:root", "CreateDate": ACCOUNT_CREATED}
        elif device.user is not None:
            view["User"] = _user_view(device.user)
        view["EnableDate"] = device.enable_date
        return view

    def _list_virtual_mfa_devices(self, req, _forward):
        """moto returns Base32StringSeed and QRCodePNG (AWS never does) and ends a page that is exactly full with IsTruncated."""
        status = req.params.get("AssignmentStatus", "Any")
        if status not in ("Assigned", "Unassigned", "Any"):
            raise _validation(f"1 validation error detected: Value '{status}' at 'assignmentStatus' failed to satisfy constraint: "
                              "Member must satisfy enum value set: [Assigned, Unassigned, Any]")
        live = self._backend(req.account).virtual_mfa_devices
        devices = sorted([*live.values(), *self.recently_deleted.still_listed(req.account, "virtual_mfa_devices", live)],
                         key=lambda d: d.serial_number)
        if status != "Any":
            devices = [d for d in devices if bool(d.enable_date) == (status == "Assigned")]
        page, more = _paginate(devices, req.params, key=lambda d: d.serial_number)
        return result_reply("iam", "ListVirtualMFADevices", {"VirtualMFADevices": [self._device_view(d) for d in page], **more})

    def _delete_virtual_mfa_device(self, req, forward):
        """moto deletes a device still enabled for a user; AWS answers DeleteConflict. Unknown: AWS's NoSuchEntity message."""
        serial = req.params.get("SerialNumber", "")
        device = self._backend(req.account).virtual_mfa_devices.get(serial)
        if device is None:
            raise _no_such_entity(f"MFA Device with serial number {serial} does not exist.")
        if device.enable_date:
            raise AwsError("DeleteConflict", "MFA device is in use. Deactivate it first.", 409)
        return self._linger_if_deleted(req, forward(), "virtual_mfa_devices", serial, device)

    def _enable_mfa_device(self, req, forward):
        """moto accepts any codes, reuse of a device enabled for someone else, and any number of devices per user.

        A virtual device needs two consecutive TOTP codes of its seed. Other serials (hardware
        tokens, passkeys) take any two 6-digit codes: that is how tests seed them. AWS checks a
        hardware token's codes too, and passkeys can be registered only in the console.
        """
        name = req.params.get("UserName", "")
        serial = req.params.get("SerialNumber", "")
        codes = _check_codes(req.params)
        user = self._user(req, name)
        backend = self._backend(req.account)
        device = backend.virtual_mfa_devices.get(serial)
        if serial in user.mfa_devices:
            raise AwsError("EntityAlreadyExists", f"MFA device {serial} is already enabled for user {name}.", 409)
        if (device is not None and device.enable_date) or any(serial in u.mfa_devices for u in backend.users.values()):
            raise AwsError("EntityAlreadyExists", f"MFA device {serial} is already in use.", 409)
        if len(user.mfa_devices) >= MAX_MFA_DEVICES_PER_USER:
            raise AwsError("LimitExceeded", f"Cannot exceed quota for MFADevicesPerUser: {MAX_MFA_DEVICES_PER_USER}", 409)
        if device is not None and not _consecutive_codes(device.base32_string_seed, *codes):
            raise AwsError("InvalidAuthenticationCode", "Authentication code for device is not valid.", 403)
        return forward()

    def _has_mfa_session(self, req):
        session = self._sessions.get(req.access_key)
        return bool(session and session.mfa and session.token == req.session_token and session.expiration > _now())

    def _deactivate_mfa_device(self, req, forward):
        """moto evaluates no policy; option require_mfa_session plays an MFA-enforcing policy (scenario S4).

        IAM's answer to such a deny names the caller, the action and the resource and says only
        that an identity-based policy denies it explicitly: nothing in it mentions MFA.
        """
        name = self._user_name_or_caller(req)
        user = self._backend(req.account).users.get(name)
        if self.options.require_mfa_session and not self._has_mfa_session(req):
            resource = user.arn if user is not None else f"arn:aws:iam::{req.account}:user/{name}"
            raise AwsError("AccessDenied", f"User: {self._caller(req).arn} is not authorized to perform: iam:DeactivateMFADevice on resource: "
                           f"{resource} with an explicit deny in an identity-based policy", 403)
        device = user.mfa_devices.get(req.params.get("SerialNumber", "")) if user is not None else None
        view = device and {"UserName": name, "SerialNumber": device.serial_number, "EnableDate": device.enable_date}
        return self._linger_if_deleted(req, forward(), "mfa_devices", (name, req.params.get("SerialNumber", "")), view)

    # -- what a removal leaves listed for a while (fault stale_list) ---------------------

    def _lingering_of(self, req, listing, name, live_keys):
        return [view for view in self.recently_deleted.still_listed(req.account, listing, live_keys) if view["UserName"] == name]

    def _list_mfa_devices(self, req, forward):
        """UserName defaults to the caller; devices deactivated a moment ago may still be listed (moto answers the rest)."""
        name = self._user_name_or_caller(req)
        user = self._backend(req.account).users.get(name)
        lingering = self._lingering_of(req, "mfa_devices", name, {(name, serial) for serial in user.mfa_devices}) if user else []
        if not lingering:
            return forward()
        devices = [{"UserName": name, "SerialNumber": d.serial_number, "EnableDate": d.enable_date} for d in user.mfa_devices.values()]
        return result_reply("iam", req.action, {"MFADevices": devices + lingering, "IsTruncated": False})

    @staticmethod
    def _access_key_view(key):
        return {"UserName": key.user_name, "AccessKeyId": key.access_key_id, "Status": key.status, "CreateDate": key.create_date}

    def _list_access_keys(self, req, forward):
        """Access keys deleted a moment ago may still be listed (moto answers the rest)."""
        name = req.params.get("UserName")
        user = self._backend(req.account).users.get(name) if name else None
        lingering = self._lingering_of(req, "access_keys", name, {k.access_key_id for k in user.access_keys}) if user else []
        if not lingering:
            return forward()
        keys = [self._access_key_view(key) for key in user.access_keys] + lingering
        return result_reply("iam", req.action, {"UserName": name, "AccessKeyMetadata": keys, "IsTruncated": False})

    def _delete_access_key(self, req, forward):
        key = self._backend(req.account).access_keys.get(req.params.get("AccessKeyId", ""))
        view = key and self._access_key_view(key)
        return self._linger_if_deleted(req, forward(), "access_keys", req.params.get("AccessKeyId", ""), view)

    def _get_mfa_device(self, req, _forward):
        """Not implemented in moto (HTTP 500). AWS accepts only passkey / security key serials here, and answers a FIDO
        device's Certifications (certify_mfa_device sets them; none by default, and then the key is left out)."""
        serial = req.params.get("SerialNumber", "")
        name = self._user_name_or_caller(req)
        device = self._user(req, name).mfa_devices.get(serial)
        if device is None or ":u2f/" not in serial:
            raise _no_such_entity(f"MFA Device with serial number {serial} does not exist.")
        answer = {"UserName": name, "SerialNumber": serial, "EnableDate": device.enable_date}
        if getattr(device, "iamguard_certifications", None):
            answer["Certifications"] = XmlMap(device.iamguard_certifications)
        return result_reply("iam", "GetMFADevice", answer)

    def _resync_mfa_device(self, req, _forward):
        """Not implemented in moto (HTTP 500). A virtual device's two consecutive codes may lag by several steps."""
        codes = _check_codes(req.params)
        serial = req.params.get("SerialNumber", "")
        if serial not in self._user(req, req.params.get("UserName", "")).mfa_devices:
            raise _no_such_entity(f"MFA Device with serial number {serial} does not exist.")
        device = self._backend(req.account).virtual_mfa_devices.get(serial)
        if device is not None and not _consecutive_codes(device.base32_string_seed, *codes, drift=RESYNC_WINDOW):
            raise AwsError("InvalidAuthenticationCode", "Authentication code for device is not valid.", 403)
        return result_reply("iam", req.action)

    def _virtual_device(self, req):
        serial = req.params.get("SerialNumber", "")
        device = self._backend(req.account).virtual_mfa_devices.get(serial)
        if device is None or isinstance(device, RootMfaDevice):
            raise _no_such_entity(f"MFA Device with serial number {serial} does not exist.")
        if not hasattr(device, "layer_tags"):
            device.layer_tags = {}
        return device

    def _tag_mfa_device(self, req, _forward):
        """Tagging virtual MFA devices is not implemented in moto (HTTP 500)."""
        device = self._virtual_device(req)
        tags = {**device.layer_tags, **_tags(req.params)}
        if len(tags) > MAX_TAGS:
            raise AwsError("LimitExceeded", f"Cannot exceed quota for TagsPerMFADevice: {MAX_TAGS}", 409)
        device.layer_tags = tags
        return result_reply("iam", req.action)

    def _untag_mfa_device(self, req, _forward):
        device = self._virtual_device(req)
        index = 1
        while f"TagKeys.member.{index}" in req.params:
            device.layer_tags.pop(req.params[f"TagKeys.member.{index}"], None)
            index += 1
        return result_reply("iam", req.action)

    def _list_mfa_device_tags(self, req, _forward):
        return result_reply("iam", req.action, {"Tags": _tag_list(self._virtual_device(req).layer_tags), "IsTruncated": False})

    # -- credential report ---------------------------------------------------------------

    def _credential_report_handlers(self):
        return {"iam:GenerateCredentialReport": self._generate_credential_report, "iam:GetCredentialReport": self._get_credential_report}

    def _generate_credential_report(self, req, _forward):
        """moto's report is COMPLETE at once and rebuilt on every call. AWS answers STARTED when it starts a new report
        (none yet, or the newest older than 4 hours), INPROGRESS while building it, then COMPLETE; the report is a
        snapshot of the moment it was started."""
        backend = self._backend(req.account)
        report = getattr(backend, "iamguard_credential_report", None)
        now = _now()
        if report is None or now - report["generated"] > REPORT_REFRESH_AFTER:
            backend.iamguard_credential_report = {"generated": now, "ready": now + REPORT_BUILD_TIME,
                                                  "content": _credential_report_csv(req.account, backend)}
            return result_reply("iam", req.action, {"State": "STARTED", "Description": "No report exists. Starting a new report generation task"})
        return result_reply("iam", req.action, {"State": "COMPLETE" if now >= report["ready"] else "INPROGRESS"})

    def _get_credential_report(self, req, _forward):
        """moto's GeneratedTime is a fixed date in 2015 and its report has no root row; AWS answers ReportNotPresent before
        the first GenerateCredentialReport and ReportInProgress while the report is built."""
        report = getattr(self._backend(req.account), "iamguard_credential_report", None)
        if report is None:
            raise AwsError("ReportNotPresent", "Credential report not present", 410)
        if _now() < report["ready"]:
            raise AwsError("ReportInProgress", "Credential report is being generated", 404)
        return result_reply("iam", req.action, {"Content": report["content"].encode(), "ReportFormat": "text/csv", "GeneratedTime": report["generated"]})

    # -- service-specific credentials (not implemented in moto: HTTP 500) -------------

    def _credentials_of(self, account, user_name=None):
        return [c for c in self._credentials.get(account, {}).values() if user_name is None or c["UserName"] == user_name]

    @staticmethod
    def _credential_view(credential, secret=False):
        return {k: v for k, v in credential.items() if secret or k != "ServicePassword"}

    def _create_credential(self, req, _forward):
        name = self._user_name_or_caller(req)
        self._user(req, name)
        service = req.params.get("ServiceName", "")
        if service not in SSC_SERVICES:
            raise AwsError("NotSupportedService", f"No such service {service} is supported for Service-Specific Credentials", 404)
        if len([c for c in self._credentials_of(req.account, name) if c["ServiceName"] == service]) >= SSC_PER_SERVICE:
            raise AwsError("LimitExceeded", f"Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: {SSC_PER_SERVICE}", 409)
        expiration = None
        if req.params.get("CredentialAgeDays"):
            days = int(req.params["CredentialAgeDays"]) if req.params["CredentialAgeDays"].isdigit() else 0
            if not 1 <= days <= 36600:
                raise _validation("1 validation error detected: Value at 'credentialAgeDays' failed to satisfy constraint: "
                                  "Member must have value between 1 and 36600")
            expiration = _now() + datetime.timedelta(days=days)
        credential = {
            "CreateDate": _now(),
            "ExpirationDate": expiration,
            "ServiceName": service,
            "ServiceUserName": f"{name}-at-{req.account}",
            "ServicePassword": base64.b64encode(secrets.token_bytes(33)).decode(),
            "ServiceSpecificCredentialId": "ACCA" + _random(string.ascii_uppercase + string.digits, 17),
            "UserName": name,
            "Status": "Active",
        }
        self._credentials.setdefault(req.account, {})[credential["ServiceSpecificCredentialId"]] = credential
        return result_reply("iam", req.action, {"ServiceSpecificCredential": self._credential_view(credential, secret=True)})

    def _list_credentials(self, req, _forward):
        if req.params.get("AllUsers", "").lower() == "true":
            credentials = self._credentials_of(req.account)
        else:
            name = self._user_name_or_caller(req)
            self._user(req, name)
            credentials = self._credentials_of(req.account, name)
        service = req.params.get("ServiceName")
        credentials = sorted((c for c in credentials if not service or c["ServiceName"] == service), key=lambda c: c["ServiceSpecificCredentialId"])
        page, more = _paginate(credentials, req.params, key=lambda c: c["ServiceSpecificCredentialId"])
        return result_reply("iam", req.action, {"ServiceSpecificCredentials": [self._credential_view(c) for c in page], **more})

    def _credential(self, req):
        name = self._user_name_or_caller(req)
        self._user(req, name)
        credential_id = req.params.get("ServiceSpecificCredentialId", "")
        credential = self._credentials.get(req.account, {}).get(credential_id)
        if credential is None or credential["UserName"] != name:
            raise _no_such_entity(f"No such credential {credential_id} exists")
        return credential

    def _delete_credential(self, req, _forward):
        credential = self._credential(req)
        del self._credentials[req.account][credential["ServiceSpecificCredentialId"]]
        return result_reply("iam", req.action)

    def _update_credential(self, req, _forward):
        credential = self._credential(req)
        status = req.params.get("Status", "")
        if status not in ("Active", "Inactive"):
            raise _validation(f"1 validation error detected: Value '{status}' at 'status' failed to satisfy constraint: "
                              "Member must satisfy enum value set: [Active, Inactive]")
        credential["Status"] = status
        return result_reply("iam", req.action)

    def _reset_credential(self, req, _forward):
        credential = self._credential(req)
        credential["ServicePassword"] = base64.b64encode(secrets.token_bytes(33)).decode()
        return result_reply("iam", req.action, {"ServiceSpecificCredential": self._credential_view(credential, secret=True)})

    # -- STS -------------------------------------------------------------------------

    def _check_mfa(self, req, caller, serial, code):
        if not serial or not code:
            raise AwsError("AccessDenied", MFA_UNVERIFIABLE, 403)
        if not re.fullmatch(r"[0-9]{6}", code):
            raise _validation("1 validation error detected: Value at 'tokenCode' failed to satisfy constraint: Member must be a string of 6 digits")
        backend = self._backend(req.account)
        owner = backend.users.get(caller.user_name) if caller.user_name else None
        if ":u2f/" in serial or (caller.user_name and (owner is None or serial not in owner.mfa_devices)):
            raise AwsError("AccessDenied", MFA_UNVERIFIABLE, 403)
        device = backend.virtual_mfa_devices.get(serial)
        if device is not None and not _current_code(device.base32_string_seed, code):
            raise AwsError("AccessDenied", "MultiFactorAuthentication failed with invalid MFA one time pass code.", 403)

    def _get_session_token(self, req, _forward):
        """moto hands every caller the same fixed credentials and checks no MFA code; AWS issues fresh ones per call.

        A session made with SerialNumber and TokenCode carries MFA: the caller must own the
        (TOTP) device, and a virtual device's code must be current (one step of drift allowed).
        """
        if req.access_key in self._sessions or self._assumed_role(req) is not None:
            raise AwsError("AccessDenied", "Cannot call GetSessionToken with session credentials", 403)
        duration = req.params.get("DurationSeconds", str(DEFAULT_SESSION))
        if not duration.isdigit() or not MIN_SESSION <= int(duration) <= MAX_SESSION:
            raise _validation(f"1 validation error detected: Value at 'durationSeconds' failed to satisfy constraint: "
                              f"Member must have value between {MIN_SESSION} and {MAX_SESSION}")
        caller = self._caller(req)
        serial, code = req.params.get("SerialNumber"), req.params.get("TokenCode")
        mfa = bool(serial or code)
        if mfa:
            self._check_mfa(req, caller, serial, code)
        credentials = issue_session(self._sessions, caller, req.account, int(duration), mfa=mfa)
        return result_reply("sts", "GetSessionToken", {"Credentials": credentials})

    def _assume_role(self, req, forward):
        """AWS refuses AssumeRole of a role that does not exist (AccessDenied, as for a trust policy that does not name the
        caller); moto issues credentials for any role ARN. Checked only with option roles_must_exist: the tests reach a
        second account through a role nobody created."""
        arn = req.params.get("RoleArn", "")
        parts = arn.split(":")
        if self.options.roles_must_exist and len(parts) == 6 and parts[5].startswith("role/"):
            name = parts[5].rsplit("/", 1)[-1]
            if not any(role.name == name for role in self._backend(parts[4]).roles.values()):
                caller = self._caller(req)
                raise AwsError("AccessDenied", f"User: {caller.arn} is not authorized to perform: sts:AssumeRole on resource: {arn}", 403)
        return forward()

    def _get_caller_identity(self, req, _forward):
        """moto does not know the layer's session keys (AWS answers the user who got them) nor root keys (AWS: the account's root ARN)."""
        caller = self._caller(req)
        return result_reply("sts", "GetCallerIdentity", {"UserId": caller.user_id, "Account": req.account, "Arn": caller.arn})
