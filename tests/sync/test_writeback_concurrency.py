"""Write-back runs at once (two runs once gave 216 Asana tasks two identical attachments each), on
both databases, through the real connectors against their sandboxes.

Two ``v2mom writeback --apply`` processes and one ``POST /api/admin/writeback`` start together. The
first write request of whichever run takes the tracker's lock is held in the sandbox until the two
others have ended: they are refused as busy (exit 1, 409) without writing anything, the held run
then finishes, and every written item holds exactly one explanation link. And a task that already
holds two identical attachments of ours (as those runs left them) keeps one once a run lists it.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from tests.support import auth
from tests.sync.writeback_worlds import WRITES, World, held_choices, open_world, our_links
from v2mom.app.factory import create_app
from v2mom.store import schema as t

LIVENESS = 120.0  # seconds the runs may take to start and end (a generous deadline, not a timing)
SIZES = {"asana": 120, "jira": 80}
BUSY = "a write-back of {tracker} is already running"


def wait_until(done: Callable[[], bool], what: str) -> None:
    """Poll ``done`` until it holds, failing after :data:`LIVENESS` seconds."""
    deadline = time.monotonic() + LIVENESS
    while not done():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting until {what}")
        time.sleep(0.05)


def exactly_one_link_each(world: World) -> dict[str, list[str]]:
    """Our links in the tracker, asserting one per item whose record holds a link and none elsewhere."""
    links = our_links(world.name, world.state)
    assert {item: urls for item, urls in links.items() if len(urls) != 1} == {}
    assert set(links) == {item for item, (_, url, _) in world.records().items() if url is not None}
    return links


@pytest.mark.parametrize("tracker", sorted(SIZES))
def test_concurrent_runs_write_once_and_leave_one_link_per_item(
    tracker: str, database_url: str, tmp_path: Path
) -> None:
    with open_world(tracker, database_url, tmp_path, size=SIZES[tracker]) as world:
        preview = world.run(apply=False)
        assert preview.fields
        assert preview.links
        before = held_choices(tracker, world.state)
        admin = world.store.tokens.create("admin", "ops")
        stall = world.state.stall(WRITES[tracker], when="before")  # the lock holder's first write waits
        clis: list[subprocess.Popen[str]] = []
        with TestClient(create_app(world.settings, world.store)) as client, ThreadPoolExecutor(1) as pool:
            try:
                http: Future[httpx.Response] = pool.submit(
                    client.post, "/api/admin/writeback", headers=auth(admin)
                )
                clis = [world.start_cli(f"cli-{n}") for n in range(2)]
                ended = [http.done, *(lambda p=p: p.poll() is not None for p in clis)]
                wait_until(stall.reached.is_set, "one run holds the lock and sends its first write")
                wait_until(lambda: sum(e() for e in ended) == 2, "the two other runs have ended")
                assert our_links(tracker, world.state) == {}  # nothing was written meanwhile
                assert held_choices(tracker, world.state) == before
            finally:
                stall.release()
                outputs = [p.communicate(timeout=LIVENESS)[0] for p in clis]
            answer = http.result(timeout=LIVENESS)

        busy = BUSY.format(tracker=tracker)
        outcomes = [("http", answer.status_code, answer.text)]
        outcomes += [("cli", p.returncode, out) for p, out in zip(clis, outputs, strict=True)]
        refused = [o for o in outcomes if busy in o[2]]
        wrote = [o for o in outcomes if busy not in o[2]]
        assert len(refused) == 2, outcomes
        assert all(code == (409 if how == "http" else 1) for how, code, _ in refused), outcomes
        ((how, code, text),) = wrote
        assert code == (200 if how == "http" else 0), text

        links = exactly_one_link_each(world)
        assert len(links) == len(preview.links)
        left = world.run(apply=False)
        assert (left.fields, left.links) == ([], [])


def test_a_task_holding_two_identical_links_of_ours_keeps_one(database_url: str, tmp_path: Path) -> None:
    with open_world("asana", database_url, tmp_path, size=SIZES["asana"]) as world:
        done = world.run()
        assert done.ok, (done.error, done.refused[:3])
        state = world.state
        links = exactly_one_link_each(world)
        doubled = sorted(links)[:5]
        with state.lock:
            for task in doubled:  # what two concurrent runs left: a second, identical attachment
                (first,) = [a for a in state.attachments.values() if a.parent == task]
                state.add_attachment(task, first.name, first.url)
        assert all(len(our_links("asana", state)[task]) == 2 for task in doubled)
        cleared = update(t.writebacks).where(t.writebacks.c.tracker == "asana")
        with world.store.engine.begin() as conn:  # as migration 0009 leaves Asana's link records
            conn.execute(cleared.values(link_url=None, linked_at=None))

        relisted = world.run()
        assert relisted.ok, (relisted.error, relisted.refused[:3])
        assert relisted.linked == len(links)  # every task listed again
        assert exactly_one_link_each(world) == links
