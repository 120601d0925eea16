"""Shared check of the invalid-input tables of the integration tests."""


def assert_each_refused(run_module, module, cases):
    """Each (args, fragment): the module fails and its message names the fragment (the option or rule)."""
    for args, fragment in cases:
        result = run_module(module, args)
        assert result["failed"] is True, args
        assert fragment in result["msg"], (args, result["msg"])
