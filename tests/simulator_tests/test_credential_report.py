"""The credential report as AWS serves it: states, root row first, generation time, snapshot, 4-hour refresh."""

import csv
import datetime
import io
import time

from tests.simulator import realism, seed

from .helpers import aws_error

UTC = datetime.timezone.utc


def _rows(answer):
    return list(csv.DictReader(io.StringIO(answer["Content"].decode())))


def _ready_report(iam):
    assert iam.generate_credential_report()["State"] == "STARTED"
    time.sleep(realism.REPORT_BUILD_TIME.total_seconds() + 0.1)
    assert iam.generate_credential_report()["State"] == "COMPLETE"
    return iam.get_credential_report()


def test_not_present_before_any_generation(iam):
    assert aws_error(iam.get_credential_report) == ("ReportNotPresent", "Credential report not present", 410)


def test_in_progress_while_building_then_complete(iam):
    before = datetime.datetime.now(UTC).replace(microsecond=0)
    assert iam.generate_credential_report()["State"] == "STARTED"
    assert iam.generate_credential_report()["State"] == "INPROGRESS"
    assert aws_error(iam.get_credential_report)[0::2] == ("ReportInProgress", 404)
    time.sleep(realism.REPORT_BUILD_TIME.total_seconds() + 0.1)
    assert iam.generate_credential_report()["State"] == "COMPLETE"
    answer = iam.get_credential_report()
    # moto answers a fixed GeneratedTime in 2015; AWS the time of generation
    assert before <= answer["GeneratedTime"] <= datetime.datetime.now(UTC)
    assert answer["ReportFormat"] == "text/csv"


def test_root_row_first_then_users(iam):
    seed.make_user(iam, "bob", login_profile=True)
    seed.make_user(iam, "alice", virtual_mfa=1, access_keys=1)
    rows = _rows(_ready_report(iam))
    assert [row["user"] for row in rows] == ["<root_account>", "alice", "bob"]
    root = rows[0]
    assert root["arn"] == "arn:aws:iam::123456789012:root"
    assert (root["mfa_active"], root["access_key_1_active"], root["access_key_1_last_rotated"]) == ("true", "false", "N/A")
    assert (rows[1]["mfa_active"], rows[1]["access_key_1_active"]) == ("true", "true")
    assert (rows[2]["mfa_active"], rows[2]["password_enabled"]) == ("false", "true")
    assert len(rows[0]) == len(rows[1]) == 22


def test_root_without_device_and_with_seeded_keys(sim, iam):
    sim.configure(root_mfa_device=False)
    created = datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    realism.seed_root("123456789012", access_keys=[{"created": created}, {"created": created, "active": False, "last_used": created}])
    root = _rows(_ready_report(iam))[0]
    assert root["mfa_active"] == "false"
    assert (root["access_key_1_active"], root["access_key_1_last_rotated"], root["access_key_1_last_used_date"]) == (
        "true", "2024-05-06T07:08:09+00:00", "N/A")
    assert (root["access_key_2_active"], root["access_key_2_last_used_date"]) == ("false", "2024-05-06T07:08:09+00:00")


def test_root_hardware_mfa_seeded(sim, iam):
    sim.configure(root_mfa_device=False)
    realism.seed_root("123456789012", hardware_mfa=True)
    assert _rows(_ready_report(iam))[0]["mfa_active"] == "true"


def test_report_is_a_snapshot_refreshed_after_four_hours(iam):
    first = _ready_report(iam)
    seed.make_user(iam, "late")
    assert iam.generate_credential_report()["State"] == "COMPLETE"
    assert "late" not in [row["user"] for row in _rows(iam.get_credential_report())]
    realism.backdate_credential_report("123456789012", 5)
    assert iam.get_credential_report()["GeneratedTime"] < first["GeneratedTime"] - datetime.timedelta(hours=4)
    fresh = _ready_report(iam)
    assert "late" in [row["user"] for row in _rows(fresh)]


def test_backdated_access_key_in_report(iam):
    made = seed.make_user(iam, "old", access_keys=1)
    created = datetime.datetime(2023, 1, 2, 3, 4, 5, tzinfo=UTC)
    realism.backdate_access_key("123456789012", made["access_key_ids"][0], created, last_used=created + datetime.timedelta(days=1))
    row = _rows(_ready_report(iam))[1]
    assert (row["access_key_1_last_rotated"], row["access_key_1_last_used_date"]) == ("2023-01-02T03:04:05+00:00", "2023-01-03T03:04:05+00:00")


def test_reset_forgets_report_and_root_seed(sim, iam):
    realism.seed_root("123456789012", hardware_mfa=True)
    _ready_report(iam)
    sim.reset()
    assert aws_error(iam.get_credential_report)[0] == "ReportNotPresent"
    sim.configure(root_mfa_device=False)
    assert _rows(_ready_report(iam))[0]["mfa_active"] == "false"


def test_backdated_mfa_devices(iam):
    made = seed.make_user(iam, "alice", virtual_mfa=1, hardware_mfa=1)
    enabled = datetime.datetime(2022, 3, 4, 5, 6, 7, tzinfo=UTC)
    realism.backdate_mfa_devices("123456789012", enabled)
    assert {d["EnableDate"] for d in iam.list_mfa_devices(UserName="alice")["MFADevices"]} == {enabled}
    virtual = made["mfa_devices"][0]["serial_number"]
    assert [d["EnableDate"] for d in iam.list_virtual_mfa_devices()["VirtualMFADevices"] if d["SerialNumber"] == virtual] == [enabled]


def test_signing_certificate_dates(iam):
    before = datetime.datetime.now(UTC).replace(microsecond=0)
    made = seed.make_user(iam, "alice", signing_certs=1)
    iam.update_signing_certificate(UserName="alice", CertificateId=made["signing_cert_ids"][0], Status="Inactive")
    seed.make_user(iam, "bob")
    alice, bob = _rows(_ready_report(iam))[1:]
    # moto writes cert_N_last_rotated as N/A always; AWS the upload date of the certificate, active or not
    assert (alice["cert_1_active"], alice["cert_2_active"], alice["cert_2_last_rotated"]) == ("false", "false", "N/A")
    assert before <= datetime.datetime.fromisoformat(alice["cert_1_last_rotated"]) <= datetime.datetime.now(UTC)
    assert (bob["cert_1_active"], bob["cert_1_last_rotated"], bob["cert_2_last_rotated"]) == ("false", "N/A", "N/A")
