"""A pytest plugin closing the run with every skip reason and how many tests it skipped.

``-ra`` lists skips per test location, which for a reason shared by dozens of tests (no
``../shared/contracts`` in a user's clone, no PostgreSQL configured) is easy to scroll past. This
section comes last, one line per reason, so a run that skipped a whole half says so loudly.
"""

from __future__ import annotations

from collections import Counter

import pytest


def skip_reason(report: pytest.TestReport) -> str:
    """The reason ``pytest.skip`` (or a skip marker) gave for a skipped report."""
    longrepr = report.longrepr
    reason = str(longrepr[2]) if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return reason.removeprefix("Skipped: ")


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print ``N skipped: <reason>`` for each reason, most frequent first."""
    reasons = Counter(skip_reason(report) for report in terminalreporter.stats.get("skipped", []))
    if not reasons:
        return
    total = sum(reasons.values())
    terminalreporter.section(f"{total} tests skipped, by reason", sep="=", yellow=True, bold=True)
    for reason, count in reasons.most_common():
        terminalreporter.write_line(f"{count} skipped: {reason}", yellow=True, bold=True)
