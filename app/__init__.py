"""Delivery: the FastAPI app and routes, the dashboard's static files, the CLI, the demo and serve wiring."""

if __name__ != "v2mom.app":  # installed under the import root (pyproject.toml package-dir)
    raise ImportError(f"import v2mom.app, not {__name__}: the top-level folders are v2mom subpackages")
