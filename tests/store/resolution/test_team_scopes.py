"""Which team the engine gives an item that names no container of its own: its parent's container's,
read together with the item's own Jira components when a team claims components."""

from __future__ import annotations

from sqlalchemy import select

from tests.factories import make_item
from tests.mapping.test_cascade import cascade
from v2mom.mapping.plan import load_plan
from v2mom.models import Level
from v2mom.store import schema as t
from v2mom.store.database import Database
from v2mom.store.resolution.run import remap


def teams_of(store: Database) -> dict[str, str | None]:
    i, r = t.items.c, t.resolutions.c
    with store.engine.connect() as conn:
        rows = conn.execute(select(i.key, r.team_id).join_from(t.items, t.resolutions, r.item_pk == i.pk))
        return {key: team for key, team in rows}


def test_an_item_without_a_container_is_in_its_parents_containers_team(store: Database) -> None:
    """The retry squad claims the Jira component Retry inside Payments' projects. A story without a
    project of its own, under an ONB epic, carrying Retry, is the squad's: no other item reads as
    (ONB, Retry), so only reading its parent's container finds it; without Retry it is Payments'. An
    Asana subtask under a task of Payments' project is Payments'; one under a parent outside the
    store is the company's."""
    store.items.upsert(
        [
            make_item("1", key="ONB-1", level=Level.EPIC, points=1.0),
            make_item("2", key="ONB-2", parent_id="1", container=None, components=("Retry",), points=2.0),
            make_item("3", key="ONB-3", parent_id="1", container=None, points=3.0),
            make_item("4", key="PLAT-4", container="PLAT", points=1.0),
            make_item("a1", tracker="asana", key="a1", container="1201000000000", points=1.0),
            make_item("a2", tracker="asana", key="a2", container=None, parent_id="a1", level=Level.SUBTASK),
            make_item("a3", tracker="asana", key="a3", container=None, parent_id="gone", level=Level.SUBTASK),
        ]
    )
    remap(store, load_plan(cascade()))
    assert teams_of(store) == {
        "ONB-1": "payments",
        "ONB-2": "retries",
        "ONB-3": "payments",
        "PLAT-4": "payments",
        "a1": "payments",
        "a2": "payments",
        "a3": None,
    }
