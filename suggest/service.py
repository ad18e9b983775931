"""Suggestions as the product uses them: train and store a model, retrain when due, suggest.

Training runs in the worker (:func:`retrain_if_due`, after a reconcile pass) or on ``v2mom suggest
train``, never in a request. A model is due when none was trained under the current plan version,
or when the people-tagged items number :data:`RETRAIN_SHARE` more or fewer than it learned from
(and at least :data:`RETRAIN_MIN` of them). A request only loads the newest stored model of the
current plan version (:class:`ModelCache` keeps it loaded until a newer one is stored) and scores.

An item gets suggestions only while nothing tags it (no tag of its own, inherited, or from a rule):
up to three tags, each with its confidence, at or above the floor, none an admin rejected for it,
and none the plan no longer has.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from v2mom.mapping.plan import Plan
from v2mom.mapping.vocabulary import choice_names
from v2mom.store.database import Database
from v2mom.store.items import StoredItem
from v2mom.suggest.corpus import Corpus, Untagged, read_corpus
from v2mom.suggest.model import NotTrainable, Scored, TextModel, train
from v2mom.suggest.quality import DEFAULT_FLOOR, Quality, held_out
from v2mom.suggest.storage import UnreadableModel, dump_model, load_model
from v2mom.suggest.text import learning_text

__all__ = [
    "ModelCache",
    "Suggestion",
    "TrainedModel",
    "bulk_candidates",
    "retrain_if_due",
    "suggestions_for",
    "train_and_store",
    "untagged_suggestions",
]

log = logging.getLogger(__name__)
RETRAIN_SHARE = 0.1
RETRAIN_MIN = 20
BATCH = 500  # untagged items scored at a time


@dataclass(frozen=True)
class Suggestion:
    """A value or a method for an untagged item, how sure, and why."""

    value: str | None
    method: str | None
    confidence: float
    because: list[str]

    @property
    def tag(self) -> str:
        """``value:<id>`` or ``method:<id>``: what an acceptance writes, a rejection remembers."""
        return f"method:{self.method}" if self.method else f"value:{self.value}"

    def as_dict(self) -> dict[str, Any]:
        """The suggestion as the API answers it."""
        return {
            "value": self.value,
            "method": self.method,
            "confidence": self.confidence,
            "because": self.because,
        }


@dataclass(frozen=True)
class TrainedModel:
    """A model just trained and stored: its id, what it learned from and its held-out quality."""

    id: int
    examples: int
    tags: list[str]
    quality: Quality


def _quality_document(quality: Quality) -> dict[str, Any]:
    return {
        "trained_on": quality.trained_on,
        "held_out": quality.held_out,
        "levels": [
            {"confidence": level.confidence, "coverage": level.coverage, "precision": level.precision}
            for level in quality.levels
        ],
    }


def train_and_store(store: Database, plan: Plan, corpus: Corpus | None = None) -> TrainedModel:
    """Measure a model on held-out items, train one on every people-tagged item (of ``corpus`` when
    it was read already), store it under the current plan version. NotTrainable (nothing stored)
    when the store cannot train one."""
    version = store.plans.current_version()
    if corpus is None:
        corpus = read_corpus(store, plan)
    quality = held_out(corpus.examples)
    model = train(corpus.examples)
    model_id = store.suggestions.save(
        plan_version=version,
        examples=len(corpus.examples),
        tags=list(model.tags),
        quality=_quality_document(quality),
        model=dump_model(model),
    )
    log.info(
        "suggestion model %s trained on %d people-tagged items (plan v%d)",
        model_id,
        len(corpus.examples),
        version,
    )
    return TrainedModel(id=model_id, examples=len(corpus.examples), tags=list(model.tags), quality=quality)


def retrain_if_due(store: Database, plan: Plan) -> TrainedModel | None:
    """Train and store a model when one is due (see the module docstring); None when none was
    due or none can be trained (said in the log at info, once per pass)."""
    latest = store.suggestions.latest(store.plans.current_version(), with_model=False)
    corpus = read_corpus(store, plan)
    if latest is not None:
        moved = abs(len(corpus.examples) - latest.examples)
        if moved < max(RETRAIN_MIN, latest.examples * RETRAIN_SHARE):
            return None
    try:
        return train_and_store(store, plan, corpus)
    except NotTrainable as exc:
        log.info("no suggestion model: %s", exc)
        return None


class ModelCache:
    """The newest stored model of the current plan version, loaded once per model stored."""

    def __init__(self) -> None:
        """Start empty."""
        self._lock = threading.Lock()
        self._loaded: tuple[int, TextModel] | None = None

    def current(self, store: Database) -> TextModel | None:
        """The model to suggest with, or None (none trained under the current plan, or unreadable)."""
        newest = store.suggestions.latest(store.plans.current_version(), with_model=False)
        if newest is None:
            return None
        with self._lock:
            if self._loaded is not None and self._loaded[0] == newest.id:
                return self._loaded[1]
            stored = store.suggestions.latest(newest.plan_version)
            if stored is None or stored.model is None:
                return None
            try:
                model = load_model(stored.model)
            except UnreadableModel as exc:
                log.warning("%s: suggestions wait for the next training", exc)
                return None
            self._loaded = (stored.id, model)
            return model


def _suggestion(scored: Scored) -> Suggestion:
    kind, _, ref = scored.tag.partition(":")
    because = [f"words: {', '.join(scored.words)}"] if scored.words else []
    because += [f"like {ref}" for ref in scored.neighbours]
    return Suggestion(
        value=ref if kind == "value" else None,
        method=ref if kind == "method" else None,
        confidence=round(scored.confidence, 4),
        because=because,
    )


def _known_tags(plan: Plan) -> set[str]:
    """Every tag the plan has: ``value:<id>`` and ``method:<id>`` of each choice it offers."""
    return {f"{kind}:{plan_id}" for kind, names in choice_names(plan).items() for plan_id in names}


def _offered(scored: list[Scored], rejected: set[str], known: set[str], floor: float) -> list[Suggestion]:
    """The suggestions among ``scored`` at ``floor``, neither rejected nor gone from the plan."""
    return [
        _suggestion(s) for s in scored if s.confidence >= floor and s.tag not in rejected and s.tag in known
    ]


def untagged_suggestions(
    store: Database, plan: Plan, model: TextModel, trackers: Sequence[str], *, floor: float = DEFAULT_FLOOR
) -> list[tuple[Untagged, list[Suggestion]]]:
    """Every untagged item of ``trackers`` with a suggestion at ``floor``, and its suggestions,
    scored in batches (``v2mom suggest``, the bulk preview)."""
    untagged = read_corpus(store, plan, trackers).untagged
    known = _known_tags(plan)
    out: list[tuple[Untagged, list[Suggestion]]] = []
    for first in range(0, len(untagged), BATCH):
        batch = untagged[first : first + BATCH]
        scored = model.score([item.text for item in batch])
        rejected: dict[tuple[str, str], set[str]] = {}
        for tracker in {item.tracker for item in batch}:
            ids = [item.item_id for item in batch if item.tracker == tracker]
            rejected.update(
                ((tracker, i), tags) for i, tags in store.suggestions.rejected(tracker, ids).items()
            )
        for item, tags in zip(batch, scored, strict=True):
            offered = _offered(tags, rejected.get((item.tracker, item.item_id), set()), known, floor)
            if offered:
                out.append((item, offered))
    return out


def bulk_candidates(
    store: Database, plan: Plan, model: TextModel, tag: str, min_confidence: float, trackers: Sequence[str]
) -> list[tuple[Untagged, float]]:
    """The untagged items of ``trackers`` whose best suggestion is ``tag`` (``value:<id>`` or
    ``method:<id>``) at ``min_confidence`` or more, most confident first: what a bulk acceptance
    previews and then writes."""
    found = [
        (item, offered[0].confidence)
        for item, offered in untagged_suggestions(store, plan, model, trackers, floor=min_confidence)
        if offered[0].tag == tag
    ]
    return sorted(found, key=lambda pair: (-pair[1], pair[0].ref))


def suggestions_for(
    store: Database,
    plan: Plan,
    model: TextModel | None,
    stored: StoredItem,
    *,
    floor: float = DEFAULT_FLOOR,
) -> list[Suggestion]:
    """Up to three suggestions for ``stored``, best first; none when it is tagged (or deleted,
    never resolved), or when there is no model."""
    if model is None or stored.deleted:
        return []
    resolution = store.resolutions.for_item(stored.pk)
    if resolution is None or "untagged" not in resolution["flags"]:
        return []
    item = stored.item
    parent = store.items.by_id(item.tracker, item.parent_id) if item.parent_id else None
    text = learning_text(item, parent.item.title if parent is not None else None)
    rejected = store.suggestions.rejected(item.tracker, [item.id]).get(item.id, set())
    return _offered(model.score([text])[0], rejected, _known_tags(plan), floor)
