"""Stateful fake trackers and a seeded workspace generator (demo, tests and benchmarks only)."""

from pathlib import Path

if __name__ != "v2mom.sandbox":  # installed under the import root (pyproject.toml package-dir)
    raise ImportError(f"import v2mom.sandbox, not {__name__}: the top-level folders are v2mom subpackages")


SAMPLE_PLAN_PATH = Path(__file__).resolve().parent / "sample_plan.yaml"


def given(**fields: object) -> dict[str, object]:
    """The ``fields`` that hold a value: a settings section validated from them keeps its own
    default for each one given as None (``page_size=None``: the tracker's default page size)."""
    return {name: value for name, value in fields.items() if value is not None}
