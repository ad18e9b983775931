"""Suggestion models and rejections (``Database.suggestions``).

A model is stored as bytes (serialised by :mod:`v2mom.suggest.storage`, never read here) with the
plan version it was trained under: :meth:`SuggestionRepository.latest` gives the newest model of a
plan version, so a model of an older plan is never used for a newer one. Only the newest
:data:`KEEP` models are kept. Rejections are keyed by (tracker, item id, tag): rejecting twice is
one rejection.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select

from v2mom.clock import utcnow
from v2mom.store import schema as t
from v2mom.store.engine import upsert_insert
from v2mom.store.transactions import Repository

__all__ = ["KEEP", "StoredModel", "SuggestionRepository"]

CHUNK = 500  # ids per IN list
KEEP = 3  # models kept (the newest); older ones are deleted when one is saved


@dataclass(frozen=True)
class StoredModel:
    """A stored model's provenance and quality; ``model`` its bytes (None when not asked for)."""

    id: int
    plan_version: int
    trained_at: datetime
    examples: int
    tags: list[str]
    quality: dict[str, Any]
    model: bytes | None = None


class SuggestionRepository(Repository):
    """The ``suggestion_models`` and ``suggestion_rejections`` tables."""

    def save(
        self, *, plan_version: int, examples: int, tags: list[str], quality: dict[str, Any], model: bytes
    ) -> int:
        """Store a model trained under ``plan_version``; its id. Older models beyond :data:`KEEP` go."""
        m = t.suggestion_models.c
        row = {
            "plan_version": plan_version,
            "trained_at": utcnow(),
            "examples": examples,
            "tags": tags,
            "quality": quality,
            "model": model,
        }
        with self._tx.write() as conn:
            model_id = int(conn.execute(insert(t.suggestion_models).values(row).returning(m.id)).scalar_one())
            kept = select(m.id).order_by(m.id.desc()).limit(KEEP).scalar_subquery()
            conn.execute(delete(t.suggestion_models).where(m.id.not_in(kept)))
        return model_id

    def latest(self, plan_version: int, *, with_model: bool = True) -> StoredModel | None:
        """The newest model trained under ``plan_version`` (its bytes unless ``with_model`` is False)."""
        m = t.suggestion_models.c
        columns = [m.id, m.plan_version, m.trained_at, m.examples, m.tags, m.quality]
        if with_model:
            columns.append(m.model)
        query = select(*columns).where(m.plan_version == plan_version).order_by(m.id.desc()).limit(1)
        with self._tx.read() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return StoredModel(
            id=int(row.id),
            plan_version=int(row.plan_version),
            trained_at=row.trained_at,
            examples=int(row.examples),
            tags=list(row.tags),
            quality=dict(row.quality),
            model=bytes(row.model) if with_model else None,
        )

    def count(self) -> int:
        """Models stored."""
        with self._tx.read() as conn:
            return int(conn.execute(select(func.count()).select_from(t.suggestion_models)).scalar_one())

    def reject(self, tracker: str, item_id: str, tag: str, actor: str) -> None:
        """Never offer ``tag`` for the item again (rejecting it again changes nothing)."""
        row = {
            "tracker": tracker,
            "item_id": item_id,
            "tag": tag,
            "rejected_at": utcnow(),
            "rejected_by": actor,
        }
        statement = upsert_insert(self.dialect, t.suggestion_rejections).on_conflict_do_nothing(
            index_elements=["tracker", "item_id", "tag"]
        )
        with self._tx.write() as conn:
            conn.execute(statement, row)

    def rejected(self, tracker: str, item_ids: Iterable[str]) -> dict[str, set[str]]:
        """The tags rejected for each of ``item_ids`` that has any."""
        r = t.suggestion_rejections.c
        ids = sorted(set(item_ids))
        found: dict[str, set[str]] = {}
        with self._tx.read() as conn:
            for first in range(0, len(ids), 500):
                query = select(r.item_id, r.tag).where(
                    r.tracker == tracker, r.item_id.in_(ids[first : first + 500])
                )
                for item_id, tag in conn.execute(query):
                    found.setdefault(item_id, set()).add(tag)
        return found
