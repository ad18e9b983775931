"""Flagged work (untagged, orphaned, conflict), biggest effort first, with keyset pagination."""

from __future__ import annotations

import base64
import binascii
import math
from typing import Any, Literal

from v2mom.mapping.plan import Plan
from v2mom.reports.explain import resolve_stored
from v2mom.store.database import Database

FlagKind = Literal["untagged", "orphaned", "conflict"]
FLAG_KINDS: tuple[FlagKind, ...] = ("untagged", "orphaned", "conflict")
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
) -> dict[str, Any]:
    """Flagged items (any flag when ``kind`` is None), by effort in ``measure`` descending."""
    after = decode_cursor(cursor) if cursor else None
    rows = store.report_queries.flagged(
        kind=kind, measure=measure, limit=limit + 1, after=after, tracker=tracker
    )
    page = rows[:limit]
    stored = store.items.by_pks([row.pk for row in page])
    resolutions = resolve_stored(store, stored, store.plans.current() or Plan())
    items = []
    for row in page:
        flags = [f for f in FLAG_KINDS if getattr(row, f)]
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


def item_document(store: Database, tracker: str, key: str) -> dict[str, Any] | None:
    """One item with its resolution and explanation (``GET /api/items/{tracker}/{key}``)."""
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
    }
