"""``v2mom trackers provision``: make each configured tracker offer the plan's values and methods.

For each tracker: read what it offers now, diff it against the stored plan (``mapping.vocabulary``),
and, with ``apply``, make the changes and record which tracker option offers each value and method
(so a renamed value renames its option instead of adding one); an applied run is audited. The diff
is always computed from the tracker itself, so an interrupted run resumes where it stopped and a
second run changes nothing. A tracker that refuses is named with its reason; the others still run.

A change the tracker's API cannot make (Jira Data Center has no REST API for select options) is
never sent and never a failure: it is listed in ``manual``, with where an administrator makes it,
in the preview and in the run alike. Until then a plan choice without an option is not recorded
(write-back skips its items, saying why), nor is one whose option is disabled; once the
administrator has made it, the next run finds the option by its name and records it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from v2mom.connectors.base import VocabularyWriter
from v2mom.connectors.registry import connector_with
from v2mom.errors import ConfigError, V2momError
from v2mom.mapping.plan import Plan
from v2mom.mapping.vocabulary import vocabulary_diff
from v2mom.settings import Settings
from v2mom.store.database import Database
from v2mom.vocabulary import KINDS, Kind, ManualStep, VocabularyChange

WriterFor = Callable[[str], VocabularyWriter]


@dataclass
class TrackerProvision:
    """One tracker's part of a provisioning run: the changes (made when ``applied``) or its error."""

    tracker: str
    changes: list[VocabularyChange] = field(default_factory=list)
    applied: bool = False
    error: str | None = None
    manual: list[ManualStep] = field(default_factory=list)  # left to an administrator: never applied
    warnings: list[str] = field(default_factory=list)  # what the tracker's run went on past

    @property
    def ok(self) -> bool:
        """True unless the tracker refused or could not be read."""
        return self.error is None


def writer_for(settings: Settings) -> WriterFor:
    """Each tracker's connector, as a VocabularyWriter; ConfigError for a tracker that cannot provision."""
    # A runtime-checkable Protocol is a valid isinstance() class; mypy (python/mypy#4717) disagrees.
    return lambda tracker: connector_with(tracker, settings, VocabularyWriter, "provisioning")  # type: ignore[type-abstract]


def provision(
    settings: Settings,
    store: Database,
    *,
    apply: bool,
    tracker: str | None = None,
    writers: WriterFor | None = None,
    actor: str = "system",
) -> list[TrackerProvision]:
    """Preview (or, with ``apply``, make) the vocabulary changes of every configured tracker.

    An applied run is audited once it has finished (kind ``provision``, by ``actor``): per tracker,
    the changes made and its error. ConfigError when no plan is stored, or when ``tracker`` is not
    configured.
    """
    plan = store.plans.current()
    if plan is None:
        raise ConfigError("no plan is stored: run 'v2mom plan apply plan.yaml' first")
    names = settings.trackers.selected(tracker)
    build = writers or writer_for(settings)
    results = []
    for name in names:
        result = TrackerProvision(name)
        results.append(result)
        try:
            writer = build(name)
            try:
                _provision_tracker(store, plan, name, writer, result, apply=apply)
            finally:
                result.warnings = list(writer.warnings)
                writer.close()
        except V2momError as exc:
            result.error = str(exc)
    if apply:
        _audit(store, results, actor)
    return results


def _audit(store: Database, results: list[TrackerProvision], actor: str) -> None:
    """Record an applied run: what each tracker changed, or why it failed."""
    parts = [
        f"{r.tracker}: failed ({r.error})"
        if r.error
        else f"{r.tracker}: {len(r.changes)} change(s)"
        + (f", {len(r.manual)} left to an administrator" if r.manual else "")
        for r in results
    ]
    store.audit.record(
        "provision",
        actor=actor,
        summary="provisioned " + "; ".join(parts),
        details={
            "trackers": [
                {
                    "tracker": r.tracker,
                    "applied": r.applied,
                    "changes": [change.describe() for change in r.changes],
                    "error": r.error,
                }
                | ({"manual": [step.describe() for step in r.manual]} if r.manual else {})
                | ({"warnings": r.warnings} if r.warnings else {})
                for r in results
            ]
        },
    )


def _provision_tracker(
    store: Database, plan: Plan, name: str, writer: VocabularyWriter, result: TrackerProvision, *, apply: bool
) -> None:
    """Diff one tracker's vocabulary against ``plan``; with ``apply``, make it and record the option ids."""
    current = writer.read_vocabulary()
    diff = vocabulary_diff(plan, current, store.vocabulary.offered(name))
    result.changes, result.manual = current.split(diff.changes)
    if not apply:
        return
    applied = writer.apply_vocabulary(result.changes) if result.changes else None
    record: dict[Kind, dict[str, str]] = {kind: dict(diff.matched[kind]) for kind in KINDS}
    if applied is not None:
        for kind in KINDS:
            record[kind].update(applied.options.get(kind, {}))
        made = {s.change for s in applied.manual if not s.follows}  # given, but the API cannot make them
        result.changes = [c for c in result.changes if c not in made]
        told = {(s.change, s.task) for s in applied.manual}  # the writer's own words (ids known now) win
        result.manual = [s for s in result.manual if (s.change, s.task) not in told] + list(applied.manual)
    for step in result.manual:  # a disabled option takes no writes until an administrator enables it
        if step.change.action == "enable" and step.change.plan_id is not None:
            record[step.change.kind].pop(step.change.plan_id, None)
    store.vocabulary.record(name, record)
    for change in result.changes:  # fields holding the old name are still v2mom-sync's writes
        if change.action == "rename" and change.plan_id is not None:
            store.writebacks.relabel(name, change.kind, change.plan_id, change.name)
    result.applied = True
