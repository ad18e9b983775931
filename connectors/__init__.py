"""One package per tracker; vendor SDKs are imported only by each package's ``client.py``."""

if __name__ != "v2mom.connectors":  # this folder installs under the one import root (see v2mom/__init__.py)
    raise ImportError(f"import v2mom.connectors, not {__name__}: the top-level folders are v2mom subpackages")
