"""Effort-by-value, flags, trend, obstacles and explanations over the store; CSV."""

if __name__ != "v2mom.reports":  # installed under the import root (pyproject.toml package-dir)
    raise ImportError(f"import v2mom.reports, not {__name__}: the top-level folders are v2mom subpackages")
