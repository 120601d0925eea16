"""The seeding helpers for tests and the demo."""

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.simulator import seed


def test_make_user_makes_every_dependent(iam):
    made = seed.make_user(iam, "alice", path="/staff/", tags={"team": "ops"}, login_profile=True, access_keys=2, ssh_keys=2,
                          signing_certs=2, service_credentials=3, virtual_mfa=2, hardware_mfa=1, passkeys=1, groups=("devs", "ops"),
                          inline_policies=2, managed_policies=2, boundary=True)
    user = seed.account_snapshot(iam)["users"]["alice"]
    assert user["path"] == "/staff/" and user["tags"] == {"team": "ops"} and user["login_profile"] is True
    assert sorted(user["access_keys"]) == sorted(made["access_key_ids"])
    assert sorted(user["ssh_keys"]) == sorted(made["ssh_key_ids"]) and len(made["ssh_key_ids"]) == 2
    assert sorted(user["signing_certs"]) == sorted(made["signing_cert_ids"]) and len(made["signing_cert_ids"]) == 2
    assert sorted(user["service_credentials"]) == sorted(made["service_credential_ids"]) and len(made["service_credential_ids"]) == 3
    assert user["mfa_devices"] == sorted(d["serial_number"] for d in made["mfa_devices"])
    assert [d["type"] for d in made["mfa_devices"]] == ["virtual", "virtual", "hardware", "passkey"]
    assert [d["serial_number"] for d in made["mfa_devices"][:2]] == ["arn:aws:iam::123456789012:mfa/alice", "arn:aws:iam::123456789012:mfa/alice-2"]
    assert made["mfa_devices"][2]["serial_number"].startswith("GAHT")
    assert made["mfa_devices"][3]["serial_number"].startswith("arn:aws:iam::123456789012:u2f/user/alice/")
    assert sorted(made["seeds"]) == [d["serial_number"] for d in made["mfa_devices"][:2]]
    assert user["groups"] == ["devs", "ops"] and user["inline_policies"] == made["inline_policies"]
    assert user["managed_policies"] == made["managed_policy_arns"] and user["boundary"] == made["boundary_arn"]


def test_ssh_keys_and_certificates_are_valid(iam):
    made = seed.make_user(iam, "alice", ssh_keys=1, signing_certs=1)
    key = iam.get_ssh_public_key(UserName="alice", SSHPublicKeyId=made["ssh_key_ids"][0], Encoding="SSH")["SSHPublicKey"]
    assert serialization.load_ssh_public_key(key["SSHPublicKeyBody"].encode()).key_size == 2048
    body = iam.list_signing_certificates(UserName="alice")["Certificates"][0]["CertificateBody"]
    assert x509.load_pem_x509_certificate(body.encode()).subject.rfc4514_string() == "CN=alice"


def test_orphans_and_snapshot_of_devices(iam):
    orphan = seed.make_orphan(iam, "bob", path="/team/")
    seed.make_user(iam, "alice", virtual_mfa=1)
    devices = seed.account_snapshot(iam)["virtual_mfa_devices"]
    assert devices == {
        "arn:aws:iam::123456789012:mfa/alice": "alice",
        "arn:aws:iam::123456789012:mfa/team/bob": None,
        "arn:aws:iam::123456789012:mfa/root-account-mfa-device": "arn:aws:iam::123456789012:root",
    }
    assert orphan["serial_number"] == "arn:aws:iam::123456789012:mfa/team/bob" and len(orphan["seed"]) >= 16


def test_snapshot_is_deterministic(iam):
    seed.make_user(iam, "alice", access_keys=1, groups=("devs",), managed_policies=1)
    seed.make_user(iam, "bob", groups=("devs",))
    first = seed.account_snapshot(iam)
    assert seed.account_snapshot(iam) == first
    assert first["groups"] == {"devs": ["alice", "bob"]}
    assert first["policies"] == ["arn:aws:iam::123456789012:policy/iamguard-seed-managed-1"]


def test_caller_user_is_who_sts_says(sim, iam):
    made = seed.caller_user(iam)
    sts = sim.client("sts", access_key=made["access_key_id"], secret_key=made["secret_access_key"])
    assert sts.get_caller_identity()["Arn"] == made["arn"] == "arn:aws:iam::123456789012:user/ops-admin"
