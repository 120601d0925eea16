# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Input rules checked before any AWS call, so bad input changes nothing.

The patterns and lengths are those of the IAM API reference.
"""

from __future__ import annotations

import re

from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError

# Whole-string matches (fullmatch), ASCII only: IAM's \w is [A-Za-z0-9_].
USER_NAME = re.compile(r"[\w+=,.@-]{1,64}", re.ASCII)
DEVICE_NAME = re.compile(r"[\w+=,.@-]{1,226}", re.ASCII)
# An IAM path is "/" or "/" + printable ASCII + "/", at most 512 characters, no empty segment.
PATH = re.compile(r"(?!.*//)(?=.{1,512}\Z)/(?:[\x21-\x7f]*/)?", re.ASCII | re.DOTALL)
SERIAL_NUMBER = re.compile(r"[\w+=/:,.@-]{9,256}", re.ASCII)
USER_ID = re.compile(r"AIDA[A-Z0-9]{4,124}")
ACCOUNT_ID = re.compile(r"[0-9]{12}")
# An IAM role ARN; group 1 is its account.
ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::([0-9]{12}):role/[A-Za-z0-9_+=,.@/-]{1,512}")
AUTH_CODE = re.compile(r"[0-9]{6}")


class InvalidInput(IamGuardError):
    """Bad module input: names the option and the rule it breaks."""

    def __init__(self, option, value, rule):
        super().__init__("Invalid %s %r: %s. Nothing was changed." % (option, value, rule))
        self.option = option


def _rule(pattern, rule, default_option):
    """A checker: returns the value when ``pattern`` matches all of it, else InvalidInput naming ``rule``."""

    def check(value, option=default_option):
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise InvalidInput(option, value, rule)
        return value

    return check


user_name = _rule(USER_NAME, "an IAM user name is 1 to 64 characters of letters, digits and +=,.@_-", "user_name")
device_name = _rule(DEVICE_NAME, "a virtual MFA device name is 1 to 226 characters of letters, digits and +=,.@_-", "name")
path = _rule(PATH, "an IAM path starts and ends with '/', holds printable ASCII without '//' and is at most 512 characters", "path")
serial_number = _rule(SERIAL_NUMBER, "an MFA serial number is 9 to 256 characters of letters, digits and +=/:,.@_-", "serial_number")
user_id = _rule(USER_ID, "an IAM user id starts with AIDA followed by upper-case letters and digits", "user_ids")


def name_list(value, option):
    """The names of a destructive list option, which the module takes as given (argspec type raw).

    Ansible's own list type splits a string on commas, and a comma is legal in an
    IAM user name: 'x,y' would become two users. So one string is one name, and one
    that holds a comma is refused rather than guessed at.
    """
    if value is None:
        return []
    if isinstance(value, str):
        if "," in value:
            raise InvalidInput(
                option, value, "one string is one name, and this one contains a comma, which IAM allows inside a user name; give a YAML "
                "list instead: [x, y] for two users, or ['x,y'] for one user whose name contains a comma",
            )
        return [value]
    if isinstance(value, list):
        return value
    raise InvalidInput(option, value, "give a YAML list of user names")


MAX_REPORT_WAIT_SECONDS = 3600
# Accounts read side by side by one fan-out run (accounts.py), by default and at most.
DEFAULT_ACCOUNT_WORKERS = 16
MAX_ACCOUNT_WORKERS = 64


def report_wait_seconds(value):
    """The report_wait_seconds option: 0 to MAX_REPORT_WAIT_SECONDS, or InvalidInput."""
    if not 0 <= value <= MAX_REPORT_WAIT_SECONDS:
        raise InvalidInput("report_wait_seconds", value, "between 0 and %d" % MAX_REPORT_WAIT_SECONDS)
    return value


def authentication_code(value, option):
    if not isinstance(value, str) or not AUTH_CODE.fullmatch(value):
        raise InvalidInput(option, "******", "an authentication code is exactly 6 digits")
    return value


def authentication_codes(code_1, code_2):
    """Both codes or neither; two equal codes cannot be consecutive TOTP codes."""
    if (code_1 is None) != (code_2 is None):
        raise InvalidInput("authentication_code_1/authentication_code_2", "******", "give both codes or neither")
    if code_1 is None:
        return None
    authentication_code(code_1, "authentication_code_1")
    authentication_code(code_2, "authentication_code_2")
    if code_1 == code_2:
        raise InvalidInput(
            "authentication_code_2", "******", "the two codes must be two consecutive codes from the authenticator, so they cannot be equal"
        )
    return code_1, code_2


# Ansible's own boolean strings (what an AWX survey or -e gives), besides YAML's true and false.
TRUE_STRINGS = ("true", "yes", "on", "1", "y", "t")
FALSE_STRINGS = ("false", "no", "off", "0", "n", "f")


def boolean(value, option):
    """``value`` as a bool: a bool, or one of Ansible's boolean strings; anything else (a typo, 'maybe') is refused."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if isinstance(value, (str, int)) else None
    if text in TRUE_STRINGS:
        return True
    if text in FALSE_STRINGS:
        return False
    raise InvalidInput(option, value, "true or false")


SURVEY_SEPARATOR = re.compile(r"[,\r\n]")


def survey_list(value, option):
    """A list variable as a playbook takes it: a YAML list, or one string separated by commas or newlines (an AWX survey).

    Entries are trimmed, empty ones dropped, repeats kept once. None is the empty list; a mapping is refused.
    """
    if value is None:
        return []
    if isinstance(value, str):
        items = SURVEY_SEPARATOR.split(value)
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        raise InvalidInput(option, value, "a list, or one string separated by commas or newlines")
    result = []
    for item in items:
        if isinstance(item, (dict, list, tuple)):
            raise InvalidInput(option, value, "a list of strings, or one string separated by commas or newlines")
        text = str(item).strip()
        if text and text not in result:
            result.append(text)
    return result
