"""Alembic migrations, applied on start and by ``v2mom db upgrade``."""
