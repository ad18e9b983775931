"""Tag from the dashboard: an admin sets an item's own value or method, in its tracker and in the store.

``POST /api/items/{tracker}/{key}/tags``: the choice is written to the tracker as the item's own tag
(its ``V2MOM Value`` / ``V2MOM Method`` field, or its Linear group label), then the item is read
back from the tracker, stored and re-resolved with its descendants, so the report moves at once.
It is a person's tag: any record of v2mom-sync having inferred that kind is dropped, so the webhook
echo of the write reads it as the item's own (changing nothing), and write-back never overwrites it.
Audit-logged with who and when.
"""

from __future__ import annotations

from v2mom.connectors.base import TagWriter
from v2mom.connectors.registry import build_connector
from v2mom.errors import ConfigError, NotFoundError, TrackerError
from v2mom.mapping.resolver import conventions
from v2mom.metrics import RERESOLVE_SECONDS
from v2mom.settings import Settings
from v2mom.store.database import Database
from v2mom.store.remap import remap_changed
from v2mom.sync.provision import state_key
from v2mom.sync.writeback import write_back_settings
from v2mom.vocabulary import Kind, TagWrite


class TagConflict(ConfigError):
    """The item cannot be tagged yet (no plan, write-back off, vocabulary not provisioned)."""


def tag_item(
    settings: Settings, store: Database, *, tracker: str, key: str, kind: Kind, plan_id: str, actor: str
) -> str:
    """Set ``kind`` = ``plan_id`` as the own tag of item ``tracker``/``key``; returns its current key.

    ConfigError (422) for a choice the plan lacks; NotFoundError (404) for an item not in the store
    (or deleted, or out of scope); :class:`TagConflict` (409) when the tracker cannot take it yet;
    TrackerError (502) when the tracker refuses the write (nothing is recorded then).
    """
    plan = store.plans.current()
    if plan is None:
        raise TagConflict("no plan is stored: run 'v2mom plan apply plan.yaml' first")
    known = {v.id for v in plan.values} if kind == "value" else {m.id for m in plan.methods}
    if plan_id not in known:
        raise ConfigError(f"{kind}: '{plan_id}' is not a {kind} id of the plan")
    stored = store.items.find(tracker, key)
    if stored is None or stored.deleted:
        raise NotFoundError(f"no item {tracker}:{key} in the store", tracker=tracker)
    if not write_back_settings(settings, tracker).enabled:
        raise TagConflict(
            f"write-back is not enabled for {tracker}: set trackers.{tracker}.write_back.enabled: true"
        )
    option = store.sync_state.get_tracker_state(state_key(tracker)).get(kind, {}).get(plan_id)
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
        store.writebacks.forget(tracker, item.id, kind)
        fresh = connector.get_item(item.id)
    finally:
        connector.close()
    before = [ref for found, ref, _ in conventions(item) if found == kind]
    store.items.upsert([fresh])
    with RERESOLVE_SECONDS.labels(trigger="tag").time():
        remap_changed(store, {tracker: {fresh.id}})
    store.writebacks.audit_tag(
        actor=actor,
        tracker=tracker,
        item_id=fresh.id,
        key=fresh.key,
        kind=kind,
        plan_id=plan_id,
        before=before,
    )
    return fresh.key
