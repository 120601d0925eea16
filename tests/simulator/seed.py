"""Seed an IAM account through a boto3 IAM client, for tests and the demo; an organization and root's credentials through a Simulator.

Each function returns a dict describing what it made and prints nothing. make_user lists
every secret it created (password, secret access keys, service passwords, MFA seeds) under
"secrets", so tests can assert none of them ever shows up; the seeds are also under "seeds"
by serial, to compute codes.
"""

import datetime
import json
import secrets
import string
import time

import pyotp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from . import root

TOTP_STEP = 30
BASE32 = string.ascii_uppercase + "234567"
SSC_SERVICES = ("codecommit.amazonaws.com", "cassandra.amazonaws.com", "bedrock.amazonaws.com")
ADMIN_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
READ_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:Get*", "Resource": "*"}]})
_RSA_KEYS = {}


def consecutive_codes(seed):
    """Two consecutive TOTP codes of a virtual device's seed, as EnableMFADevice wants."""
    totp = pyotp.TOTP(seed)
    step = int(time.time()) // TOTP_STEP
    return totp.generate_otp(step - 1), totp.generate_otp(step)


def current_code(seed):
    """The current TOTP code of a seed (for STS GetSessionToken)."""
    return pyotp.TOTP(seed).now()


def _rsa_key(index):
    """An RSA key pair per index, generated once per process (key generation is slow)."""
    if index not in _RSA_KEYS:
        _RSA_KEYS[index] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _RSA_KEYS[index]


def _ssh_public_key(index):
    """A valid OpenSSH RSA public key; one key per index, generated once per process."""
    body = _rsa_key(index).public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return f"{body.decode()} iamguard-seed-{index}"


def _certificate(common_name):
    """A fresh self-signed PEM certificate (new serial each time, cached key)."""
    key = _rsa_key(0)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=365))
                   .sign(key, hashes.SHA256()))
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def _random(alphabet, length):
    return "".join(secrets.choice(alphabet) for dummy in range(length))


def _ensure_policy(iam, account_id, name, document):
    try:
        return iam.create_policy(PolicyName=name, PolicyDocument=document)["Policy"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        return f"arn:aws:iam::{account_id}:policy/{name}"


def make_user(iam, name, *, path="/", tags=None, login_profile=False, access_keys=0, ssh_keys=0, signing_certs=0,
              service_credentials=0, virtual_mfa=0, hardware_mfa=0, passkeys=0, groups=(), inline_policies=0,
              managed_policies=0, boundary=False):
    """Create user `name` with the dependents asked for; return what was made."""
    tags = dict(tags or {})
    user = iam.create_user(UserName=name, Path=path, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])["User"]
    account_id = user["Arn"].split(":")[4]
    made = {"user_name": name, "arn": user["Arn"], "user_id": user["UserId"], "account_id": account_id, "path": path, "tags": tags,
            "login_profile": login_profile, "access_key_ids": [], "ssh_key_ids": [], "signing_cert_ids": [],
            "service_credential_ids": [], "mfa_devices": [], "seeds": {}, "groups": list(groups), "inline_policies": [],
            "managed_policy_arns": [], "boundary_arn": None, "secrets": []}
    if login_profile:
        password = _random(string.ascii_letters + string.digits, 20) + "!a1"
        iam.create_login_profile(UserName=name, Password=password)
        made["secrets"].append(password)
    for dummy in range(access_keys):
        key = iam.create_access_key(UserName=name)["AccessKey"]
        made["access_key_ids"].append(key["AccessKeyId"])
        made["secrets"].append(key["SecretAccessKey"])
    for index in range(ssh_keys):
        key = iam.upload_ssh_public_key(UserName=name, SSHPublicKeyBody=_ssh_public_key(index))["SSHPublicKey"]
        made["ssh_key_ids"].append(key["SSHPublicKeyId"])
    for dummy in range(signing_certs):
        cert = iam.upload_signing_certificate(UserName=name, CertificateBody=_certificate(name))["Certificate"]
        made["signing_cert_ids"].append(cert["CertificateId"])
    for index in range(service_credentials):
        credential = iam.create_service_specific_credential(UserName=name, ServiceName=SSC_SERVICES[index % len(SSC_SERVICES)])
        made["service_credential_ids"].append(credential["ServiceSpecificCredential"]["ServiceSpecificCredentialId"])
        made["secrets"].append(credential["ServiceSpecificCredential"]["ServicePassword"])
    for index in range(virtual_mfa):
        device = make_orphan(iam, name if index == 0 else f"{name}-{index + 1}")
        code1, code2 = consecutive_codes(device["seed"])
        iam.enable_mfa_device(UserName=name, SerialNumber=device["serial_number"], AuthenticationCode1=code1, AuthenticationCode2=code2)
        made["mfa_devices"].append({"serial_number": device["serial_number"], "type": "virtual"})
        made["seeds"][device["serial_number"]] = device["seed"]
        made["secrets"].append(device["seed"])
    others = [("GAHT" + _random(string.digits, 8), "hardware") for dummy in range(hardware_mfa)]
    others += [(f"arn:aws:iam::{account_id}:u2f/user/{name}/passkey-{i + 1}-{_random(BASE32, 26)}", "passkey") for i in range(passkeys)]
    for serial, kind in others:
        iam.enable_mfa_device(UserName=name, SerialNumber=serial, AuthenticationCode1=_random(string.digits, 6),
                              AuthenticationCode2=_random(string.digits, 6))
        made["mfa_devices"].append({"serial_number": serial, "type": kind})
    for group in groups:
        try:
            iam.create_group(GroupName=group)
        except iam.exceptions.EntityAlreadyExistsException:
            pass
        iam.add_user_to_group(GroupName=group, UserName=name)
    for index in range(inline_policies):
        policy_name = f"{name}-inline-{index + 1}"
        iam.put_user_policy(UserName=name, PolicyName=policy_name, PolicyDocument=READ_POLICY)
        made["inline_policies"].append(policy_name)
    for index in range(managed_policies):
        arn = _ensure_policy(iam, account_id, f"iamguard-seed-managed-{index + 1}", READ_POLICY)
        iam.attach_user_policy(UserName=name, PolicyArn=arn)
        made["managed_policy_arns"].append(arn)
    if boundary:
        made["boundary_arn"] = _ensure_policy(iam, account_id, "iamguard-seed-boundary", ADMIN_POLICY)
        iam.put_user_permissions_boundary(UserName=name, PermissionsBoundary=made["boundary_arn"])
    return made


def make_orphan(iam, name, path="/"):
    """A virtual MFA device created and never enabled (a cancelled console enrolment, S1)."""
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=name, Path=path)["VirtualMFADevice"]
    return {"serial_number": device["SerialNumber"], "type": "virtual", "seed": device["Base32StringSeed"].decode()}


def caller_user(iam, name="ops-admin"):
    """An administrator with an access key, to call the simulator as a real IAM user."""
    user = iam.create_user(UserName=name)["User"]
    iam.put_user_policy(UserName=name, PolicyName="AdministratorAccess", PolicyDocument=ADMIN_POLICY)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"user_name": name, "arn": user["Arn"], "access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"]}


def _pages(iam, operation, key, **kwargs):
    return [item for page in iam.get_paginator(operation).paginate(**kwargs) for item in page[key]]


def _user_snapshot(iam, name):
    user = iam.get_user(UserName=name)["User"]
    try:
        iam.get_login_profile(UserName=name)
        login_profile = True
    except iam.exceptions.NoSuchEntityException:
        login_profile = False
    credentials = iam.list_service_specific_credentials(UserName=name)["ServiceSpecificCredentials"]
    return {
        "path": user["Path"],
        "arn": user["Arn"],
        "login_profile": login_profile,
        "access_keys": {k["AccessKeyId"]: k["Status"] for k in _pages(iam, "list_access_keys", "AccessKeyMetadata", UserName=name)},
        "ssh_keys": {k["SSHPublicKeyId"]: k["Status"] for k in _pages(iam, "list_ssh_public_keys", "SSHPublicKeys", UserName=name)},
        "signing_certs": {c["CertificateId"]: c["Status"] for c in _pages(iam, "list_signing_certificates", "Certificates", UserName=name)},
        "service_credentials": {c["ServiceSpecificCredentialId"]: {"service": c["ServiceName"], "status": c["Status"]} for c in credentials},
        "mfa_devices": sorted(d["SerialNumber"] for d in _pages(iam, "list_mfa_devices", "MFADevices", UserName=name)),
        "groups": sorted(g["GroupName"] for g in _pages(iam, "list_groups_for_user", "Groups", UserName=name)),
        "inline_policies": sorted(_pages(iam, "list_user_policies", "PolicyNames", UserName=name)),
        "managed_policies": sorted(p["PolicyArn"] for p in _pages(iam, "list_attached_user_policies", "AttachedPolicies", UserName=name)),
        "boundary": user.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn"),
        "tags": {t["Key"]: t["Value"] for t in user.get("Tags", [])},
    }


def account_snapshot(iam):
    """Everything in the account that user offboarding and MFA handling touch, as a deterministic dict."""
    devices = _pages(iam, "list_virtual_mfa_devices", "VirtualMFADevices")
    return {
        "users": {u["UserName"]: _user_snapshot(iam, u["UserName"]) for u in _pages(iam, "list_users", "Users")},
        "virtual_mfa_devices": {d["SerialNumber"]: d.get("User", {}).get("UserName", d.get("User", {}).get("Arn")) for d in devices},
        "groups": {g["GroupName"]: sorted(u["UserName"] for u in _pages(iam, "get_group", "Users", GroupName=g["GroupName"]))
                   for g in _pages(iam, "list_groups", "Groups")},
        "policies": sorted(p["Arn"] for p in _pages(iam, "list_policies", "Policies", Scope="Local")),
    }


def _ou_paths(ous):
    """Every OU path `ous` needs, parents first; refuse OUs sharing a name (the result is keyed by name)."""
    paths = []
    for path in ous:
        parts = path.strip("/").split("/")
        paths += [p for p in ("/".join(parts[:i]) for i in range(1, len(parts) + 1)) if p not in paths]
    names = [path.rsplit("/", 1)[-1] for path in paths]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ValueError(f"ous: more than one OU is named {', '.join(twice)}")
    return paths


def seed_organization(sim, members=("dev", "staging", "sandbox"), ous=None, root_features=True, delegated_admin=None):
    """An organization managed by moto's default account (the default test credentials), made through the API as in AWS.

    `members` are created with CreateAccount; `ous` maps an OU path ("Workloads" or "Workloads/Prod") to the
    member names placed in it (None: every member directly under the root); `root_features` enables trusted
    access for IAM and both centralized root access features; `delegated_admin` names a member registered as
    IAM's delegated administrator. The returned "ous" is keyed by OU name, so two OUs may not share a name.
    """
    ous = ous or {}
    unknown = sorted({name for names in ous.values() for name in names} - set(members)
                     | ({delegated_admin} - set(members) if delegated_admin is not None else set()))
    if unknown:
        raise ValueError(f"not among the members: {', '.join(unknown)}")
    paths = _ou_paths(ous)
    organizations, iam = sim.client("organizations"), sim.client("iam")
    organization = organizations.create_organization(FeatureSet="ALL")["Organization"]
    root_id = organizations.list_roots()["Roots"][0]["Id"]
    accounts = {name: organizations.create_account(AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"]["AccountId"]
                for name in members}
    ou_ids = {}
    for path in paths:
        parent = ou_ids[path.rsplit("/", 1)[0]] if "/" in path else root_id
        ou_ids[path] = organizations.create_organizational_unit(ParentId=parent, Name=path.rsplit("/", 1)[-1])["OrganizationalUnit"]["Id"]
    ou_paths = {name: "/" for name in members}
    for path, names in ous.items():
        for name in names:
            organizations.move_account(AccountId=accounts[name], SourceParentId=root_id, DestinationParentId=ou_ids[path.strip("/")])
            ou_paths[name] = "/" + path.strip("/")
    if root_features:
        organizations.enable_aws_service_access(ServicePrincipal="iam.amazonaws.com")
        iam.enable_organizations_root_credentials_management()
        iam.enable_organizations_root_sessions()
    if delegated_admin is not None:
        organizations.register_delegated_administrator(AccountId=accounts[delegated_admin], ServicePrincipal="iam.amazonaws.com")
    return {"organization_id": organization["Id"], "root_id": root_id, "management_account_id": organization["MasterAccountId"],
            "accounts": accounts, "ous": {path.rsplit("/", 1)[-1]: ou_id for path, ou_id in ou_ids.items()}, "ou_paths": ou_paths}


def seed_root_credentials(sim, account_id, *, login_profile=True, access_keys=1, signing_certificates=1, mfa_devices=("virtual",)):
    """Give the root user of `account_id` credentials (secrets: the keys' secrets and virtual MFA seeds; the password is never known).

    Access keys come from sim.root_credentials (they sign calls as root); the login profile, signing
    certificates and MFA devices (kinds "virtual", "hardware", "passkey", each at most once) are put in the
    simulator's model of root, and root's MFA devices are then exactly `mfa_devices`. Root's credentials
    show through a root session and in the account's credential report (the <root_account> row).
    """
    kinds = tuple(mfa_devices)
    if not set(kinds) <= set(root.MFA_KINDS) or len(set(kinds)) != len(kinds):
        raise ValueError(f"mfa_devices: each of {', '.join(root.MFA_KINDS)} at most once")
    if not 0 <= access_keys <= 2:
        raise ValueError("access_keys: root has at most 2 access keys")
    keys = [sim.root_credentials(account_id) for dummy in range(access_keys)]
    made = root.seed_credentials(account_id, password=login_profile,
                                 certificate_bodies=[_certificate(f"root-{account_id}") for dummy in range(signing_certificates)],
                                 mfa_kinds=kinds)
    return {"access_key_ids": [key["access_key"] for key in keys], "certificate_ids": made["certificate_ids"],
            "mfa_serials": made["mfa_serials"], "secrets": [key["secret_key"] for key in keys] + made["seeds"]}
