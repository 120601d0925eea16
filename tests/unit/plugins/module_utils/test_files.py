# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import errno
import os
import stat

import pytest

from ansible_collections.iamguard.aws.plugins.module_utils import files
from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError

OPTION = "seed_path"


def _mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def _leftovers(folder):
    return sorted(name for name in os.listdir(folder) if name.startswith(".iamguard-"))


@pytest.fixture(name="umask")
def fixture_umask():
    """Run with a permissive umask (so 0600 must come from the code), restored afterwards."""
    old = os.umask(0)
    yield
    os.umask(old)


def test_writes_bytes_with_mode_0600(tmp_path, umask):  # pylint: disable=unused-argument
    target = tmp_path / "qr.png"
    written = files.write_private_file(str(target), b"\x89PNG\r\n\x1a\n", "qr_code_png_path")
    assert written == str(target)
    assert target.read_bytes() == b"\x89PNG\r\n\x1a\n"
    assert _mode(target) == 0o600
    assert _leftovers(tmp_path) == []


def test_writes_str_as_utf8(tmp_path):
    target = tmp_path / "seed.txt"
    files.write_private_file(str(target), "GEZDGNBVGY3TQOJQ\n", OPTION)
    assert target.read_bytes() == b"GEZDGNBVGY3TQOJQ\n"
    assert _mode(target) == 0o600


def test_relative_path_is_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    written = files.write_private_file("seed.txt", "s", OPTION)
    assert written == os.path.join(os.getcwd(), "seed.txt")
    assert (tmp_path / "seed.txt").read_text() == "s"


def test_refuses_existing_file_without_force(tmp_path):
    target = tmp_path / "seed.txt"
    target.write_text("old")
    with pytest.raises(IamGuardError) as caught:
        files.write_private_file(str(target), "new", OPTION)
    assert "already exists" in caught.value.message
    assert "force=true" in caught.value.message
    assert caught.value.message.startswith(OPTION)
    assert target.read_text() == "old"
    assert _leftovers(tmp_path) == []


def test_replaces_existing_file_with_force(tmp_path, umask):  # pylint: disable=unused-argument
    target = tmp_path / "seed.txt"
    target.write_text("old")
    os.chmod(str(target), 0o644)
    files.write_private_file(str(target), "new", OPTION, force=True)
    assert target.read_text() == "new"
    assert _mode(target) == 0o600
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("force", [False, True])
def test_refuses_symlink_and_leaves_its_target_alone(tmp_path, force):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    os.chmod(str(victim), 0o644)
    link = tmp_path / "seed.txt"
    link.symlink_to(victim)
    with pytest.raises(IamGuardError) as caught:
        files.write_private_file(str(link), "secret", OPTION, force=force)
    assert "symbolic link" in caught.value.message
    assert link.is_symlink()
    assert victim.read_text() == "precious"
    assert _mode(victim) == 0o644
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("force", [False, True])
def test_refuses_dangling_symlink(tmp_path, force):
    missing = tmp_path / "would-be-created.txt"
    link = tmp_path / "seed.txt"
    link.symlink_to(missing)
    with pytest.raises(IamGuardError) as caught:
        files.write_private_file(str(link), "secret", OPTION, force=force)
    assert "symbolic link" in caught.value.message
    assert not missing.exists()


def test_refuses_a_folder(tmp_path):
    (tmp_path / "seed").mkdir()
    with pytest.raises(IamGuardError) as caught:
        files.write_private_file(str(tmp_path / "seed"), "s", OPTION, force=True)
    assert "is a folder" in caught.value.message


@pytest.mark.parametrize("force", [False, True])
def test_refuses_a_fifo_and_leaves_it(tmp_path, force):
    # A FIFO would block the writer, and under force it was replaced by the secret.
    fifo = tmp_path / "seed"
    os.mkfifo(str(fifo))
    with pytest.raises(IamGuardError) as caught:
        files.write_private_file(str(fifo), "s", OPTION, force=force)
    assert "is not a regular file" in caught.value.message
    assert stat.S_ISFIFO(os.lstat(str(fifo)).st_mode)


def test_refuses_a_device_node_even_with_force():
    with pytest.raises(IamGuardError, match="/dev/null is not a regular file"):
        files.check_destination("/dev/null", OPTION, force=True)


def test_refuses_missing_folder(tmp_path):
    target = tmp_path / "nope" / "seed.txt"
    with pytest.raises(IamGuardError) as caught:
        files.write_private_file(str(target), "s", OPTION)
    assert "does not exist" in caught.value.message
    assert str(tmp_path / "nope") in caught.value.message
    assert not (tmp_path / "nope").exists()


@pytest.mark.parametrize("value", ["", None, 42])
def test_refuses_non_path(value):
    with pytest.raises(IamGuardError) as caught:
        files.check_destination(value, OPTION)
    assert caught.value.message == "seed_path must be a file path."


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root passes every permission check, so a 0500 folder is writable for it")
def test_refuses_unwritable_folder_for_real(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    os.chmod(str(folder), 0o500)
    try:
        with pytest.raises(IamGuardError) as caught:
            files.write_private_file(str(folder / "seed.txt"), "s", OPTION)
    finally:
        os.chmod(str(folder), 0o700)
    assert "not writable" in caught.value.message


def test_refuses_unwritable_folder(tmp_path, monkeypatch):
    # os.access as a non-root user would answer for a 0500 folder (works when the tests run as root).
    asked = []

    def no_write(path, mode):
        asked.append((path, mode))
        return False

    monkeypatch.setattr(files.os, "access", no_write)
    with pytest.raises(IamGuardError) as caught:
        files.write_private_file(str(tmp_path / "seed.txt"), "s", OPTION)
    assert "not writable" in caught.value.message
    assert asked == [(str(tmp_path), os.W_OK | os.X_OK)]
    assert os.listdir(str(tmp_path)) == []


def test_check_destination_accepts_new_file(tmp_path):
    assert files.check_destination(str(tmp_path / "new.png"), "qr_code_png_path") == str(tmp_path / "new.png")
    assert os.listdir(str(tmp_path)) == []


def _failing_fsync(_fd):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_failed_write_leaves_no_file_and_no_temp(tmp_path, monkeypatch):
    monkeypatch.setattr(files.os, "fsync", _failing_fsync)
    target = tmp_path / "seed.txt"
    with pytest.raises(IamGuardError, match="No space left"):
        files.write_private_file(str(target), "secret", OPTION)
    assert not target.exists()
    assert os.listdir(str(tmp_path)) == []


def test_failed_forced_write_keeps_the_old_file_whole(tmp_path, monkeypatch):
    target = tmp_path / "seed.txt"
    target.write_text("old content")
    monkeypatch.setattr(files.os, "fsync", _failing_fsync)
    with pytest.raises(IamGuardError, match="No space left"):
        files.write_private_file(str(target), "new content", OPTION, force=True)
    assert target.read_text() == "old content"
    assert _leftovers(tmp_path) == []


def test_failed_write_is_reported_as_iamguard_error(tmp_path, monkeypatch):
    # Modules catch one exception type: an OSError escaping as it is would give a traceback
    # instead of a message, and ensure_present would not roll the new device back.
    monkeypatch.setattr(files.os, "fsync", _failing_fsync)
    with pytest.raises(IamGuardError) as caught:
        files.write_private_file(str(tmp_path / "seed.txt"), "secret", OPTION)
    assert OPTION in caught.value.message


def test_file_appearing_during_write_is_not_replaced(tmp_path, monkeypatch):
    target = tmp_path / "seed.txt"
    real_check = files.check_destination

    def check_then_race(path, option, force=False):
        checked = real_check(path, option, force)
        target.write_text("someone else's")
        return checked

    monkeypatch.setattr(files, "check_destination", check_then_race)
    with pytest.raises(IamGuardError) as caught:
        files.write_private_file(str(target), "secret", OPTION)
    assert "appeared while writing" in caught.value.message
    assert target.read_text() == "someone else's"
    assert _leftovers(tmp_path) == []


def test_symlink_appearing_during_forced_write_is_replaced_not_followed(tmp_path, monkeypatch):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    target = tmp_path / "seed.txt"
    real_check = files.check_destination

    def check_then_race(path, option, force=False):
        checked = real_check(path, option, force)
        target.symlink_to(victim)
        return checked

    monkeypatch.setattr(files, "check_destination", check_then_race)
    files.write_private_file(str(target), "secret", OPTION, force=True)
    assert victim.read_text() == "precious"
    assert not target.is_symlink()
    assert target.read_text() == "secret"
    assert _mode(target) == 0o600


def _dead_pid():
    pid = 4194304  # above Linux's largest pid: never a live process
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    return pid


def test_temp_files_of_a_killed_writer_are_swept_and_live_ones_kept(tmp_path):
    stale = tmp_path / (".iamguard-%d-abc123" % _dead_pid())
    stale.write_text("half a seed", encoding="utf-8")
    live = tmp_path / (".iamguard-%d-def456" % os.getpid())
    live.write_text("being written", encoding="utf-8")
    other = tmp_path / ".something-else"
    other.write_text("not ours", encoding="utf-8")
    files.write_private_file(str(tmp_path / "seed.txt"), "secret", OPTION)
    assert not stale.exists() and live.exists() and other.exists()


def test_temp_file_names_carry_the_writer_pid(tmp_path, monkeypatch):
    seen = []
    real_link = os.link

    def spy(source, target):
        seen.append(os.path.basename(source))
        return real_link(source, target)

    monkeypatch.setattr(files.os, "link", spy)
    files.write_private_file(str(tmp_path / "seed.txt"), "secret", OPTION)
    assert seen and seen[0].startswith(".iamguard-%d-" % os.getpid())


# --- folders (issue 18, item 4) ---------------------------------------------------


def test_prepare_folder_creates_missing_folders_0700_and_never_changes_an_existing_one(tmp_path, umask):  # pylint: disable=unused-argument
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    target = shared / "a" / "b"
    assert files.prepare_folder(str(target), "report_dir") == str(target)
    assert _mode(shared / "a") == _mode(target) == 0o700
    assert _mode(shared) == 0o755  # a shared report folder stays as it is
    assert files.prepare_folder(str(shared), "report_dir") == str(shared) and _mode(shared) == 0o755


def test_prepare_folder_in_check_mode_creates_nothing_and_lets_files_be_planned_in_it(tmp_path):
    target = tmp_path / "secrets"
    assert files.prepare_folder(str(target), "manifest_dir", private=True, create=False) is None
    assert not target.exists()
    assert files.check_destination(str(target / "x.png"), "qr_code_png_path") == str(target / "x.png")


@pytest.mark.parametrize("mode, who", [(0o777, "everyone"), (0o1777, "everyone"), (0o770, "its group")])
def test_a_folder_others_may_write_to_is_refused_for_secrets_and_kept_as_it_is(tmp_path, mode, who):
    folder = tmp_path / "open"
    folder.mkdir()
    folder.chmod(mode)
    with pytest.raises(IamGuardError, match="manifest_dir: folder %s is writable by %s" % (folder, who)):
        files.prepare_folder(str(folder), "manifest_dir", private=True)
    assert _mode(folder) == mode
    assert files.prepare_folder(str(folder), "report_dir") == str(folder)  # a report folder may be shared


def test_symlinked_folder_file_and_relative_path_are_refused_naming_the_option(tmp_path, monkeypatch):
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    link = tmp_path / "link"
    link.symlink_to(real)
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(IamGuardError, match="manifest_dir: %s is a symbolic link" % link):
        files.prepare_folder(str(link), "manifest_dir", private=True)
    with pytest.raises(IamGuardError, match="report_dir: %s is a file, not a folder" % a_file):
        files.prepare_folder(str(a_file), "report_dir")
    with pytest.raises(IamGuardError, match="report_dir: %s is a file, not a folder, so %s/x cannot be created" % (a_file, a_file)):
        files.prepare_folder(str(a_file / "x"), "report_dir")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(IamGuardError, match=r"qr_code_png_path must be an absolute path \(got real/x.png\)"):
        files.prepare_file("real/x.png", "qr_code_png_path")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert files.prepare_file("~/real/x.png", "qr_code_png_path") == str(real / "x.png")
