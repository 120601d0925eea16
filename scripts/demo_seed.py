"""Seed the demo account of the simulator with the field scenarios.

S1: "test" has an orphaned virtual device from a cancelled console enrolment,
    and a stale orphan "old-laptop" is lying around.
S2: "bob" lost his phone: one virtual device.
S3: "carol" leaves: passkey, hardware token, virtual device, keys, groups, policies.
Plus "svc-deploy", a service user to enrol unattended, "dave", a person about to enrol,
and "break-glass-admin", protected from offboarding. Prints what it made, never a secret.
"""

import os
import sys

import boto3

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from tests.simulator.seed import make_orphan, make_user  # noqa: E402  (the repo root is put on sys.path first)


def main():
    iam = boto3.client("iam", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="us-east-1")
    iam.create_user(UserName="test")
    make_orphan(iam, "test")
    make_orphan(iam, "old-laptop")
    make_user(iam, "bob", login_profile=True, virtual_mfa=1)
    make_user(iam, "carol", login_profile=True, access_keys=2, ssh_keys=1, signing_certs=1, service_credentials=1,
              virtual_mfa=1, hardware_mfa=1, passkeys=1, groups=("staff", "deploy"), inline_policies=1, managed_policies=2,
              boundary=True, tags={"team": "payments"})
    make_user(iam, "break-glass-admin", login_profile=True, hardware_mfa=1)
    iam.create_user(UserName="svc-deploy")
    make_user(iam, "dave", login_profile=True)
    print("demo: seeded users test, bob, carol, break-glass-admin, svc-deploy, dave; orphans mfa/test and mfa/old-laptop")


if __name__ == "__main__":
    main()
