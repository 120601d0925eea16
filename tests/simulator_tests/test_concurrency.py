"""Calls run concurrently: reads of an account overlap, writes of an account take turns, accounts are independent."""

import concurrent.futures
import time

from botocore.config import Config

from tests.simulator import seed

from .conftest import NO_RETRIES

ACCOUNTS = ("111111111111", "222222222222", "333333333333", "444444444444")


def _in_account(client, account):
    """Make `client` act in `account` (moto's x-moto-account-id header)."""
    client.meta.events.register("before-sign.*.*", lambda request, **_: request.headers.add_header("x-moto-account-id", account))
    return client


def _elapsed_in_parallel(calls):
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(calls)) as pool:
        for future in [pool.submit(call) for call in calls]:
            future.result()
    return time.monotonic() - started


def _clients(sim, count, service="iam"):
    return [sim.client(service, config=NO_RETRIES) for dummy in range(count)]


def test_reads_of_one_account_overlap(sim):
    sim.configure(backend_time=0.25)
    assert _elapsed_in_parallel([client.list_users for client in _clients(sim, 6)]) < 0.9  # one after the other: 1.5 s


def test_serial_mode_runs_one_call_at_a_time(sim):
    """The old behaviour, kept as an option to compare: the same reads queue behind one lock."""
    sim.configure(backend_time=0.25, concurrency="serial")
    assert _elapsed_in_parallel([client.list_users for client in _clients(sim, 6)]) >= 1.5


def test_writes_of_one_account_take_turns_and_accounts_do_not_wait(sim):
    sim.configure(backend_time=0.25)
    one_account = [lambda client=client, i=i: client.create_user(UserName=f"u{i}") for i, client in enumerate(_clients(sim, 4))]
    assert _elapsed_in_parallel(one_account) >= 1.0
    own_accounts = [lambda client=_in_account(client, account): client.create_user(UserName="u")
                    for client, account in zip(_clients(sim, 4), ACCOUNTS)]
    assert _elapsed_in_parallel(own_accounts) < 0.9


def test_concurrent_mixed_calls_keep_the_state_consistent(sim, iam):
    """8 clients create, read and delete users with dependents while 2 others walk the whole account: no error, exact end state."""
    seed.make_user(iam, "bystander", access_keys=1, virtual_mfa=1)

    def churn(index):
        client = sim.client("iam", config=NO_RETRIES)
        for round_ in range(8):
            name = f"churn-{index}-{round_}"
            client.create_user(UserName=name)
            key = client.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]
            client.create_virtual_mfa_device(VirtualMFADeviceName=name)
            client.get_user(UserName=name)
            client.delete_access_key(UserName=name, AccessKeyId=key)
            client.delete_virtual_mfa_device(SerialNumber=f"arn:aws:iam::123456789012:mfa/{name}")
            client.delete_user(UserName=name)
        return 7 * 8

    def walk():
        client, calls = sim.client("iam", config=NO_RETRIES), 0
        for dummy in range(10):
            for page in client.get_paginator("list_users").paginate(PaginationConfig={"PageSize": 2}):
                calls += 1
                assert all(user["UserName"].startswith(("churn-", "bystander")) for user in page["Users"])
            client.list_virtual_mfa_devices()
            client.get_account_authorization_details(Filter=["User"])
            calls += 2
        return calls

    with concurrent.futures.ThreadPoolExecutor(max_workers=10) as pool:
        futures = [pool.submit(churn, index) for index in range(8)] + [pool.submit(walk) for dummy in range(2)]
        calls = sum(future.result() for future in futures)
    assert [user["UserName"] for user in iam.list_users()["Users"]] == ["bystander"]
    assert len(iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned")["VirtualMFADevices"]) == 0
    assert sum(sim.counters().values()) >= calls


def test_token_bucket_is_shared_by_concurrent_callers(sim):
    sim.configure(throttle_rate=20, throttle_burst=5)
    clients = _clients(sim, 8, "sts")
    outcomes = []

    def call(client):
        for dummy in range(10):
            try:
                client.get_caller_identity()
                outcomes.append("ok")
            except client.exceptions.ClientError as error:
                assert error.response["Error"]["Code"] == "Throttling"
                outcomes.append("throttled")

    started = time.monotonic()
    _elapsed_in_parallel([lambda client=client: call(client) for client in clients])
    elapsed = time.monotonic() - started
    counters = sim.counters()
    assert outcomes.count("ok") == counters["sts:GetCallerIdentity"] and outcomes.count("throttled") == counters["throttled"]
    assert counters["sts:GetCallerIdentity"] <= 5 + 20 * elapsed + 1
    assert counters["throttled"] > 0


def test_latency_stays_outside_the_locks(sim):
    """latency is network and queueing time: concurrent writes of one account overlap in it."""
    sim.configure(latency=0.3)
    clients = [sim.client("iam", config=Config(retries={"total_max_attempts": 1})) for dummy in range(6)]
    writes = [lambda client=client, i=i: client.create_user(UserName=f"u{i}") for i, client in enumerate(clients)]
    assert _elapsed_in_parallel(writes) < 1.2  # one after the other: 1.8 s
