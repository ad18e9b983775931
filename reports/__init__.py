"""Effort-by-value, flags, trend, obstacles and explanations over the store; CSV."""

if __name__ != "v2mom.reports":  # this folder installs under the one import root (see v2mom/__init__.py)
    raise ImportError(f"import v2mom.reports, not {__name__}: the top-level folders are v2mom subpackages")
