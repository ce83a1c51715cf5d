"""Runs features/fail_closed.feature."""

from pytest_bdd import scenarios

scenarios("fail_closed.feature")
