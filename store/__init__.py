"""All SQL: engine, schema, migrations, repositories and the resolution engine (SQLite or PostgreSQL)."""

if __name__ != "v2mom.store":  # this folder installs under the one import root (see v2mom/__init__.py)
    raise ImportError(f"import v2mom.store, not {__name__}: the top-level folders are v2mom subpackages")
