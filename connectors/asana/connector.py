"""The Asana connector: projects and tasks by offset pages, subtasks, the Events API, census.

The vocabulary (``V2MOM Value`` / ``V2MOM Method`` enum fields, :class:`VocabularyWriter`) is read
and provisioned by :mod:`connectors.asana.vocabulary`; write-back (:class:`TagWriter`) is
:mod:`connectors.asana.tags` (enum values through ``/batch``) and :mod:`connectors.asana.links`
(explanation links as external attachments).

A full run reads each configured project, then its tasks page by page, each page completed with
its tasks' subtasks (recursively: subtasks are not in project listings; ten parents' first pages a
``/batch`` request, :mod:`connectors.asana.subtasks`). An incremental run lists
tasks with ``modified_since`` and then reads the project's Events API from the stored sync token,
re-fetching the tasks the listing did not return (subtasks above all) and removing deleted ones.
The sync token is taken *before* the listing, so changes made during a run are read by the next.

An expired sync token (412) is never skipped: the run records a warning, lists that project in
full (subtasks included), asks for the deletion census and keeps the fresh token Asana sent.
Listings are in project order, not modification order (``ordered = False``): the runner moves the
cursor only when the whole listing has been committed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

from v2mom.connectors.asana.batch import Batch
from v2mom.connectors.asana.client import DEFAULT_TIMEOUT, TRACKER, AsanaClient, SyncTokenExpired
from v2mom.connectors.asana.history import AsanaHistory
from v2mom.connectors.asana.links import AsanaLinks
from v2mom.connectors.asana.parse import (
    ID_FIELDS,
    PROJECT_FIELDS,
    SCOPE_FIELDS,
    TASK_FIELDS,
    home_project,
    listing_records,
    parse_project,
    parse_task,
)
from v2mom.connectors.asana.subtasks import SubtaskReader
from v2mom.connectors.asana.tags import AsanaTags
from v2mom.connectors.asana.vocabulary import AsanaVocabulary
from v2mom.connectors.base import CallCounter, ConnectorRuntime, Discovery, Page
from v2mom.connectors.errors import OutOfScopeError
from v2mom.connectors.paging import offset_pages
from v2mom.errors import ConfigError, FatalError, NotFoundError
from v2mom.models import ItemTransition, WorkItem
from v2mom.settings import AsanaSettings, SyncSettings
from v2mom.vocabulary import (
    AppliedVocabulary,
    LinkWrite,
    TagWrite,
    TrackerVocabulary,
    VocabularyChange,
    WriteOutcome,
)

__all__ = ["AsanaConnector"]

MAX_EVENT_CALLS = 1000  # 100 events each: a loop guard on has_more
MAX_SUBTASK_DEPTH = 32  # a loop guard on parent chains (Asana nests subtasks a few levels deep)
# The warning's text after its count: assignment stories naming nobody (parse_stories), kept as such.
UNNAMED_ASSIGNMENTS = (
    " assignment story(ies) named no assignee (an account removed from the workspace?): "
    "each counts as unassigned from then on"
)


def _iso(moment: datetime) -> str:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class AsanaConnector(ConnectorRuntime):
    """Asana, seen through :class:`connectors.base.Connector`.

    ``scope`` names the projects. ``calls`` counts requests by kind ("me", "project", "tasks",
    "subtasks", "events", "task", "census"; history: "stories"; write-back: "custom_fields", "batch",
    "attachments", "attachment_write"). ``state`` holds the Events API sync token per project
    (the runner stores it with the tracker's state); ``warnings`` and ``needs_census`` report an
    expired token to the runner.
    """

    tracker = TRACKER
    ordered = False

    def __init__(
        self,
        settings: AsanaSettings,
        sync: SyncSettings | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = DEFAULT_TIMEOUT,
        client: AsanaClient | None = None,
    ) -> None:
        """Configure; no request is sent until :meth:`discover` or a listing."""
        if not settings.projects:
            raise ConfigError("trackers.asana.projects: name at least one project gid")
        super().__init__(sync, sleep)
        self.settings = settings
        self.projects = list(dict.fromkeys(settings.projects))
        self.scope = "projects:" + ",".join(self.projects)
        self.calls = client.calls if client is not None else CallCounter()
        self._timeout = timeout
        self._client = client or self._new_client()
        self._history: AsanaHistory | None = None
        self._mark = 0
        self._vocabulary = AsanaVocabulary(
            self._client,
            workspace=settings.workspace,
            projects=self.projects,
            retrying=self._retrying,
            page_size=settings.page_size,
        )
        batch = Batch(self._client, self._retrying)
        self._tags = AsanaTags(batch, self._vocabulary, workspace=settings.workspace)
        self._links = AsanaLinks(self._client, batch, retrying=self._retrying, page_size=settings.page_size)
        self._subtasks = SubtaskReader(self._client, batch, self._offset_pages, page_size=settings.page_size)

    def _new_client(self) -> AsanaClient:
        return AsanaClient(
            self.settings.base_url,
            token=self.settings.token.get_secret_value(),
            timeout=self._timeout,
            connect_timeout=self._connect_timeout,
            calls=self.calls,
        )

    def _parse(self, raw: Mapping[str, Any]) -> WorkItem:
        return parse_task(raw, scope=self.projects, points_field=self.settings.points_field)

    # -- discovery -----------------------------------------------------------------------------

    def discover(self) -> Discovery:
        """Check the token, the workspace and that every configured project exists."""
        me = self._retrying(self._client.me).get("data") or {}
        workspaces = {w.get("gid") for w in me.get("workspaces") or [] if isinstance(w, Mapping)}
        if self.settings.workspace not in workspaces:
            raise ConfigError(
                f"trackers.asana.workspace: {self.settings.workspace} is not a workspace of this token's user"
            )
        for project in self.projects:
            try:
                self._retrying(partial(self._client.project, project, "name"))
            except NotFoundError:
                raise ConfigError(
                    f"trackers.asana.projects: {project} not found or not visible to this token"
                ) from None
        notes = () if self.settings.points_field else ("no points_field configured: points will be empty",)
        return Discovery(effort_field=self.settings.points_field, time_zone="UTC", notes=notes)

    # -- paging --------------------------------------------------------------------------------

    def _offset_pages(
        self, fetch: Callable[[str | None], dict[str, Any]], *, what: str, start: str | None = None
    ) -> Iterator[list[Mapping[str, Any]]]:
        """Records page by page from offset ``start`` on, following ``next_page.offset``
        (:func:`connectors.paging.offset_pages`: an offset seen twice is a loop), each request
        through the connector's retries; ``what`` names the listing in its errors."""
        for body in offset_pages(
            lambda offset: self._retrying(partial(fetch, offset)), tracker=TRACKER, what=what, start=start
        ):
            yield listing_records(body)

    def _tasks(
        self, project: str, *, fields: str, since: datetime | None, kind: str
    ) -> Iterator[list[Mapping[str, Any]]]:
        client, size = self._client, self.settings.page_size
        modified = _iso(since) if since is not None else None

        def fetch(offset: str | None) -> dict[str, Any]:
            return client.tasks_page(
                project, opt_fields=fields, limit=size, offset=offset, modified_since=modified, kind=kind
            )

        return self._offset_pages(fetch, what=f"{kind} of project {project}")

    def _page(self, items: list[WorkItem], removed: tuple[str, ...] = ()) -> Page:
        """A Page charged with the requests made since the previous one."""
        calls, self._mark = self.calls.total - self._mark, self.calls.total
        return Page(items=items, api_calls=calls, removed=removed)

    # -- events --------------------------------------------------------------------------------

    def _fresh_token(self, project: str) -> str | None:
        """A sync token at the end of the project's event stream (the first call answers 412)."""
        try:
            self._retrying(partial(self._client.events, project, None))
        except SyncTokenExpired as expired:
            return expired.sync
        return None

    def _read_events(self, project: str, token: str) -> tuple[dict[str, str], str]:
        """{task gid: last action} since ``token``, and the token to store next.

        Follows ``has_more`` with each answer's ``sync`` token through
        :func:`connectors.paging.offset_pages`: a token seen twice (an answer with more to come but
        no new token included) is a loop, and at most :data:`MAX_EVENT_CALLS` requests are made.
        """
        actions: dict[str, str] = {}
        latest = token

        def next_sync(body: Mapping[str, Any]) -> str | None:
            nonlocal latest
            new_token = body.get("sync")
            if isinstance(new_token, str) and new_token:
                latest = new_token
            return latest if body.get("has_more") else None

        def fetch(sync: str | None) -> dict[str, Any]:
            return self._retrying(partial(self._client.events, project, sync))

        for body in offset_pages(
            fetch,
            tracker=TRACKER,
            what="events",
            start=token,
            max_pages=MAX_EVENT_CALLS,
            next_offset=next_sync,
            field="sync token",
            more="has_more",
        ):
            for event in body.get("data") or []:
                resource = event.get("resource") if isinstance(event, Mapping) else None
                if isinstance(resource, Mapping) and resource.get("resource_type") == "task":
                    actions[str(resource.get("gid"))] = str(event.get("action"))
        return actions, latest

    # -- Connector ------------------------------------------------------------------------------

    def iter_pages(self, since: datetime | None) -> Iterator[Page]:
        """Each project, its tasks (and subtasks on full listings), then what its events name."""
        tokens: dict[str, Any] = self.state.setdefault("sync", {})
        self._mark = self.calls.total
        for project in self.projects:
            yield self._page([parse_project(self._get_project(project))])
            listing_since = since
            actions: dict[str, str] = {}
            token = tokens.get(project)
            if since is None or not isinstance(token, str):
                tokens[project] = self._fresh_token(project)
            else:
                try:
                    actions, tokens[project] = self._read_events(project, token)
                except SyncTokenExpired as expired:
                    self.warnings.append(
                        f"project {project}: Events sync token expired (412); listed the project in full"
                    )
                    self.needs_census = True
                    tokens[project] = expired.sync
                    listing_since = None
            listed: set[str] = set()
            for raw_page in self._tasks(project, fields=TASK_FIELDS, since=listing_since, kind="tasks"):
                yield self._task_page(raw_page, full=listing_since is None)
                listed.update(str(r.get("gid")) for r in raw_page)
            pending = {gid: action for gid, action in actions.items() if gid not in listed}
            if pending:
                yield self._event_page(pending, listed)

    def _get_project(self, project: str) -> Mapping[str, Any]:
        data = self._retrying(partial(self._client.project, project, PROJECT_FIELDS)).get("data")
        if not isinstance(data, Mapping):
            raise FatalError(f"project {project}: the answer holds no data", tracker=TRACKER)
        return data

    def _task_page(self, raw_page: list[Mapping[str, Any]], *, full: bool) -> Page:
        records = list(raw_page)
        if full:
            records.extend(self._subtasks.below(raw_page, fields=TASK_FIELDS, kind="subtasks"))
        return self._page([self._parse(r) for r in records])

    def _event_page(self, actions: Mapping[str, str], listed: set[str]) -> Page:
        """The tasks the events name, re-fetched; deleted ones, and ones that left the configured
        projects (an event of the project they were removed from), as removed."""
        items: list[WorkItem] = []
        removed: list[str] = []
        known = dict.fromkeys(listed, True)  # listed from a configured project: in scope
        for gid, action in sorted(actions.items()):
            if action == "deleted":
                removed.append(gid)
                continue
            try:
                items.append(self._fetch_task(gid, known))
            except NotFoundError:  # OutOfScopeError included
                removed.append(gid)
        return self._page(items, tuple(removed))

    def _fetch_task(self, gid: str, known: dict[str, bool] | None = None) -> WorkItem:
        """The task when it is in scope; NotFoundError when gone, OutOfScopeError when outside."""
        data = self._retrying(partial(self._client.task, gid, TASK_FIELDS)).get("data")
        if not isinstance(data, Mapping):
            raise FatalError(f"task {gid}: the answer holds no data", tracker=TRACKER)
        if not self._in_scope(data, {} if known is None else known):
            raise OutOfScopeError(
                f"task {gid} is in none of the configured projects", tracker=TRACKER, cascade=True
            )
        return self._parse(data)

    def _in_scope(self, raw: Mapping[str, Any], known: dict[str, bool]) -> bool:
        """True when the task is a member of a configured project, or a subtask below one that is.

        The scope the listings and the census read: project members and, recursively, their subtasks
        (subtasks are not project members unless added to one). Parents are read with two fields
        only; ``known`` caches answers by gid for the caller's batch.
        """
        chain: list[str] = []
        current: Mapping[str, Any] = raw
        for _depth in range(MAX_SUBTASK_DEPTH):
            gid = str(current.get("gid"))
            if gid in known:
                answer = known[gid]
                break
            chain.append(gid)
            if home_project(current, self.projects) is not None:
                answer = True
                break
            parent = current.get("parent")
            parent_gid = parent.get("gid") if isinstance(parent, Mapping) else None
            if not isinstance(parent_gid, str) or not parent_gid:
                answer = False
                break
            if parent_gid in known:
                answer = known[parent_gid]
                break
            try:
                data = self._retrying(partial(self._client.task, parent_gid, SCOPE_FIELDS)).get("data")
            except NotFoundError:
                answer = False  # the parent is gone (its subtasks go with it)
                break
            if not isinstance(data, Mapping):
                raise FatalError(f"task {parent_gid}: the answer holds no data", tracker=TRACKER)
            current = data
        else:
            raise FatalError(f"task {raw.get('gid')}: subtasks nested too deep", tracker=TRACKER)
        known.update(dict.fromkeys(chain, answer))
        return answer

    def iter_ids(self) -> Iterator[str]:
        """Every project, task and subtask gid in scope (ids only)."""
        for project in self.projects:
            yield project
            for page in self._tasks(project, fields=ID_FIELDS, since=None, kind="census"):
                for record in page:
                    yield str(record.get("gid"))
                for child in self._subtasks.below(page, fields=ID_FIELDS, kind="census"):
                    yield str(child.get("gid"))

    def get_item(self, item_id: str) -> WorkItem:
        """One task, subtask or configured project by gid, only when in scope.

        NotFoundError when it is gone; OutOfScopeError when it is in none of the configured projects
        (removed from them, or never there) and not below a task that is. The memberships come with
        the task; a subtask costs one more small request per level up to a member.
        """
        if item_id in self.projects:
            return parse_project(self._get_project(item_id))
        return self._fetch_task(item_id)

    # -- HistoryReader ------------------------------------------------------------------------------

    def read_history(self, item_ids: Sequence[str]) -> list[ItemTransition]:
        """Completion and assignee changes of tasks by gid, from their stories (history.py).

        Read through clients of its own, several tasks at once: a sync calls it while its next
        pages are being fetched.
        """
        if self._history is None:
            self._history = AsanaHistory(self._new_client, self._retrying, self.projects)
        found = self._history.read(item_ids)
        self.warnings[:] = [w for w in self.warnings if not w.endswith(UNNAMED_ASSIGNMENTS)]
        if self._history.unnamed_assignments:
            self.warnings.append(f"{self._history.unnamed_assignments}{UNNAMED_ASSIGNMENTS}")
        return found

    # -- VocabularyWriter --------------------------------------------------------------------------

    def read_vocabulary(self) -> TrackerVocabulary:
        """The ``V2MOM Value`` / ``V2MOM Method`` workspace enum fields and their enum options."""
        return self._vocabulary.read()

    def apply_vocabulary(self, changes: list[VocabularyChange]) -> AppliedVocabulary:
        """Make ``changes`` in order (:mod:`connectors.asana.vocabulary`); the fields end up on every
        configured project."""
        return self._vocabulary.apply(changes)

    # -- TagWriter -----------------------------------------------------------------------------------

    def write_tags(self, writes: Sequence[TagWrite]) -> list[WriteOutcome]:
        """Set or clear each task's ``V2MOM Value`` / ``V2MOM Method`` option through ``/batch``
        (:mod:`connectors.asana.tags`); one outcome per write, in order."""
        return self._tags.write_tags(writes)

    def write_links(self, links: Sequence[LinkWrite]) -> list[WriteOutcome]:
        """Give each task one external attachment to its explanation page, replaced when its URL
        changed (:mod:`connectors.asana.links`); one outcome per link, in order."""
        return self._links.write_links(links)

    def close(self) -> None:
        """Release the HTTP connections."""
        self._client.close()
        if self._history is not None:
            self._history.close()
