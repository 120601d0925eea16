"""Requests per second a simulator serves to N concurrent boto3 clients (python -m tests.simulator bench).

Each client repeats CreateUser, GetUser, ListUsers, ListVirtualMFADevices and DeleteUser on a
user of its own, so reads and writes of one account interleave as a thread pool's calls do.
"""

import concurrent.futures
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request

import boto3
from botocore.config import Config

CALLS_PER_ROUND = 5
NO_RETRIES = Config(retries={"total_max_attempts": 1}, max_pool_connections=4)


def _client_loop(url, index, deadline):
    iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1", config=NO_RETRIES,
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    name, rounds = f"bench-{index}", 0
    while time.monotonic() < deadline:
        iam.create_user(UserName=name)
        iam.get_user(UserName=name)
        iam.list_users(MaxItems=100)
        iam.list_virtual_mfa_devices(MaxItems=100)
        iam.delete_user(UserName=name)
        rounds += 1
    return rounds


def measure(url, clients, seconds):
    """Run `clients` threads against `url` for `seconds`; return the calls per second served."""
    deadline = time.monotonic() + seconds
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=clients) as pool:
        rounds = sum(pool.map(lambda index: _client_loop(url, index, deadline), range(clients)))
    return rounds * CALLS_PER_ROUND / (time.monotonic() - started)


def serve_and_measure(clients, seconds, options=None):
    """Start `python -m tests.simulator serve` in its own process (no shared GIL with the clients), set `options`, measure it."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    command = [sys.executable, "-m", "tests.simulator", "serve"]
    env = {**os.environ, "PYTHONPATH": root}
    with subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, text=True, env=env) as process:
        try:
            url = process.stdout.readline().strip().split("=", 1)[1]
            threading.Thread(target=process.stdout.read, daemon=True).start()
            request = urllib.request.Request(url + "/_iamguard/config", data=json.dumps(options or {}).encode(), method="POST")
            with urllib.request.urlopen(request, timeout=10):
                pass
            return measure(url, clients, seconds)
        finally:
            process.terminate()
            process.wait(timeout=10)
