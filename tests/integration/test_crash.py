"""Crash trials: ansible-playbook killed with SIGKILL at random points of a batch purge (20 users; 50 with IAMGUARD_BIG_FAULTS=1).

The whole process tree (ansible-playbook, its worker and the module) is killed as soon as the
simulator has seen a randomly chosen number of changing calls; the next run starts from what
was left. After the kills, one run completes. Then: every target is gone with every dependent,
no virtual MFA device is left unassigned (a kill between DeactivateMFADevice and
DeleteVirtualMFADevice must not leave an orphan), the bystanders are exactly as they were, every
manifest file is whole JSON (no temp file left), and every dependent a target had is named in a
manifest of that target (manifests are written before the first change to a user).
"""

import glob
import json
import os
import random
import signal
import subprocess
import time

import yaml

from tests.integration.conftest import REPO
from tests.integration.test_root_credentials import root_state
from tests.simulator.seed import account_snapshot, consecutive_codes, make_orphan, make_user, seed_organization, seed_root_credentials

# A 20-user purge gives the kills room enough; IAMGUARD_BIG_FAULTS=1 kills a 50-user one, as the README's figures.
TARGETS = 50 if os.environ.get("IAMGUARD_BIG_FAULTS") == "1" else 20
BYSTANDERS = 5
KILLS = 5
SEED = 20261125
EVERYTHING = dict(login_profile=True, access_keys=2, ssh_keys=1, signing_certs=1, service_credentials=1, virtual_mfa=1, hardware_mfa=1,
                  passkeys=1, groups=("staff",), inline_policies=1, managed_policies=1)


def _dependents(rng):
    """A realistic mix: most users have a password and a key, some MFA of each kind, groups and policies."""
    return dict(login_profile=rng.random() < 0.8, access_keys=rng.choice((0, 1, 1, 2)), ssh_keys=int(rng.random() < 0.2),
                signing_certs=int(rng.random() < 0.1), service_credentials=int(rng.random() < 0.15),
                virtual_mfa=int(rng.random() < 0.6), hardware_mfa=int(rng.random() < 0.15), passkeys=int(rng.random() < 0.15),
                groups=tuple(g for g in ("staff", "deploy") if rng.random() < 0.5), inline_policies=rng.choice((0, 0, 1)),
                managed_policies=rng.choice((0, 1)))


def _changing_calls(counters):
    return sum(count for key, count in counters.items() if ":" in key and not key.split(":")[1].startswith(("Get", "List")))


def _named_in(manifest):
    """Every dependent a manifest names, as (kind, id) pairs; appeared_during_run documents included."""
    names = set()
    for document in [manifest] + manifest.get("appeared_during_run", []):
        if document.get("login_profile"):
            names.add(("login_profile", document["user"]["user_name"]))
        names.update(("access_key", key["access_key_id"]) for key in document["access_keys"])
        names.update(("ssh_key", key["ssh_public_key_id"]) for key in document["ssh_public_keys"])
        names.update(("signing_cert", cert["certificate_id"]) for cert in document["signing_certificates"])
        names.update(("service_credential", cred["service_specific_credential_id"]) for cred in document["service_specific_credentials"])
        names.update(("mfa_device", device["serial_number"]) for device in document["mfa_devices"])
        names.update(("group", group) for group in document["groups"])
        names.update(("inline_policy", name) for name in document["inline_policies"])
        names.update(("managed_policy", arn) for arn in document["attached_policies"])
    return names


def _had(snapshot_user, user_name):
    names = {("login_profile", user_name)} if snapshot_user["login_profile"] else set()
    names.update(("access_key", key) for key in snapshot_user["access_keys"])
    names.update(("ssh_key", key) for key in snapshot_user["ssh_keys"])
    names.update(("signing_cert", cert) for cert in snapshot_user["signing_certs"])
    names.update(("service_credential", cred) for cred in snapshot_user["service_credentials"])
    names.update(("mfa_device", serial) for serial in snapshot_user["mfa_devices"])
    names.update(("group", group) for group in snapshot_user["groups"])
    names.update(("inline_policy", name) for name in snapshot_user["inline_policies"])
    names.update(("managed_policy", arn) for arn in snapshot_user["managed_policies"])
    return names


def _start(ansible_base_env, sim, playbook):
    # A killed module leaves its unpacked payload in TMPDIR: keep that beside the playbook, not in /tmp.
    env = dict(ansible_base_env, AWS_ENDPOINT_URL=sim.url, TMPDIR=os.path.dirname(playbook))
    env.pop("ANSIBLE_CALLBACKS_ENABLED", None)  # no results file: a killed run has nothing to report
    env["ANSIBLE_STDOUT_CALLBACK"] = "default"
    return subprocess.Popen([ansible_base_env["IAMGUARD_ANSIBLE_PLAYBOOK"], playbook], cwd=REPO, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)


def _descendants(pid):
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry, encoding="utf-8") as handle:
                    parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _kill_tree(proc):
    """SIGKILL ansible-playbook and every process under it; the module may run in a session of its own."""
    frozen = set()
    while True:  # stop the tree first, so nothing forks a child we would miss
        tree = set(_descendants(proc.pid)) | {proc.pid}
        if tree <= frozen:
            break
        for pid in tree - frozen:
            try:
                os.kill(pid, signal.SIGSTOP)
            except ProcessLookupError:
                pass
        frozen |= tree
    for pid in frozen:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()


def _run_until(proc, sim, changing_calls, timeout=300):
    """Kill the run's whole process group once the simulator has seen ``changing_calls`` changing calls; True if killed."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        if changing_calls is not None and _changing_calls(sim.counters()) >= changing_calls:
            _kill_tree(proc)
            return True
        time.sleep(0.005)
    if proc.poll() is None:
        _kill_tree(proc)
        raise AssertionError("ansible-playbook did not finish within %ss" % timeout)
    return False


def test_sigkill_at_random_points_then_rerun_converges(sim, iam, ansible_base_env, tmp_path):
    rng = random.Random(SEED)
    targets = ["leaver-%02d" % i for i in range(TARGETS)]
    for name in targets:
        make_user(iam, name, **_dependents(rng))
    for index in range(BYSTANDERS):
        make_user(iam, "stays-%d" % index, **EVERYTHING)
    before = account_snapshot(iam)
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    playbook = tmp_path / "purge.yml"
    playbook.write_text(yaml.safe_dump([{
        "name": "batch purge", "hosts": "localhost", "gather_facts": False,
        "tasks": [{"name": "purge", "iamguard.aws.iam_user_purge": {"user_names": targets, "manifest_dir": str(manifests)}}],
    }]), encoding="utf-8")

    # The floor of changing calls: one per dependent, a deactivation per device and a deletion per virtual one, one per user.
    floor = sum(len(_had(before["users"][name], name)) + sum(1 for s in before["users"][name]["mfa_devices"]
                if s in before["virtual_mfa_devices"]) + 1 for name in targets)
    sim.reset_counters()
    points = sorted(rng.sample(range(1, floor), KILLS))
    killed_at = []
    for point in points:
        proc = _start(ansible_base_env, sim, str(playbook))
        if _run_until(proc, sim, point):
            killed_at.append(point)
    assert len(killed_at) == KILLS, (points, killed_at)

    final = _start(ansible_base_env, sim, str(playbook))
    assert _run_until(final, sim, None) is False
    output = final.stdout.read().decode()
    assert final.returncode == 0, output

    after = account_snapshot(iam)
    assert sorted(after["users"]) == sorted("stays-%d" % i for i in range(BYSTANDERS))
    for name in after["users"]:
        assert after["users"][name] == before["users"][name], name
    unassigned = [serial for serial, holder in after["virtual_mfa_devices"].items() if holder is None]
    assert unassigned == []
    assert after["groups"] == {group: [u for u in members if u.startswith("stays-")] for group, members in before["groups"].items()}

    assert glob.glob(str(manifests / ".*")) == []  # no temp file of an interrupted write
    named = {}
    for path in glob.glob(str(manifests / "*.json")):
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)  # whole JSON, or this fails
        named.setdefault(document["user"]["user_name"], set()).update(_named_in(document))
    missing = {name: sorted(_had(before["users"][name], name) - named.get(name, set())) for name in targets}
    assert {name: gone for name, gone in missing.items() if gone} == {}

    again = _start(ansible_base_env, sim, str(playbook))
    assert _run_until(again, sim, None) is False
    assert again.returncode == 0
    assert "changed=0" in again.stdout.read().decode()


def _kill_at_first_lost_delete(ansible_base_env, sim, playbook):
    """Run ``playbook`` with every DeleteVirtualMFADevice lost before IAM sees it; kill the run at the first one."""
    sim.configure(faults={"drop_before": 1.0}, fault_actions=["iam:DeleteVirtualMFADevice"])
    sim.reset_counters()
    proc = _start(ansible_base_env, sim, str(playbook))
    deadline = time.monotonic() + 120
    while not sim.counters().get("fault:drop_before") and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    _kill_tree(proc)
    sim.configure(faults={}, fault_actions=[])


def _write_play(path, task):
    path.write_text(yaml.safe_dump([{"name": "run", "hosts": "localhost", "gather_facts": False,
                                     "tasks": [{"name": "task", **task}]}]), encoding="utf-8")
    return path


def test_sigkill_between_deactivation_and_deletion_leaves_no_orphan(sim, iam, ansible_base_env, tmp_path):
    """The run dies after DeactivateMFADevice reached IAM and before DeleteVirtualMFADevice did."""
    make_user(iam, "leaver", login_profile=True, virtual_mfa=1)
    (serial,) = account_snapshot(iam)["users"]["leaver"]["mfa_devices"]
    playbook = _write_play(tmp_path / "purge.yml", {"iamguard.aws.iam_user_purge": {"user_names": ["leaver"]}})
    _kill_at_first_lost_delete(ansible_base_env, sim, playbook)
    state = account_snapshot(iam)
    assert state["users"]["leaver"]["mfa_devices"] == [] and state["virtual_mfa_devices"][serial] is None, state

    rerun = _start(ansible_base_env, sim, str(playbook))
    assert _run_until(rerun, sim, None) is False
    assert rerun.returncode == 0, rerun.stdout.read().decode()
    after = account_snapshot(iam)
    assert "leaver" not in after["users"]
    assert serial not in after["virtual_mfa_devices"]


def test_sigkill_between_deactivation_and_deletion_is_finished_with_a_fresh_manifest_folder(sim, iam, ansible_base_env, tmp_path):
    """Issue 18 #3: the intent lives in AWS (a tag put before the deactivation), not in the manifest folder: an AWX job
    relaunched in a fresh container finishes the device, whatever its name, for a purge and for a lost-device reset."""
    serials = {}
    for user in ("leaver", "keeper"):
        iam.create_user(UserName=user)
        device = make_orphan(iam, "%s-work-phone" % user[0])  # not named after the user
        iam.enable_mfa_device(UserName=user, SerialNumber=device["serial_number"], AuthenticationCode1=consecutive_codes(device["seed"])[0],
                              AuthenticationCode2=consecutive_codes(device["seed"])[1])
        serials[user] = device["serial_number"]
    runs = {
        "leaver": lambda folder: {"iamguard.aws.iam_user_purge": {"user_names": ["leaver"], "manifest_dir": str(folder)}},
        "keeper": lambda folder: {"iamguard.aws.iam_mfa_device": {"user_name": "keeper", "state": "absent"}, "register": "reset"},
    }
    for user, task in runs.items():
        first, fresh = tmp_path / (user + "-job-1"), tmp_path / (user + "-job-2")
        first.mkdir()
        fresh.mkdir()
        _kill_at_first_lost_delete(ansible_base_env, sim, _write_play(tmp_path / (user + "-1.yml"), task(first)))
        state = account_snapshot(iam)
        assert state["users"][user]["mfa_devices"] == [] and state["virtual_mfa_devices"][serials[user]] is None, state

        play = _write_play(tmp_path / (user + "-2.yml"), task(fresh))
        rerun = _start(ansible_base_env, sim, str(play))
        assert _run_until(rerun, sim, None) is False
        output = rerun.stdout.read().decode()
        assert rerun.returncode == 0 and "changed=1" in output, output
        assert serials[user] not in account_snapshot(iam)["virtual_mfa_devices"], "the device was left as an orphan"
    assert "keeper" in account_snapshot(iam)["users"] and "leaver" not in account_snapshot(iam)["users"]


def test_sigkill_in_root_cleanup_between_deactivation_and_deletion_with_a_fresh_manifest_folder(sim, ansible_base_env, tmp_path):
    """The same window for root's virtual device: the delete task policy can neither tag nor list virtual devices, so the
    rerun in a fresh folder finds root's default-named device by deleting it (NoSuchEntity when there is none)."""
    dev = seed_organization(sim, members=("dev",))["accounts"]["dev"]
    serial = seed_root_credentials(sim, dev, login_profile=False, access_keys=0, signing_certificates=0)["mfa_serials"]["virtual"]
    first, fresh = tmp_path / "job-1", tmp_path / "job-2"
    first.mkdir()
    fresh.mkdir()

    def task(folder):
        return {"iamguard.aws.iam_root_credentials": {"account_id": dev, "manifest_dir": str(folder)}}

    _kill_at_first_lost_delete(ansible_base_env, sim, _write_play(tmp_path / "root-1.yml", task(first)))
    assert root_state(dev)["mfa_devices"] == [] and root_state(dev)["virtual_mfa_devices"] == [serial]
    rerun = _start(ansible_base_env, sim, str(_write_play(tmp_path / "root-2.yml", task(fresh))))
    assert _run_until(rerun, sim, None) is False
    output = rerun.stdout.read().decode()
    assert rerun.returncode == 0 and "changed=1" in output, output
    assert root_state(dev)["virtual_mfa_devices"] == [], "root's device was left as an orphan"
