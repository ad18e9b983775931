"""A sync leaves the stored people's shares computed for what it stored: no change left pending for
the next report to compute."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tests.factories import make_item
from tests.sync.fake_connector import FakeConnector
from v2mom.clock import utcnow
from v2mom.models import State
from v2mom.settings import Settings
from v2mom.store import schema as t
from v2mom.store.database import Database
from v2mom.store.people_time import TimeWindow
from v2mom.sync.service import run_sync
from v2mom.workdays import WorkCalendar

SETTINGS = Settings(
    trackers={
        "jira": {
            "url": "http://127.0.0.1:9",
            "email": "a@example.com",
            "api_token": "t",
            "jql": "project = ONB",
        }
    }  # type: ignore[arg-type]
)


def pending(store: Database) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.people_changes)).scalar_one())


def computed_at(store: Database) -> object:
    with store.engine.connect() as conn:
        return conn.execute(select(t.people_state.c.computed_at)).scalar_one()


def people(store: Database, *, stored: bool) -> int:
    """People counted this week, from the stored shares or computed from the histories."""
    calendar, now = WorkCalendar(work_week=frozenset(range(7))), utcnow()
    days = calendar.workdays(calendar.today(now) - timedelta(days=6), calendar.today(now))
    return store.people_time.facts(TimeWindow(days, now, {}, calendar if stored else None)).people


def test_a_sync_refreshes_the_people_shares_it_changed(store: Database) -> None:
    items = [make_item("1", state=State.IN_PROGRESS, assignee="ada"), make_item("2", state=State.DONE)]
    (first,) = run_sync(SETTINGS, store, connectors={"jira": FakeConnector(items)})
    assert first.ok, first.error
    assert pending(store) == 0
    before = computed_at(store)
    assert people(store, stored=True) == people(store, stored=False) == 1
    moved = items[1].model_copy(
        update={
            "state": State.IN_PROGRESS,
            "assignee": "bob",
            "updated_at": items[1].updated_at + timedelta(hours=1),
        }
    )
    (second,) = run_sync(SETTINGS, store, connectors={"jira": FakeConnector([items[0], moved])})
    assert second.ok, second.error
    assert pending(store) == 0
    assert computed_at(store) != before
    assert people(store, stored=True) == people(store, stored=False) == 2
