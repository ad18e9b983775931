"""Sync throughput from each tracker's sandbox, as a ratio to a raw fetch loop against it.

    python -m bench.sync [--tracker jira|jira-datacenter|linear|asana|all] [--items 100000]
                         [--repeat 3] [--database-url URL] [--latency MS] [--page-size N]

Each sandbox runs in its own process (:mod:`bench.sandboxes`). The floor is a bare ``requests``
loop making the same listing and history requests the connector's full run makes, decoding JSON and
nothing else:

- Jira: ``/rest/api/3/search/jql`` pages with the same JQL, fields and page size, then the
  changelogs of the issues listed (``/rest/api/3/changelog/bulkfetch``, 1,000 issues a request);
- Jira Data Center (``jira-datacenter``): ``/rest/api/2/search`` pages by ``startAt`` with the same
  JQL, fields and page size and ``expand=changelog`` (Data Center has no bulk changelog: the
  listing's pages carry their issues' changelogs, as the connector's do), one after the other with
  no overlap;
- Linear: the same ``projects`` and ``issues`` GraphQL documents, following ``endCursor``, and
  ``issue_labels`` for issues with more labels than one page holds, then ``issue_history`` for the
  issues listed (as many a request as the connector asks) and ``issue_history_page`` for longer
  histories;
- Asana: ``/tasks?project=`` pages per project, each page followed by its tasks' subtasks (Asana
  lists no subtask in a project), level by level, the first pages of ten tasks' subtasks in one
  ``POST /batch`` and a longer list read on alone, with the same ``opt_fields``, then every
  task's stories: the first pages of ten tasks' ``/tasks/{gid}/stories`` in one ``POST /batch``,
  a longer history read on alone from its ``next_page``.

Pages hold what each tracker's settings hold when ``page_size`` is not set (Jira Data Center: 500,
the others 100), for the floor and the sync alike; ``--page-size`` sets another for both.

Measured: the real ``sync_tracker`` (SDK, parse, upsert, history, cursor; no census) into an empty
store, then the re-resolution a full sync runs (the resolution engine, under the sample plan).
Targets (issue 13): sync alone >= 0.8x the floor, sync + re-resolution >= 0.7x, for every tracker.

These machines' speed drifts by a factor of two between minutes (the same floor took 15 s and 31 s
within the hour), so after one untimed floor run (the sandbox's first-use work) the floor and the sync
run ``--repeat`` times in turn, each sync with a connector of its own and an empty store (a
``--database-url`` database has its tables dropped and migrated again), and the verdicts take the
median of the pairs' ratios; every pair is printed.

``--latency MS`` makes the sandbox answer every request that much later, as a tracker across a
network does (:class:`bench.sandboxes.Latency`): the floor's requests wait one after the other, and
the sync's wait as they do in production, where what a connector reads beside its pages (histories,
pages fetched ahead) overlaps the waits. Without it, both processes share this machine's cores and
the ratio is mostly the sync's CPU against the floor's.

Each pair also prints the CPU both processes spent (this one's, every thread, and the sandbox's) and
the bound it sets: with every core busy, that much CPU takes at least ``total / cores`` of wall
time, so the sync's ratio cannot pass ``floor / (total / cores)`` on this machine, however well its
threads overlap. A bound under the target says the miss is the CPU spent, not waiting. Beside it,
the ratio this process's own CPU would allow on one core: parsing and storing hold the interpreter's
lock, so when that figure is under the target, spreading the sync's threads does not reach it (only
less CPU, or work moved out of the lock, does).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import requests

from bench.common import CpuSplit, usable_cores, verdict
from bench.sandboxes import JIRA_DATACENTER, SandboxProcess, add_latency_option, latency_label
from v2mom.connectors.base import Connector
from v2mom.mapping.plan import load_plan
from v2mom.sandbox import SAMPLE_PLAN_PATH
from v2mom.store.database import Database
from v2mom.store.resolution.run import remap
from v2mom.sync.runner import sync_tracker


class RawLoop(Protocol):
    """A bare client's full read of a sandbox (:data:`CASES`): the records it listed."""

    def __call__(self, with_history: bool = True) -> int:
        """List every record; with ``with_history``, read their histories as the sync does too."""
        ...


def jira_case(settings: Any) -> tuple[Connector, RawLoop]:
    """The Jira connector and its raw loop."""
    from v2mom.connectors.jira.connector import JiraConnector
    from v2mom.connectors.jira.history import HISTORY_FIELDS

    connector = JiraConnector(settings)
    connector.discover()
    fields = connector.fields
    page_size = settings.page_size

    def raw(with_history: bool = True) -> int:
        session = requests.Session()
        session.auth = (settings.email, settings.api_token.get_secret_value())
        seen, token = 0, None
        ids: list[str] = []
        while True:
            body: dict[str, object] = {
                "jql": connector.jql_for(None),
                "fields": fields,
                "maxResults": page_size,
            }
            if token:
                body["nextPageToken"] = token
            answer = session.post(f"{settings.url}/rest/api/3/search/jql", json=body, timeout=60)
            answer.raise_for_status()
            page = answer.json()
            seen += len(page["issues"])
            ids.extend(issue["id"] for issue in page["issues"])
            if page.get("isLast", True):
                break
            token = page["nextPageToken"]
        if not with_history:
            return seen
        for start in range(0, len(ids), 1000):  # the changelogs of the issues listed
            changes: dict[str, object] = {
                "issueIdsOrKeys": ids[start : start + 1000],
                "fieldIds": HISTORY_FIELDS,
            }
            while True:
                answer = session.post(
                    f"{settings.url}/rest/api/3/changelog/bulkfetch", json=changes, timeout=60
                )
                answer.raise_for_status()
                logs = answer.json()
                if not logs.get("nextPageToken"):
                    break
                changes["nextPageToken"] = logs["nextPageToken"]
        return seen

    return connector, raw


def jira_datacenter_case(settings: Any) -> tuple[Connector, RawLoop]:
    """The Jira connector on Data Center and its raw ``startAt`` loop."""
    from v2mom.connectors.jira.connector import JiraConnector

    connector = JiraConnector(settings)
    connector.discover()
    fields = connector.fields
    page_size = settings.page_size

    def search(session: requests.Session, body: dict[str, object]) -> dict[str, Any]:
        answer = session.post(f"{settings.url}/rest/api/2/search", json=body, timeout=60)
        answer.raise_for_status()
        page: dict[str, Any] = answer.json()
        return page

    def raw(with_history: bool = True) -> int:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {settings.token.get_secret_value()}"
        ids: list[str] = []
        while True:  # each page with its issues' changelogs, as the connector's listing asks
            body: dict[str, object] = {
                "jql": connector.jql_for(None),
                "fields": fields,
                "startAt": len(ids),
                "maxResults": page_size,
            }
            if with_history:
                body["expand"] = ["changelog"]
            page = search(session, body)
            ids.extend(issue["id"] for issue in page["issues"])
            if not page["issues"] or len(ids) >= page["total"]:
                break
        return len(ids)

    return connector, raw


def linear_case(settings: Any) -> tuple[Connector, RawLoop]:
    """The Linear connector and its raw loop (same documents, same variables)."""
    from v2mom.connectors.linear.connector import LinearConnector
    from v2mom.connectors.linear.history import HISTORY_FIRST, HISTORY_ISSUES, HISTORY_PAGE
    from v2mom.connectors.linear.parse import query_text

    url = settings.api_url
    connector = LinearConnector(settings)
    teams = {"key": {"in": settings.teams}}
    page_size = settings.page_size

    def raw(with_history: bool = True) -> int:
        session = requests.Session()
        session.headers["Authorization"] = settings.api_key.get_secret_value()
        seen = 0
        ids: list[str] = []
        for name, root, flt in (
            ("projects", "projects", {"accessibleTeams": {"some": teams}}),
            ("issues", "issues", {"team": teams}),
        ):
            after = None
            while True:
                variables = {"filter": flt, "first": page_size, "after": after}
                answer = session.post(
                    url, json={"query": query_text(name), "variables": variables}, timeout=60
                )
                answer.raise_for_status()
                connection = answer.json()["data"][root]
                seen += len(connection["nodes"])
                ids.extend(node["id"] for node in connection["nodes"])
                for node in connection["nodes"]:  # issues with more labels than one page: the rest
                    labels = node.get("labels") or {}
                    cursor = (labels.get("pageInfo") or {}).get("endCursor")
                    while (labels.get("pageInfo") or {}).get("hasNextPage"):
                        more = {"id": node["id"], "first": 50, "after": cursor}
                        page = session.post(
                            url, json={"query": query_text("issue_labels"), "variables": more}, timeout=60
                        )
                        labels = page.json()["data"]["issue"]["labels"]
                        cursor = labels["pageInfo"]["endCursor"]
                if not connection["pageInfo"]["hasNextPage"]:
                    break
                after = connection["pageInfo"]["endCursor"]
        if not with_history:
            return seen
        for start in range(0, len(ids), HISTORY_ISSUES):  # the histories listed, as the sync reads them
            batch = ids[start : start + HISTORY_ISSUES]
            variables = {"ids": batch, "first": HISTORY_ISSUES, "historyFirst": HISTORY_FIRST}
            answer = session.post(
                url, json={"query": query_text("issue_history"), "variables": variables}, timeout=60
            )
            answer.raise_for_status()
            for node in answer.json()["data"]["issues"]["nodes"]:
                history = node["history"]
                while history["pageInfo"]["hasNextPage"]:
                    more = {
                        "id": node["id"],
                        "first": HISTORY_PAGE,
                        "after": history["pageInfo"]["endCursor"],
                    }
                    page = session.post(
                        url, json={"query": query_text("issue_history_page"), "variables": more}, timeout=60
                    )
                    history = page.json()["data"]["issue"]["history"]
        return seen

    return connector, raw


def asana_case(settings: Any) -> tuple[Connector, RawLoop]:
    """The Asana connector and its raw loop (project pages, every task's subtasks, every task's stories)."""
    from v2mom.connectors.asana.batch import BATCH_SIZE
    from v2mom.connectors.asana.connector import AsanaConnector
    from v2mom.connectors.asana.history import STORY_PAGE
    from v2mom.connectors.asana.parse import STORY_FIELDS, TASK_FIELDS

    base = settings.base_url
    connector = AsanaConnector(settings)
    page_size = settings.page_size

    def raw(with_history: bool = True) -> int:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {settings.token.get_secret_value()}"
        seen = 0

        def listing(
            path: str, params: dict[str, Any], fields: str = TASK_FIELDS, offset: str | None = None
        ) -> Iterator[list[dict[str, Any]]]:
            while True:
                query = {**params, "limit": page_size, "opt_fields": fields}
                if offset:
                    query["offset"] = offset
                answer = session.get(f"{base}{path}", params=query, timeout=60)
                answer.raise_for_status()
                body = answer.json()
                yield body["data"]
                if not body["next_page"]:
                    return
                offset = body["next_page"]["offset"]

        def pages(
            path: str, params: dict[str, Any], fields: str = TASK_FIELDS, offset: str | None = None
        ) -> list[dict[str, Any]]:
            return [record for page in listing(path, params, fields, offset) for record in page]

        def first_pages(paths: list[str], options: dict[str, Any]) -> list[dict[str, Any]]:
            actions = [{"relative_path": path, "method": "get", "options": options} for path in paths]
            answer = session.post(f"{base}/batch", json={"data": {"actions": actions}}, timeout=60)
            answer.raise_for_status()
            return [result["body"] for result in answer.json()["data"]]

        def subtasks(parents: list[dict[str, Any]]) -> list[dict[str, Any]]:
            """Level by level, ten parents' first pages a batch, longer lists read on alone."""
            found: list[dict[str, Any]] = []
            level = [t["gid"] for t in parents if t["num_subtasks"]]
            options = {"limit": page_size, "fields": TASK_FIELDS.split(",")}
            while level:
                deeper: list[str] = []
                for start in range(0, len(level), BATCH_SIZE):
                    group = level[start : start + BATCH_SIZE]
                    bodies = first_pages([f"/tasks/{gid}/subtasks" for gid in group], options)
                    for gid, body in zip(group, bodies, strict=True):
                        children = list(body["data"])
                        following = (body.get("next_page") or {}).get("offset")
                        if following:
                            children.extend(pages(f"/tasks/{gid}/subtasks", {}, TASK_FIELDS, following))
                        found.extend(children)
                        deeper.extend(t["gid"] for t in children if t["num_subtasks"])
                level = deeper
            return found

        tasks: list[str] = []
        for project in settings.projects:
            for page in listing("/tasks", {"project": project}):
                records = [*page, *subtasks(page)]
                seen += len(records)
                tasks.extend(t["gid"] for t in records)
        if not with_history:
            return seen
        unique = list(dict.fromkeys(tasks))
        stories = {"limit": STORY_PAGE, "fields": STORY_FIELDS.split(",")}
        for start in range(0, len(unique), BATCH_SIZE):  # Asana reads no history in bulk: ten a batch
            batch = unique[start : start + BATCH_SIZE]
            bodies = first_pages([f"/tasks/{gid}/stories" for gid in batch], stories)
            for gid, body in zip(batch, bodies, strict=True):
                following = (body.get("next_page") or {}).get("offset")
                if following:  # a longer history: read on alone
                    pages(f"/tasks/{gid}/stories", {}, STORY_FIELDS, following)
        return seen

    return connector, raw


SYNC_TARGET = 0.8
RESOLVE_TARGET = 0.7
CASES = {"jira": jira_case, JIRA_DATACENTER: jira_datacenter_case, "linear": linear_case, "asana": asana_case}


@dataclass(frozen=True)
class _Pair:
    """One floor run and the sync after it, on the same sandbox, with the CPU each used."""

    floor_seconds: float
    sync_seconds: float
    remap_seconds: float
    items: int
    floor_cpu: CpuSplit
    sync_cpu: CpuSplit

    @property
    def sync(self) -> float:
        """The sync's rate as a ratio to the floor's (same records, same requests)."""
        return self.floor_seconds / self.sync_seconds

    @property
    def both(self) -> float:
        """Sync plus re-resolution, as a ratio to the floor."""
        return self.floor_seconds / (self.sync_seconds + self.remap_seconds)

    def alone(self) -> float:
        """The best ratio this process's own CPU allows were it spent on one core (one interpreter's
        lock): parsing and storing hold it, the database's and the sockets' waits do not."""
        return self.floor_seconds / self.sync_cpu.ours

    def ceiling(self, cores: int) -> float:
        """The best ratio the sync's CPU allowed here: the floor's time over the wall the sync would
        take with every core busy with its CPU and the sandbox's (a database server's not counted,
        so on PostgreSQL this bound is looser still). No sync of this CPU could do better."""
        return self.floor_seconds / self.sync_cpu.least_wall(cores)


def timed_with_cpu(run: Callable[[], Any], sandbox: SandboxProcess) -> tuple[Any, float, CpuSplit]:
    """``run()``'s answer, its wall time, and the CPU this process and the sandbox spent meanwhile."""
    ours, theirs = time.process_time(), sandbox.cpu_seconds()
    started = time.perf_counter()
    answer = run()
    seconds = time.perf_counter() - started
    return answer, seconds, CpuSplit(time.process_time() - ours, sandbox.cpu_seconds() - theirs)


def _pair(
    tracker: str,
    connector: Connector,
    raw: RawLoop,
    database_url: str | None,
    sandbox: SandboxProcess,
) -> _Pair:
    """The floor, then the real sync into an empty store and its re-resolution; prints their lines."""
    floor_items, floor_seconds, floor_cpu = timed_with_cpu(raw, sandbox)
    floor_rate = floor_items / floor_seconds
    print(f"{tracker:6} floor: {floor_items:,} records in {floor_seconds:.1f} s = {floor_rate:,.0f}/s")
    with tempfile.TemporaryDirectory() as tmp:
        # An empty store each time: every sync is a first full one.
        store = _emptied(database_url) if database_url else Database.open(f"sqlite:///{tmp}/bench.db")
        plan = load_plan(SAMPLE_PLAN_PATH.read_text(encoding="utf-8"), str(SAMPLE_PLAN_PATH))
        store.plans.save(plan, actor="bench")
        result, sync_seconds, sync_cpu = timed_with_cpu(
            lambda: sync_tracker(store, connector, full=True, census=False), sandbox
        )
        assert result.ok, result.error
        started = time.perf_counter()
        stats = remap(store)
        remap_seconds = time.perf_counter() - started
        store.close()
    pair = _Pair(floor_seconds, sync_seconds, remap_seconds, result.seen, floor_cpu, sync_cpu)
    sync_rate = result.seen / sync_seconds
    print(
        f"{tracker:6} sync:  {result.seen:,} items in {sync_seconds:.1f} s = {sync_rate:,.0f}/s "
        f"({pair.sync:.2f}x the floor), {result.api_calls:,} API calls"
    )
    print(
        f"{tracker:6} remap: {stats.items:,} items in {remap_seconds:.1f} s; sync + remap = "
        f"{result.seen / (sync_seconds + remap_seconds):,.0f}/s ({pair.both:.2f}x the floor)"
    )
    cores = usable_cores()
    print(
        f"{tracker:6} cpu:   floor {floor_cpu.describe()}; sync {sync_cpu.describe()} on {cores} cores: "
        f"no wall under {sync_cpu.least_wall(cores):.1f} s, at best {pair.ceiling(cores):.2f}x the floor; "
        f"our CPU on one core: at best {pair.alone():.2f}x"
    )
    return pair


def _emptied(database_url: str) -> Database:
    """The store at ``database_url`` with every table dropped, then migrated again from nothing."""
    from sqlalchemy import text

    from v2mom.store import schema as t

    store = Database.open(database_url, migrate=False)
    t.metadata.drop_all(store.engine)
    with store.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    store.close()
    return Database.open(database_url)


def bench_tracker(
    tracker: str,
    items: int,
    page_size: int | None,
    database_url: str | None,
    repeat: int,
    latency: float = 0.0,
) -> float:
    """Floor and sync for one tracker, ``repeat`` times in turn (this machine's speed drifts between
    runs), every request answered ``latency`` seconds late; prints each pair and the verdicts on the
    median pair; returns the median sync ratio."""
    pairs: list[_Pair] = []
    with SandboxProcess(tracker, items, page_size) as sandbox:
        sandbox.set_latency(latency)
        print(f"{tracker:6} {sandbox.section.page_size} records a page, the floor's and the sync's")
        for run in range(repeat + 1):  # a connector of its own each time, as each sync pass has
            connector, raw = CASES[tracker](sandbox.section)
            if run == 0:
                raw()  # warm-up: what the sandbox builds on first use is not charged to either side
            else:
                pairs.append(_pair(tracker, connector, raw, database_url, sandbox))
            connector.close()
    sync = statistics.median(pair.sync for pair in pairs)
    both = statistics.median(pair.both for pair in pairs)
    ceiling = statistics.median(pair.ceiling(usable_cores()) for pair in pairs)
    if repeat > 1:
        print(f"{tracker:6} sync ratios {', '.join(f'{p.sync:.2f}' for p in pairs)}: median {sync:.2f}")
    print(f"{tracker:6} the CPU's bound on the sync: median {ceiling:.2f}x the floor (every core busy)")
    dialect = "postgresql" if database_url and database_url.startswith("postgresql") else "sqlite"
    late = latency_label(latency)
    for name, value, target in (("sync", sync, SYNC_TARGET), ("sync+resolve", both, RESOLVE_TARGET)):
        line = f"RESULT {name}/{tracker}/{dialect}{late}: ratio {value:.2f}"
        print(f"{line} (target >= {target}: {verdict(value >= target)})")
    return sync


def main() -> None:
    """Benchmark the chosen trackers one after the other."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracker", choices=[*CASES, "all"], default="all")
    parser.add_argument("--items", type=int, default=100_000, help="records generated per tracker")
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument(
        "--page-size", type=int, default=None, help="default: each tracker's own, as its settings default"
    )
    parser.add_argument("--repeat", type=int, default=3, help="floor and sync pairs per tracker (median)")
    add_latency_option(parser)
    args = parser.parse_args()
    for tracker in CASES if args.tracker == "all" else (args.tracker,):
        bench_tracker(tracker, args.items, args.page_size, args.database_url, args.repeat, args.latency)


if __name__ == "__main__":
    main()
