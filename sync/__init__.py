"""Sync runs: full / incremental / census, cursors, idempotent upserts, the reconcile schedule."""

if __name__ != "v2mom.sync":  # this folder installs under the one import root (see v2mom/__init__.py)
    raise ImportError(f"import v2mom.sync, not {__name__}: the top-level folders are v2mom subpackages")
