"""Evaluation tests (a package, so their module names may repeat other folders', e.g. test_activation)."""
