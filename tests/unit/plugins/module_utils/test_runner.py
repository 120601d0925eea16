# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from ansible_collections.iamguard.aws.plugins.module_utils import runner
from ansible_collections.iamguard.aws.plugins.module_utils.calls import explain
from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError


class _Exit(Exception):
    """What AnsibleModule's exit_json / fail_json do: leave, never return."""


class _FakeModule:
    def __init__(self):
        self.calls = []
        self.warnings = []

    def warn(self, warning):
        self.warnings.append(warning)

    def exit_json(self, **kwargs):
        self.calls.append(("exit_json", None, kwargs))
        raise _Exit()

    def fail_json(self, **kwargs):
        self.calls.append(("fail_json", None, kwargs))
        raise _Exit()

    def fail_json_aws(self, exception, **kwargs):
        self.calls.append(("fail_json_aws", exception, kwargs))
        raise _Exit()


def _run(work, monkeypatch):
    module = _FakeModule()
    # The task's warnings go to ansible-core's warn, never through module.warn: AnsibleAWSModule
    # would hand them to exit_json as warnings=, deprecated in ansible-core 2.19.
    monkeypatch.setattr(runner, "warn", module.warnings.append)
    monkeypatch.setattr(module, "warn", lambda warning: pytest.fail("module.warn called with %r" % warning))
    with pytest.raises(_Exit):
        runner.run(module, work)
    return module


def test_exit_json_with_result_and_warnings(monkeypatch):
    module = _run(lambda: {"changed": True, "actions": [{"action": "a", "target": "t"}], "warnings": ["first", "second"]}, monkeypatch)
    assert module.calls == [("exit_json", None, {"changed": True, "actions": [{"action": "a", "target": "t"}]})]
    assert module.warnings == ["first", "second"]


def test_exit_json_without_warnings(monkeypatch):
    module = _run(lambda: {"changed": False}, monkeypatch)
    assert module.calls == [("exit_json", None, {"changed": False})]
    assert module.warnings == []


def test_failure_in_result_fails_with_the_result(monkeypatch):
    module = _run(lambda: {"changed": True, "failure": "user bob failed", "warnings": ["w"], "users": {"bob": {}}}, monkeypatch)
    assert module.calls == [("fail_json", None, {"msg": "user bob failed", "changed": True, "users": {"bob": {}}})]
    assert module.warnings == ["w"]


def test_empty_failure_exits_normally(monkeypatch):
    module = _run(lambda: {"changed": False, "failure": None}, monkeypatch)
    assert module.calls == [("exit_json", None, {"changed": False})]


def test_iamguard_error_quotes_the_aws_text_once_and_keeps_its_fields(client_error, monkeypatch):
    error = client_error("DeleteConflict", "Cannot delete entity, must remove tokens from principal first.", "DeleteUser")
    explained = explain(error, "DeleteUser alice")

    def work():
        raise explained

    module = _run(work, monkeypatch)
    assert module.calls == [("fail_json", None, {
        "msg": "DeleteUser alice failed: DeleteConflict: Cannot delete entity, must remove tokens from principal first.",
        "error": {"code": "DeleteConflict", "message": "Cannot delete entity, must remove tokens from principal first."},
        "response_metadata": {"http_status_code": 400},
    })]
    assert module.warnings == []


@pytest.mark.parametrize("session_token, hinted", [(None, True), ("FwoGZXIvYXdzEXAMPLE", False)])
def test_mfa_gated_denial_is_explained_for_long_term_keys(client_error, monkeypatch, session_token, hinted):
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    error = explain(client_error("AccessDenied", "User: x is not authorized to perform: iam:DeactivateMFADevice with an explicit deny in an "
                                 "identity-based policy", "DeactivateMFADevice"), "DeactivateMFADevice alice")

    def work():
        raise error

    module = _FakeModule()
    module.params = {"access_key": "AKIAEXAMPLE", "secret_key": "s", "session_token": session_token, "profile": None, "region": "us-east-1",
                     "endpoint_url": None, "validate_certs": True, "aws_ca_bundle": None, "aws_config": None}
    with pytest.raises(_Exit):
        runner.run(module, work)
    message = module.calls[0][2]["msg"]
    assert message.startswith(error.message)
    assert ("get-session-token" in message) is hinted


def test_iamguard_error_without_exception_uses_fail_json(monkeypatch):
    def work():
        raise IamGuardError("Invalid user_name 'a b'")

    module = _run(work, monkeypatch)
    assert module.calls == [("fail_json", None, {"msg": "Invalid user_name 'a b'"})]


def test_other_exceptions_are_not_swallowed():
    def work():
        raise KeyError("bug")

    module = _FakeModule()
    with pytest.raises(KeyError):
        runner.run(module, work)
    assert module.calls == []


def _sts():
    return boto3.client("sts", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


def _ask_ahead(sts):
    return runner.caller_identity_ahead(sts)()


ASKING = pytest.mark.parametrize("ask", [runner.caller_identity, _ask_ahead], ids=["now", "ahead"])


@ASKING
def test_caller_identity_adds_the_partition(ask):
    sts = _sts()
    answer = {"UserId": "AIDAEXAMPLEEXAMPLE01", "Account": "123456789012", "Arn": "arn:aws-us-gov:iam::123456789012:user/ops/alice"}
    with Stubber(sts) as stubber:
        stubber.add_response("get_caller_identity", answer, {})
        identity = ask(sts)
        stubber.assert_no_pending_responses()
    assert identity["Partition"] == "aws-us-gov"
    assert identity["Account"] == "123456789012"
    assert identity["Arn"] == answer["Arn"]
    assert identity["UserId"] == "AIDAEXAMPLEEXAMPLE01"


@ASKING
def test_caller_identity_failure_is_an_iamguard_error(ask):
    sts = _sts()
    with Stubber(sts) as stubber:
        stubber.add_client_error("get_caller_identity", "ExpiredToken", "The security token included in the request is expired", 403, expected_params={})
        with pytest.raises(IamGuardError) as caught:
            ask(sts)
    assert caught.value.message.startswith("GetCallerIdentity failed: ExpiredToken")
    assert caught.value.exception is not None


def test_caller_identity_ahead_asks_once():
    sts = _sts()
    with Stubber(sts) as stubber:
        stubber.add_response("get_caller_identity", {"UserId": "AIDAEXAMPLEEXAMPLE01", "Account": "123456789012", "Arn": "arn:aws:iam::123456789012:root"}, {})
        caller = runner.caller_identity_ahead(sts)
        assert caller() is caller()  # a second wait asks nothing more: the stub holds one answer
