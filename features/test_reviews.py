"""Runs features/reviews.feature."""

from pytest_bdd import scenarios

scenarios("reviews.feature")
