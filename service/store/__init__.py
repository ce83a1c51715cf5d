"""Persistence: tables, the database, migrations and the UTC column type."""
