"""Sync runs: full / incremental / census, cursors, idempotent upserts, the reconcile schedule."""

if __name__ != "v2mom.sync":  # installed under the import root (pyproject.toml package-dir)
    raise ImportError(f"import v2mom.sync, not {__name__}: the top-level folders are v2mom subpackages")
