"""What AWX / Ansible Automation Platform does with this repository, without AWX.

- ansible-builder v3 turns execution-environment.yml into a build context (no container
  engine needed for ``create``): the collection tarball, the galaxy requirements, and the
  Python packages ansible-builder's own introspection finds in the installed collection.
- ansible-runner (the engine AWX runs jobs with) runs the playbooks with survey-style extra
  vars (strings only); the job status and the set_stats artifact are what a workflow reads.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import tarfile

import yaml

from tests.integration.playbooks import MAIN_ACCOUNT, REPO
from tests.simulator.seed import make_user


def _tool(env, name):
    return os.path.join(os.path.dirname(env["IAMGUARD_ANSIBLE_PLAYBOOK"]), name)


def _run(command, env, cwd):
    return subprocess.run(command, env=env, cwd=str(cwd), capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL,
                          timeout=600)


def test_requirements_install_this_checkout_and_pin_amazon_aws():
    with open(os.path.join(REPO, "collections", "requirements.yml"), encoding="utf-8") as handle:
        collections = {entry["name"]: entry for entry in yaml.safe_load(handle)["collections"]}
    assert collections["."]["type"] == "dir"  # AWX's project sync runs ansible-galaxy from the project root
    assert collections["amazon.aws"]["version"] == ">=10.0.0,<11.0.0"
    with open(os.path.join(REPO, "galaxy.yml"), encoding="utf-8") as handle:
        assert yaml.safe_load(handle)["dependencies"]["amazon.aws"] == collections["amazon.aws"]["version"]


def test_ansible_builder_creates_the_build_context(ansible_base_env, tmp_path):
    """scripts/build-ee.sh refuses a missing or stale tarball (ansible-builder alone only warns), then creates the context."""
    project = tmp_path / "project"
    (project / "scripts").mkdir(parents=True)
    for path in ("execution-environment.yml", "galaxy.yml", "scripts/build-ee.sh"):
        (project / path).write_bytes(open(os.path.join(REPO, path), "rb").read())
    context = tmp_path / "context"
    create = ["bash", str(project / "scripts" / "build-ee.sh"), "create", "-c", str(context), "--output-filename", "Containerfile"]

    missing = _run(create, ansible_base_env, tmp_path)
    assert missing.returncode == 1 and not context.exists(), missing.stdout + missing.stderr
    assert "iamguard-aws-0.1.0.tar.gz is missing" in missing.stderr
    assert "ansible-galaxy collection build --force --output-path .build/dist" in missing.stderr and "distlib" in missing.stderr

    built = _run([_tool(ansible_base_env, "ansible-galaxy"), "collection", "build", REPO, "--output-path", str(project / ".build" / "dist")],
                 ansible_base_env, tmp_path)
    assert built.returncode == 0, built.stderr
    tarball = project / ".build" / "dist" / "iamguard-aws-0.1.0.tar.gz"
    os.utime(project / "galaxy.yml", (tarball.stat().st_mtime + 5,) * 2)
    stale = _run(create, ansible_base_env, tmp_path)
    assert stale.returncode == 1 and "is older than galaxy.yml" in stale.stderr and not context.exists(), stale.stderr
    os.utime(project / "galaxy.yml", (tarball.stat().st_mtime - 5,) * 2)

    created = _run(create, ansible_base_env, tmp_path)
    assert created.returncode == 0, created.stdout + created.stderr

    containerfile = (context / "Containerfile").read_text(encoding="utf-8")
    assert "ansible-core>=2.17,<2.20" in containerfile
    assert ("RUN ansible-galaxy collection install --offline --no-deps -p /usr/share/ansible/collections "
            "/build/iamguard/iamguard-aws-*.tar.gz") in containerfile
    # ansible-builder build run without the script: the image build stops at once, saying why.
    assert 'RUN ls /build/iamguard/iamguard-aws-*.tar.gz >/dev/null 2>&1 || { echo "No iamguard.aws tarball' in containerfile
    assert "ENV ANSIBLE_INVENTORY_UNPARSED_FAILED=true ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED=true" in containerfile
    (tarball,) = glob.glob(str(context / "_build" / "iamguard" / "iamguard-aws-*.tar.gz"))
    galaxy = yaml.safe_load((context / "_build" / "requirements.yml").read_text(encoding="utf-8"))
    assert {entry["name"] for entry in galaxy["collections"]} == {"amazon.aws", "community.aws"}

    # What the builder stage will find: ansible-builder's own introspection over the collection as installed.
    installed = tmp_path / "collections" / "ansible_collections" / "iamguard" / "aws"
    installed.mkdir(parents=True)
    with tarfile.open(tarball) as archive:
        archive.extractall(installed, filter="data")
    found = _run([ansible_base_env["ANSIBLE_PYTHON_INTERPRETER"], str(context / "_build" / "scripts" / "introspect.py"), "introspect",
                  str(tmp_path / "collections")], ansible_base_env, tmp_path)
    assert found.returncode == 0, found.stderr
    python = yaml.safe_load(found.stdout)["python"]
    assert {line.split(">=")[0] for line in python} >= {"boto3", "botocore", "pyotp"}, python


def _runner_job(ansible_base_env, sim, tmp_path, playbook, extravars, inventory=None, check=False):
    """Run one playbook the way AWX does: ansible-runner, a private data dir, the project dir, string extra vars.

    ``inventory``: {file name: text} of the job's inventory folder (AWX passes it with -i).
    """
    private = tmp_path / "runner"
    (private / "env").mkdir(parents=True)
    (private / "env" / "extravars").write_text(json.dumps(extravars), encoding="utf-8")
    if inventory:
        (private / "inventory").mkdir()
        for name, text in inventory.items():
            (private / "inventory" / name).write_text(text, encoding="utf-8")
    if check:
        (private / "env" / "cmdline").write_text("--check", encoding="utf-8")
    env = dict(ansible_base_env, AWS_ENDPOINT_URL=sim.url, ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default")
    env.pop("ANSIBLE_CALLBACKS_ENABLED")
    done = _run([_tool(ansible_base_env, "ansible-runner"), "run", str(private), "-p", playbook, "--project-dir",
                 os.path.join(REPO, "playbooks"), "--ident", "job"], env, tmp_path)
    artifacts = private / "artifacts" / "job"
    events = [json.loads(open(path, encoding="utf-8").read()) for path in glob.glob(str(artifacts / "job_events" / "*.json"))]
    stats = [event for event in events if event.get("event") == "playbook_on_stats"]
    assert len(stats) == 1, done.stdout + done.stderr
    return (artifacts / "status").read_text(encoding="utf-8"), stats[0]["event_data"]["artifact_data"], done


def test_offboarding_job_with_survey_strings(ansible_base_env, sim, iam, tmp_path):
    make_user(iam, "alice", login_profile=True, access_keys=1)
    make_user(iam, "bob")
    make_user(iam, "carol")
    manifests = tmp_path / "manifests"
    status, artifact, done = _runner_job(ansible_base_env, sim, tmp_path, "offboard.yml", {
        "offboard_users": "alice\nbob",        # a survey text area
        "offboard_mode": "delete",             # a survey multiple choice
        "protected_users": "break-glass-*",    # a survey text field
        "manifest_dir": str(manifests),
    })
    assert status == "successful", done.stdout
    assert artifact == {"iamguard_offboard": {"check_mode": False, "accounts": {MAIN_ACCOUNT: {"alice": "deleted", "bob": "deleted"}}}}
    assert sorted(u["UserName"] for u in iam.list_users()["Users"]) == ["carol"]
    assert len(os.listdir(manifests)) == 2


def test_check_mode_job_exports_what_would_happen(ansible_base_env, sim, iam, tmp_path):
    """A workflow reading iamguard_offboard after --check must not see a deletion that did not happen (issue 18, item 10)."""
    make_user(iam, "alice", login_profile=True)
    status, artifact, done = _runner_job(ansible_base_env, sim, tmp_path, "offboard.yml", {"offboard_users": "alice,alcie"}, check=True)
    assert status == "successful", done.stdout
    assert artifact == {"iamguard_offboard": {"check_mode": True, "accounts": {MAIN_ACCOUNT: {"alice": "would_delete", "alcie": "absent"}}}}
    assert [u["UserName"] for u in iam.list_users()["Users"]] == ["alice"]


def test_job_whose_inventory_source_fails_ends_failed(ansible_base_env, sim, iam, tmp_path):
    """An AWX job over an organization inventory whose source fails (a typo) acts nowhere and ends failed."""
    make_user(iam, "alice", login_profile=True)
    sim.reset_counters()
    status, artifact, done = _runner_job(ansible_base_env, sim, tmp_path, "offboard.yml", {"offboard_users": "alice"},
                                         inventory={"org.accounts.yml": "plugin: iamguard.aws.accounts\nexclude_ids: ['12345']\n"})
    assert status == "failed", done.stdout
    assert artifact == {} and "The inventory failed" in done.stdout
    assert sim.counters() == {} and [u["UserName"] for u in iam.list_users()["Users"]] == ["alice"]


def test_failing_job_reports_failed(ansible_base_env, sim, iam, tmp_path):
    status, artifact, done = _runner_job(ansible_base_env, sim, tmp_path, "offboard.yml", {"offboard_users": "alice", "offboard_mode": "wipe"})
    assert status == "failed"
    assert artifact == {}
    assert "offboard_mode must be delete or disable (got wipe)" in done.stdout


def test_audit_job_with_survey_strings_exports_its_figures(ansible_base_env, sim, iam, tmp_path):
    make_user(iam, "alice", login_profile=True)
    make_user(iam, "bob", login_profile=True, virtual_mfa=1)
    status, artifact, done = _runner_job(ansible_base_env, sim, tmp_path, "mfa_audit.yml", {
        "report_dir": str(tmp_path / "reports"),
        "audit_fail_on": "root_access_key, console_user_without_mfa",
        "audit_unused_access_key_days": "30",
    })
    assert status == "failed", done.stdout  # alice has a password and no MFA: the gate closes
    figures = artifact["iamguard_mfa_audit"][MAIN_ACCOUNT]
    assert figures["counts"]["console_user_without_mfa"] == 1
    assert figures["failing"] == ["console_user_without_mfa"]
    assert figures["users_audited"] == 2
    assert os.path.exists(figures["report_files"]["markdown"])
