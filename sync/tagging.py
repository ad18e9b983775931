"""Tag from the dashboard: an admin sets an item's own value or method, in its tracker and in the store.

``POST /api/items/{tracker}/{key}/tags``: the choice is written to the tracker as the item's own tag
(its ``V2MOM Value`` / ``V2MOM Method`` field, or its Linear group label). Once the tracker took it,
the store holds it as the admin's tag (any record of v2mom-sync having inferred that kind is dropped,
so the webhook echo of the write reads it as the item's own and changes nothing, and write-back
never overwrites it), the audit (kind ``tag``) logs who, when, the item and the tag, and the item
is re-resolved with its descendants, so the report moves at once: all of it in one transaction,
whatever happens next. Then the item is read back from the tracker; when that fails, the answer
says the read-back is pending, and the webhook echo or the next sync brings the tracker's copy.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from v2mom.connectors.base import TagWriter
from v2mom.connectors.registry import build_connector
from v2mom.errors import ConfigError, NotFoundError, TrackerError, V2momError
from v2mom.mapping.resolver import conventions
from v2mom.mapping.vocabulary import choice_names
from v2mom.mapping.writeback import with_choice
from v2mom.metrics import RERESOLVE_SECONDS
from v2mom.models import WorkItem
from v2mom.settings import Settings
from v2mom.store.database import Database
from v2mom.store.resolution.run import remap_changed, remap_changed_within
from v2mom.sync.writeback import write_back_settings
from v2mom.vocabulary import Kind, TagWrite

log = logging.getLogger(__name__)


class TagConflict(ConfigError):
    """The item cannot be tagged yet (no plan, write-back off, vocabulary not provisioned)."""


@dataclass(frozen=True)
class Tagged:
    """A tag the tracker took: the item's current key, and why its read-back is pending (None: done)."""

    key: str
    read_back_pending: str | None = None


def tag_item(
    settings: Settings, store: Database, *, tracker: str, key: str, kind: Kind, plan_id: str, actor: str
) -> Tagged:
    """Set ``kind`` = ``plan_id`` as the own tag of item ``tracker``/``key``.

    ConfigError (422) for a choice the plan lacks; NotFoundError (404) for an item not in the store
    (or deleted, or out of scope); :class:`TagConflict` (409) when the tracker cannot take it yet;
    TrackerError (502) when the tracker refuses the write (nothing is recorded then). Once the
    tracker took it, it is stored and audited even when reading it back fails.
    """
    plan = store.plans.current()
    if plan is None:
        raise TagConflict("no plan is stored: run 'v2mom plan apply plan.yaml' first")
    names = choice_names(plan)[kind]  # a team's values and methods are offered beside the company's
    if plan_id not in names:
        raise ConfigError(f"{kind}: '{plan_id}' is not a {kind} id of the plan")
    stored = store.items.find(tracker, key)
    if stored is None or stored.deleted:
        raise NotFoundError(f"no item {tracker}:{key} in the store", tracker=tracker)
    if not write_back_settings(settings, tracker).enabled:
        raise TagConflict(
            f"write-back is not enabled for {tracker}: set trackers.{tracker}.write_back.enabled: true"
        )
    option = store.vocabulary.offered(tracker).get(kind, {}).get(plan_id)
    if option is None:
        raise TagConflict(
            f"{tracker} offers no option for {kind} '{plan_id}': run 'v2mom trackers provision --apply'"
        )
    connector = build_connector(tracker, settings)
    try:
        if not isinstance(connector, TagWriter):
            raise TagConflict(f"tagging is not supported for {tracker} yet")
        item = stored.item
        (outcome,) = connector.write_tags([TagWrite(item.id, item.key, {kind: option})])
        if not outcome.ok:
            raise TrackerError(f"refused to tag {item.key}: {outcome.error}", tracker=tracker)
        _store_tag(store, item, kind, plan_id, names[plan_id], actor)
        try:
            fresh = connector.get_item(item.id)
        except V2momError as exc:
            log.warning("tagged %s:%s, but reading it back failed (pending): %s", tracker, item.key, exc)
            return Tagged(item.key, read_back_pending=str(exc))
    finally:
        connector.close()
    store.items.upsert([fresh])
    with RERESOLVE_SECONDS.labels(trigger="tag").time():
        remap_changed(store, {tracker: {fresh.id}})
    return Tagged(fresh.key)


def _store_tag(store: Database, item: WorkItem, kind: Kind, plan_id: str, name: str, actor: str) -> None:
    """The tracker took the tag: store it as the item's own, audit it and re-resolve the item's tree."""
    before = [ref for found, ref, _ in conventions(item) if found == kind]
    with store.unit_of_work() as uow:
        uow.writebacks.forget(item.tracker, item.id, kind)
        uow.items.upsert([with_choice(item, kind, name)])
        uow.audit.record(
            "tag",
            actor=actor,
            summary=f"tagged {item.tracker}:{item.key} with {kind} {plan_id} ({name})",
            details={
                "item": {"tracker": item.tracker, "id": item.id, "key": item.key},
                "tag": {"kind": kind, "id": plan_id, "name": name},
                "before": before,
            },
        )
        with RERESOLVE_SECONDS.labels(trigger="tag").time():
            remap_changed_within(uow, {item.tracker: {item.id}})
