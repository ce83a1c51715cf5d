"""Alembic environment: runs on the connection the gateway hands it.

Migrations are written by hand (`versions/`), since the tables are declared by the domains
that own them (`service/<domain>/tables.py`), above the store; tests/service/store/
test_schema.py checks that the migrated store is exactly what those declarations say."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
