"""The harness fails a run that prints a deprecation warning (tests/integration/conftest.py).

ansible-core 2.19 deprecates ``warnings=`` in exit_json/fail_json (removed in 2.23): a module of
ours doing that must fail the tests, as it would fail a later ansible-core.
"""

from __future__ import annotations

import pytest
import yaml

MODULE = """#!/usr/bin/python
from ansible.module_utils.basic import AnsibleModule

module = AnsibleModule(argument_spec={"old_style": {"type": "bool"}})
if module.params["old_style"]:
    module.exit_json(changed=False, warnings=["said the old way"])
module.warn("said the new way")
module.exit_json(changed=False)
"""


def test_a_deprecation_printed_by_a_run_fails_its_test(run_playbook, tmp_path):
    (tmp_path / "library").mkdir()
    (tmp_path / "library" / "speaks.py").write_text(MODULE, encoding="utf-8")
    path = tmp_path / "playbook.yml"
    for old_style in (False, True):
        path.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": [{"speaks": {"old_style": old_style}}]}]))
        if not old_style:
            assert run_playbook(str(path)).rc == 0
            continue
        with pytest.raises(pytest.fail.Exception) as caught:
            run_playbook(str(path))
        assert "[DEPRECATION WARNING]" in str(caught.value) and "warnings" in str(caught.value)
