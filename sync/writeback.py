"""``v2mom writeback``: write inferred values, methods and explanation links into each tracker.

For each tracker whose ``write_back.enabled`` is on: every live item in the store (the configured
scope, as the last sync and the webhooks left it) whose value or method was inferred gets the
tracker's ``V2MOM Value`` / ``V2MOM Method`` choice set (``mapping.writeback`` decides what), and each
written item one link to its explanation page. An item the tracker cannot let hold the choice (an
Asana subtask outside every configured project) is named in ``skipped`` with the reason, and
nothing is sent for it; so is a choice the tracker offers no option for yet (not provisioned, or
on Jira Data Center not added by an administrator), while the item's other kind is still written.
The preview and the run compute the same plan, so the counts a preview
prints are the writes a run makes.

One run per tracker at a time, across processes (the ``writeback-<tracker>`` lock): a second run
is refused as busy before it writes anything (:class:`WriteBackBusy`), so two runs never both create
a link. A run first settles the writes an earlier run left unconfirmed (failed, cut short, killed):
it reads those items back from the tracker and stores them, and the store decides from what each
holds (``mapping.writeback.settle``); an item it cannot read back is left out of this run.

A run writes in batches (the connector fits them to the vendor's limits). Each batch is recorded
as unconfirmed before it is sent (the echo webhook of a write can arrive before the call returns),
keeping what the items held before; then confirmed for what the tracker took and restored for what
it refused. A batch that fails as a whole, or a process killed mid-batch, leaves its records
unconfirmed: both the old and the new value stay ours until a reading settles them, so no value we
wrote turns into a person's tag and the report does not move. Links are recorded per
:data:`LINK_BATCH`, so an interrupted run resumes with what is still missing. An item the tracker
refuses is named with its reason and the rest continue; a tracker that fails as a whole
(credentials, no vocabulary) is named and the other trackers still run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from v2mom.connectors.base import ItemReader, TagWriter
from v2mom.connectors.registry import connector_with
from v2mom.errors import ConfigError, NotFoundError, V2momError
from v2mom.mapping.plan import Plan
from v2mom.mapping.vocabulary import choice_names
from v2mom.mapping.writeback import inferred_choices, person_kinds, plan_item_write
from v2mom.metrics import RERESOLVE_SECONDS
from v2mom.models import Level, WorkItem
from v2mom.settings import Settings, WriteBackSettings
from v2mom.store.database import Database
from v2mom.store.resolution.run import remap_changed
from v2mom.vocabulary import Kind, LinkWrite, TagWrite, WriteOutcome

BATCH = 5000  # items per write_tags call (the connector splits to its vendor's limits)
LINK_BATCH = 50  # links per write_links call: each call's links are recorded before the next is sent
WriterFor = Callable[[str], TagWriter]
Progress = Callable[[str, int, int], None]  # (tracker, done, total)


class WriteBackDisabled(ConfigError):
    """No selected tracker has ``write_back.enabled``: nothing may be written."""


class WriteBackBusy(V2momError):
    """Another write-back run of the same tracker holds its lock (409 over HTTP): nothing was written."""


@dataclass
class FieldWrite:
    """One item's planned field writes: per kind, the plan id to select (None: clear)."""

    item: WorkItem
    changes: dict[Kind, str | None]


@dataclass
class TrackerWriteback:
    """One tracker's part of a write-back: what it needs (the preview) and, once run, what happened."""

    tracker: str
    fields: list[FieldWrite] = field(default_factory=list)
    links: list[LinkWrite] = field(default_factory=list)
    values: Counter[str] = field(default_factory=Counter)
    methods: Counter[str] = field(default_factory=Counter)
    cleared: int = 0
    notes: list[str] = field(default_factory=list)
    applied: bool = False
    written: int = 0
    linked: int = 0
    refused: list[str] = field(default_factory=list)
    skipped: list[str] = field(
        default_factory=list
    )  # "key: why" of items (or choices) that cannot be written
    settled: int = 0  # unconfirmed writes of an earlier run read back before this one
    unsettled: int = 0  # of those, items that could not be read back: left out of this run
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True unless the tracker failed or refused an item."""
        return self.error is None and not self.refused


def item_url(public_url: str, tracker: str, key: str) -> str:
    """The explanation page of an item: ``{public_url}/items/{tracker}/{key}``."""
    return f"{public_url}/items/{tracker}/{quote(key, safe='')}"


OUTSIDE_PROJECTS = (
    "an Asana subtask in none of the configured projects holds none of their custom fields:"
    " add it to one of trackers.asana.projects to have it written"
)


NO_OPTION = (
    "not writable: the tracker offers no option for it yet"
    " (see 'v2mom trackers provision'; on Jira Data Center an administrator adds it)"
)


def unheld_reason(item: WorkItem) -> str | None:
    """Why the tracker cannot let the item hold the value / method choice (None: it can).

    Asana and Linear projects are container items, not tasks or issues: nothing to set. An Asana
    task holds its projects' custom fields, and so does a subtask added to a configured project
    (``member_of``); a subtask outside every project holds none, and Asana refuses the write. A
    connector's ``unsupported`` outcome covers any other such item.
    """
    if item.level is Level.CONTAINER:
        return "a project holds no value or method of its own"
    if item.tracker == "asana" and item.container is None and item.member_of is None:
        return OUTSIDE_PROJECTS
    return None


def write_back_settings(settings: Settings, tracker: str) -> WriteBackSettings:
    """``trackers.<tracker>.write_back`` (off for a tracker with no section)."""
    section = getattr(settings.trackers, tracker)
    return section.write_back if section is not None else WriteBackSettings()


def selected_trackers(settings: Settings, tracker: str | None) -> list[str]:
    """The trackers a write-back covers: ``tracker`` or every configured one with write-back enabled.

    ConfigError for an unconfigured ``tracker``; :class:`WriteBackDisabled` when none is enabled.
    """
    names = settings.trackers.selected(tracker)
    enabled = [name for name in names if write_back_settings(settings, name).enabled]
    if not enabled:
        where = f"trackers.{tracker}" if tracker else "trackers.<tracker>"
        raise WriteBackDisabled(
            f"write-back is not enabled: set {where}.write_back.enabled: true in the settings to allow it"
        )
    return enabled


def plan_tracker(
    settings: Settings, store: Database, plan: Plan, tracker: str, *, leave: frozenset[str] = frozenset()
) -> TrackerWriteback:
    """What a write-back would do in ``tracker`` (no tracker call is made); items in ``leave`` (ids
    whose earlier write could not be settled) are left as they are."""
    result = TrackerWriteback(tracker)
    wb = write_back_settings(settings, tracker)
    offered = store.vocabulary.offered(tracker)
    names = choice_names(plan)
    records = store.writebacks.records(tracker)
    missing: set[str] = set()
    want_links = wb.links and settings.public_url is not None
    if wb.links and settings.public_url is None:
        result.notes.append("links skipped: set public_url in the settings so links know where to point")
    for candidate in store.items.resolved(tracker):
        item = candidate.stored.item
        if item.level is Level.CONTAINER or item.id in leave:
            continue
        written = records.get(item.id)  # a pending write's kinds are sent again (plan_item_write)
        choices = inferred_choices(candidate.shares, conflict=candidate.conflict, untagged=candidate.untagged)
        planned = plan_item_write(choices, person_kinds(item), written, fields=wb.fields)
        unheld = unheld_reason(item)
        if unheld is not None:  # named when there was something to write, so the preview says why not
            if any(planned.values()):
                result.skipped.append(f"{item.key}: {unheld}")
            continue
        changes: dict[Kind, str | None] = {}
        unwritable: list[str] = []
        for kind, plan_id in planned.items():
            if plan_id is not None and plan_id not in offered.get(kind, {}):
                missing.add(f"{kind} {plan_id}")
                unwritable.append(f"{kind} '{names[kind].get(plan_id, plan_id)}'")
                continue
            changes[kind] = plan_id
        if unwritable:
            result.skipped.append(f"{item.key}: {' and '.join(unwritable)} {NO_OPTION}")
        if changes:
            result.fields.append(FieldWrite(item, changes))
            result.values.update(p for k, p in changes.items() if k == "value" and p)
            result.methods.update(p for k, p in changes.items() if k == "method" and p)
            result.cleared += any(p is None for p in changes.values())
        holds = any(p for p in changes.values()) or bool(written and written.labels)
        if want_links and holds and settings.public_url is not None:
            url = item_url(settings.public_url, tracker, item.key)
            if written is None or written.link_url != url:
                result.links.append(
                    LinkWrite(item.id, item.key, url, f"V2MOM: why {item.key} counts where it does")
                )
    if missing:
        result.notes.append(
            f"{len(missing)} plan choice(s) not offered in {tracker} ({', '.join(sorted(missing)[:5])}): "
            "run 'v2mom trackers provision --apply' first"
        )
    return result


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _apply(
    store: Database, plan: Plan, result: TrackerWriteback, writer: TagWriter, progress: Progress | None
) -> None:
    offered = store.vocabulary.offered(result.tracker)
    names = choice_names(plan)
    total, done = len(result.fields) + len(result.links), 0
    taken_ids: set[str] = set()
    for batch in _chunks(result.fields, BATCH):
        writes = [
            TagWrite(w.item.id, w.item.key, {k: offered[k][p] if p else None for k, p in w.changes.items()})
            for w in batch
        ]
        # Recorded (unconfirmed) before sending: the echo of a write may arrive before the call returns,
        # and the call may fail after the tracker took some of it. Each record keeps the item's
        # updated_at as we knew it: a later reading no newer than that predates the write (the
        # tracker's own clock on both sides, so no clock skew enters).
        store.writebacks.begin(
            result.tracker,
            {
                w.item.id: (
                    {k: (p, names[k][p]) if p else None for k, p in w.changes.items()},
                    w.item.updated_at,
                )
                for w in batch
            },
        )
        outcomes = writer.write_tags(writes)  # raising: the batch stays unconfirmed, settled next run
        taken = _taken(result, batch, outcomes, lambda w: (w.item.id, w.item.key))
        taken_now = {w.item.id for w in taken}
        store.writebacks.confirm(result.tracker, taken_now)
        store.writebacks.restore(result.tracker, [w.item.id for w in batch if w.item.id not in taken_now])
        result.written += len(taken)
        taken_ids.update(taken_now)
        done += len(batch)
        if progress:
            progress(result.tracker, done, total)
    missed = {w.item.id for w in result.fields} - taken_ids  # refused: they hold nothing to explain
    result.links = [link for link in result.links if link.item_id not in missed]
    total = len(result.fields) + len(result.links)
    for links in _chunks(result.links, LINK_BATCH):
        outcomes = writer.write_links(links)
        linked = _taken(result, links, outcomes, lambda link: (link.item_id, link.key))
        store.writebacks.record_links(result.tracker, {link.item_id: link.url for link in linked})
        result.linked += len(linked)
        done += len(links)
        if progress:
            progress(result.tracker, done, total)


def read_back_pending(store: Database, tracker: str, reader: ItemReader) -> tuple[set[str], frozenset[str]]:
    """Read back every item whose write an earlier run left unconfirmed and store it: the store
    settles each record from what the tracker holds (``mapping.writeback.settle``). Returns the ids
    read back (to re-resolve) and those that could not be (gone or out of scope: their records are
    left as they are; a sync's census settles the item itself).

    A reading no newer than the write predates it: the tracker did not take it, so it holds what it
    held before and the record stays pending, as when it shows the old value; the next write-back
    sends it again.
    """
    fresh, missing = [], set()
    for item_id in store.writebacks.unconfirmed(tracker):
        try:
            fresh.append(reader.get_item(item_id))
        except NotFoundError:
            missing.add(item_id)
    store.items.upsert(fresh)
    return {item.id for item in fresh}, frozenset(missing)


def settle_pending(store: Database, tracker: str, reader: ItemReader) -> tuple[int, frozenset[str]]:
    """:func:`read_back_pending`, then re-resolve what was read; returns how many were read back
    and the ids that could not be."""
    read, missing = read_back_pending(store, tracker, reader)
    if read:
        with RERESOLVE_SECONDS.labels(trigger="sync").time():
            remap_changed(store, {tracker: read})
    return len(read), missing


def _taken(
    result: TrackerWriteback,
    sent: list[Any],
    outcomes: list[WriteOutcome],
    ident: Callable[[Any], tuple[str, str]],
) -> list[Any]:
    """The members of ``sent`` the tracker took; its refusals go to ``result.refused``."""
    by_id = {outcome.item_id: outcome for outcome in outcomes}
    taken = []
    for member in sent:
        item_id, key = ident(member)
        outcome = by_id.get(item_id)
        if outcome is None:
            result.refused.append(f"{key}: the tracker gave no answer for it")
        elif outcome.ok:
            taken.append(member)
        elif outcome.unsupported:
            result.skipped.append(f"{key}: {outcome.error}")
        else:
            result.refused.append(f"{key}: {outcome.error}")
    return taken


def writer_for(settings: Settings) -> WriterFor:
    """Each tracker's connector as a TagWriter; ConfigError for one that cannot write."""
    # A runtime-checkable Protocol is a valid isinstance() class; mypy (python/mypy#4717) disagrees.
    return lambda tracker: connector_with(tracker, settings, TagWriter, "write-back")  # type: ignore[type-abstract]


def writeback(
    settings: Settings,
    store: Database,
    *,
    apply: bool,
    tracker: str | None = None,
    writers: WriterFor | None = None,
    progress: Progress | None = None,
    actor: str = "system",
) -> list[TrackerWriteback]:
    """Preview (or, with ``apply``, run) the write-back of every enabled tracker (or ``tracker``).

    A run is audited once it has finished (kind ``writeback``, by ``actor``): per tracker, its counts
    and errors.

    ConfigError when no plan is stored or ``tracker`` is not configured; :class:`WriteBackDisabled`
    when none of the selected trackers has write-back enabled; :class:`WriteBackBusy` when another
    run of one of them is under way (nothing is written then).
    """
    plan = store.plans.current()
    if plan is None:
        raise ConfigError("no plan is stored: run 'v2mom plan apply plan.yaml' first")
    names = selected_trackers(settings, tracker)
    if not apply:
        return [plan_tracker(settings, store, plan, name) for name in names]
    build = writers or writer_for(settings)
    with ExitStack() as held:
        for name in names:
            if not held.enter_context(store.locks.exclusive(f"writeback-{name}")):
                raise WriteBackBusy(
                    f"a write-back of {name} is already running: try again once it has finished"
                )
        results = [_run_tracker(settings, store, plan, name, build, progress) for name in names]
        _audit(store, results, actor)
        return results


AUDITED_REFUSALS = 50  # refused items named in an audit entry (the count is always there)


def _audit(store: Database, results: list[TrackerWriteback], actor: str) -> None:
    """Record a run: per tracker, what it wrote, linked, refused and settled, or why it failed."""
    parts = []
    for r in results:
        if r.error is not None:
            parts.append(f"{r.tracker}: failed ({r.error})")
        else:
            refused = f", {len(r.refused)} refused" if r.refused else ""
            parts.append(f"{r.tracker}: wrote {r.written}, linked {r.linked}{refused}")
    store.audit.record(
        "writeback",
        actor=actor,
        summary="write-back " + "; ".join(parts),
        details={
            "trackers": [
                {
                    "tracker": r.tracker,
                    "applied": r.applied,
                    "written": r.written,
                    "linked": r.linked,
                    "cleared": r.cleared,
                    "settled": r.settled,
                    "unsettled": r.unsettled,
                    "skipped": len(r.skipped),
                    "refused_count": len(r.refused),
                    "refused": r.refused[:AUDITED_REFUSALS],
                    "notes": r.notes,
                    "error": r.error,
                }
                for r in results
            ]
        },
    )


def _run_tracker(
    settings: Settings, store: Database, plan: Plan, name: str, build: WriterFor, progress: Progress | None
) -> TrackerWriteback:
    """Settle what an earlier run left pending, then plan and write ``name`` (its lock is held)."""
    writer: TagWriter | None = None
    result = TrackerWriteback(name)
    try:
        leave: frozenset[str] = frozenset()
        if store.writebacks.unconfirmed(name):
            writer = build(name)
            settled, leave = settle_pending(store, name, writer)
        else:
            settled = 0
        result = plan_tracker(settings, store, plan, name, leave=leave)
        result.settled, result.unsettled = settled, len(leave)
        if leave:
            result.notes.append(
                f"{len(leave)} item(s) left as they are: their last write could not be read back"
                " (gone from the tracker or its scope)"
            )
        if result.fields or result.links:
            writer = writer or build(name)
            _apply(store, plan, result, writer, progress)
        result.applied = True
    except V2momError as exc:
        result.error = str(exc)
    finally:
        if writer is not None:
            writer.close()
    return result
