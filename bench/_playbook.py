"""Run one playbook against the simulator the way the integration tests do, and time it."""

import json
import os
import subprocess
import time

from tests.integration.conftest import _current_venv, _env_sh_variables

# Variables of the calling shell that must not reach the playbook (a real AWS profile, Ansible settings).
_DROPPED_PREFIXES = ("AWS_", "EC2_", "BOTO_", "ANSIBLE_")


def playbook_env(endpoint_url, workdir):
    """scripts/env.sh's environment with the SDK aimed at the simulator (dummy credentials), implicit localhost only."""
    shared = _env_sh_variables(_current_venv())
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED_PREFIXES)}
    env.update({k: v for k, v in shared.items() if k.startswith(("ANSIBLE_", "IAMGUARD_", "AWS_")) or k in ("PATH", "VIRTUAL_ENV")})
    # Ansible unpacks each module into TMPDIR while it runs: a private one, so nothing that cleans /tmp
    # (another test run on the machine) can pull a module's files away mid-run.
    private_tmp = os.path.join(workdir, "tmp")
    os.makedirs(private_tmp, mode=0o700, exist_ok=True)
    inventory = os.path.join(workdir, "empty-inventory.ini")
    with open(inventory, "w", encoding="utf-8"):
        pass
    env.update({"AWS_ENDPOINT_URL": endpoint_url, "ANSIBLE_INVENTORY": inventory, "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_RETRY_FILES_ENABLED": "False", "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
                "TMPDIR": private_tmp, "ANSIBLE_LOCAL_TEMP": private_tmp, "ANSIBLE_REMOTE_TMP": private_tmp})
    return env


def run_play(tasks, env, workdir, label):
    """Run `tasks` in one play on localhost; return (seconds, exit status, output)."""
    playbook = os.path.join(workdir, f"{label}.yml")
    with open(playbook, "w", encoding="utf-8") as handle:
        json.dump([{"name": label, "hosts": "localhost", "gather_facts": False, "tasks": tasks}], handle, indent=2)
    started = time.monotonic()
    done = subprocess.run(["ansible-playbook", playbook], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
    return time.monotonic() - started, done.returncode, done.stdout + done.stderr
