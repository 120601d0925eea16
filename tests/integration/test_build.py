# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The built collection holds what users need and nothing a demo or a developer left in the tree.

galaxy.yml's ``manifest:`` allow-list decides what goes in. The test copies the working tree,
plants what a demo run and a developer leave behind (MFA seeds, QR codes, manifests, reports,
a venv), builds the tarball with the real ``ansible-galaxy collection build`` and reads it back.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
import tarfile

import pytest

REPO = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
NOT_COPIED = {".git", ".venv", ".build"}
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # a Base32 seed, planted below

# Everything the tarball may hold; a path matching none of these is a leak.
ALLOWED = (
    "MANIFEST.json", "FILES.json", "README.md", "LICENSE", "requirements.txt",
    "meta", "meta/*.yml",
    "plugins", "plugins/*", "plugins/**.py",
    "playbooks", "playbooks/*", "playbooks/**.yml",
    "docs", "docs/**.md",
    "changelogs", "changelogs/changelog.yaml", "changelogs/config.yaml", "changelogs/fragments", "changelogs/fragments/*.yml",
)
# What a demo run, a test run or a developer leaves in the tree.
PLANTED = {
    "demo-output/alice.seed": SECRET + "\n",
    "demo-output/alice-mfa.png": "\x89PNG fake " + SECRET,
    "demo-output/123456789012-bob-20261125T101500Z.json": '{"seed": "%s"}' % SECRET,
    "playbooks/break-glass.seed": SECRET + "\n",
    "playbooks/alice-mfa.png": "\x89PNG " + SECRET,
    "playbooks/reports/mfa-audit-123456789012-20261125T101500Z.md": "report " + SECRET,
    "plugins/modules/alice.seed": SECRET + "\n",
    ".venv/lib/python3.11/site-packages/stray.py": "SEED = %r\n" % SECRET,
    ".build/collections/leftover.py": "SEED = %r\n" % SECRET,
    "tests/output/junit.xml": SECRET,
    "iamguard-aws-0.0.1.tar.gz": SECRET,
    ".env": "AWS_SECRET_ACCESS_KEY=%s\n" % SECRET,
}
# Development files that are in git but are no use to someone who installs the collection.
DEV_FILES = (".gitignore", "pytest.ini", "requirements-dev.txt", ".ansible-lint", ".ci/run", "scripts/demo.sh",
             "execution-environment.yml", "collections/requirements.yml")


def _copy_tree(dest):
    for entry in os.listdir(REPO):
        if entry in NOT_COPIED:
            continue
        source = os.path.join(REPO, entry)
        if os.path.isdir(source) and not os.path.islink(source):
            shutil.copytree(source, os.path.join(dest, entry), symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, os.path.join(dest, entry), follow_symlinks=False)


def _tracked(pattern):
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", pattern], cwd=REPO, capture_output=True,
                         text=True, check=True, stdin=subprocess.DEVNULL).stdout
    return [path for path in out.splitlines() if os.path.exists(os.path.join(REPO, path))]


@pytest.fixture(scope="module")
def built(ansible_base_env, tmp_path_factory):
    """The member names and file contents of a tarball built from a tree with everything planted."""
    tree = tmp_path_factory.mktemp("tree") / "aws"
    tree.mkdir()
    _copy_tree(str(tree))
    for path, content in PLANTED.items():
        target = tree / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
        target.chmod(0o600)
    out = tmp_path_factory.mktemp("dist")
    galaxy = os.path.join(os.path.dirname(ansible_base_env["IAMGUARD_ANSIBLE_PLAYBOOK"]), "ansible-galaxy")
    subprocess.run([galaxy, "collection", "build", str(tree), "--output-path", str(out)], env=ansible_base_env,
                   cwd=str(out), capture_output=True, text=True, check=True, stdin=subprocess.DEVNULL)
    (tarball,) = list(out.glob("iamguard-aws-*.tar.gz"))
    with tarfile.open(tarball) as archive:
        members = {member.name: archive.extractfile(member).read() if member.isfile() else None for member in archive.getmembers()}
    return members


def test_only_allow_listed_paths_are_built(built):
    leaks = sorted(name for name in built if not any(fnmatch.fnmatchcase(name, pattern) for pattern in ALLOWED))
    assert leaks == []


def test_no_planted_file_and_no_secret_is_built(built):
    assert sorted(set(PLANTED) & set(built)) == []
    assert [name for name, content in built.items() if content is not None and SECRET.encode() in content] == []


def test_no_development_file_is_built(built):
    assert sorted(set(DEV_FILES) & set(built)) == []
    assert [name for name in built if name.startswith(("tests/", "scripts/", "bench/", ".ci/"))] == []


def test_everything_users_need_is_built(built):
    needed = _tracked("plugins") + _tracked("meta") + ["README.md", "LICENSE", "requirements.txt"]
    needed += [path for path in _tracked("playbooks") if path.endswith(".yml")]
    needed += [path for path in _tracked("docs") if path.endswith(".md")]
    needed = [path for path in needed if "__pycache__" not in path]
    assert sorted(set(needed) - set(built)) == []
