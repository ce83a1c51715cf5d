"""Runs features/gateway.feature."""

from pytest_bdd import scenarios

scenarios("gateway.feature")
