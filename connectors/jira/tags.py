"""Jira tags: the ``V2MOM Value`` / ``V2MOM Method`` choices of issues, set by bulk edit.

``POST /rest/api/3/bulk/issues/fields`` sets one value on up to 1,000 issues per request, so writes
are grouped by what they set (their ``options``: both kinds in one request) and each group is sent
in chunks of 1,000 issue ids, ``sendBulkNotification: false``. Jira answers a ``taskId``; up to ten
tasks run at once, and ``GET /rest/api/3/bulk/queue/{taskId}`` is polled for each (waiting first,
then longer and longer) until it is ``COMPLETE``. Its ``processedAccessibleIssues`` were edited; its
``failedAccessibleIssues`` carry Jira's reasons; an issue in neither is one Jira counts as invalid
or inaccessible (deleted, or not visible to the account). A single select is set by ``optionId``
and cleared with ``optionId: -1`` (the spec's JiraSingleSelectField).

Setting the same value again changes nothing, so every request is retried with the connector's
policy (429, 5xx). A refusal of one chunk (a 4xx) becomes its issues' outcomes and the rest go on;
bad credentials (401), a missing bulk-change permission (403) or an unreachable Jira raise the
typed error.

Jira Data Center has no bulk edit: there each issue is edited on its own, a few at once
(:class:`connectors.jira.datacenter_writes.DataCenterTags`), with the same outcomes.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from v2mom.connectors.jira.client import JiraClient
from v2mom.connectors.jira.datacenter_writes import DataCenterTags
from v2mom.connectors.retry import Retrying
from v2mom.errors import ConfigError, FatalError, NotFoundError
from v2mom.vocabulary import FIELD_NAMES, Kind, TagWrite, WriteOutcome

__all__ = ["CLEAR_OPTION", "MAX_ISSUES_PER_BULK_EDIT", "JiraTags"]

MAX_ISSUES_PER_BULK_EDIT = 1000  # Jira's limit per bulk edit request
CLEAR_OPTION = -1  # the optionId that clears a single select in a bulk edit
POLL_FIRST_WAIT = 0.5  # seconds before the first look at a bulk edit task
POLL_MAX_WAIT = 5.0  # the longest wait between two looks
POLL_BUDGET = 600.0  # seconds of waiting after which a task is reported as unfinished
IN_FLIGHT = 10  # bulk edit tasks running at once (Jira documents no limit; kept modest)
ENDED_BADLY = frozenset({"FAILED", "CANCELLED", "DEAD"})

Options = tuple[tuple[Kind, str | None], ...]


def _chunks(ids: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _issue(write: TagWrite) -> str:
    """How messages name an issue: its key and its stable id."""
    return f"issue {write.key} (id {write.item_id})"


class _Unfinished(Exception):
    """A bulk edit refused, or a task that ended badly or did not finish: every issue of its chunk failed."""


@dataclass
class _Task:
    """A submitted bulk edit task: its id, its issues, how messages name it, and the wait so far."""

    task_id: str
    chunk: list[TagWrite]
    step: str
    waited: float = 0.0


class JiraTags:
    """Sets and clears the V2MOM choices of Jira issues (the ``write_tags`` half of the connector's
    TagWriter)."""

    def __init__(
        self,
        client: JiraClient,
        retrying: Retrying,
        field_ids: Callable[[], dict[Kind, str | None]],
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Work through ``client``; every request goes through ``retrying``; ``field_ids`` names the
        ``V2MOM Value`` / ``V2MOM Method`` fields; ``sleep`` waits between looks at a task."""
        self._client = client
        self._retrying = retrying
        self._field_ids = field_ids
        self._sleep = sleep
        self._datacenter = DataCenterTags(client, retrying)

    def write_tags(self, writes: Sequence[TagWrite]) -> list[WriteOutcome]:
        """Set or clear each issue's choices by bulk edit; one outcome per write, in order.

        Up to :data:`IN_FLIGHT` bulk edit tasks run at once and are looked at together, so a run of
        many groups waits about as long as its slowest round, not the sum of every task's wait.
        ConfigError when a field to write does not exist (provisioning has not run).
        """
        if self._client.deployment == "datacenter":  # no bulk edit there: one PUT per issue
            kinds = {kind for w in writes for kind in w.options}
            return self._datacenter.write(writes, self._fields(kinds) if kinds else {})
        groups: dict[Options, list[TagWrite]] = {}
        for write in writes:
            if write.options:
                groups.setdefault(tuple(sorted(write.options.items())), []).append(write)
        errors: dict[str, str | None] = {}
        if groups:
            fields = self._fields({kind for options in groups for kind, _ in options})
            jobs: deque[tuple[list[TagWrite], Options]] = deque()
            for options, members in groups.items():
                by_id = {w.item_id: w for w in members}
                jobs.extend(
                    ([by_id[i] for i in chunk], options)
                    for chunk in _chunks(list(by_id), MAX_ISSUES_PER_BULK_EDIT)
                )
            errors.update(self._run(jobs, fields))
        return [WriteOutcome(w.item_id, errors.get(w.item_id)) for w in writes]

    def _fields(self, kinds: set[Kind]) -> dict[Kind, str]:
        """The field id of each kind in ``kinds``; ConfigError naming the missing field(s)."""
        known = self._field_ids()
        missing = sorted(FIELD_NAMES[kind] for kind in kinds if known.get(kind) is None)
        if missing:
            names = ", ".join(f"'{name}'" for name in missing)
            raise ConfigError(
                f"jira: the select field(s) {names} do not exist: "
                "run `v2mom trackers provision --apply` before writing back"
            )
        return {kind: field_id for kind, field_id in known.items() if kind in kinds and field_id is not None}

    def _run(
        self, jobs: deque[tuple[list[TagWrite], Options]], fields: Mapping[Kind, str]
    ) -> dict[str, str | None]:
        """Submit ``jobs`` keeping at most :data:`IN_FLIGHT` tasks running; item id -> error or None.

        Each round tops the running tasks up, waits (from :data:`POLL_FIRST_WAIT` after a submission,
        doubling up to :data:`POLL_MAX_WAIT` while nothing new starts) and looks at every running task.
        """
        errors: dict[str, str | None] = {}
        running: dict[str, _Task] = {}
        wait = POLL_FIRST_WAIT
        while jobs or running:
            submitted = False
            while jobs and len(running) < IN_FLIGHT:
                chunk, options = jobs.popleft()
                try:
                    task = self._submit(chunk, options, fields)
                except _Unfinished as refused:
                    errors.update({w.item_id: f"{_issue(w)}: {refused}" for w in chunk})
                    continue
                running[task.task_id] = task
                submitted = True
            if not running:
                break
            wait = POLL_FIRST_WAIT if submitted else min(wait * 2, POLL_MAX_WAIT)
            self._sleep(wait)
            for task_id, task in list(running.items()):
                task.waited += wait
                try:
                    progress = self._look(task)
                except _Unfinished as refused:
                    errors.update({w.item_id: f"{_issue(w)}: {refused}" for w in task.chunk})
                    del running[task_id]
                    continue
                if progress is not None:
                    errors.update(self._outcomes(task.chunk, progress))
                    del running[task_id]
        return errors

    def _submit(self, chunk: list[TagWrite], options: Options, fields: Mapping[Kind, str]) -> _Task:
        """Submit one bulk edit of ``chunk`` (≤ 1,000 issues, the same ``options``).

        _Unfinished when Jira refuses it; the chunk's issues carry the reason."""
        step = f"bulk edit of {len(chunk)} issue(s)"
        selects: list[dict[str, object]] = []
        for kind, option_id in options:
            if option_id is not None and not option_id.isdigit():
                raise _Unfinished(f"{FIELD_NAMES[kind]} option id {option_id!r} is not a Jira option id")
            chosen = int(option_id) if option_id is not None else CLEAR_OPTION
            selects.append({"fieldId": fields[kind], "option": {"optionId": chosen}})
        body: dict[str, object] = {
            "selectedIssueIdsOrKeys": [w.item_id for w in chunk],
            "selectedActions": [fields[kind] for kind, _ in options],
            "editedFieldsInput": {"singleSelectFields": selects},
            "sendBulkNotification": False,
        }
        try:  # AuthError, RetriableError: raise
            submitted = self._retrying(partial(self._client.submit_bulk_edit, body, step=step))
        except (FatalError, NotFoundError) as refused:
            raise _Unfinished(str(refused)) from refused
        task_id = submitted.get("taskId")
        if not isinstance(task_id, str | int) or isinstance(task_id, bool) or not str(task_id):
            raise _Unfinished(f"{step}: Jira answered without a taskId")
        return _Task(str(task_id), chunk, f"{step}: task {task_id}")

    def _look(self, task: _Task) -> dict[str, Any] | None:
        """The task's progress once ``COMPLETE``, None while it runs; _Unfinished when it ended
        otherwise or has run past :data:`POLL_BUDGET`."""
        try:
            progress = self._retrying(partial(self._client.bulk_progress, task.task_id, step=task.step))
        except (FatalError, NotFoundError) as refused:
            raise _Unfinished(str(refused)) from refused
        status = progress.get("status")
        if status == "COMPLETE":
            return dict(progress)
        if status in ENDED_BADLY:
            raise _Unfinished(f"{task.step} ended {status}")
        if task.waited >= POLL_BUDGET:
            raise _Unfinished(f"{task.step} still {status} after {task.waited:g} s; it may apply later")
        return None

    @staticmethod
    def _outcomes(chunk: list[TagWrite], progress: Mapping[str, Any]) -> dict[str, str | None]:
        """Each issue's outcome from a completed task's progress."""
        processed = {str(i) for i in progress.get("processedAccessibleIssues") or []}
        raw_failed = progress.get("failedAccessibleIssues")
        failed = raw_failed if isinstance(raw_failed, dict) else {}
        out: dict[str, str | None] = {}
        for write in chunk:
            reasons = failed.get(write.item_id)
            if reasons is not None:
                listed = reasons if isinstance(reasons, list) else [reasons]
                text = "; ".join(str(r) for r in listed) or "no reason given"
                out[write.item_id] = f"{_issue(write)}: Jira refused the edit: {text}"
            elif write.item_id in processed:
                out[write.item_id] = None
            else:
                out[write.item_id] = (
                    f"{_issue(write)} was not edited: Jira counts it invalid or inaccessible"
                    " (deleted, or not visible to this account)"
                )
        return out
