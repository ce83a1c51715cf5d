"""Shared fixtures for tests/ and features/ live in tests/fixtures.py."""

pytest_plugins = ["tests.fixtures", "features.steps.reviews"]
