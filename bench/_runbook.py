"""Baseline contender: the call pattern of the SSM runbook AWSConfigRemediation-DeleteIAMUser, per its documentation.

Written for this benchmark from the runbook's documented steps and permissions (no code of it is
used). One execution per user id, run one after the other as an operator would start them:
  1. find the user name by scanning ListUsers for the id (IAM has no lookup by id);
  2. list access keys, signing certificates, service-specific credentials, MFA devices and SSH keys;
  3. delete the access keys, the login profile (no read first: NoSuchEntity means there is none),
     the certificates, SSH keys and service credentials; deactivate every MFA device, then call
     DeleteVirtualMFADevice on every one of them - which fails (NoSuchEntity) for a hardware token
     or a passkey and ends the execution there;
  4. delete inline policies, detach managed policies, leave the groups;
  5. DeleteUser, then GetUser to check the user is gone.
A failed execution is not retried: the benchmark reports what one run leaves.
"""

import botocore.exceptions


def _pages(iam, operation, key, **kwargs):
    return [item for page in iam.get_paginator(operation).paginate(**kwargs) for item in page[key]]


def _user_name(iam, user_id):
    for page in iam.get_paginator("list_users").paginate():
        for user in page["Users"]:
            if user["UserId"] == user_id:
                return user["UserName"]
    raise LookupError(f"no user with id {user_id}")


def delete_user(iam, user_id):
    """One execution of the runbook for `user_id`; raises on the first failed call, as the execution would stop."""
    name = _user_name(iam, user_id)
    keys = _pages(iam, "list_access_keys", "AccessKeyMetadata", UserName=name)
    certificates = _pages(iam, "list_signing_certificates", "Certificates", UserName=name)
    credentials = iam.list_service_specific_credentials(UserName=name)["ServiceSpecificCredentials"]
    devices = _pages(iam, "list_mfa_devices", "MFADevices", UserName=name)
    ssh_keys = _pages(iam, "list_ssh_public_keys", "SSHPublicKeys", UserName=name)

    for key in keys:
        iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
    try:
        iam.delete_login_profile(UserName=name)
    except iam.exceptions.NoSuchEntityException:
        pass
    for certificate in certificates:
        iam.delete_signing_certificate(UserName=name, CertificateId=certificate["CertificateId"])
    for key in ssh_keys:
        iam.delete_ssh_public_key(UserName=name, SSHPublicKeyId=key["SSHPublicKeyId"])
    for credential in credentials:
        iam.delete_service_specific_credential(UserName=name, ServiceSpecificCredentialId=credential["ServiceSpecificCredentialId"])
    for device in devices:
        iam.deactivate_mfa_device(UserName=name, SerialNumber=device["SerialNumber"])
    for device in devices:
        iam.delete_virtual_mfa_device(SerialNumber=device["SerialNumber"])

    for policy_name in _pages(iam, "list_user_policies", "PolicyNames", UserName=name):
        iam.delete_user_policy(UserName=name, PolicyName=policy_name)
    for policy in _pages(iam, "list_attached_user_policies", "AttachedPolicies", UserName=name):
        iam.detach_user_policy(UserName=name, PolicyArn=policy["PolicyArn"])
    for group in _pages(iam, "list_groups_for_user", "Groups", UserName=name):
        iam.remove_user_from_group(UserName=name, GroupName=group["GroupName"])

    iam.delete_user(UserName=name)
    try:
        iam.get_user(UserName=name)
    except iam.exceptions.NoSuchEntityException:
        return
    raise RuntimeError(f"user {name} still exists after DeleteUser")


def run(iam, user_ids):
    """Run one execution per user id; return {user id: error message} of the executions that failed."""
    failed = {}
    for user_id in user_ids:
        try:
            delete_user(iam, user_id)
        except (botocore.exceptions.ClientError, LookupError, RuntimeError) as error:
            failed[user_id] = str(error)
    return failed
