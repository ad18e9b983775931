"""One package per tracker; vendor SDKs are imported only by each package's ``client.py``."""

if __name__ != "v2mom.connectors":  # installed under the import root (pyproject.toml package-dir)
    raise ImportError(f"import v2mom.connectors, not {__name__}: the top-level folders are v2mom subpackages")
