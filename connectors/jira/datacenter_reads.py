"""The Jira connector's listings on Data Center: ``POST /rest/api/2/search`` by ``startAt``.

The scope's listings and census validate their JQL (a project the site lacks is refused, never an
empty scope); lookups by key or id do not (one deleted since is left out). Listings, the census and
single reads go through :func:`connectors.jira.datacenter.overlapping_pages` (an issue updated
mid-sync never makes another one skipped); each page's Epic Links are resolved from keys to ids
(:class:`connectors.jira.datacenter.EpicKeys`). A full listing first learns every epic in scope (the
issues with an Epic Name, 1,000 ids a request); a key still unknown on a page (an epic outside the
scope, or met first in an incremental listing) is looked up in one ``issuekey in (…)`` search per
page. The listing's pages carry their issues' changelogs (``expand=changelog``, kept for the
history reader in :class:`connectors.jira.datacenter_history.ListedChangelogs`) and are asked for two
at once (:class:`connectors.ahead.FetchAhead`). After an incremental listing, the issues whose
worklogs changed since the cursor and that the listing did not serve are read too
(:mod:`connectors.jira.datacenter_worklogs`), as pages that do not move the cursor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from v2mom.connectors.ahead import FetchAhead
from v2mom.connectors.base import Page
from v2mom.connectors.errors import OutOfScopeError
from v2mom.connectors.jira.client import JiraClient
from v2mom.connectors.jira.datacenter import EpicKeys, id_key, issue_id, overlapping_pages, updated_key
from v2mom.connectors.jira.datacenter_history import ListedChangelogs
from v2mom.connectors.jira.datacenter_worklogs import deleted_worklogs, worklog_issue_ids
from v2mom.connectors.jira.parse import EpicFields, epic_link_key
from v2mom.connectors.retry import Retrying
from v2mom.models import WorkItem

__all__ = ["ID_PAGE", "KEY_LOOKUP", "DataCenterReads"]

ID_PAGE = 1000  # pages of ids (census, epics): Data Center serves at most 1,000 issues a page
KEY_LOOKUP = 500  # epic keys a lookup names
LISTING_AHEAD = 2  # listing pages asked for at once: the site renders one while this reads another
Parse = Callable[[Mapping[str, Any], EpicFields, Mapping[str, str]], WorkItem]


class DataCenterReads:
    """Searches of one Data Center site for one scope (the connector's JQL)."""

    def __init__(
        self,
        client: JiraClient,
        retrying: Retrying,
        *,
        scope: str,
        page_size: int,
        parse: Parse,
        listed: ListedChangelogs | None = None,
    ) -> None:
        """Search through ``client`` with the connector's retries; ``parse`` makes WorkItems. While
        ``listed`` is set, listings expand their issues' changelogs and keep them there for the
        history reader."""
        self._client = client
        self.listed = listed
        self._retrying = retrying
        self._scope = scope
        self._page_size = page_size
        self._parse = parse
        self.epic = EpicFields()  # set by the connector's discovery
        self._epics = EpicKeys(self._lookup_keys)
        self.warnings: list[str] = []

    def _fetcher(
        self,
        jql: str,
        fields: Sequence[str],
        size: int,
        kind: str,
        *,
        validate: bool = False,
        client: JiraClient | None = None,
        expand: Sequence[str] = (),
    ) -> Callable[[int], dict[str, Any]]:
        search = partial(
            (client or self._client).search_offset_page, kind=kind, validate=validate, expand=expand
        )

        def fetch(start_at: int) -> dict[str, Any]:
            return self._retrying(partial(search, jql, list(fields), start_at, size))

        return fetch

    def _lookup_keys(self, keys: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for start in range(0, len(keys), KEY_LOOKUP):
            batch = keys[start : start + KEY_LOOKUP]
            jql = "issuekey in (" + ", ".join(f'"{k}"' for k in batch) + ")"
            page = self._fetcher(jql, ["id"], len(batch), "epic-key")(0)
            for raw in page.get("issues") or []:
                if isinstance(raw, dict) and isinstance(raw.get("key"), str):
                    found[raw["key"].upper()] = issue_id(raw, "epic-key")
        return found

    def parse(self, issues: Sequence[Mapping[str, Any]]) -> list[WorkItem]:
        """The issues of one page as WorkItems, their Epic Links resolved to ids."""
        self._epics.learn(issues)
        if self.listed is not None:
            self.listed.keep(issues)
        keys = [k for raw in issues if (k := epic_link_key(raw, self.epic)) is not None]
        ids = self._epics.resolve(keys)
        return [self._parse(raw, self.epic, ids) for raw in issues]

    def pages(self, jql: str, fields: Sequence[str], since: datetime | None) -> Iterator[Page]:
        """The listing of ``jql`` (ordered by update), then, when ``since`` is given, the issues in
        scope whose worklogs changed since then that the listing did not serve."""
        if since is None:
            self._learn_epics()
        served: set[str] = set()
        expand = ("changelog",) if self.listed is not None else ()
        # pages asked for ahead on threads of their own, each with a client of its own: lookups
        # use ours meanwhile
        listings = [self._client.spawn() for _ in range(LISTING_AHEAD)]
        try:
            fetches = [
                self._fetcher(jql, fields, self._page_size, "search", validate=True, client=c, expand=expand)
                for c in listings
            ]
            with FetchAhead(fetches) as ahead:
                for issues, attempts in overlapping_pages(ahead, key=updated_key, what="search"):
                    served.update(issue_id(raw, "search") for raw in issues)
                    yield Page(items=self.parse(issues), api_calls=attempts)
        finally:
            for listing in listings:
                listing.close()
        if since is None:
            return
        logged = worklog_issue_ids(self._client, self._retrying, since, self.warnings)
        changed = sorted(logged - served, key=int)
        for start in range(0, len(changed), self._page_size):
            batch = changed[start : start + self._page_size]
            query = f"({self._scope}) AND id in ({', '.join(batch)}) ORDER BY id ASC"
            fetch = self._fetcher(query, fields, len(batch), "search", expand=expand)
            for issues, attempts in overlapping_pages(fetch, key=id_key, what="search"):
                yield Page(items=self.parse(issues), api_calls=attempts, cursor_safe=False)
        deleted = deleted_worklogs(self._client, self._retrying, since, self.warnings)
        if deleted:
            self.warnings.append(
                f"{deleted} worklog(s) deleted since {since.isoformat(timespec='minutes')}: Jira does not "
                "name their issues, whose time is read again when they next change or on a full sync"
            )

    def _learn_epics(self) -> None:
        """Learn the key and id of every epic in scope, the issues with an Epic Name (a field Jira
        Software sets on epics only), so that the Epic Links of a full listing resolve without a
        lookup per page: a few requests instead of one per page that meets a new epic."""
        if self.epic.link is None or self.epic.name is None:
            return  # no Epic Link to resolve, or no way to tell the epics
        number = self.epic.name.removeprefix("customfield_")
        for issues in self._id_pages(f" AND cf[{number}] is not EMPTY", "epics"):
            self._epics.learn(issues)

    def ids(self) -> Iterator[str]:
        """Every issue id in scope, ordered by id (the census)."""
        for issues in self._id_pages("", "census", validate=True):
            for raw in issues:
                yield issue_id(raw, "census")

    def _id_pages(
        self, condition: str, kind: str, *, validate: bool = False
    ) -> Iterator[list[dict[str, Any]]]:
        """The issues in scope that also meet ``condition`` (JQL after the scope, or nothing), ids
        only, ordered by id, :data:`ID_PAGE` a request, page by page."""
        jql = f"({self._scope}){condition} ORDER BY id ASC"
        fetch = self._fetcher(jql, ["id"], ID_PAGE, kind, validate=validate)
        for issues, _ in overlapping_pages(fetch, key=id_key, what=kind):
            yield issues

    def one(self, jql: str, fields: Sequence[str], item_ref: str) -> WorkItem:
        """The issue ``jql`` (the scope and the issue's id or key) finds; NotFoundError when it no
        longer exists, OutOfScopeError when it exists outside the scope."""
        page = self._fetcher(jql, fields, 1, "issue")(0)
        issues = [raw for raw in page.get("issues") or [] if isinstance(raw, dict)]
        if not issues:
            # validateQuery is off: a deleted issue is a warning, not a 400. Tell the two apart.
            self._retrying(partial(self._client.get_issue, item_ref, ["id"]))  # NotFoundError when gone
            raise OutOfScopeError(f"issue {item_ref} is not matched by the configured JQL", tracker="jira")
        return self.parse(issues[:1])[0]
