"""Sync throughput from the Jira sandbox, as a ratio to a raw page-fetch loop against it.

    python -m bench.sync [--issues 100000] [--database-url URL]

The sandbox runs in its own process (so our client's Python work does not share a GIL with the
server). The floor is a bare ``requests`` loop over ``/rest/api/3/search/jql`` with the same JQL,
fields and page size, decoding JSON and nothing else. Measured: the real ``sync_tracker`` (parse,
upsert, cursor) and then re-resolution, items/s each. Target (issue 2): sync >= 0.7x the floor.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import tempfile
import time
from multiprocessing.connection import Connection

import requests

from bench.common import verdict
from connectors.jira.connector import JiraConnector
from sync.remap import remap
from sync.runner import sync_tracker
from v2mom.settings import JiraSettings
from v2mom.store import Store


def serve_sandbox(issues: int, pipe: Connection) -> None:
    """Child process: generate the workspace, serve it, send (url, email, token, jql), then wait."""
    from sandbox.generator import generate_jira_workspace, scope_jql
    from sandbox.jira.app import create_jira_app
    from sandbox.server import SandboxServer

    state, _truth = generate_jira_workspace(seed=11, issues=issues, epics=max(30, issues // 40))
    server = SandboxServer(create_jira_app(state))
    url = server.start()
    pipe.send((url, state.account_email, state.api_token, scope_jql(state)))
    pipe.recv()  # any message: stop
    server.stop()


def raw_loop(url: str, email: str, token: str, jql: str, fields: list[str], page_size: int) -> int:
    """Fetch every page with plain requests; returns the number of issues seen."""
    session = requests.Session()
    session.auth = (email, token)
    seen = 0
    token_: str | None = None
    while True:
        body: dict[str, object] = {"jql": jql, "fields": fields, "maxResults": page_size}
        if token_:
            body["nextPageToken"] = token_
        answer = session.post(f"{url}/rest/api/3/search/jql", json=body, timeout=60)
        answer.raise_for_status()
        page = answer.json()
        seen += len(page["issues"])
        if page.get("isLast", True):
            return seen
        token_ = page["nextPageToken"]


def main() -> None:
    """Start the sandbox process, run the floor and the real sync, print ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=100_000)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--page-size", type=int, default=100)
    args = parser.parse_args()
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    process = ctx.Process(target=serve_sandbox, args=(args.issues, child), daemon=True)
    process.start()
    url, email, api_token, jql = parent.recv()
    try:
        settings = JiraSettings(url=url, email=email, api_token=api_token, jql=jql, page_size=args.page_size)
        connector = JiraConnector(settings)
        discovery = connector.discover()
        fields = connector.fields
        ordered_jql = f"({jql}) ORDER BY updated ASC, id ASC"

        started = time.perf_counter()
        floor_items = raw_loop(url, email, api_token, ordered_jql, fields, args.page_size)
        floor_seconds = time.perf_counter() - started
        floor_rate = floor_items / floor_seconds
        print(f"floor  raw page loop: {floor_items:,} issues in {floor_seconds:.1f} s = {floor_rate:,.0f}/s")

        with tempfile.TemporaryDirectory() as tmp:
            store = Store.open(args.database_url or f"sqlite:///{tmp}/bench.db")
            started = time.perf_counter()
            result = sync_tracker(store, connector, full=True, census=False)
            sync_seconds = time.perf_counter() - started
            assert result.ok, result.error
            sync_rate = result.seen / sync_seconds
            started = time.perf_counter()
            stats = remap(store)
            remap_seconds = time.perf_counter() - started
            total_rate = result.seen / (sync_seconds + remap_seconds)
            print(
                f"sync   {result.seen:,} issues in {sync_seconds:.1f} s = {sync_rate:,.0f}/s "
                f"({sync_rate / floor_rate:.2f}x the floor); points field {discovery.effort_field}"
            )
            print(
                f"remap  {stats.items:,} items in {remap_seconds:.1f} s; sync + remap = {total_rate:,.0f}/s "
                f"({total_rate / floor_rate:.2f}x the floor)"
            )
            ratio = sync_rate / floor_rate
            print(
                f"RESULT sync/jira/{store.dialect}: ratio {ratio:.2f} "
                f"(target >= 0.7: {verdict(ratio >= 0.7)})"
            )
            store.close()
    finally:
        parent.send("stop")
        process.join(timeout=10)


if __name__ == "__main__":
    main()
