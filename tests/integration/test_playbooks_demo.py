"""scripts/demo.sh: the playbooks against the simulator, written outside the checkout, the story in demo_story.txt.

The demo runs once per test run (it is the suite's longest test). What it tells, less what differs by nature
between runs, is compared with tests/integration/demo_story.txt: the same story every run. A change to the
playbooks' output changes it on purpose; then rewrite the file with
``IAMGUARD_DEMO_STORY=update python -m pytest tests/integration/test_playbooks_demo.py`` and review its diff.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess

from tests.integration.playbooks import REPO

STORY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "demo_story.txt")
# The files a run leaves under fixed names (QR code and seed of steps 2 and 3); the run below finds
# them there from an earlier run, as a second run into the same folder does.
EARLIER_SECRETS = ("secrets/123456789012-dave-mfa.png", "secrets/123456789012-svc-deploy-mfa.seed")

RANDOM_PARTS = (
    (re.compile(r"\b\d{8}T\d{6}Z\b"), "<time>"),        # report and manifest time stamps
    (re.compile(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?"), "<time>"),  # credential report time
    (re.compile(r"\(\d+\.\d hours old\)"), "(<age>)"),     # the credential report's age: how fast the machine ran the steps
    (re.compile(r"127\.0\.0\.1:\d+"), "<simulator>"),   # a free port per run
    (re.compile(r"\b[A-Za-z0-9]{16,}\b"), "<id>"),      # access key, SSH key, certificate, passkey ids
    (re.compile(r"\bGAHT[0-9A-Z]+\b"), "<hardware serial>"),
    (re.compile(r"\b\d{12}\b"), "<account>"),         # member accounts get new ids per run
)


def _demo(ansible_base_env, tmp_path, demo_dir=None):
    env = {key: ansible_base_env[key] for key in ("HOME", "PATH", "IAMGUARD_VENV") if key in ansible_base_env}
    env["TMPDIR"] = str(tmp_path)
    if demo_dir:
        env["IAMGUARD_DEMO_DIR"] = demo_dir
    return subprocess.run(["bash", os.path.join(REPO, "scripts", "demo.sh")], cwd=str(tmp_path), env=env, capture_output=True,
                          text=True, check=False, stdin=subprocess.DEVNULL, timeout=900)


def _story(stdout, demo_dir):
    """The steps and what the playbooks said in them, without what differs by nature between runs.

    Within a step the lines are sorted: the hosts of an organization answer in any order.
    """
    steps = []
    for line in stdout.replace(demo_dir, "<demo folder>").splitlines():
        for pattern, replacement in RANDOM_PARTS:
            line = pattern.sub(replacement, line)
        if line.startswith("demo: ==="):
            steps.append([line])
        elif steps and re.match(r'^\s+"', line):
            steps[-1].append(line)
    return "\n".join(step[0] + "\n" + "\n".join(sorted(step[1:])) for step in steps)


def _root_audit_lines(stdout, step):
    """What the root credentials audit of ``step`` said of each member account."""
    text = stdout.split("demo: === %d." % step, 1)[1].split("demo: ===", 1)[0]
    return sorted(re.findall(r'"msg": "\d{12}(?: \([^)]*\))?: (password .*)"', text))


def _checkout_files():
    """The checkout's files as git sees them, less what runs beside the demo write: bytecode caches, and scripts/test.sh's
    logs (ansible-test sanity runs alongside pytest and writes its exit status there when it ends, at any time)."""
    out = subprocess.run(["git", "status", "--porcelain", "--ignored", "--untracked-files=all"], cwd=REPO, capture_output=True,
                         text=True, check=True, stdin=subprocess.DEVNULL).stdout
    return {line for line in out.splitlines()
            if "__pycache__" not in line and ".pytest_cache" not in line and not line[3:].strip('"').startswith(".build/logs/")}


def test_demo_writes_outside_the_checkout_and_tells_the_expected_story(ansible_base_env, tmp_path):
    before = _checkout_files()
    demo_dir = str(tmp_path / "iamguard-demo.earlier")
    for name in EARLIER_SECRETS:  # what an earlier run into the same folder left
        os.makedirs(os.path.dirname(os.path.join(demo_dir, name)), exist_ok=True)
        with open(os.path.join(demo_dir, name), "w", encoding="utf-8") as handle:
            handle.write("left by an earlier run\n")
        os.chmod(os.path.join(demo_dir, name), 0o600)
    os.chmod(demo_dir, 0o755)
    first = _demo(ansible_base_env, tmp_path, demo_dir)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert stat.S_IMODE(os.stat(demo_dir).st_mode) == 0o700
    assert _checkout_files() == before
    for name in EARLIER_SECRETS:
        with open(os.path.join(demo_dir, name), "rb") as handle:
            assert handle.read() != b"left by an earlier run\n", name

    report = re.search(r"^demo:   the audit report after the changes \(Markdown\): (\S+\.md)$", first.stdout, re.M).group(1)
    manifests = re.search(r"^demo:   the offboarding manifests: (\S+)/$", first.stdout, re.M).group(1)
    assert report.startswith(demo_dir + "/") and os.path.getsize(report) > 0
    assert [name.split("-")[1] for name in os.listdir(manifests)] == ["carol"]

    # The organization: every member's root had credentials; the cleanup left sandbox (excluded) alone.
    assert all(line.startswith("password yes, 1 access key(s), 1 signing certificate(s)") for line in _root_audit_lines(first.stdout, 12))
    after = _root_audit_lines(first.stdout, 15)
    assert after.count("password no, 0 access key(s), 0 signing certificate(s), MFA none; findings none") == 2
    assert [line for line in after if line.startswith("password yes")] == [
        "password yes, 1 access key(s), 1 signing certificate(s), MFA virtual; findings root_credentials_present, root_virtual_mfa, "
        "root_access_key, no_phishing_resistant_mfa"]
    # The organization's posture report after the cleanup: an HTML page of its own, and the root findings it resolved.
    posture = re.search(r"^demo:   the organization's posture report \(open it in a browser\): (\S+\.html)$", first.stdout, re.M).group(1)
    with open(posture, encoding="utf-8") as handle:
        assert "<table" in handle.read()
    with open(posture[:-len(".html")] + ".json", encoding="utf-8") as handle:
        resolved = json.load(handle)["changes"]["resolved"]
    assert {item["id"] for item in resolved} >= {"root_credentials_present", "no_phishing_resistant_mfa", "root_access_key"}, resolved
    assert "sandbox" not in {item["account_name"] for item in resolved}
    root_manifests = re.search(r"^demo:   the root credentials manifests of dev and staging: (\S+)/$", first.stdout, re.M).group(1)
    assert len(os.listdir(root_manifests)) == 2
    for folder, _dirs, files in os.walk(demo_dir):
        for name in files:
            if name.endswith((".seed", ".png", ".json")) and "summary" not in name and "mfa-audit" not in name:
                assert stat.S_IMODE(os.stat(os.path.join(folder, name)).st_mode) == 0o600, name

    story = _story(first.stdout, demo_dir) + "\n"
    if os.environ.get("IAMGUARD_DEMO_STORY") == "update":
        with open(STORY, "w", encoding="utf-8") as handle:
            handle.write(story)
    with open(STORY, encoding="utf-8") as handle:
        expected = handle.read()
    assert story == expected, "the demo told another story than tests/integration/demo_story.txt (see the module's docstring)"


def test_demo_folder_inside_the_checkout_is_refused(ansible_base_env, tmp_path):
    inside = os.path.join(REPO, "demo-output")
    refused = _demo(ansible_base_env, tmp_path, inside)
    assert refused.returncode == 2
    assert "is inside the checkout" in refused.stderr
    assert not os.path.exists(inside)
