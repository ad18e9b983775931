"""Fixtures shared by the report and API tests."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import T0, VALID, make_item
from v2mom.mapping.plan import load_plan
from v2mom.models import Level, State
from v2mom.store.database import Database
from v2mom.store.resolution.run import remap


@pytest.fixture
def seeded(store: Database) -> Database:
    """An epic tagged by label with three stories; one untagged story; one orphaned subtask."""
    store.items.upsert(
        [
            make_item(
                "10", key="ONB-1", level=Level.EPIC, labels=("method:self-serve-onboarding",), points=40.0
            ),
            make_item("11", key="ONB-2", parent_id="10", points=5.0, state=State.DONE, completed_at=T0),
            make_item("12", key="ONB-3", parent_id="10", points=3.0),
            make_item("13", key="ONB-4", parent_id="10", labels=("value:reliability",), points=2.0),
            make_item("14", key="ONB-5", points=8.0, state=State.DONE, completed_at=T0 + timedelta(days=20)),
            make_item("15", key="ONB-6", level=Level.SUBTASK, parent_id="999", points=1.0),
        ]
    )
    plan = load_plan(VALID)
    store.plans.save(plan, actor="test")
    remap(store, plan)
    return store
