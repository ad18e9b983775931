"""Flagged work (untagged, orphaned, conflict, unaligned), biggest effort first, with keyset pagination."""

from __future__ import annotations

import base64
import binascii
import math
from datetime import date
from typing import Any, Literal

from v2mom.mapping.plan import Plan
from v2mom.reports.explain import resolve_stored
from v2mom.reports.people_time import item_time
from v2mom.store.database import Database
from v2mom.store.items import StoredItem
from v2mom.store.report_queries import StateFilter
from v2mom.workdays import WorkCalendar

FlagKind = Literal["untagged", "orphaned", "conflict", "unaligned"]
# What the counts always count; a plan with teams adds unaligned work (see ``flag_counts``).
FLAG_KINDS: tuple[FlagKind, ...] = ("untagged", "orphaned", "conflict")
LISTED_KINDS: tuple[FlagKind, ...] = (*FLAG_KINDS, "unaligned")
MAX_PK = 2**63 - 1  # keys are 64-bit database ids: a bigger one would overflow the driver (500)


class CursorError(ValueError):
    """A pagination cursor that this server did not issue."""


def encode_cursor(effort: float, pk: int) -> str:
    """An opaque cursor after the row (effort, pk)."""
    return base64.urlsafe_b64encode(f"{effort!r}|{pk}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, int]:
    """Inverse of ``encode_cursor``; CursorError for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        effort_text, pk_text = raw.split("|")
        effort, pk = float(effort_text), int(pk_text)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise CursorError("cursor: not a cursor this server issued") from None
    # Issued cursors hold a finite effort and a row's key: anything else was crafted.
    if not math.isfinite(effort) or not 1 <= pk <= MAX_PK:
        raise CursorError("cursor: not a cursor this server issued (its position is out of range)")
    return effort, pk


def list_flags(
    store: Database,
    *,
    kind: FlagKind | None,
    measure: str = "points",
    limit: int = 50,
    cursor: str | None = None,
    tracker: str | None = None,
    text: str | None = None,
) -> dict[str, Any]:
    """Flagged items (any flag when ``kind`` is None), by effort in ``measure`` descending.

    ``tracker`` and ``text`` (in the key or title, any case) narrow the list; a cursor stays valid
    under any filter, since it marks a place in the effort order.
    """
    after = decode_cursor(cursor) if cursor else None
    rows = store.report_queries.flagged(
        kind=kind, measure=measure, limit=limit + 1, after=after, tracker=tracker, text=text or None
    )
    page = rows[:limit]
    stored = store.items.by_pks([row.pk for row in page])
    resolutions = resolve_stored(store, stored, store.plans.current() or Plan())
    items = []
    for row in page:
        flags = [f for f in LISTED_KINDS if getattr(row, f)]
        items.append(
            {
                "tracker": row.tracker,
                "key": row.key,
                "title": row.title,
                "url": row.url,
                "flags": flags,
                "reasons": list(resolutions[row.pk].reasons) if row.pk in resolutions else [],
                "effort": float(row.effort),
            }
        )
    next_cursor = encode_cursor(float(page[-1].effort), page[-1].pk) if len(rows) > limit else None
    return {"items": items, "next_cursor": next_cursor}


def value_items(
    store: Database,
    *,
    value_id: str,
    measure: str = "points",
    limit: int = 50,
    cursor: str | None = None,
    method_id: str | None = None,
    state: StateFilter = "all",
    tracker: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> dict[str, Any]:
    """The items counted under a value (its share of each item's effort), biggest first, paged like
    ``list_flags``; ``method`` names the method the share comes through (the first, when several)."""
    after = decode_cursor(cursor) if cursor else None
    rows = store.report_queries.value_items(
        value_id=value_id,
        measure=measure,
        limit=limit + 1,
        after=after,
        method_id=method_id,
        state=state,
        tracker=tracker,
        date_from=date_from,
        date_to=date_to,
    )
    page = rows[:limit]
    items = [
        {
            "tracker": row.tracker,
            "key": row.key,
            "title": row.title,
            "url": row.url,
            "method": row.method_id,
            "methods": row.methods,
            "effort": row.effort,
        }
        for row in page
    ]
    next_cursor = encode_cursor(page[-1].effort, page[-1].pk) if len(rows) > limit else None
    return {"value": value_id, "items": items, "next_cursor": next_cursor}


def flag_counts(
    store: Database, *, measure: str = "points", tracker: str | None = None, text: str | None = None
) -> dict[str, dict[str, float | int]]:
    """How many items each flag lists (with their effort), under the same filters as ``list_flags``.

    ``unaligned`` is counted only when the stored plan has teams: without them no work can be
    unaligned, and the answer keeps the three kinds it always had.
    """
    plan = store.plans.current()
    teams = plan is not None and plan.teams is not None
    counts = store.report_queries.flag_counts(
        measure=measure, tracker=tracker, text=text or None, unaligned=teams
    )
    kinds = LISTED_KINDS if teams else FLAG_KINDS
    return {kind: {"items": counts[kind][0], "effort": counts[kind][1]} for kind in kinds}


def item_document(
    store: Database,
    tracker: str,
    key: str,
    calendar: WorkCalendar = WorkCalendar(),  # frozen: one shared default is safe
    *,
    date_from: date | None = None,
    date_to: date | None = None,
) -> dict[str, Any] | None:
    """One item with its resolution and explanation (``GET /api/items/{tracker}/{key}``), and its
    person-days in ``date_from``..``date_to`` (default: the last 90 days in ``calendar``'s zone)."""
    stored = store.items.find(tracker, key)
    if stored is None:
        return None
    item = stored.item.model_dump(mode="json")
    resolution = store.resolutions.for_item(stored.pk)
    if resolution is not None and not stored.deleted:
        live = resolve_stored(store, [stored], store.plans.current() or Plan())[stored.pk]
        resolution = {**live.to_dict(), "effort": resolution["effort"]}
    return {
        "tracker": tracker,
        "key": stored.item.key,
        "deleted": stored.deleted,
        "item": item,
        "resolution": resolution,
        "explanation": (resolution or {}).get("explanation", []),
        "ancestors": ancestors(store, stored),
        "people_time": item_time(store, calendar, stored.pk, date_from, date_to),
    }


MAX_DEPTH = 32  # deeper than any tracker's hierarchy; a longer chain is a cycle in the data


def ancestors(store: Database, stored: StoredItem) -> list[dict[str, Any]]:
    """The item's parent chain, nearest first, as stored: each parent's key, title and link, ending at
    the root, at a deleted parent, or at a parent the store does not hold (``found`` false)."""
    chain: list[dict[str, Any]] = []
    tracker, seen = stored.item.tracker, {stored.item.id}
    child = stored.item
    parent_id = child.parent_id
    while parent_id and parent_id not in seen and len(chain) < MAX_DEPTH:
        seen.add(parent_id)
        parent = store.items.by_id(tracker, parent_id)
        if parent is None:
            chain.append(
                {
                    "tracker": tracker,
                    "id": parent_id,
                    "key": child.parent_key,  # as the tracker named it with its child, when it did
                    "title": None,
                    "url": None,
                    "found": False,
                    "deleted": False,
                }
            )
            break
        chain.append(
            {
                "tracker": tracker,
                "id": parent_id,
                "key": parent.item.key,
                "title": parent.item.title,
                "url": parent.item.url,
                "found": True,
                "deleted": parent.deleted,
            }
        )
        if parent.deleted:
            break
        child = parent.item
        parent_id = child.parent_id
    return chain
