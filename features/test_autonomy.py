"""Runs features/autonomy.feature."""

from pytest_bdd import scenarios

scenarios("autonomy.feature")
