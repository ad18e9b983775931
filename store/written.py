"""Reading write-back records on a connection: shared by the items repository (which strips our own
writes from incoming items) and the write-back repository."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, select, update

from v2mom.store import schema as t
from v2mom.vocabulary import Kind, WrittenTags

CHUNK = 500
LABEL_COLUMNS: dict[Kind, tuple[str, str]] = {
    "value": ("value_id", "value_label"),
    "method": ("method_id", "method_label"),
}
# What the item held from v2mom-sync before an unconfirmed write (None once it is settled).
PREVIOUS_COLUMNS: dict[Kind, tuple[str, str]] = {
    kind: (f"prev_{id_column}", f"prev_{label_column}")
    for kind, (id_column, label_column) in LABEL_COLUMNS.items()
}


def _labels(row: Any, columns: dict[Kind, tuple[str, str]]) -> dict[Kind, tuple[str, str]]:
    labels: dict[Kind, tuple[str, str]] = {}
    for kind, (id_column, label_column) in columns.items():
        plan_id, label = getattr(row, id_column), getattr(row, label_column)
        if plan_id is not None and label is not None:
            labels[kind] = (plan_id, label)
    return labels


def as_written(row: Any) -> WrittenTags:
    """A ``writebacks`` row as :class:`~v2mom.vocabulary.WrittenTags`."""
    confirmed = bool(row.confirmed)
    return WrittenTags(
        labels=_labels(row, LABEL_COLUMNS),
        fields_at=row.fields_at,
        link_url=row.link_url,
        confirmed=confirmed,
        previous={} if confirmed else _labels(row, PREVIOUS_COLUMNS),
    )


def label_values(
    kinds: Mapping[Kind, tuple[str, str] | None], columns: dict[Kind, tuple[str, str]] = LABEL_COLUMNS
) -> dict[str, Any]:
    """The ``columns`` of each kind in ``kinds``: its (plan id, label), or None and None when absent."""
    values: dict[str, Any] = {}
    for kind, choice in kinds.items():
        id_column, label_column = columns[kind]
        values[id_column], values[label_column] = choice if choice else (None, None)
    return values


def settled_values(record: WrittenTags) -> dict[str, Any]:
    """The label, previous and ``confirmed`` columns that store ``record`` after a settlement."""
    return {
        **label_values({kind: record.labels.get(kind) for kind in LABEL_COLUMNS}),
        **label_values({kind: record.previous.get(kind) for kind in LABEL_COLUMNS}, PREVIOUS_COLUMNS),
        "confirmed": record.confirmed,
    }


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


def store_settled(conn: Connection, tracker: str, records: Mapping[str, WrittenTags]) -> None:
    """Write the records that readings of their items settled (``mapping.writeback.settle``)."""
    w = t.writebacks.c
    for item_id, record in records.items():
        conn.execute(
            update(t.writebacks)
            .where(w.tracker == tracker, w.item_id == item_id, ~w.confirmed)
            .values(settled_values(record))
        )
