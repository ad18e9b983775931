"""Alembic environment: runs on the connection ``v2mom.store.migrate`` hands it."""

from __future__ import annotations

from alembic import context

from v2mom.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through v2mom.store.migrate.upgrade(engine)")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
