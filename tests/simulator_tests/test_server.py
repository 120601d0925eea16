"""The simulator's own controls: server, counters, options, latency, throttling, HTTP control endpoints, CLI."""

import concurrent.futures
import json
import os
import pathlib
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import boto3
import pytest

from tests.simulator import Simulator

from .conftest import NO_RETRIES
from .helpers import aws_error

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _http(sim, method, path, payload=None):
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(sim.url + path, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_listens_on_a_random_local_port(sim):
    assert sim.url == f"http://127.0.0.1:{sim.port}"
    assert sim.port > 0


def test_counts_calls_per_service_and_action(sim, iam, sts):
    iam.list_users()
    iam.list_users()
    sts.get_caller_identity()
    aws_error(iam.get_user, UserName="nobody")
    assert sim.counters() == {"iam:ListUsers": 2, "sts:GetCallerIdentity": 1, "iam:GetUser": 1}
    sim.reset_counters()
    assert not sim.counters()


def test_reset_wipes_state_and_counters_but_keeps_options(sim, iam):
    iam.create_user(UserName="alice")
    sim.configure(latency=0.01)
    sim.reset()
    assert not sim.counters()
    assert iam.list_users()["Users"] == []
    assert sim.options["latency"] == 0.01


def test_reset_wipes_every_account(sim):
    other = sim.client("iam")
    other.meta.events.register("before-sign.iam.*", lambda request, **_: request.headers.add_header("x-moto-account-id", "111122223333"))
    other.create_user(UserName="alice")
    assert other.get_user(UserName="alice")["User"]["Arn"] == "arn:aws:iam::111122223333:user/alice"
    devices = other.list_virtual_mfa_devices()["VirtualMFADevices"]
    assert [d["SerialNumber"] for d in devices] == ["arn:aws:iam::111122223333:mfa/root-account-mfa-device"]
    sim.reset()
    assert other.list_users()["Users"] == []


def test_configure_rejects_unknown_and_bad_options(sim):
    with pytest.raises(TypeError):
        sim.configure(speed=3)
    with pytest.raises(ValueError):
        sim.configure(throttle_rate=0)
    assert sim.options["throttle_rate"] is None


def test_latency_delays_each_call(sim, iam):
    sim.configure(latency=0.2)
    started = time.monotonic()
    iam.list_users()
    assert time.monotonic() - started >= 0.2


def test_latency_overlaps_for_concurrent_calls(sim):
    sim.configure(latency=0.3)
    clients = [sim.client("sts") for dummy in range(8)]
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda client: client.get_caller_identity(), clients))
    assert time.monotonic() - started < 1.5
    assert sim.counters() == {"sts:GetCallerIdentity": 8}


def test_throttling_answers_rate_exceeded_and_counts_apart(sim, iam):
    sim.configure(throttle_rate=2, throttle_burst=2)
    iam.list_users()
    iam.list_users()
    assert aws_error(iam.list_users) == ("Throttling", "Rate exceeded", 400)
    assert sim.counters() == {"iam:ListUsers": 2, "throttled": 1}
    time.sleep(0.6)
    iam.list_users()


def test_the_throttle_is_per_account_as_iams(sim, iam):
    """One account throttled out does not slow another: each account has its own token bucket."""
    sim.configure(throttle_rate=2, throttle_burst=2)
    creds = sim.client("sts").assume_role(RoleArn="arn:aws:iam::210987654321:role/x", RoleSessionName="tests")["Credentials"]
    other = sim.client("iam", access_key=creds["AccessKeyId"], secret_key=creds["SecretAccessKey"], session_token=creds["SessionToken"],
                       config=NO_RETRIES)
    iam.list_users()
    assert aws_error(iam.list_users)[0] == "Throttling"  # the caller's account: AssumeRole took its first token
    other.list_users()
    other.list_users()
    assert aws_error(other.list_users)[0] == "Throttling"
    assert sim.counters("210987654321") == {"iam:ListUsers": 2, "throttled": 1}
    assert sim.counters("123456789012") == {"sts:AssumeRole": 1, "iam:ListUsers": 1, "throttled": 1}


def test_http_control_endpoints(sim, iam):
    iam.list_users()
    assert _http(sim, "GET", "/_iamguard/counters") == (200, {"iam:ListUsers": 1})
    assert _http(sim, "DELETE", "/_iamguard/counters") == (200, {})
    assert _http(sim, "GET", "/_iamguard/counters") == (200, {})
    status, config = _http(sim, "POST", "/_iamguard/config", {"require_mfa_session": True, "latency": 0.0})
    assert status == 200 and config["require_mfa_session"] is True
    assert sim.options["require_mfa_session"] is True
    assert _http(sim, "POST", "/_iamguard/config", {"nope": 1})[0] == 400
    assert _http(sim, "GET", "/_iamguard/nothing")[0] == 404
    iam.create_user(UserName="alice")
    assert _http(sim, "POST", "/_iamguard/reset") == (200, {"reset": True})
    assert not sim.counters()
    assert iam.list_users()["Users"] == []
    assert _http(sim, "GET", "/_iamguard/config")[1]["require_mfa_session"] is True


def test_calls_moto_lacks_fail_as_aws_errors(iam):
    code, message, status = aws_error(iam.set_security_token_service_preferences, GlobalEndpointTokenVersion="v2Token")
    assert (code, status) == ("NotImplemented", 501) and "has not been implemented" in message


def test_moto_api_calls_are_not_counted(sim):
    with urllib.request.urlopen(sim.url + "/moto-api/data.json", timeout=10) as response:
        assert response.status == 200
    assert not sim.counters()


def test_stop_closes_the_port():
    with Simulator() as own:
        own.client("sts").get_caller_identity()
        url = own.url
    with pytest.raises(urllib.error.URLError):
        with urllib.request.urlopen(url + "/_iamguard/counters", timeout=2):
            pass


def test_cli_serves_until_sigterm():
    command = [sys.executable, "-m", "tests.simulator", "serve", "--latency", "0", "--no-root-mfa-device",
               "--options", '{"faults": {"http_503": 0.5}, "fault_seed": 4, "fault_actions": ["GetUser"]}']
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}) as process:
        try:
            line = process.stdout.readline().strip()
            assert line.startswith("IAMGUARD_SIMULATOR_URL=http://127.0.0.1:")
            url = line.split("=", 1)[1]
            iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")
            assert iam.list_virtual_mfa_devices()["VirtualMFADevices"] == []
            with urllib.request.urlopen(url + "/_iamguard/counters", timeout=10) as response:
                assert json.loads(response.read()) == {"iam:ListVirtualMFADevices": 1}
            with urllib.request.urlopen(url + "/_iamguard/config", timeout=10) as response:
                config = json.loads(response.read())
            assert config["faults"] == {"http_503": 0.5} and config["fault_seed"] == 4 and config["root_mfa_device"] is False
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0


def test_seed_control_endpoints_seed_an_organization_and_root_credentials_without_returning_secrets(sim):
    status, organization = _http(sim, "POST", "/_iamguard/seed-organization", {"members": ["dev"], "ous": {"Workloads": ["dev"]}})
    assert status == 200 and organization["ou_paths"] == {"dev": "/Workloads"}
    dev = organization["accounts"]["dev"]
    assert [account["Id"] for account in sim.client("organizations").list_accounts()["Accounts"] if account["Name"] == "dev"] == [dev]
    status, made = _http(sim, "POST", "/_iamguard/seed-root-credentials", {"account": dev, "mfa_devices": ["virtual", "hardware"]})
    assert status == 200 and "secrets" not in made
    assert sorted(made["mfa_serials"]) == ["hardware", "virtual"] and len(made["access_key_ids"]) == 1
    assert _http(sim, "POST", "/_iamguard/seed-root-credentials", {"mfa_devices": []})[0] == 400  # no account: refused
    assert _http(sim, "POST", "/_iamguard/seed-root-credentials", {"account": dev, "access_keys": 3})[0] == 400
