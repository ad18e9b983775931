"""Each tracker's sandbox behind one face, so every connector gets the same integration tests.

A :class:`Site` starts a sandbox with generated data and knows, in its vendor's own terms, how to
build the real connector, which requests are listing calls, how to change, remove and break things.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from v2mom.connectors.base import Connector
from v2mom.sandbox.faults import FaultBook
from v2mom.sandbox.ground_truth import GroundTruth
from v2mom.sandbox.server import SandboxServer
from v2mom.settings import SyncSettings


@dataclass
class Site:
    """A running sandbox of one tracker and the verbs the shared tests need."""

    tracker: str
    url: str
    state: FaultBook
    truth: GroundTruth
    build: Callable[..., Connector]  # (url, *, token, page_size, sync, sleep) -> Connector
    listing_prefix: str  # request paths counted as listing calls
    live_ids: Callable[[], set[str]]
    change: Callable[[int], list[str]]  # change k items; their ids
    remove: Callable[[], str]  # remove one item as the tracker does; its id
    rate_limit: Callable[[float, int], None]  # (wait seconds, after n listing calls)
    secret: Callable[[], str]
    auth_hint: str  # what a bad-credentials error must say
    listing_scopes: int = 1  # listings a run makes at least (Asana: one per project)
    history_suffix: str | None = None  # history reads under the listing prefix (Asana: a task's stories)
    listing_path: str | None = None  # the listing's own path, when others' start with it (Asana's subtasks)
    waits: list[float] = field(default_factory=list)

    def connector(self, *, token: str | None = None, max_retries: int = 3, page_size: int = 50) -> Connector:
        """The real connector, pointed at the sandbox; sleeps are recorded, not slept."""
        return self.build(
            self.url,
            token=token,
            page_size=page_size,
            sync=SyncSettings(max_retries=max_retries),
            sleep=self.waits.append,
        )

    def fail_listing(self, status: int, *, times: int, after: int) -> None:
        """Answer ``status`` to ``times`` listing calls after ``after`` of them (listing pages only,
        where ``listing_path`` names them)."""
        path, exact = (self.listing_path, True) if self.listing_path else (self.listing_prefix, False)
        self.state.inject_fault(status, times=times, after=after, path_prefix=path, exact=exact)

    def listing_calls(self) -> int:
        """Listing requests received so far (history reads under the same prefix are not listings)."""
        calls = self.state.request_count(self.listing_prefix)
        if self.history_suffix is not None:
            calls -= sum(
                n
                for path, n in dict(self.state.requests).items()
                if path.startswith(self.listing_prefix) and path.endswith(self.history_suffix)
            )
        return calls


@contextmanager
def linear_site() -> Iterator[Site]:
    """A Linear sandbox (two teams in scope, projects, sub-issues, label groups)."""
    from v2mom.connectors.linear.connector import LinearConnector
    from v2mom.sandbox.linear.app import create_linear_app
    from v2mom.sandbox.linear.generator import generate_linear_workspace, linear_settings

    state, truth = generate_linear_workspace(seed=5, projects=8, issues=400)

    def build(url: str, *, token: str | None, page_size: int, sync: SyncSettings, sleep: Any) -> Connector:
        settings = linear_settings(state, url, api_key=token, page_size=page_size)
        return LinearConnector(settings, sync, sleep=sleep)

    def live_issues() -> list[str]:
        return sorted(i for i in truth.live_ids() if i in state.issues)

    def change(k: int) -> list[str]:
        chosen = live_issues()[:k]
        for issue_id in chosen:
            state.update_issue(issue_id, title="changed")
        return chosen

    def remove() -> str:
        issue_id = live_issues()[-1]
        state.archive_issue(issue_id)
        return issue_id

    def rate_limit(wait: float, after: int) -> None:
        state.inject_fault(
            400, retry_after=wait, after=after, path_prefix="/graphql/Issues", kind="ratelimited"
        )

    with SandboxServer(create_linear_app(state)) as url:
        yield Site(
            tracker="linear",
            url=url,
            state=state,
            truth=truth,
            build=build,
            listing_prefix="/graphql/Issues",
            live_ids=truth.live_ids,
            change=change,
            remove=remove,
            rate_limit=rate_limit,
            secret=lambda: state.api_key,
            auth_hint="check the API key",
        )


@contextmanager
def asana_site() -> Iterator[Site]:
    """An Asana sandbox (three projects in scope, subtasks, custom fields, the Events API)."""
    from v2mom.connectors.asana.connector import AsanaConnector
    from v2mom.sandbox.asana.app import create_asana_app
    from v2mom.sandbox.asana.generator import asana_settings, generate_asana_workspace

    state, truth = generate_asana_workspace(seed=5, tasks=400)

    def build(url: str, *, token: str | None, page_size: int, sync: SyncSettings, sleep: Any) -> Connector:
        settings = asana_settings(state, url, truth.projects, token=token, page_size=page_size)
        return AsanaConnector(settings, sync, sleep=sleep)

    def leaves() -> list[str]:
        return sorted(g for g in truth.live_tasks() if not state.children.get(g))

    def change(k: int) -> list[str]:
        chosen = [g for g in leaves() if state.tasks[g].parent is None][:k]
        for gid in chosen:
            state.update_task(gid, name="changed")
        return chosen

    def remove() -> str:
        gid = leaves()[-1]
        state.delete_task(gid)
        return gid

    def rate_limit(wait: float, after: int) -> None:
        state.inject_fault(429, retry_after=wait, after=after, path_prefix="/api/1.0/tasks")

    with SandboxServer(create_asana_app(state)) as url:
        yield Site(
            tracker="asana",
            url=url,
            state=state,
            truth=truth,
            build=build,
            listing_prefix="/api/1.0/tasks",
            live_ids=truth.live_ids,
            change=change,
            remove=remove,
            rate_limit=rate_limit,
            secret=lambda: state.token,
            auth_hint="check the personal access token",
            listing_scopes=len(truth.projects),
            history_suffix="/stories",
            listing_path="/api/1.0/tasks",
        )


@contextmanager
def jira_datacenter_site() -> Iterator[Site]:
    """A Jira Data Center sandbox (Epic Links by key, sub-tasks by parent, user keys), kept out of
    :data:`SITES`: the Jira suites run it where Data Center differs, not every shared case again."""
    from v2mom.connectors.jira.connector import JiraConnector
    from v2mom.sandbox.generator import generate_jira_workspace, jira_settings
    from v2mom.sandbox.jira.app import create_jira_app

    state, truth = generate_jira_workspace(seed=5, epics=15, issues=200, deployment="datacenter")

    def build(url: str, *, token: str | None, page_size: int, sync: SyncSettings, sleep: Any) -> Connector:
        return JiraConnector(
            jira_settings(state, url, api_token=token, page_size=page_size), sync, sleep=sleep
        )

    def live_issues() -> list[int]:
        return sorted(truth.live())

    def change(k: int) -> list[str]:
        chosen = live_issues()[:k]
        for issue_id in chosen:
            state.update_issue(issue_id, summary="changed")
        return [str(i) for i in chosen]

    def remove() -> str:
        issue_id = next(i for i in reversed(live_issues()) if state.issues[i].type_name != "Epic")
        state.delete_issue(issue_id)
        return str(issue_id)

    def rate_limit(wait: float, after: int) -> None:
        state.inject_fault(429, retry_after=wait, after=after)

    with SandboxServer(create_jira_app(state)) as url:
        yield Site(
            tracker="jira",
            url=url,
            state=state,
            truth=truth,
            build=build,
            listing_prefix="/rest/api/2/search",
            live_ids=lambda: {str(i) for i in truth.live()},
            change=change,
            remove=remove,
            rate_limit=rate_limit,
            secret=lambda: state.api_token,
            auth_hint="check trackers.jira.token",
        )


SITES: dict[str, Callable[[], Any]] = {"linear": linear_site, "asana": asana_site}
