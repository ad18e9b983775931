"""Reading write-back records on a connection: shared by the items repository (which strips our own
writes from incoming items) and the write-back repository."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, select

from v2mom.store import schema as t
from v2mom.vocabulary import Kind, WrittenTags

CHUNK = 500
LABEL_COLUMNS: dict[Kind, tuple[str, str]] = {
    "value": ("value_id", "value_label"),
    "method": ("method_id", "method_label"),
}


def as_written(row: Any) -> WrittenTags:
    """A ``writebacks`` row as :class:`~v2mom.vocabulary.WrittenTags`."""
    labels: dict[Kind, tuple[str, str]] = {}
    for kind, (id_column, label_column) in LABEL_COLUMNS.items():
        plan_id, label = getattr(row, id_column), getattr(row, label_column)
        if plan_id is not None and label is not None:
            labels[kind] = (plan_id, label)
    return WrittenTags(
        labels=labels, fields_at=row.fields_at, link_url=row.link_url, confirmed=bool(row.confirmed)
    )


def has_written(conn: Connection, tracker: str) -> bool:
    """True when ``tracker`` has any write-back record."""
    w = t.writebacks.c
    return conn.execute(select(w.item_id).where(w.tracker == tracker).limit(1)).first() is not None


def written_records(
    conn: Connection, tracker: str, item_ids: Iterable[str] | None = None
) -> dict[str, WrittenTags]:
    """The records of ``tracker`` (of ``item_ids`` only, when given), by item id."""
    w = t.writebacks.c
    query = select(t.writebacks).where(w.tracker == tracker)
    if item_ids is None:
        return {row.item_id: as_written(row) for row in conn.execute(query)}
    ids = list(item_ids)
    out: dict[str, WrittenTags] = {}
    for start in range(0, len(ids), CHUNK):
        for row in conn.execute(query.where(w.item_id.in_(ids[start : start + CHUNK]))):
            out[row.item_id] = as_written(row)
    return out
