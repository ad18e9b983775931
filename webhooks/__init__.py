"""Webhook receiving: the group-committed durable inbox, the worker that applies it, registration."""

if __name__ != "v2mom.webhooks":  # installed under the import root (pyproject.toml package-dir)
    raise ImportError(f"import v2mom.webhooks, not {__name__}: the top-level folders are v2mom subpackages")
