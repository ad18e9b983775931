"""The closing summary names every skip reason with its count, so a skipped half is never silent."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.layout import ROOT

SKIPPING = """
import pytest

@pytest.mark.parametrize("n", range(3))
def test_needs_contracts(n):
    pytest.skip("vendor contracts not found")

@pytest.mark.skip(reason="no PostgreSQL")
def test_needs_postgres():
    pass
"""


def test_the_run_ends_with_each_skip_reason_and_its_count(tmp_path: Path) -> None:
    (tmp_path / "test_sample.py").write_text(SKIPPING)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.skip_summary",
            "-p",
            "no:cacheprovider",
            "-q",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    tail = run.stdout[run.stdout.index("4 tests skipped, by reason") :]
    assert "3 skipped: vendor contracts not found" in tail
    assert "1 skipped: no PostgreSQL" in tail
    assert tail.index("3 skipped") < tail.index("1 skipped")  # most frequent first
