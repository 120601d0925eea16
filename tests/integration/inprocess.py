"""Run one of the collection's modules inside the pytest process: its own main(), its own argument spec and
module_utils, against the simulator over HTTP, as AnsiballZ would run it in a child process.

Why: a module task through ansible-playbook costs about 2 s of CPU (the controller's start, then a
Python process importing ansible, boto3 and amazon.aws); here the imports are paid once per worker and a
call costs what the module itself does. What this skips is the controller's part, which only hands the
arguments over and prints the result: the playbook tests cover it, and ``run_module`` still goes through
ansible-playbook where a test needs it (verbosity, an Ansible setting, another Python path).

The result is the module's JSON as the controller receives it, with what the controller adds to every
task result: ``changed`` and ``failed`` always present, warnings as plain strings. A deprecation fails
the test, as it does in playbook runs (conftest._deprecations).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import sys
from unittest import mock

from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.testing import patch_module_args

# What makes a run need the real controller: it reads Ansible's settings, or another interpreter path.
CONTROLLER_ONLY_PREFIXES = ("ANSIBLE_", "PYTHON")


def needs_controller(env, verbosity):
    return bool(verbosity) or any(key.startswith(CONTROLLER_ONLY_PREFIXES) for key in (env or {}))


def _importable(collections_path):
    """Make ``ansible_collections.iamguard.aws`` importable from the tree scripts/env.sh builds."""
    first = collections_path.split(os.pathsep)[0]
    if first not in sys.path:
        sys.path.insert(0, first)


def _text(item):
    """A warning or deprecation as the module hands it over (ansible-core 2.19: a summary object), as text."""
    if isinstance(item, dict):
        event = item.get("event") or {}
        return event.get("msg") or item.get("msg") or json.dumps(item, sort_keys=True)
    return str(item)


def _module_output(stdout):
    """The JSON object the module printed last (exit_json/fail_json print a blank line, then it)."""
    for line in reversed(stdout.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise AssertionError("the module printed no result:\n%s" % stdout)


def run_in_process(module, args, *, check, diff, env):
    """(result dict, printed output) of ``module`` (e.g. iamguard.aws.iam_mfa_device) run with ``args`` and ``env`` as os.environ."""
    _importable(env["ANSIBLE_COLLECTIONS_PATH"])
    namespace, collection, name = module.split(".")
    code = importlib.import_module("ansible_collections.%s.%s.plugins.modules.%s" % (namespace, collection, name))
    internal = {"_ansible_check_mode": check, "_ansible_diff": diff, "_ansible_module_name": module}
    printed = io.StringIO()
    # Warnings and deprecations are module-global in ansible-core: each run starts with none.
    ansible_warnings._global_warnings.clear()  # pylint: disable=protected-access
    ansible_warnings._global_deprecations.clear()  # pylint: disable=protected-access
    with patch_module_args(dict(args, **internal)), mock.patch.dict(os.environ, env, clear=True), contextlib.redirect_stdout(printed):
        try:
            code.main()
        except SystemExit:
            pass
    result = _module_output(printed.getvalue())
    result.setdefault("changed", False)
    result["failed"] = bool(result.get("failed"))
    if "warnings" in result:
        result["warnings"] = [_text(item) for item in result["warnings"]]
    deprecations = [_text(item) for item in result.pop("deprecations", None) or []]
    return result, printed.getvalue(), deprecations
