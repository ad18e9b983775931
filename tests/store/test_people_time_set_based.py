"""People's time is computed set-based in the store's engine, never per item or per day in Python:
the statements a report runs, and the rows it sends to the database, are the same for ten times
the work."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from tests.factories import VALID, make_item
from tests.store.test_people_time import MONDAY, NOW, ONBOARDING, SLO, at, worked
from v2mom.mapping.plan import load_plan
from v2mom.models import ItemTransition, WorkItem
from v2mom.store.database import Database
from v2mom.store.people_time import TimeWindow
from v2mom.store.resolution.run import remap
from v2mom.workdays import WorkCalendar

PEOPLE = ("ada", "bob", "cat", "dan")


@dataclass
class Sent:
    """What crossed between Python and the database: statements, parameter sets sent (an
    ``executemany`` counts each) and rows the queries answered."""

    statements: int = 0
    rows: int = 0
    answered: int = 0


@contextmanager
def counting(store: Database) -> Iterator[Sent]:
    """Count what ``store``'s engine sends while the block runs, then how many rows each query it ran
    answered (each counted again, afterwards, on a connection of its own: the data is committed)."""
    sent = Sent()
    queries: list[tuple[str, Any]] = []

    def after(_conn: Any, cursor: Any, statement: str, parameters: Any, _context: Any, many: bool) -> None:
        sent.statements += 1
        sent.rows += len(parameters) if many else 1
        if cursor.description is not None:
            queries.append((statement, parameters))

    event.listen(store.engine, "after_cursor_execute", after)
    try:
        yield sent
    finally:
        event.remove(store.engine, "after_cursor_execute", after)
    with store.engine.connect() as conn:
        for statement, parameters in queries:
            counted = conn.exec_driver_sql(f"SELECT count(*) FROM ({statement}) AS answered", parameters)
            sent.answered += int(counted.scalar_one())


def work(items: int) -> tuple[list[WorkItem], list[ItemTransition]]:
    """``items`` items, each worked on by one of four people on two or three days of the week."""
    made: list[WorkItem] = []
    changes: list[ItemTransition] = []
    for n in range(items):
        key = str(1000 + n)
        made.append(make_item(key, labels=SLO if n % 2 else ONBOARDING))
        start = n % 3
        changes += worked(key, PEOPLE[n % len(PEOPLE)], at(start), at(start + 2, 17))
    return made, changes


def report(store: Database, items: int) -> Sent:
    """Store ``items`` items' work, then count what one people's-time report sends."""
    made, changes = work(items)
    store.items.upsert(made)
    store.history.record(changes)
    remap(store, load_plan(VALID))
    calendar = WorkCalendar()
    window = TimeWindow(calendar.workdays(MONDAY, MONDAY + timedelta(days=4)), NOW, calendar.accounts)
    with counting(store) as sent:
        facts = store.people_time.facts(window)
        by_team = store.people_time.by_team(window, {"company": [None]})
    assert facts.people == len(PEOPLE)
    assert sum(float(days or 0) for *_, days, _, _, _ in facts.groups) > 0
    assert by_team.everyone == len(PEOPLE)
    return sent


@pytest.fixture
def other_store(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> Iterator[Database]:
    """A second empty store on the same backend as ``store``."""
    if database_url.startswith("sqlite"):
        path = tmp_path / "other.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        urls: Iterator[str] = iter([f"sqlite:///{path}"])
    else:
        urls = request.getfixturevalue("postgres_pool").migrated()
    opened = Database.open(next(urls))
    try:
        yield opened
    finally:
        opened.close()
        for _ in urls:  # the pool's generator hands its database back
            pass


def test_ten_times_the_work_sends_the_same_statements_and_rows(
    store: Database, other_store: Database
) -> None:
    small, large = report(store, 20), report(other_store, 200)
    assert (large.statements, large.rows, large.answered) == (small.statements, small.rows, small.answered)
    assert small.answered < 20  # a few sums, never the items or their days
