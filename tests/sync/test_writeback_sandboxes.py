"""Write-back end to end, per tracker: the real connector and SDK against its sandbox, the app receiving
the sandbox's signed webhooks and the worker applying them, on both databases.

From an empty tracker: provisioning creates the vocabulary (a second run changes nothing);
``writeback --apply`` writes exactly what the preview counted; the echo webhooks of those writes are
received and applied and change nothing, and a second run writes nothing; a person's choice on a
parent moves its children's written values on the next run, and a person-set field survives it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support import free_port
from tests.sync.writeback_worlds import (
    BUILDERS,
    DATACENTER,
    ON,
    PUBLIC,
    Tracker,
    held_choices,
    our_links,
    shown,
)
from v2mom.app.factory import create_app
from v2mom.app.services import run_worker_beside
from v2mom.connectors.base import TagWriter
from v2mom.connectors.registry import build_connector
from v2mom.mapping.plan import load_plan
from v2mom.mapping.vocabulary import choice_names
from v2mom.models import WorkItem
from v2mom.reports.flags import item_document
from v2mom.sandbox import SAMPLE_PLAN_PATH
from v2mom.sandbox.jira.administrator import do_by_hand
from v2mom.sandbox.server import SandboxServer
from v2mom.sandbox.webhooks import Sender
from v2mom.settings import Settings, TrackersSettings
from v2mom.store.database import Database
from v2mom.store.resolution.plan_change import apply_plan
from v2mom.store.resolution.preview import preview_plan
from v2mom.sync.provision import provision
from v2mom.sync.service import run_sync
from v2mom.sync.writeback import NO_OPTION, OUTSIDE_PROJECTS, TrackerWriteback, writeback
from v2mom.vocabulary import FIELD_NAMES, Kind, TagWrite


@dataclass
class Loop:
    tracker: Tracker
    settings: Settings
    store: Database
    worker: Any

    @property
    def sender(self) -> Sender:
        """The tracker's webhook sender (the loop always has one)."""
        assert self.tracker.sender is not None
        return self.tracker.sender

    def drain(self) -> None:
        """Wait until the sender has nothing queued and the inbox nothing pending."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            idle = self.sender.idle()  # first: what it sent was acknowledged, so is counted below
            counts = self.store.inbox.counts().get(self.tracker.name, {})
            if idle and counts.get("pending", 0) + counts.get("processing", 0) == 0:
                return
            self.worker.wake()
            time.sleep(0.1)
        raise AssertionError(f"webhooks did not drain: {self.store.inbox.counts()}")

    def read(self, item_id: str) -> WorkItem:
        connector = build_connector(self.tracker.name, self.settings)
        try:
            return connector.get_item(item_id)
        finally:
            connector.close()

    def person_sets(self, item: WorkItem, kind: Kind, plan_id: str) -> None:
        """A person picks ``plan_id`` for ``kind`` on ``item`` in the tracker (through its API)."""
        option = self.store.vocabulary.offered(self.tracker.name)[kind][plan_id]
        connector = build_connector(self.tracker.name, self.settings)
        try:
            assert isinstance(connector, TagWriter)
            (outcome,) = connector.write_tags([TagWrite(item.id, item.key, {kind: option})])
        finally:
            connector.close()
        assert outcome.ok, outcome.error


@pytest.fixture(params=sorted(BUILDERS))
def loop(request: pytest.FixtureRequest, database_url: str) -> Iterator[Loop]:
    with running_loop(BUILDERS[request.param], database_url) as looping:
        yield looping


@pytest.fixture(params=sorted(BUILDERS) + sorted(DATACENTER))
def any_loop(request: pytest.FixtureRequest, database_url: str) -> Iterator[Loop]:
    """:func:`loop` over every tracker and Jira Data Center too."""
    with running_loop({**BUILDERS, **DATACENTER}[request.param], database_url) as looping:
        yield looping


@contextmanager
def running_loop(build: Callable[..., Tracker], database_url: str) -> Iterator[Loop]:
    """A synced store, the app receiving the sandbox's webhooks and the worker applying them."""
    port = free_port()
    servers: list[SandboxServer] = []

    def url_for(app: Any) -> str:
        server = SandboxServer(app)
        servers.append(server)
        return server.start()

    tracker = build(url_for, f"http://127.0.0.1:{port}/webhooks")
    settings = tracker.settings.model_copy(update={"database_url": database_url})
    store = Database.open(database_url)
    store.plans.save(load_plan(SAMPLE_PLAN_PATH.read_text()), actor="test")
    assert all(r.ok for r in run_sync(settings, store, full=True))
    tracker.register(store)
    app = create_app(settings, store)
    server = SandboxServer(app, port=port)
    server.start()
    worker = run_worker_beside(app)
    loop = Loop(tracker, settings, store, worker)
    loop.sender.start()
    try:
        yield loop
    finally:
        loop.sender.stop()
        worker.stop()
        server.stop()
        for sandbox in servers:
            sandbox.stop()
        store.close()


def run(loop: Loop, *, apply: bool) -> TrackerWriteback:
    (result,) = writeback(loop.settings, loop.store, apply=apply)
    return result


def test_write_back_end_to_end(any_loop: Loop) -> None:
    loop = any_loop
    store, settings = loop.store, loop.settings
    connector = build_connector(loop.tracker.name, settings)
    if not isinstance(connector, TagWriter):
        connector.close()
        pytest.fail(f"{loop.tracker.name} does not implement TagWriter")
    connector.close()

    (first,) = provision(settings, store, apply=True)
    assert first.ok, first.error
    assert first.changes or first.manual
    if first.manual:  # Jira Data Center: its administrator adds the options, the next run adopts them
        assert getattr(loop.tracker.state, "datacenter", False)
        assert do_by_hand(loop.tracker.state, first.manual).options == len(first.manual)
        (adopted,) = provision(settings, store, apply=True)
        assert (adopted.ok, adopted.manual) == (True, [])
    (second,) = provision(settings, store, apply=False)
    assert second.ok
    assert second.changes == []

    preview = run(loop, apply=False)
    assert preview.fields, "the sample plan leaves inferred items to write"
    assert preview.notes == []
    done = run(loop, apply=True)
    assert done.ok, (done.error, done.refused[:3])
    assert done.written == len(preview.fields)
    assert done.skipped == preview.skipped  # named before anything is sent, never refused
    if loop.tracker.name != "asana":
        assert done.skipped == []
    assert all(entry.endswith(OUTSIDE_PROJECTS) for entry in done.skipped)  # Asana subtasks outside
    assert done.linked == len(preview.links) == len(preview.fields)
    plan = store.plans.current()
    assert plan is not None
    names = {v.id: v.name for v in plan.cascade_values()} | {m.id: m.name for m in plan.cascade_methods()}
    for write in random.Random(3).sample(preview.fields, min(10, len(preview.fields))):
        held = loop.read(write.item.id)
        for kind, plan_id in write.changes.items():
            assert shown(held, kind) == ({names[plan_id]} if plan_id else set()), (write.item.key, kind)

    before = sorted(store.resolutions.rollup_rows(), key=repr)
    sent = len(loop.sender.log.sent)
    loop.drain()
    assert len(loop.sender.log.sent) > sent - 1  # the writes came back as webhooks
    assert sorted(store.resolutions.rollup_rows(), key=repr) == before  # the echo changed nothing
    again = run(loop, apply=True)
    assert (again.fields, again.links, again.written) == ([], [], 0)

    # A person picks another method on a parent whose children were written: they move next run;
    # a child whose method a person set stays as the person left it.
    written = {w.item.id: w for w in preview.fields}
    parents = {w.item.parent_id for w in preview.fields if w.item.parent_id in written}
    if loop.tracker.name == "asana":  # its parents are projects, which hold no field to pick
        assert not parents
        return
    parent = written[sorted(p for p in parents if p)[0]].item
    children = [w.item for w in preview.fields if w.item.parent_id == parent.id]
    plan = store.plans.current()
    assert plan is not None
    old_method = written[parent.id].changes.get("method") or next(
        (w.changes.get("method") for w in preview.fields if w.item.parent_id == parent.id), None
    )
    new_method = next(m.id for m in plan.methods if m.id != old_method)
    loop.person_sets(parent, "method", new_method)
    keeper = children[0]
    other = next(m.id for m in plan.methods if m.id not in (old_method, new_method))
    loop.person_sets(keeper, "method", other)
    loop.drain()
    moved = run(loop, apply=True)
    assert moved.ok, (moved.error, moved.refused[:3])
    moved_ids = {w.item.id: w.changes for w in moved.fields}
    assert keeper.id not in moved_ids or "method" not in moved_ids[keeper.id]
    for child in children[1:]:
        if child.id in moved_ids:
            assert moved_ids[child.id].get("method") in (new_method, None)
    assert any(child.id in moved_ids for child in children[1:]) or len(children) == 1
    assert shown(loop.read(keeper.id), "method") == {names[other]}  # the person's choice survived
    loop.drain()
    assert run(loop, apply=False).fields == []


def test_provisioned_choices_are_read_back_by_their_tracker_id(loop: Loop) -> None:
    """A value renamed in the plan moves nothing, before provisioning renames its option in the tracker
    and after; a person's pick of a provisioned option still reads as that value."""
    store, settings = loop.store, loop.settings
    (provisioned,) = provision(settings, store, apply=True)
    assert provisioned.ok, provisioned.error
    done = run(loop, apply=True)
    assert done.ok, (done.error, done.refused[:3])
    plan = store.plans.current()
    assert plan is not None
    written = next(w for w in done.fields if w.changes.get("value"))
    chosen = next(v.id for v in plan.values if v.id != written.changes["value"])
    loop.person_sets(written.item, "value", chosen)  # a person's own pick of a provisioned option
    loop.drain()
    assert run_sync(settings, store, full=True)[0].ok
    assert item_values(store, written.item) == {chosen: 1.0}
    assert run(loop, apply=True).ok  # what the person's pick moved is written: nothing is left to write
    loop.drain()
    assert run(loop, apply=False).fields == []
    before = sorted(store.resolutions.rollup_rows(), key=repr)

    renamed = plan.model_copy(
        update={"values": tuple(v.model_copy(update={"name": f"{v.name} (renamed)"}) for v in plan.values)}
    )
    preview = preview_plan(store, renamed)
    assert (preview.moved(), preview.moved_share()) == (0, 0)  # a rename previews no move
    apply_plan(store, renamed, actor="test", reason="clearer names")  # the trackers hold the old ones
    assert run_sync(settings, store, full=True)[0].ok
    assert sorted(store.resolutions.rollup_rows(), key=repr) == before
    (again,) = provision(settings, store, apply=True)  # now the option is renamed in the tracker
    assert again.ok, again.error
    assert {c.action for c in again.changes} == {"rename"}
    loop.drain()
    assert run_sync(settings, store, full=True)[0].ok
    assert sorted(store.resolutions.rollup_rows(), key=repr) == before
    assert item_values(store, written.item) == {chosen: 1.0}
    assert run(loop, apply=False).fields == []


def item_values(store: Database, item: WorkItem) -> dict[str, float]:
    """The values an item resolves to now, by share."""
    document = item_document(store, item.tracker, item.key)
    assert document is not None
    resolution = document["resolution"]
    return dict(resolution["values"]) if resolution else {}


# -- Jira Data Center: options by an administrator, one edit per issue ---------------------------


@pytest.fixture
def datacenter(database_url: str) -> Iterator[tuple[Settings, Database, Any]]:
    """A Data Center site and a store holding its issues (synced from it), the sample plan stored."""
    from v2mom.sandbox.generator import generate_jira_workspace, jira_settings
    from v2mom.sandbox.jira.app import create_jira_app

    state, _ = generate_jira_workspace(seed=21, epics=5, issues=60, deployment="datacenter")
    with SandboxServer(create_jira_app(state)) as url:
        store = Database.open(database_url)
        try:
            store.plans.save(load_plan(SAMPLE_PLAN_PATH.read_text()), actor="test")
            section = jira_settings(state, url).model_copy(update={"write_back": ON})
            settings = Settings(
                database_url=database_url, public_url=PUBLIC, trackers=TrackersSettings(jira=section)
            )
            assert all(r.ok for r in run_sync(settings, store, full=True))
            yield settings, store, state
        finally:
            store.close()


def test_write_back_on_data_center_writes_what_an_admin_offered_and_names_the_rest(
    datacenter: tuple[Settings, Database, Any],
) -> None:
    settings, store, state = datacenter
    (first,) = provision(settings, store, apply=True)
    assert (first.ok, first.changes) == (True, [])  # the fields are there; every option is a step
    assert {s.change.action for s in first.manual} == {"create"}
    waiting = run_dc(settings, store, apply=False)
    assert waiting.fields == []
    assert waiting.skipped
    assert all(NO_OPTION in entry for entry in waiting.skipped)

    plan = store.plans.current()
    assert plan is not None
    left_out = plan.values[-1]  # the administrator adds every option but this value's
    fields = {f["name"]: f["id"] for f in state.fields if f["name"] in FIELD_NAMES.values()}
    for step in first.manual:
        if (step.change.kind, step.change.name) != ("value", left_out.name):
            state.add_field_option(fields[FIELD_NAMES[step.change.kind]], step.change.name)
    (second,) = provision(settings, store, apply=True)
    assert [s.change.name for s in second.manual] == [left_out.name]
    assert left_out.id not in store.vocabulary.offered("jira")["value"]

    preview = run_dc(settings, store, apply=False)
    assert preview.fields, "the sample plan leaves inferred items to write"
    unwritable = [e for e in preview.skipped if f"value '{left_out.name}'" in e]
    assert unwritable, "some item infers the value without an option"
    assert all(e.endswith(NO_OPTION) for e in unwritable)
    done = run_dc(settings, store, apply=True)
    assert done.ok, (done.error, done.refused[:3])
    assert done.written == len(preview.fields)
    assert done.skipped == preview.skipped
    assert done.linked == len(preview.links)
    names = choice_names(plan)
    held = held_choices("jira", state)
    for write in preview.fields:
        for kind, plan_id in write.changes.items():
            assert held.get(write.item.id, {}).get(kind, frozenset()) == (
                {names[kind][plan_id]} if plan_id else frozenset()
            ), (write.item.key, kind)
    assert set(our_links("jira", state)) == {link.item_id for link in preview.links}
    assert run_dc(settings, store, apply=False).fields == []

    # An administrator turns remote issue linking off; links to rewrite are refused, nothing fails.
    state.remote_links_disabled = True
    moved = settings.model_copy(update={"public_url": "https://v2mom.example.org"})
    refused = run_dc(moved, store, apply=True)
    assert refused.error is None
    assert (refused.written, refused.linked) == (0, 0)
    assert len(refused.refused) == len(preview.links)
    assert all("issue linking is turned off" in entry for entry in refused.refused)


def run_dc(settings: Settings, store: Database, *, apply: bool) -> TrackerWriteback:
    (result,) = writeback(settings, store, apply=apply)
    return result
