# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import functools

import pytest

from ansible_collections.iamguard.aws.plugins.module_utils import validation
from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError

GOOD_USER_NAMES = ["a", "alice", "A" * 64, "first.last@example.com", "svc_account-1", "x+y=z,w", "123"]
BAD_USER_NAMES = ["", "A" * 65, "alice smith", "alice*", "*", "al/ice", "alice:1", "al\tice", "alice#", None, 42, ["alice"]]

GOOD_DEVICE_NAMES = ["d", "alice", "x" * 226, "phone.alice@corp", "a_b-c+d=e,f"]
BAD_DEVICE_NAMES = ["", "x" * 227, "my phone", "dev/1", "dev*", "*", None]

GOOD_PATHS = ["/", "/a/", "/team/devs/", "/" + "a" * 510 + "/", "/!~@#$%^&*()/"]
BAD_PATHS = ["", "a/", "/a", "a", "//", "/a//b/", "/" + "a" * 511 + "/", "/a b/", "/é/", None]

GOOD_SERIALS = [
    "GAHT12345678",
    "123456789",
    "arn:aws:iam::123456789012:mfa/alice",
    "arn:aws:iam::123456789012:mfa/team/alice",
    "arn:aws:iam::123456789012:u2f/user/iam-passkey/test-CRESUIN32BFJPIIGIL2PLPODPM",
    "arn:aws-us-gov:iam::123456789012:mfa/root-account-mfa-device",
    "s" * 256,
]
BAD_SERIALS = ["", "12345678", "s" * 257, "arn:aws:iam::1:mfa/a b", "serial#12345", None]

GOOD_USER_IDS = ["AIDAEXAMPLEEXAMPLE01", "AIDA1234", "AIDA" + "Z" * 124]
BAD_USER_IDS = ["", "AIDA", "AIDA123", "AKIAEXAMPLEEXAMPLE01", "AROAEXAMPLEEXAMPLE01", "aidaexampleexample01", "AIDAexample01", "AIDA" + "Z" * 125, None]

# Values every rule must refuse: a trailing newline (as a YAML block scalar gives) and non-ASCII letters.
NEWLINE_CASES = [
    (validation.user_name, "alice\n"),
    (validation.device_name, "alice\n"),
    (validation.path, "/a/\n"),
    (validation.path, "/\n"),
    (validation.serial_number, "GAHT12345678\n"),
    (validation.user_id, "AIDAEXAMPLEEXAMPLE01\n"),
    (functools.partial(validation.authentication_code, option="authentication_code_1"), "938176\n"),
]
NON_ASCII_CASES = [
    (validation.user_name, "josé"),
    (validation.user_name, "用户"),
    (validation.device_name, "josé"),
    (validation.serial_number, "arn:aws:iam::123456789012:mfa/josé"),
]


def _rejects(rule, value, option):
    with pytest.raises(validation.InvalidInput) as caught:
        rule(value)
    assert caught.value.option == option
    assert isinstance(caught.value, IamGuardError)
    assert caught.value.message.startswith("Invalid %s " % option)
    assert "Nothing was changed." in caught.value.message
    return caught.value


@pytest.mark.parametrize("value", GOOD_USER_NAMES)
def test_user_name_good(value):
    assert validation.user_name(value) == value


@pytest.mark.parametrize("value", BAD_USER_NAMES)
def test_user_name_bad(value):
    _rejects(validation.user_name, value, "user_name")


def test_user_name_option_is_named():
    with pytest.raises(validation.InvalidInput) as caught:
        validation.user_name("bad name", "user_names")
    assert caught.value.option == "user_names"
    assert "Invalid user_names 'bad name'" in caught.value.message


@pytest.mark.parametrize("value", GOOD_DEVICE_NAMES)
def test_device_name_good(value):
    assert validation.device_name(value) == value


@pytest.mark.parametrize("value", BAD_DEVICE_NAMES)
def test_device_name_bad(value):
    _rejects(validation.device_name, value, "name")


@pytest.mark.parametrize("value", GOOD_PATHS)
def test_path_good(value):
    assert validation.path(value) == value


def test_path_lengths_at_the_limit():
    assert len(GOOD_PATHS[3]) == 512
    assert len(BAD_PATHS[6]) == 513


@pytest.mark.parametrize("value", BAD_PATHS)
def test_path_bad(value):
    error = _rejects(validation.path, value, "path")
    assert "starts and ends with '/'" in error.message


@pytest.mark.parametrize("value", GOOD_SERIALS)
def test_serial_number_good(value):
    assert validation.serial_number(value) == value


@pytest.mark.parametrize("value", BAD_SERIALS)
def test_serial_number_bad(value):
    _rejects(validation.serial_number, value, "serial_number")


@pytest.mark.parametrize("value", GOOD_USER_IDS)
def test_user_id_good(value):
    assert validation.user_id(value) == value


@pytest.mark.parametrize("value", BAD_USER_IDS)
def test_user_id_bad(value):
    error = _rejects(validation.user_id, value, "user_ids")
    assert "AIDA" in error.message


@pytest.mark.parametrize("rule, value", NEWLINE_CASES, ids=["user_name", "device_name", "path", "root_path", "serial_number", "user_id", "code"])
def test_trailing_newline_is_refused(rule, value):
    # Regression: a pattern ending with '$' also matches before a final newline; rules use fullmatch.
    with pytest.raises(validation.InvalidInput):
        rule(value)


@pytest.mark.parametrize("rule, value", NON_ASCII_CASES, ids=["user_name-latin", "user_name-cjk", "device_name", "serial_number"])
def test_non_ascii_name_is_refused(rule, value):
    # IAM names allow ASCII letters and digits only; Python's str '\w' also matches other scripts.
    with pytest.raises(validation.InvalidInput):
        rule(value)


def test_codes_neither():
    assert validation.authentication_codes(None, None) is None


def test_codes_both_good():
    assert validation.authentication_codes("081804", "050471") == ("081804", "050471")


def test_single_code_good():
    assert validation.authentication_code("000000", "authentication_code_1") == "000000"


@pytest.mark.parametrize(
    "code_1, code_2, option",
    [
        ("12a4b6", "050471", "authentication_code_1"),
        ("50471", "081804", "authentication_code_1"),
        ("5047123", "081804", "authentication_code_1"),
        (" 50471", "081804", "authentication_code_1"),
        ("081804", "93817", "authentication_code_2"),
        ("081804", "9381723", "authentication_code_2"),
        ("081804", "938-17", "authentication_code_2"),
        ("081804", "", "authentication_code_2"),
        ("081804", 938176, "authentication_code_2"),
        ("938176", "938176", "authentication_code_2"),
        ("938176", None, "authentication_code_1/authentication_code_2"),
        (None, "938176", "authentication_code_1/authentication_code_2"),
    ],
)
def test_codes_bad(code_1, code_2, option):
    with pytest.raises(validation.InvalidInput) as caught:
        validation.authentication_codes(code_1, code_2)
    assert caught.value.option == option
    message = caught.value.message
    assert message.startswith("Invalid %s " % option)
    # Never echo a code, not even a wrong one.
    for code in (code_1, code_2):
        if isinstance(code, str) and code.strip():
            assert code.strip() not in message
    assert "******" in message


def test_equal_codes_message_says_why():
    with pytest.raises(validation.InvalidInput) as caught:
        validation.authentication_codes("482913", "482913")
    assert "consecutive" in caught.value.message
    assert "482913" not in caught.value.message


def test_only_one_code_message_says_why():
    with pytest.raises(validation.InvalidInput) as caught:
        validation.authentication_codes("482913", None)
    assert "give both codes or neither" in caught.value.message


@pytest.mark.parametrize("value, expected", [
    (None, []), ("alice", ["alice"]), ("alice,\nbob , ,alice\r\n", ["alice", "bob"]), (["a", " b ", "", "a", 7], ["a", "b", "7"]),
])
def test_survey_list(value, expected):
    assert validation.survey_list(value, "offboard_users") == expected


@pytest.mark.parametrize("value", [{"a": 1}, 3, [{"a": 1}]])
def test_survey_list_refuses_what_is_not_a_list(value):
    with pytest.raises(validation.InvalidInput, match="Invalid offboard_users"):
        validation.survey_list(value, "offboard_users")


@pytest.mark.parametrize("value, expected", [(True, True), ("yes", True), ("True", True), (False, False), ("0", False), ("off", False)])
def test_boolean(value, expected):
    assert validation.boolean(value, "flag") is expected


@pytest.mark.parametrize("value", ["maybe", "", None, 2, [True]])
def test_boolean_refuses_anything_else(value):
    with pytest.raises(validation.InvalidInput, match="Invalid flag .*: true or false"):
        validation.boolean(value, "flag")
