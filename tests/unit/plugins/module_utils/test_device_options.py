# -*- coding: utf-8 -*-
# Copyright: iamguard.aws contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""device_options.py: iam_mfa_device's options refused before any AWS call."""

from __future__ import annotations

import os
import sys

import pytest

from ansible_collections.iamguard.aws.plugins.module_utils import device_options, validation
from ansible_collections.iamguard.aws.plugins.module_utils.errors import IamGuardError
from tests.unit.plugins.module_utils.mfa_stubs import (
    CODES, PASSKEY, _params, serial,
)


def test_device_options_good():
    params = _params(authentication_code_1="081804", authentication_code_2="050471")
    options = device_options.device_options(params, task_no_log=False)
    assert options["codes"] == CODES
    assert "authentication_code_1" not in options and "authentication_code_2" not in options
    assert params["authentication_code_1"] == "081804"  # the module's params are not changed
    assert options["user_name"] == "alice"


def test_device_options_without_codes():
    assert device_options.device_options(_params(), task_no_log=False)["codes"] is None


@pytest.mark.parametrize(
    "overrides, option",
    [
        ({"user_name": "bad name"}, "user_name"),
        ({"name": "bad/name"}, "name"),
        ({"path": "team/"}, "path"),
        ({"state": "absent", "serial_number": "short"}, "serial_number"),
        ({"authentication_code_1": "12345", "authentication_code_2": "123456"}, "authentication_code_1"),
        ({"authentication_code_1": "123456"}, "authentication_code_1/authentication_code_2"),
        ({"serial_number": serial("alice")}, "serial_number"),
        ({"return_secret": True, "seed_path": "/tmp/s"}, "return_secret"),
        ({"user_name": None, "name": "phone", "generate_codes": True, "seed_path": "/tmp/s"}, "generate_codes"),
        # input rules never depend on the account: nowhere to keep the secret is refused even if the user has a device
        ({"generate_codes": True}, "generate_codes"),
        ({"seed_path": "/tmp/same", "qr_code_png_path": "/tmp/same"}, "seed_path"),
        ({"seed_path": "/tmp/a/../same", "qr_code_png_path": "/tmp/same"}, "seed_path"),
        ({"tags": {"iamguard:created-at": "x"}, "seed_path": "/tmp/s"}, "tags"),
        ({"state": "absent", "generate_codes": True}, "generate_codes"),
        ({"state": "absent", "authentication_code_1": "123456", "authentication_code_2": "654321"}, "authentication_code_1"),
        ({"state": "absent", "seed_path": "/tmp/s"}, "seed_path"),
        ({"state": "absent", "qr_code_png_path": "/tmp/q.png"}, "qr_code_png_path"),
        ({"state": "absent", "return_secret": True}, "return_secret"),
        ({"state": "absent", "tags": {"team": "a"}}, "tags"),
        ({"state": "absent", "force": True}, "force"),
    ],
)
def test_device_options_bad(overrides, option):
    with pytest.raises(validation.InvalidInput) as caught:
        device_options.device_options(_params(**overrides), task_no_log=False)
    assert caught.value.option == option
    for key in ("authentication_code_1", "authentication_code_2"):
        if overrides.get(key):
            assert overrides[key] not in caught.value.message


def test_device_options_return_secret_with_no_log():
    assert device_options.device_options(_params(return_secret=True), task_no_log=True)["return_secret"] is True


def test_device_options_absent_allows_serial():
    options = device_options.device_options(_params(state="absent", serial_number=PASSKEY, user_name=None), False)
    assert options["serial_number"] == PASSKEY


@pytest.mark.parametrize("force", [False, True])
def test_device_options_refuse_a_fifo_at_an_output_path(tmp_path, force):
    fifo = tmp_path / "alice.seed"
    os.mkfifo(str(fifo))
    with pytest.raises(IamGuardError, match="seed_path: .* is not a regular file"):
        device_options.device_options(_params(seed_path=str(fifo), force=force), task_no_log=False)


def test_device_options_refuse_a_device_node_at_an_output_path():
    with pytest.raises(IamGuardError, match="qr_code_png_path: /dev/null is not a regular file"):
        device_options.device_options(_params(qr_code_png_path="/dev/null", force=True), task_no_log=False)


def test_device_options_without_pyotp_refuse_generate_codes_before_any_call(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "pyotp", None)  # import pyotp now raises ImportError
    with pytest.raises(IamGuardError) as caught:
        device_options.device_options(_params(generate_codes=True, seed_path=str(tmp_path / "s")), task_no_log=False)
    assert caught.value.message == ("generate_codes needs the Python library pyotp on the host that runs the module (pip install pyotp, "
                                    "or requirements.txt of this collection); nothing was changed.")
    assert device_options.device_options(_params(seed_path=str(tmp_path / "s")), task_no_log=False)["generate_codes"] is False
