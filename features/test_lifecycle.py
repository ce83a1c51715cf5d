"""Runs features/lifecycle.feature."""

from pytest_bdd import scenarios

scenarios("lifecycle.feature")
