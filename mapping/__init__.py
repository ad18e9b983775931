"""The V2MOM plan, its mapping rules, and the pure resolver that tags work items."""

if __name__ != "v2mom.mapping":  # installed under the import root (pyproject.toml package-dir)
    raise ImportError(f"import v2mom.mapping, not {__name__}: the top-level folders are v2mom subpackages")
