"""Hostile input, table-driven: every case is a clear error that names the option, and nothing changes.

Every case runs the module itself (run_module, in the test's process) against a seeded account; the
first case of each module also runs as a task of one ansible-playbook run, so the message is seen as a
person sees it. Each must fail with a message naming its option, without a traceback; the account
snapshot afterwards equals the one before, and the simulator saw no call that changes anything (only
Get*/List*/GetCallerIdentity).
"""

import os

import pytest

from tests.simulator.seed import account_snapshot, make_orphan, make_user

PURGE = "iamguard.aws.iam_user_purge"
DEVICE = "iamguard.aws.iam_mfa_device"
INFO = "iamguard.aws.iam_mfa_device_info"
AUDIT = "iamguard.aws.iam_mfa_audit"
VALID_NAMES = ["leaver-%04d" % i for i in range(999)]


def _cases(paths):
    """(case id, module, args, fragment the message must contain) — ``paths`` holds prepared file-system objects."""
    return [
        # --- iam_user_purge: names and ids -----------------------------------------------------------
        ("purge-empty-name", PURGE, {"user_names": [""]}, "user_names"),
        ("purge-name-too-long", PURGE, {"user_names": ["a" * 65]}, "user_names"),
        ("purge-name-space", PURGE, {"user_names": ["bad name"]}, "user_names"),
        ("purge-name-glob", PURGE, {"user_names": ["alice*"]}, "user_names"),
        ("purge-name-unicode", PURGE, {"user_names": ["\u00e5lice"]}, "user_names"),
        ("purge-name-newline", PURGE, {"user_names": ["alice\n"]}, "user_names"),
        ("purge-name-slash", PURGE, {"user_names": ["team/alice"]}, "user_names"),
        ("purge-nothing-named", PURGE, {"user_names": [], "user_ids": []}, "user_names"),
        ("purge-1000-names-one-bad", PURGE, {"user_names": VALID_NAMES + ["bad name"]}, "user_names"),
        ("purge-id-access-key", PURGE, {"user_ids": ["AKIAIOSFODNN7EXAMPLE"]}, "user_ids"),
        ("purge-id-lower-case", PURGE, {"user_ids": ["aida1234567890abcdef"]}, "user_ids"),
        ("purge-id-empty", PURGE, {"user_ids": [""]}, "user_ids"),
        # --- iam_user_purge: states, numbers, options that contradict each other ------------------------
        ("purge-state-unknown", PURGE, {"user_names": ["alice"], "state": "deleted"}, "state"),
        ("purge-state-present", PURGE, {"user_names": ["alice"], "state": "present"}, "state"),
        ("purge-workers-zero", PURGE, {"user_names": ["alice"], "max_workers": 0}, "max_workers"),
        ("purge-workers-absurd", PURGE, {"user_names": ["alice"], "max_workers": 100000}, "max_workers"),
        ("purge-workers-negative", PURGE, {"user_names": ["alice"], "max_workers": -1}, "max_workers"),
        ("purge-workers-word", PURGE, {"user_names": ["alice"], "max_workers": "many"}, "max_workers"),
        ("purge-retries-absurd", PURGE, {"user_names": ["alice"], "max_conflict_retries": 1000}, "max_conflict_retries"),
        ("purge-keep-permissions-on-delete", PURGE, {"user_names": ["alice"], "remove_permissions": False}, "remove_permissions"),
        ("purge-protected-empty", PURGE, {"user_names": ["alice"], "protected_users": [""]}, "protected_users"),
        ("purge-protected-blank", PURGE, {"user_names": ["alice"], "protected_users": ["   "]}, "protected_users"),
        ("purge-comma-string", PURGE, {"user_names": "alice,bob"}, "user_names"),
        ("purge-old-option-name", PURGE, {"user_names": ["alice"], "access_keys": "deactivate"}, "access_keys"),
        ("purge-deactivate-keys-on-delete", PURGE, {"user_names": ["alice"], "access_key_action": "deactivate"}, "access_key_action"),
        ("purge-key-action-unknown", PURGE, {"user_names": ["alice"], "state": "disabled", "access_key_action": "rotate"},
         "access_key_action"),
        # --- iam_user_purge: manifest folder ------------------------------------------------------------
        ("purge-manifest-under-a-file", PURGE, {"user_names": ["alice"], "manifest_dir": paths["under_a_file"]}, "manifest_dir"),
        ("purge-manifest-file", PURGE, {"user_names": ["alice"], "manifest_dir": paths["existing_file"]}, "manifest_dir"),
        ("purge-manifest-symlink", PURGE, {"user_names": ["alice"], "manifest_dir": paths["dir_link"]}, "manifest_dir"),
        # --- iam_mfa_device: names, paths, serials -------------------------------------------------------
        ("device-state-unknown", DEVICE, {"user_name": "alice", "state": "enabled"}, "state"),
        ("device-nothing-named", DEVICE, {"path": "/"}, "user_name"),
        ("device-user-space", DEVICE, {"user_name": "bad name", "seed_path": paths["free_file"]}, "user_name"),
        ("device-user-too-long", DEVICE, {"user_name": "u" * 65, "seed_path": paths["free_file"]}, "user_name"),
        ("device-name-too-long", DEVICE, {"name": "d" * 227, "seed_path": paths["free_file"]}, "name"),
        ("device-name-space", DEVICE, {"name": "dev ice", "seed_path": paths["free_file"]}, "name"),
        ("device-name-unicode", DEVICE, {"name": "d\u00e9vice", "seed_path": paths["free_file"]}, "name"),
        ("device-path-relative", DEVICE, {"user_name": "alice", "path": "team/", "seed_path": paths["free_file"]}, "path"),
        ("device-path-double-slash", DEVICE, {"user_name": "alice", "path": "/a//b/", "seed_path": paths["free_file"]}, "path"),
        ("device-path-too-long", DEVICE, {"user_name": "alice", "path": "/" + "p" * 512 + "/", "seed_path": paths["free_file"]}, "path"),
        ("device-serial-short", DEVICE, {"serial_number": "GAHT1", "state": "absent"}, "serial_number"),
        ("device-serial-space", DEVICE, {"serial_number": "arn:aws:iam::123456789012:mfa/a b", "state": "absent"}, "serial_number"),
        ("device-serial-on-present", DEVICE, {"serial_number": "arn:aws:iam::123456789012:mfa/alice"}, "serial_number"),
        # --- iam_mfa_device: codes -----------------------------------------------------------------------
        ("device-code-letters", DEVICE, {"user_name": "alice", "authentication_code_1": "12345a", "authentication_code_2": "123456"},
         "authentication_code_1"),
        ("device-code-short", DEVICE, {"user_name": "alice", "authentication_code_1": "12345", "authentication_code_2": "123456"},
         "authentication_code_1"),
        ("device-code-long", DEVICE, {"user_name": "alice", "authentication_code_1": "123456", "authentication_code_2": "1234567"},
         "authentication_code_2"),
        ("device-codes-equal", DEVICE, {"user_name": "alice", "authentication_code_1": "123456", "authentication_code_2": "123456"},
         "authentication_code_2"),
        ("device-one-code", DEVICE, {"user_name": "alice", "authentication_code_1": "123456"}, "authentication_code"),
        ("device-codes-and-generate", DEVICE, {"user_name": "alice", "generate_codes": True, "authentication_code_1": "123456",
                                               "authentication_code_2": "654321", "seed_path": paths["free_file"]}, "generate_codes"),
        ("device-generate-without-user", DEVICE, {"name": "svc", "generate_codes": True, "seed_path": paths["free_file"]}, "generate_codes"),
        ("device-generate-nowhere", DEVICE, {"user_name": "bob", "generate_codes": True}, "seed_path"),
        ("device-return-secret-without-no-log", DEVICE, {"user_name": "bob", "generate_codes": True, "return_secret": True},
         "return_secret"),
        ("device-tags-not-dict", DEVICE, {"user_name": "bob", "seed_path": paths["free_file"], "tags": ["team", "ops"]}, "tags"),
        # --- iam_mfa_device: output paths ------------------------------------------------------------------
        ("device-seed-folder-under-a-file", DEVICE, {"user_name": "bob", "seed_path": os.path.join(paths["under_a_file"], "bob.seed")},
         "seed_path"),
        ("device-qr-folder-under-a-file", DEVICE, {"user_name": "bob", "qr_code_png_path": os.path.join(paths["under_a_file"], "bob.png")},
         "qr_code_png_path"),
        ("device-seed-exists", DEVICE, {"user_name": "bob", "seed_path": paths["existing_file"]}, "seed_path"),
        ("device-seed-symlink", DEVICE, {"user_name": "bob", "seed_path": paths["file_link"], "force": True}, "seed_path"),
        ("device-seed-directory", DEVICE, {"user_name": "bob", "seed_path": paths["directory"], "force": True}, "seed_path"),
        ("device-qr-directory", DEVICE, {"user_name": "bob", "qr_code_png_path": paths["directory"]}, "qr_code_png_path"),
        # --- iam_mfa_device_info -------------------------------------------------------------------------
        ("info-name-space", INFO, {"user_names": ["bad name"]}, "user_names"),
        ("info-name-glob", INFO, {"user_names": ["*"]}, "user_names"),
        ("info-status-unknown", INFO, {"assignment_status": "Maybe"}, "assignment_status"),
        # --- iam_mfa_audit ---------------------------------------------------------------------------------
        ("audit-hardware-pattern-empty", AUDIT, {"require_hardware_for": [""]}, "require_hardware_for"),
        ("audit-unused-days-zero", AUDIT, {"unused_access_key_days": 0}, "unused_access_key_days"),
        ("audit-unused-days-word", AUDIT, {"unused_access_key_days": "forever"}, "unused_access_key_days"),
        ("audit-report-age-negative", AUDIT, {"max_report_age_hours": -4}, "max_report_age_hours"),
        ("audit-wait-absurd", AUDIT, {"report_wait_seconds": 10 ** 9}, "report_wait_seconds"),
        ("audit-report-dir-under-a-file", AUDIT, {"report_dir": paths["under_a_file"]}, "report_dir"),
        ("audit-report-dir-symlink", AUDIT, {"report_dir": paths["dir_link"]}, "report_dir"),
        ("audit-report-format-unknown", AUDIT, {"report_formats": ["pdf"]}, "report_formats"),
        ("audit-report-formats-none", AUDIT, {"report_formats": []}, "report_formats"),
    ]


@pytest.fixture
def paths(tmp_path):
    directory = tmp_path / "folder"
    directory.mkdir()
    existing = tmp_path / "existing.seed"
    existing.write_text("keep me\n", encoding="utf-8")
    (tmp_path / "dir-link").symlink_to(directory)
    (tmp_path / "file-link").symlink_to(existing)
    return {
        "directory": str(directory),
        # A missing folder is created 0700; one under a file never can be (issue 18, item 4).
        "under_a_file": str(existing / "no-such-folder"),
        "existing_file": str(existing),
        "dir_link": str(tmp_path / "dir-link"),
        "file_link": str(tmp_path / "file-link"),
        "free_file": str(tmp_path / "never-written.seed"),
    }


def _unclear(outcomes, cases):
    """Cases accepted, or refused without naming their option or with a traceback."""
    # ansible-core 2.19 puts "(traceback unavailable)" in every failure's `exception`; a crash has a real traceback.
    return [(case_id, outcomes[case_id].get("msg")) for case_id, dummy, dummy, fragment in cases
            if not outcomes[case_id]["failed"] or fragment not in outcomes[case_id].get("msg", "")
            or "Traceback" in outcomes[case_id].get("msg", "") + str(outcomes[case_id].get("exception", ""))]


def test_each_hostile_input_is_a_clear_error_and_changes_nothing(sim, iam, run_playbook, run_module, paths):
    make_user(iam, "alice", login_profile=True, access_keys=1, virtual_mfa=1, groups=("staff",))
    make_user(iam, "bob")
    make_orphan(iam, "stray")
    cases = _cases(paths)
    assert len(cases) >= 50
    before = account_snapshot(iam)
    sim.reset_counters()

    outcomes = {case_id: run_module(module, args) for case_id, module, args, dummy in cases}
    assert _unclear(outcomes, cases) == []

    first_of_each = [next(case for case in cases if case[1] == module) for module in sorted({case[1] for case in cases})]
    tasks = [{"name": case_id, module: args, "ignore_errors": True} for case_id, module, args, dummy in first_of_each]
    run = run_playbook([{"name": "hostile input", "hosts": "localhost", "gather_facts": False, "tasks": tasks}])
    through_playbook = {record["task"]: record["result"] for record in run.results}
    assert sorted(through_playbook) == sorted(case[0] for case in first_of_each), run
    assert _unclear(through_playbook, first_of_each) == []

    changing = sorted(key for key in sim.counters() if not key.split(":")[-1].startswith(("Get", "List")))
    assert changing == []
    assert account_snapshot(iam) == before
    assert not os.path.exists(paths["free_file"])
    assert open(paths["existing_file"], encoding="utf-8").read() == "keep me\n"
