# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one writer of files that hold secrets or manifests, and the one keeper of their folders.

A temp file created 0600 in the destination folder, fsynced, then renamed over
the destination: a crash leaves either no file or the whole file, never part
of one, and the secret is never readable by others, not even briefly.

Folders (``check_folder``, ``prepare_folder``), the same for every module and
for the playbooks' pre-flight: a path option is absolute after ``~`` and
``$VARS`` are expanded (a relative one would land wherever the task happens to
run, so it is refused); an existing folder's mode is never changed; a missing
folder, and each missing parent, is created 0700; a symbolic link, an existing
file where a folder is expected, and - for secrets and manifests - a group- or
world-writable folder are refused with a message naming the option.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile

from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError


def absolute_path(path, option):
    """``path`` with ``~`` and ``$VARS`` expanded; IamGuardError naming ``option`` unless it is then absolute."""
    if not path or not isinstance(path, str):
        raise IamGuardError("%s must be an absolute path. Nothing was changed." % option)
    expanded = os.path.expanduser(os.path.expandvars(path))
    if not os.path.isabs(expanded):
        raise IamGuardError("%s must be an absolute path (got %s): a relative one would depend on the folder the task runs in. "
                            "Nothing was changed." % (option, path))
    return os.path.normpath(expanded)


# Folders that prepare_folder would have created outside check mode: check_destination accepts them as to be made.
_PLANNED = set()


def check_folder(path, option, private=False):
    """The absolute folder of option ``option``, checked without changing anything; IamGuardError if it can never be used.

    ``private``: the folder holds secrets or manifests, so one that others may write to (group- or
    world-writable, /tmp itself) is refused. Returns (path, exists).
    """
    folder = absolute_path(path, option)
    if os.path.islink(folder):
        raise IamGuardError("%s: %s is a symbolic link; give the folder it points to. Nothing was changed." % (option, folder))
    if os.path.exists(folder):
        if not os.path.isdir(folder):
            raise IamGuardError("%s: %s is a file, not a folder. Nothing was changed." % (option, folder))
        mode = os.stat(folder).st_mode
        if private and mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise IamGuardError("%s: folder %s is writable by %s (mode %04o); secrets and manifests go to a folder only its owner can "
                                "write to: give another one, or a missing one to have it created 0700. Its mode is not changed. Nothing "
                                "was changed." % (option, folder, "everyone" if mode & stat.S_IWOTH else "its group", stat.S_IMODE(mode)))
        if not os.access(folder, os.W_OK | os.X_OK):
            raise IamGuardError("%s: folder %s is not writable. Nothing was changed." % (option, folder))
        return folder, True
    parent = os.path.dirname(folder)
    while not os.path.lexists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise IamGuardError("%s: %s is a file, not a folder, so %s cannot be created. Nothing was changed." % (option, parent, folder))
    return folder, False


def prepare_folder(path, option, private=False, create=True):
    """check_folder, then create the missing folder and its missing parents 0700 when ``create``.

    Returns the absolute folder, or None when it is missing and ``create`` is false (check mode:
    nothing is created, nothing can be read from it, and check_destination accepts files in it).
    """
    if path is None:
        return None
    folder, exists = check_folder(path, option, private)
    if exists:
        return folder
    if not create:
        _PLANNED.add(folder)
        return None
    missing = []
    parent = folder
    while not os.path.lexists(parent):
        missing.append(parent)
        parent = os.path.dirname(parent)
    for each in reversed(missing):
        try:
            os.mkdir(each, 0o700)
        except FileExistsError:  # made meanwhile by another run: checked again below
            continue
        except OSError as e:
            raise IamGuardError("%s: could not create folder %s: %s. Nothing was changed." % (option, each, e))
        os.chmod(each, 0o700)  # whatever the umask; only folders this call created
    return check_folder(folder, option, private)[0]


def prepare_file(path, option, create=True):
    """The absolute path of a secret file of option ``option``, its folder made ready as prepare_folder does (private)."""
    if path is None:
        return None
    path = absolute_path(path, option)
    prepare_folder(os.path.dirname(path), option, private=True, create=create)
    return path


def check_destination(path, option, force=False):
    """Raise IamGuardError unless ``path`` can be written; call before any AWS change."""
    if not path or not isinstance(path, str):
        raise IamGuardError("%s must be a file path." % option)
    folder = os.path.dirname(os.path.abspath(path))
    if folder in _PLANNED:
        return os.path.abspath(path)
    if not os.path.isdir(folder):
        raise IamGuardError("%s: folder %s does not exist. Nothing was changed." % (option, folder))
    if not os.access(folder, os.W_OK | os.X_OK):
        raise IamGuardError("%s: folder %s is not writable. Nothing was changed." % (option, folder))
    if os.path.islink(path):
        raise IamGuardError("%s: %s is a symbolic link; refusing to write a secret through it. Nothing was changed." % (option, path))
    if os.path.isdir(path):
        raise IamGuardError("%s: %s is a folder, not a file. Nothing was changed." % (option, path))
    if os.path.exists(path) and not os.path.isfile(path):
        # A FIFO would block the writer; replacing a device node such as /dev/null (as root) would break the system.
        raise IamGuardError("%s: %s is not a regular file (a FIFO, socket or device node). Nothing was changed." % (option, path))
    if os.path.exists(path) and not force:
        raise IamGuardError("%s: %s already exists; set force=true to replace it. Nothing was changed." % (option, path))
    return os.path.abspath(path)


# Temp files carry the writer's pid: one whose writer is dead was left by a killed run.
TEMP_PREFIX = ".iamguard-"
_TEMP_NAME = re.compile(re.escape(TEMP_PREFIX) + r"(\d+)-")
# Folders already swept by this process: a batch writing a manifest per user lists its folder once, not per user.
_SWEPT = set()


def sweep_stale_temp_files(folder):
    """Remove the temp files a killed run left in ``folder`` (half-written secrets or manifests), once per process."""
    folder = os.path.abspath(folder)
    if folder in _SWEPT:
        return
    _SWEPT.add(folder)
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        match = _TEMP_NAME.match(name)
        if match and not _alive(int(match.group(1))):
            try:
                os.unlink(os.path.join(folder, name))
            except OSError:
                pass


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def write_private_file(path, data, option, force=False):
    """Write ``data`` (bytes or str) to ``path`` with mode 0600, atomically."""
    path = check_destination(path, option, force)
    try:
        _write(path, data.encode("utf-8") if isinstance(data, str) else data, option, force)
    except OSError as e:
        raise IamGuardError("%s: could not write %s: %s" % (option, path, e))
    return path


def _write(path, data, option, force):
    folder = os.path.dirname(path)
    # mkstemp creates the file with mode 0600 whatever the umask.
    sweep_stale_temp_files(folder)
    fd, temp_path = tempfile.mkstemp(prefix="%s%d-" % (TEMP_PREFIX, os.getpid()), dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if force:
            # rename replaces a symlink itself, never the file it points to
            os.replace(temp_path, path)
        else:
            # link refuses an existing name, so a file that appeared since the check survives
            try:
                os.link(temp_path, path)
            except FileExistsError:
                raise IamGuardError("%s: %s appeared while writing; refusing to replace it." % (option, path))
            os.unlink(temp_path)
    except BaseException:
        if os.path.exists(temp_path):
            os.unlink(temp_path)
        raise
    _fsync_folder(folder)


def _fsync_folder(folder):
    # Makes the rename itself durable; some filesystems refuse, which is harmless.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
