"""Shared fixtures for tests/ and features/ live in tests/fixtures.py."""

pytest_plugins = ["tests.fixtures", "tests.service.mcp.node_clients", "features.steps.reviews"]
