"""All SQL: engine, schema, migrations, repositories and the resolution engine (SQLite or PostgreSQL)."""

if __name__ != "v2mom.store":  # installed under the import root (pyproject.toml package-dir)
    raise ImportError(f"import v2mom.store, not {__name__}: the top-level folders are v2mom subpackages")
