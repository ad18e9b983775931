"""The Linear connector: teams checked, projects and issues paged (relay), census, single fetches.

Listings are relay connections ordered by ``updatedAt`` with ``includeArchived``: archived or
trashed records come back as ``Page.removed`` (deletions to us). Projects are read first, as
container items (the epics of their issues); their pages never move the cursor, which follows the
issues alone, so an interrupted run cannot skip an issue. Issues with more labels than one page
holds get the rest through ``issue_labels`` (never truncated). Every listing pages through
:mod:`connectors.paging`, which fails on a cursor returned twice or on ``hasNextPage`` without a
cursor. It is also a :class:`~connectors.base.VocabularyWriter`: the ``Value`` / ``Method`` label
groups are read and provisioned by :mod:`connectors.linear.vocabulary`; and a
:class:`~connectors.base.TagWriter`: labels are written by :mod:`connectors.linear.tags`, links by
:mod:`connectors.linear.links`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

from v2mom.connectors.base import CallCounter, ConnectorRuntime, Discovery, Page
from v2mom.connectors.errors import OutOfScopeError
from v2mom.connectors.linear.client import DEFAULT_TIMEOUT, Aliased, LinearClient
from v2mom.connectors.linear.history import HISTORY_READERS, LinearHistory
from v2mom.connectors.linear.links import LinearLinks
from v2mom.connectors.linear.parse import TRACKER, is_removed, parse_issue, parse_project
from v2mom.connectors.linear.tags import LinearTags
from v2mom.connectors.linear.vocabulary import LinearVocabulary
from v2mom.connectors.linear.webhook import update_transitions
from v2mom.connectors.paging import relay_pages
from v2mom.connectors.reader_pool import ReaderPool
from v2mom.errors import ConfigError, FatalError, NotFoundError
from v2mom.events import WebhookEvent
from v2mom.models import ItemTransition, WorkItem
from v2mom.settings import LinearSettings, SyncSettings
from v2mom.vocabulary import (
    AppliedVocabulary,
    LinkWrite,
    TagWrite,
    TrackerVocabulary,
    VocabularyChange,
    WriteOutcome,
)

__all__ = ["CENSUS_PAGE_SIZE", "LABEL_PAGE_SIZE", "LinearConnector"]

CENSUS_PAGE_SIZE = 250  # Linear's largest page
LABEL_PAGE_SIZE = 50


def _iso(moment: datetime) -> str:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _connection(data: Mapping[str, Any], path: tuple[str, ...], query: str) -> Mapping[str, Any]:
    """``data[path...]`` as a relay connection (nodes + pageInfo); FatalError when malformed."""
    node: Any = data
    for part in path:
        node = node.get(part) if isinstance(node, Mapping) else None
    if not isinstance(node, Mapping) or not isinstance(node.get("nodes"), list):
        raise FatalError(f"{query}: the answer has no {'.'.join(path)}.nodes list", tracker=TRACKER)
    return node


def _keys(connection: Any) -> set[str]:
    nodes = connection.get("nodes") if isinstance(connection, Mapping) else None
    return {n["key"] for n in nodes or [] if isinstance(n, Mapping) and isinstance(n.get("key"), str)}


def _issue_team(raw: Mapping[str, Any]) -> set[str]:
    """The key of an issue's team (one at most)."""
    team = raw.get("team")
    key = team.get("key") if isinstance(team, Mapping) else None
    return {key} if isinstance(key, str) else set()


def _project_teams(raw: Mapping[str, Any]) -> set[str]:
    """The keys of every team a project is shared with (``scopeTeams``, else ``teams``)."""
    return _keys(raw.get("scopeTeams")) or _keys(raw.get("teams"))


class LinearConnector(ConnectorRuntime):
    """Linear, seen through :class:`connectors.base.Connector`.

    ``scope`` names the teams (``teams:ENG,WEB``). ``calls`` counts requests by kind ("teams",
    "projects", "issues", "labels", "census", "issue", "project", "vocabulary", "writeback",
    "links"; the history reader's: "history"), retries included.
    """

    tracker = TRACKER
    ordered = True  # issues come oldest update first; project pages never move the cursor

    def __init__(
        self,
        settings: LinearSettings,
        sync: SyncSettings | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = DEFAULT_TIMEOUT,
        client: LinearClient | None = None,
    ) -> None:
        """Configure; no request is sent until :meth:`discover` or a listing."""
        if not settings.teams:
            raise ConfigError("trackers.linear.teams: name at least one team key")
        super().__init__(sync, sleep)
        self.settings = settings
        self.teams = sorted(settings.teams)
        self.scope = "teams:" + ",".join(self.teams)
        self.calls = client.calls if client is not None else CallCounter()
        self._timeout = timeout
        self._client = client or self._new_client()
        # history readers: no thread or client is made before the first read
        self._history_readers = ReaderPool(self._new_client, HISTORY_READERS, "linear-history")
        self._vocabulary = LinearVocabulary(self._execute, self._pages)
        self._tags = LinearTags(self._execute, self.read_vocabulary)
        self._links = LinearLinks(self._execute, self._pages, self._execute_aliased)

    def _new_client(self) -> LinearClient:
        return LinearClient(
            self.settings.api_url,
            api_key=self.settings.api_key.get_secret_value(),
            timeout=self._timeout,
            connect_timeout=self._connect_timeout,
            calls=self.calls,
        )

    def _execute(self, kind: str, name: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        return self._retrying(partial(self._client.execute, kind, name, variables))

    def _execute_aliased(self, kind: str, name: str, variables: Sequence[Mapping[str, Any]]) -> Aliased:
        return self._retrying(partial(self._client.execute_aliased, kind, name, variables))

    def _pages(
        self, kind: str, name: str, path: tuple[str, ...], variables: Mapping[str, Any]
    ) -> Iterator[tuple[list[Mapping[str, Any]], int]]:
        """Nodes of a relay connection page by page, with the requests each page took.

        Pages follow ``endCursor`` through :func:`connectors.paging.relay_pages` (its loop guard: a
        cursor seen twice is a FatalError).
        """
        before = 0

        def fetch(after: str | None) -> Mapping[str, Any]:
            nonlocal before
            before = self.calls.calls.get(kind, 0)
            return _connection(self._execute(kind, name, {**variables, "after": after}), path, name)

        for connection in relay_pages(fetch, tracker=TRACKER, what=name):
            nodes = [n for n in connection["nodes"] if isinstance(n, Mapping)]
            yield nodes, self.calls.calls.get(kind, 0) - before

    # -- Connector ------------------------------------------------------------------------------

    def discover(self) -> Discovery:
        """Check that every configured team exists and is visible to the API key."""
        data = self._execute("teams", "teams", {"teams": self.teams})
        found = {
            n.get("key") for n in _connection(data, ("teams",), "teams")["nodes"] if isinstance(n, Mapping)
        }
        missing = [t for t in self.teams if t not in found]
        if missing:
            raise ConfigError(
                f"trackers.linear.teams: {', '.join(missing)} not found or not visible to this API key"
            )
        return Discovery(effort_field="estimate", time_zone="UTC")

    def _filters(self, since: datetime | None) -> tuple[dict[str, Any], dict[str, Any]]:
        teams = {"key": {"in": self.teams}}
        issues: dict[str, Any] = {"team": teams}
        projects: dict[str, Any] = {"accessibleTeams": {"some": teams}}
        if since is not None:
            issues["updatedAt"] = {"gte": _iso(since)}
            projects["updatedAt"] = {"gte": _iso(since)}
        return issues, projects

    def iter_pages(self, since: datetime | None) -> Iterator[Page]:
        """Projects, then issues, updated at or after ``since`` (all when None), oldest first."""
        issue_filter, project_filter = self._filters(since)
        size = self.settings.page_size
        for nodes, attempts in self._pages(
            "projects", "projects", ("projects",), {"filter": project_filter, "first": size}
        ):
            yield self._page(nodes, parse_project, attempts, cursor_safe=False)
        for nodes, attempts in self._pages(
            "issues", "issues", ("issues",), {"filter": issue_filter, "first": size}
        ):
            yield self._page(nodes, self._parse_issue, attempts, cursor_safe=True)

    def _page(
        self,
        nodes: list[Mapping[str, Any]],
        parse: Callable[[Mapping[str, Any]], WorkItem],
        attempts: int,
        *,
        cursor_safe: bool,
    ) -> Page:
        before = self.calls.calls.get("labels", 0)
        items: list[WorkItem] = []
        removed: list[str] = []
        newest: datetime | None = None
        for node in nodes:
            if is_removed(node):
                node_id = node.get("id")
                if isinstance(node_id, str) and node_id:
                    removed.append(node_id)
                updated = node.get("updatedAt")
                if isinstance(updated, str) and cursor_safe:
                    moment = datetime.fromisoformat(updated.replace("Z", "+00:00"))
                    newest = moment if newest is None else max(newest, moment)
            else:
                items.append(parse(node))
        return Page(
            items=items,
            api_calls=attempts + self.calls.calls.get("labels", 0) - before,
            removed=tuple(removed),
            newest=newest,
            cursor_safe=cursor_safe,
        )

    def _parse_issue(self, raw: Mapping[str, Any]) -> WorkItem:
        return parse_issue(raw, extra_labels=self._more_labels(raw))

    def _more_labels(self, raw: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        """Labels beyond the first page of an issue's labels (empty when it has no more)."""
        labels = raw.get("labels")
        info = labels.get("pageInfo") if isinstance(labels, Mapping) else None
        if not isinstance(info, Mapping) or not info.get("hasNextPage"):
            return []
        after = info.get("endCursor")
        if not isinstance(after, str) or not after:
            raise FatalError(f"labels of {raw.get('identifier')}: broken label paging", tracker=TRACKER)
        issue_id = raw.get("id")

        def fetch(cursor: str | None) -> Mapping[str, Any]:
            variables = {"id": issue_id, "first": LABEL_PAGE_SIZE, "after": cursor}
            return _connection(
                self._execute("labels", "issue_labels", variables), ("issue", "labels"), "issue_labels"
            )

        extra: list[Mapping[str, Any]] = []
        for connection in relay_pages(
            fetch, tracker=TRACKER, what=f"labels of {raw.get('identifier')}", start=after
        ):
            extra.extend(n for n in connection["nodes"] if isinstance(n, Mapping))
        return extra

    def iter_ids(self) -> Iterator[str]:
        """Ids of every live project and issue of the teams (archived and trashed left out)."""
        for name, path in (("project_ids", ("projects",)), ("issue_ids", ("issues",))):
            for nodes, _ in self._pages(
                "census", name, path, {"teams": self.teams, "first": CENSUS_PAGE_SIZE}
            ):
                for node in nodes:
                    node_id = node.get("id")
                    if not isinstance(node_id, str) or not node_id:
                        raise FatalError(f"census: {name} returned a record without an id", tracker=TRACKER)
                    if not node.get("trashed"):
                        yield node_id

    def get_item(self, item_id: str) -> WorkItem:
        """One issue or project by id, only when it belongs to a configured team.

        NotFoundError when it is gone, archived or trashed; OutOfScopeError when it lives in another
        team (an issue moved to a team outside ``teams`` keeps its id) or a project is shared with
        none of the configured teams. The team comes with the record, so this costs no extra call.
        """
        try:
            data = self._execute("issue", "issue", {"id": item_id})
            raw = data.get("issue")
            parse: Callable[[Mapping[str, Any]], WorkItem] = self._parse_issue
            teams_of: Callable[[Mapping[str, Any]], set[str]] = _issue_team
        except NotFoundError:
            data = self._execute("project", "project", {"id": item_id})
            raw = data.get("project")
            parse, teams_of = parse_project, _project_teams
        if not isinstance(raw, Mapping):
            raise NotFoundError(f"{item_id} not found", tracker=TRACKER, status=None)
        if is_removed(raw):
            raise NotFoundError(f"{raw.get('identifier') or item_id} is archived or trashed", tracker=TRACKER)
        if not teams_of(raw) & set(self.teams):
            raise OutOfScopeError(
                f"{raw.get('identifier') or item_id} belongs to no configured team", tracker=TRACKER
            )
        return parse(raw)

    # -- VocabularyWriter -----------------------------------------------------------------------

    def read_vocabulary(self) -> TrackerVocabulary:
        """The ``Value`` / ``Method`` label groups and their labels (retired ones disabled)."""
        return self._vocabulary.read()

    def apply_vocabulary(self, changes: list[VocabularyChange]) -> AppliedVocabulary:
        """Make ``changes`` in order (typed errors name the step); the label ids per plan id touched."""
        return self._vocabulary.apply(changes)

    # -- TagWriter ------------------------------------------------------------------------------

    def write_tags(self, writes: Sequence[TagWrite]) -> list[WriteOutcome]:
        """Set or clear group labels: ``issueBatchUpdate`` of up to 50 issues per same change."""
        return self._tags.write_tags(writes)

    def write_links(self, links: Sequence[LinkWrite]) -> list[WriteOutcome]:
        """One URL attachment per issue to its explanation page, replaced when its url changes."""
        return self._links.write_links(links)

    # -- HistoryReader ------------------------------------------------------------------------------

    def read_history(self, item_ids: Sequence[str]) -> list[ItemTransition]:
        """State and assignee changes of issues by id, from their ``IssueHistory`` (history.py).

        Read by :data:`HISTORY_READERS` threads at once, each through a client of its own: a sync
        calls it while its next pages are being fetched.
        """
        readers = self._history_readers

        def execute(kind: str, name: str, variables: Mapping[str, Any]) -> dict[str, Any]:
            return self._retrying(partial(readers.client().execute, kind, name, variables))

        return LinearHistory(execute, readers.run).read(item_ids)

    def webhook_history(self, item_id: str, event: WebhookEvent) -> list[ItemTransition]:
        """The state and assignee changes an ``Issue`` ``update`` reports in ``updatedFrom``
        (webhook.py), under the delivery's id until a history read replaces them."""
        return update_transitions(item_id, event.delivery_id, event.payload)

    def close(self) -> None:
        """Release the HTTP connections."""
        self._client.close()
        self._history_readers.close()
