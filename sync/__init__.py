"""Sync runs: full / incremental / census, cursors, idempotent upserts, re-resolution."""
