"""Stateful fake trackers and a seeded workspace generator (demo, tests and benchmarks only)."""
