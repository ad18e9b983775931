"""Stateful fake trackers and a seeded workspace generator (demo, tests and benchmarks only)."""

from pathlib import Path

SAMPLE_PLAN_PATH = Path(__file__).resolve().parent / "sample_plan.yaml"
