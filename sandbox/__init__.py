"""Stateful fake trackers and a seeded workspace generator (demo, tests and benchmarks only)."""

from pathlib import Path

if __name__ != "v2mom.sandbox":  # installed under the import root (pyproject.toml package-dir)
    raise ImportError(f"import v2mom.sandbox, not {__name__}: the top-level folders are v2mom subpackages")


SAMPLE_PLAN_PATH = Path(__file__).resolve().parent / "sample_plan.yaml"
