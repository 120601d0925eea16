"""Secret probes: an MFA secret never reaches any output, log, result or temp file.

Every enrolment below runs with the secret going to 0600 files, under each way a person
makes Ansible talk more: -vvvv, ANSIBLE_DEBUG=1, --diff, a log file, kept module files,
and a registered result printed by ``debug`` - the ways that can go together in one run
(three runs: the default output; -vvvv with --diff and a log file; -vvvv with ANSIBLE_DEBUG
and kept module files, where Ansible itself exposes arguments). Each run's stdout, stderr, log and every file
left in its temp folders are searched for every form of the secret: the Base32 seed (as
IAM returns it and lower-cased), the raw seed bytes (hex and base64), the otpauth URI, and
the QR code PNG (raw bytes and base64). The caller's secret key and session token are
searched for too, except where Ansible itself prints module arguments (ANSIBLE_DEBUG) or
keeps them on disk (ANSIBLE_KEEP_REMOTE_FILES) — outside this collection's control, see
the README's Safety section.
"""

import base64
import os
import stat

import pytest

DEVICE = "iamguard.aws.iam_mfa_device"
MODES = {
    "default": ({}, {}),
    "vvvv-diff-log-file": ({"verbosity": 4, "diff": True}, {"ANSIBLE_LOG_PATH": "{scratch}/ansible.log"}),
    "vvvv-debug-keep-remote-files": ({"verbosity": 4}, {"ANSIBLE_DEBUG": "1", "ANSIBLE_KEEP_REMOTE_FILES": "1"}),
}
# Where Ansible itself exposes module arguments (the AWS credentials), whatever a module does.
ARGUMENTS_EXPOSED = ("vvvv-debug-keep-remote-files",)


def _secret_forms(seed, png):
    raw = base64.b32decode(seed + "=" * (-len(seed) % 8))
    return {
        "seed": seed.encode(),
        "seed lower-case": seed.lower().encode(),
        "seed bytes hex": raw.hex().encode(),
        "seed bytes base64": base64.b64encode(raw).rstrip(b"="),
        "otpauth secret": ("secret=" + seed).encode(),
        "QR PNG base64": base64.b64encode(png)[8:72],  # past the PNG signature every PNG shares
        "QR PNG bytes": png[64:160],
    }


def _private(path):
    return stat.S_IMODE(os.stat(path).st_mode) == 0o600


def _leaks(haystacks, needles):
    return sorted((where, name) for where, data in haystacks.items() for name, needle in needles.items() if needle in data)


def _files_under(folder, skip=()):
    found = {}
    for top, dummy, names in os.walk(folder):
        for name in names:
            path = os.path.join(top, name)
            if path not in skip and os.path.isfile(path) and not os.path.islink(path):
                with open(path, "rb") as handle:
                    found[path] = handle.read()
    return found


@pytest.mark.parametrize("mode", sorted(MODES))
def test_enrolment_secrets_reach_no_output_log_result_or_temp_file(mode, sim, iam, run_playbook, tmp_path):
    options, env_template = MODES[mode]
    scratch = tmp_path / "scratch"
    secrets_dir = tmp_path / "secrets"
    scratch.mkdir()
    secrets_dir.mkdir()
    iam.create_user(UserName="svc-pat")
    iam.create_user(UserName="pat")
    caller = sim.client("sts").get_session_token()["Credentials"]
    credentials = {"access_key": caller["AccessKeyId"], "secret_key": caller["SecretAccessKey"], "session_token": caller["SessionToken"]}
    env = {key: value.format(scratch=scratch) for key, value in env_template.items()}
    env.update({"TMPDIR": str(scratch), "ANSIBLE_LOCAL_TEMP": str(scratch / "local"), "ANSIBLE_REMOTE_TMP": str(scratch / "remote")})
    unattended = dict(credentials, user_name="svc-pat", generate_codes=True,
                      seed_path=str(secrets_dir / "svc-pat.seed"), qr_code_png_path=str(secrets_dir / "svc-pat.png"))
    person = dict(credentials, user_name="pat", qr_code_png_path=str(secrets_dir / "pat.png"))
    play = {
        "name": "secret probes", "hosts": "localhost", "gather_facts": False,
        "tasks": [
            {"name": "unattended enrolment", DEVICE: unattended, "register": "unattended"},
            {"name": "step 1 of a person's enrolment", DEVICE: person, "register": "step_1"},
            {"name": "print what was registered", "ansible.builtin.debug": {"var": "item"}, "loop": ["{{ unattended }}", "{{ step_1 }}"]},
        ],
    }
    run = run_playbook([play], env=env, **options)
    assert run.rc == 0, run
    assert [r["changed"] for r in run.results[:2]] == [True, True], run

    secret_files = {str(secrets_dir / name) for name in ("svc-pat.seed", "svc-pat.png", "pat.png")}
    assert all(_private(path) for path in secret_files)
    seed = open(secrets_dir / "svc-pat.seed", encoding="ascii").read().strip()
    needles = _secret_forms(seed, (secrets_dir / "svc-pat.png").read_bytes())
    # The person's QR code holds a seed too: its PNG must not leak either.
    needles["person's QR PNG base64"] = base64.b64encode((secrets_dir / "pat.png").read_bytes())[8:72]
    if mode not in ARGUMENTS_EXPOSED:
        needles.update({"secret key": caller["SecretAccessKey"].encode(), "session token": caller["SessionToken"].encode()})

    haystacks = {"stdout": run.stdout.encode(), "stderr": run.stderr.encode(),
                 "results": repr(run.results).encode()}
    haystacks.update(_files_under(str(scratch)))
    # The channels of the mode were really open: the log was written, the module files were kept.
    assert ("ANSIBLE_LOG_PATH" not in env or os.path.getsize(env["ANSIBLE_LOG_PATH"]) > 0) and \
        ("ANSIBLE_KEEP_REMOTE_FILES" not in env or any("AnsiballZ_" in path for path in haystacks)), sorted(haystacks)
    haystacks.update(_files_under(str(secrets_dir), skip=secret_files))
    assert _leaks(haystacks, needles) == []
