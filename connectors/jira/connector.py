"""The Jira connector (Cloud and Data Center): discovery, incremental paging, census and single fetches.

Paging uses ``/rest/api/3/search/jql`` tokens (never offsets) through :mod:`connectors.paging`:
follow ``nextPageToken`` until ``isLast``, accept short pages, and fail on a token seen twice.
Incremental queries render the cursor as a JQL date literal in the *account's* time zone (JQL
literals are wall-clock time there, JRACLOUD-74279), floored to the minute, so nothing updated at or
after the cursor is skipped.

Data Center (``deployment: datacenter``) lists through ``/rest/api/2/search`` by ``startAt`` with
overlapping pages, resolves Epic Links from keys and reads the issues whose worklogs changed
(:mod:`connectors.jira.datacenter_reads`); its history comes from expanded changelogs
(:mod:`connectors.jira.datacenter_history`). Discovery first asks ``serverInfo`` which Jira the URL
names and refuses the other deployment's site with the setting to change.

Provisioning the plan's choices is :mod:`connectors.jira.vocabulary`; writing inferred choices,
:mod:`connectors.jira.tags`; explanation links, :mod:`connectors.jira.links`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from v2mom.connectors.base import CallCounter, ConnectorRuntime, Discovery, Page
from v2mom.connectors.errors import OutOfScopeError
from v2mom.connectors.jira.client import DEFAULT_TIMEOUT, JiraClient
from v2mom.connectors.jira.datacenter_history import DataCenterHistory, ListedChangelogs
from v2mom.connectors.jira.datacenter_reads import DataCenterReads
from v2mom.connectors.jira.history import JiraHistory
from v2mom.connectors.jira.links import JiraLinks
from v2mom.connectors.jira.parse import (
    BASE_FIELDS,
    ISSUE_ID,
    ISSUE_KEY,
    EpicFields,
    discover_epic_fields,
    discover_points_fields,
    parse_issue,
    select_custom_fields,
)
from v2mom.connectors.jira.rate_limits import RateBudget
from v2mom.connectors.jira.tags import JiraTags
from v2mom.connectors.jira.vocabulary import JiraVocabulary
from v2mom.connectors.jira.webhook import changelog_transitions
from v2mom.connectors.paging import cursor_pages
from v2mom.errors import FatalError
from v2mom.events import WebhookEvent
from v2mom.models import ItemTransition, WorkItem
from v2mom.settings import JiraSettings, SyncSettings
from v2mom.vocabulary import (
    AppliedVocabulary,
    LinkWrite,
    TagWrite,
    TrackerVocabulary,
    VocabularyChange,
    WriteOutcome,
)

__all__ = ["CENSUS_PAGE_SIZE", "JiraConnector", "render_jql_datetime"]

CENSUS_PAGE_SIZE = 5000  # Jira's ceiling when only ids are requested
# When the account hides its time zone, render literals as if in UTC-12 (the westernmost offset):
# the query then starts at or before the cursor in every zone Jira might use. Over-fetching is safe.
_UNKNOWN_ZONE_SHIFT = timedelta(hours=12)


def render_jql_datetime(since: datetime, time_zone: str) -> str:
    """``since`` as a JQL literal ``"yyyy-MM-dd HH:mm"`` in ``time_zone``, floored to the minute.

    A naive ``since`` is taken as UTC.
    """
    aware = since if since.tzinfo is not None else since.replace(tzinfo=UTC)
    local = aware.astimezone(ZoneInfo(time_zone))
    return local.strftime("%Y-%m-%d %H:%M")


class JiraConnector(ConnectorRuntime):
    """Jira Cloud or Data Center, seen through :class:`connectors.base.Connector`,
    :class:`connectors.base.VocabularyWriter` and :class:`connectors.base.TagWriter`.

    ``scope`` is the configured JQL. ``calls`` counts HTTP requests by kind ("server-info",
    "myself", "field", "search", "census", "issue"; Data Center also "epic-key" and "worklog";
    history: "status", "changelog"; write-back: "bulk-edit", "bulk-queue", "remote-link"), retries
    included. It is a :class:`connectors.base.HistoryReader` too. Discovery runs once, lazily,
    before the first listing when :meth:`discover` was not called.
    """

    tracker = "jira"
    ordered = True  # search results come oldest update first

    def __init__(
        self,
        settings: JiraSettings,
        sync: SyncSettings | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        timeout: int = DEFAULT_TIMEOUT,
        client: JiraClient | None = None,
    ) -> None:
        """Configure the connector; no request is sent until :meth:`discover` or a listing."""
        super().__init__(sync, sleep)
        self.settings = settings
        self.scope = settings.jql
        self.calls = client.calls if client is not None else CallCounter()
        self._budget = client.budget if client is not None else RateBudget()  # shared by every client
        self._client = client or self._new_client(timeout)
        self._history: JiraHistory | None = None
        self._discovery: Discovery | None = None
        self._time_zone: ZoneInfo | None = None
        self._points_fields: list[str] = []
        self._custom_fields: dict[str, str] = {}
        self._vocabulary = JiraVocabulary(self._client, self._retrying)
        self._tags = JiraTags(self._client, self._retrying, self._vocabulary.field_ids, sleep=sleep)
        self._links = JiraLinks(self._client, self._retrying)
        self._datacenter: DataCenterReads | None = None
        self._listed = ListedChangelogs()
        if settings.deployment == "datacenter":
            self._datacenter = DataCenterReads(
                self._client,
                self._retrying,
                scope=self.scope,
                page_size=settings.page_size,
                parse=self._parse,
                listed=self._listed,
            )

    # -- plumbing -------------------------------------------------------------------------------

    def _new_client(self, timeout: int) -> JiraClient:
        return JiraClient(
            self.settings.url,
            email=self.settings.email,
            api_token=self.settings.credential(),
            deployment=self.settings.deployment,
            budget=self._budget,
            sleep=self._sleep,
            timeout=timeout,
            connect_timeout=self._connect_timeout,
            calls=self.calls,
        )

    @property
    def fields(self) -> list[str]:
        """The explicit field list requested for each issue (after discovery)."""
        extra = [*self._points_fields, *self._custom_fields]
        if self._datacenter is not None:
            extra += self._datacenter.epic.ids
        return list(dict.fromkeys([*BASE_FIELDS, *extra]))

    def _parse(
        self,
        raw: Mapping[str, object],
        epic: EpicFields | None = None,
        epic_ids: Mapping[str, str] | None = None,
    ) -> WorkItem:
        return parse_issue(
            raw,
            base_url=self.settings.url,
            points_fields=self._points_fields,
            custom_field_names=self._custom_fields,
            epic=epic,
            epic_ids=epic_ids,
        )

    # -- Connector ------------------------------------------------------------------------------

    def discover(self) -> Discovery:
        """Check which Jira the URL names (``serverInfo``), then read the account's time zone
        (``/myself``) and the fields (``/field``).

        A Data Center URL configured as Cloud, or a Cloud URL as Data Center, is a ConfigError
        naming the ``deployment`` to set. Finds the story-points field(s) by schema (a configured
        ``story_points_field`` wins and must exist: ConfigError otherwise), the custom fields worth
        reading for tags and, on Data Center, the Epic Link and Epic Name fields.
        """
        self._retrying(self._client.check_deployment)
        me = self._retrying(self._client.myself)
        all_fields = self._retrying(self._client.fields)
        notes: list[str] = []
        zone_name = me.get("timeZone")
        zone: ZoneInfo | None = None
        if isinstance(zone_name, str) and zone_name:
            try:
                zone = ZoneInfo(zone_name)
            except (ZoneInfoNotFoundError, ValueError):
                notes.append(f"unknown account time zone {zone_name!r}: JQL dates widened by 12 h")
        else:
            notes.append("account time zone hidden: JQL dates widened by 12 h")
        self._time_zone = zone
        self._points_fields = discover_points_fields(all_fields, self.settings.story_points_field)
        self._custom_fields = select_custom_fields(all_fields)
        if self._datacenter is not None:
            self._datacenter.epic = discover_epic_fields(all_fields)
            if self._datacenter.epic.link is None:
                notes.append("no Epic Link field found: stories keep no epic")
        if not self._points_fields:
            notes.append("no story-points field found: points will be empty")
        elif len(self._points_fields) > 1:
            notes.append("story-points fields (first non-empty wins): " + ", ".join(self._points_fields))
        self._discovery = Discovery(
            effort_field=self._points_fields[0] if self._points_fields else None,
            time_zone=zone.key if zone is not None else "UTC",
            notes=tuple(notes),
        )
        return self._discovery

    def _ensure_discovered(self) -> None:
        if self._discovery is None:
            self.discover()

    def _since_literal(self, since: datetime) -> str:
        if self._time_zone is not None:
            return render_jql_datetime(since, self._time_zone.key)
        aware = since if since.tzinfo is not None else since.replace(tzinfo=UTC)
        return render_jql_datetime(aware - _UNKNOWN_ZONE_SHIFT, "UTC")

    def jql_for(self, since: datetime | None) -> str:
        """The search JQL: the scope, the time condition when ``since`` is given, oldest first."""
        if since is None:
            return f"({self.scope}) ORDER BY updated ASC, id ASC"
        return f'({self.scope}) AND updated >= "{self._since_literal(since)}" ORDER BY updated ASC, id ASC'

    def _pages(
        self, jql: str, fields: list[str], max_results: int, kind: str
    ) -> Iterator[tuple[list[dict[str, object]], int]]:
        """Raw issues page by page, with the number of requests each page took (retries included).

        Pages follow ``nextPageToken`` through :func:`connectors.paging.cursor_pages` (its loop
        guard: a token seen twice is a FatalError).
        """
        before = 0

        def fetch(token: str | None) -> dict[str, Any]:
            nonlocal before
            before = self.calls.calls.get(kind, 0)
            return self._retrying(
                partial(self._client.search_page, jql, fields, token, max_results, kind=kind)
            )

        for page in cursor_pages(fetch, tracker=self.tracker, what=kind):
            issues = page.get("issues") or []
            yield [i for i in issues if isinstance(i, dict)], self.calls.calls.get(kind, 0) - before

    def iter_pages(self, since: datetime | None) -> Iterator[Page]:
        """Items updated at or after ``since`` (all when None), one Page per API page, oldest first
        (on Data Center, then the issues whose worklogs changed since ``since``)."""
        self._ensure_discovered()
        if self._datacenter is not None:
            yield from self._datacenter.pages(self.jql_for(since), self.fields, since)
            self._warn_once(self._datacenter.warnings)
        else:
            for issues, attempts in self._pages(
                self.jql_for(since), self.fields, self.settings.page_size, kind="search"
            ):
                yield Page(items=[self._parse(raw) for raw in issues], api_calls=attempts)
        self._note_pacing()  # only Data Center sends the rate-limit headers that pace the calls

    def _note_pacing(self) -> None:
        """Say in the run's warnings how long the rate limit paced the calls (replacing an older count)."""
        note = self._budget.note()
        if note is not None:
            self.warnings[:] = [w for w in self.warnings if not w.startswith("paced by")] + [note]

    def iter_ids(self) -> Iterator[str]:
        """Every issue id in scope (ids only, pages of up to 5000; 1000 on Data Center), ordered by id."""
        if self._datacenter is not None:
            yield from self._datacenter.ids()
            return
        for issues, _ in self._pages(
            f"({self.scope}) ORDER BY id ASC", ["id"], CENSUS_PAGE_SIZE, kind="census"
        ):
            for raw in issues:
                issue_id = raw.get("id")
                if isinstance(issue_id, int | str) and not isinstance(issue_id, bool) and str(issue_id):
                    yield str(issue_id)
                else:
                    raise FatalError("census: an issue without an id was returned", tracker="jira")

    def membership_jql(self, item_ref: str) -> str:
        """``(<scope>) AND id = N`` (or ``key = "K"``): the search that finds the issue only in scope.

        FatalError for a reference that is neither an issue id nor an issue key (it would not be safe
        to put into JQL).
        """
        if ISSUE_ID.fullmatch(item_ref):
            return f"({self.scope}) AND id = {int(item_ref)}"
        if ISSUE_KEY.fullmatch(item_ref):
            return f'({self.scope}) AND key = "{item_ref.upper()}"'
        raise FatalError(f"{item_ref!r} is neither an issue id nor an issue key", tracker=self.tracker)

    def get_item(self, item_id: str) -> WorkItem:
        """One issue by stable id (or key), only when the configured JQL matches it.

        One ``search/jql`` call for ``(<jql>) AND id = N`` with the issue's fields: the issue when it
        is in scope; OutOfScopeError when the search finds nothing (an issue moved to a project
        outside the JQL keeps its id, changes its key and stops matching). Jira refuses a JQL that
        names an issue that does not exist (400): then ``/issue/{id}`` tells a deleted or invisible
        issue (NotFoundError) from a query Jira rejects for another reason (that error is raised).
        """
        self._ensure_discovered()
        fields = self.fields
        jql = self.membership_jql(item_id)
        if self._datacenter is not None:
            return self._datacenter.one(jql, fields, item_id)
        try:
            page = self._retrying(partial(self._client.search_page, jql, fields, None, 1, kind="issue"))
        except FatalError as refused:
            if refused.status != 400:
                raise
            self._retrying(partial(self._client.get_issue, item_id, ["id"]))  # NotFoundError when gone
            raise
        issues = [raw for raw in page.get("issues") or [] if isinstance(raw, dict)]
        if not issues:
            raise OutOfScopeError(f"issue {item_id} is not matched by the configured JQL", tracker="jira")
        return self._parse(issues[0])

    # -- HistoryReader --------------------------------------------------------------------------

    def read_history(self, item_ids: Sequence[str]) -> list[ItemTransition]:
        """Status and assignee changes of issues by id, from their changelogs (history.py).

        Read through a session of its own: a sync calls it while its next pages are being fetched.
        """
        history = self._history_reader()
        found = history.read(item_ids)
        self._warn_once(history.notes)
        return found

    def webhook_history(self, item_id: str, event: WebhookEvent) -> list[ItemTransition]:
        """The status and assignee changes of the event's ``changelog`` (webhook.py), the entered
        statuses' categories as the history reader knows them."""
        return changelog_transitions(item_id, event.payload, self._history_reader().category)

    def list_changelogs(self, listed: bool) -> None:
        """Whether Data Center listings carry their issues' changelogs for :meth:`read_history` (the
        default; a caller that reads no history turns it off, and its listings are lighter). Cloud
        reads changelogs in bulk whatever this says."""
        if self._datacenter is not None:
            self._datacenter.listed = self._listed if listed else None

    def _history_reader(self) -> JiraHistory:
        if self._history is None:
            client = self._client.spawn()  # a session of its own
            self._history = (
                DataCenterHistory(client, self._retrying, self._listed)
                if self._datacenter is not None
                else JiraHistory(client, self._retrying)
            )
        return self._history

    # -- VocabularyWriter ----------------------------------------------------------------------

    def read_vocabulary(self) -> TrackerVocabulary:
        """The ``V2MOM Value`` / ``V2MOM Method`` select fields and their global options (vocabulary.py)."""
        vocabulary = self._vocabulary.read()
        self._warn_once(self._vocabulary.notes)
        return vocabulary

    def apply_vocabulary(self, changes: list[VocabularyChange]) -> AppliedVocabulary:
        """Create fields and options, rename, disable or enable options by id (vocabulary.py)."""
        applied = self._vocabulary.apply(changes)
        self._warn_once(self._vocabulary.notes)
        return applied

    # -- TagWriter ------------------------------------------------------------------------------

    def write_tags(self, writes: Sequence[TagWrite]) -> list[WriteOutcome]:
        """Set or clear the ``V2MOM Value`` / ``V2MOM Method`` choices by bulk edit (tags.py)."""
        return self._tags.write_tags(writes)

    def write_links(self, links: Sequence[LinkWrite]) -> list[WriteOutcome]:
        """One remote link per issue with a stable ``globalId``, updated in place (links.py)."""
        return self._links.write_links(links)

    def close(self) -> None:
        """Release the HTTP sessions."""
        self._client.close()
        if self._history is not None:
            self._history.close()
