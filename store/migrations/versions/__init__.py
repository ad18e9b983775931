"""Alembic revisions (a package so that non-editable installs ship them)."""
