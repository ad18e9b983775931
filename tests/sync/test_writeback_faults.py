"""The write-back fault suite: runs that fail half-way or are killed, per tracker, on both
databases, held to an uninterrupted run of the same workspace.

Two sandboxes are generated from the same seed. Both are synced, get the sample plan, are
provisioned and written back once (fields only), then go through the same plan changes, each moving
the inferred value of every item whose method names one (each method's values rotate). The
*reference* world writes back after each change without trouble; the *faulted* world's run after
each change meets one fault:

- ``half-way``: the tracker answers 500 to the write requests after half of them, until the retries
  give up (in-process ``writeback``);
- ``kill-before-write``: ``v2mom writeback --apply`` in a subprocess, killed (``SIGKILL``) while a
  write request half-way is held before the tracker handles it (the tracker never takes it);
- ``kill-after-write``: the same, the request held after the tracker took it, before the answer;
- ``kill-in-links``: the same during links, held after the tracker took a request of links (in the
  second batch of links when there are more than one, the first one recorded).

After each fault a person edits the title of some items whose write is unsettled (some the tracker
took, some it did not), a sync reads them, and every item must resolve as in the reference world
(its value still inferred, no person's tag) with the same report. Then a run recovers, and the
tracker (every item's V2MOM choices, exactly one explanation link per written item), the store's
records and the report must equal the reference's, and a preview must have nothing left to write.

By default each tracker meets ``half-way`` and one kind of kill (every kind is met by one tracker);
``V2MOM_FAULT_SUITE=full`` runs every fault for every tracker. The reference world is built once per
tracker, on SQLite: it is compared by item ids, option names and report numbers, which do not depend
on the database.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.sync.writeback_worlds import (
    BUILDERS,
    DATACENTER,
    WRITES,
    Held,
    Records,
    World,
    held_choices,
    open_world,
    our_links,
    person_renames,
)
from v2mom.connectors.asana.batch import BATCH_SIZE as ASANA_BATCH
from v2mom.connectors.jira.tags import MAX_ISSUES_PER_BULK_EDIT
from v2mom.connectors.linear.links import ALIASES as LINEAR_LINKS_PER_REQUEST
from v2mom.connectors.linear.tags import BATCH as LINEAR_BATCH
from v2mom.mapping.plan import Plan, load_plan
from v2mom.mapping.writeback import person_kinds
from v2mom.reports.effort import ReportQuery, build_report
from v2mom.sandbox import SAMPLE_PLAN_PATH
from v2mom.sandbox.faults import Stall, StallWhen
from v2mom.settings import Settings, SyncSettings
from v2mom.store.resolution.plan_change import apply_plan
from v2mom.sync.writeback import LINK_BATCH, FieldWrite
from v2mom.vocabulary import Kind

SEED = 21
SIZES = {"jira": 100, "jira-datacenter": 100, "asana": 120, "linear": 100}  # items per workspace
FAST_RETRIES = SyncSettings(max_retries=1, max_retry_wait_seconds=0.05)  # a failing tracker gives up soon
VALUE_IDS = ("customer-first", "reliability", "efficiency")
LINKS = {  # the request path creating links, and how many links one request creates
    "jira": ("/rest/api/3/issue/", 1),
    "jira-datacenter": ("/rest/api/2/issue/", 1),
    "asana": ("/api/1.0/attachments", 1),
    "linear": ("/graphql/LinkCreateBatch", LINEAR_LINKS_PER_REQUEST),
}
ALL_FAULTS = ("half-way", "kill-before-write", "kill-after-write", "kill-in-links")
LEAN_FAULTS = {
    "jira": ("half-way", "kill-after-write"),
    "jira-datacenter": ("half-way", "kill-after-write"),  # its edits go a few at once, one per issue
    "asana": ("half-way", "kill-in-links"),
    "linear": ("half-way", "kill-before-write"),
}
LIVENESS = 120.0  # seconds a killed run may take to reach its stall (a generous deadline, not a timing)
MOVED = 20  # items each plan change moves at least (so the tracker holds many values we wrote before)
WRITE_METHODS = {"jira-datacenter": "PUT"}  # where the write path is shared with other requests
TOUCH = 3  # items of each kind (write taken, write not taken) a person edits after a fault


def faults_for(tracker: str) -> tuple[str, ...]:
    """The faults ``tracker`` meets, in order."""
    return ALL_FAULTS if os.environ.get("V2MOM_FAULT_SUITE") == "full" else LEAN_FAULTS[tracker]


def rotated(turns: int) -> Plan:
    """The sample plan with every method's values rotated ``turns`` places, a weighted method serving
    only its heaviest value (0: the sample plan). Each turn moves the inferred value of every item
    whose value comes from its method."""
    data = yaml.safe_load(SAMPLE_PLAN_PATH.read_text())
    if turns == 0:
        return load_plan(yaml.safe_dump(data))
    move = {v: VALUE_IDS[(VALUE_IDS.index(v) + turns) % len(VALUE_IDS)] for v in VALUE_IDS}
    for method in data["methods"]:
        weights = method.pop("weights", None)
        served = [max(weights, key=weights.get)] if weights else method["values"]
        method["values"] = [move[v] for v in served]
    return load_plan(yaml.safe_dump(data))


@dataclass(frozen=True)
class Snapshot:
    """How the store resolves every item, and the report."""

    items: dict[str, tuple[Any, ...]]  # item id -> (shares, conflict, untagged, kinds a person set)
    report: dict[str, Any]


def snapshot(world: World) -> Snapshot:
    """How every live item resolves (with what a person set on it), and the report."""
    items: dict[str, tuple[Any, ...]] = {}
    for candidate in world.store.items.resolved(world.name):
        shares = tuple(sorted((v or "", m or "", round(w, 9)) for v, m, w in candidate.shares))
        kinds = tuple(sorted(person_kinds(candidate.stored.item)))
        items[candidate.stored.item.id] = (shares, candidate.conflict, candidate.untagged, kinds)
    plan = world.store.plans.current()
    assert plan is not None
    report = {}
    for measure in ("points", "count"):
        document = build_report(world.store, plan, ReportQuery(measure=measure))
        document.pop("freshness")
        report[measure] = document
    return Snapshot(items, report)


def change_plan(world: World, turns: int) -> None:
    """Apply the rotated plan (``v2mom plan apply``)."""
    apply_plan(world.store, rotated(turns), actor="test", reason=f"the methods' values rotate {turns} times")


def fields_only(settings: Settings, tracker: str) -> Settings:
    """``settings`` with the tracker's links switched off."""
    section = getattr(settings.trackers, tracker)
    write_back = section.write_back.model_copy(update={"links": False})
    section = section.model_copy(update={"write_back": write_back})
    trackers = settings.trackers.model_copy(update={tracker: section})
    return settings.model_copy(update={"trackers": trackers})


@contextmanager
def faults_world(name: str, database_url: str, tmp: Path) -> Iterator[World]:
    """A world of ``name`` written back once (fields only), with a small retry budget."""
    with open_world(name, database_url, tmp, size=SIZES[name], seed=SEED, sync=FAST_RETRIES) as world:
        first = world.run(settings=fields_only(world.settings, world.name))
        assert first.ok, (first.error, first.refused[:3])
        assert first.written > 0
        yield world


# -- the uninterrupted world ------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """What an uninterrupted run leaves: per plan change, the store's view; at the end, the tracker's."""

    after_plan: list[Snapshot]
    final: Snapshot
    held: Held
    links: dict[str, list[str]]
    records: Records


def reference_world(name: str, steps: int, tmp: Path) -> Reference:
    """Run the plan changes of ``steps`` faults with an uninterrupted write-back after each."""
    with faults_world(name, f"sqlite:///{tmp / 'reference.db'}", tmp) as world:
        after_plan: list[Snapshot] = []
        for step in range(steps):
            before = snapshot(world)
            change_plan(world, step + 1)
            moved = snapshot(world)
            shares = sum(moved.items[i][0] != before.items[i][0] for i in moved.items)
            assert shares >= MOVED, f"the plan change moves {shares} item(s)"
            after_plan.append(moved)
            done = world.run()
            assert done.ok, (done.error, done.refused[:3])
            assert done.written > 0
            assert snapshot(world) == moved  # our own writes move nothing
        world.sync()
        final = snapshot(world)
        assert final == after_plan[-1]
        links = our_links(world.name, world.state)
        assert links, "the reference run wrote links"
        assert all(len(urls) == 1 for urls in links.values())
        return Reference(after_plan, final, held_choices(world.name, world.state), links, world.records())


@pytest.fixture(scope="module")
def references(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Reference]:
    """The reference of each tracker, built once per module on SQLite (it does not depend on the
    database: it is compared by item ids, option names and report numbers)."""
    made: dict[str, Reference] = {}

    def reference(name: str) -> Reference:
        if name not in made:
            made[name] = reference_world(name, len(faults_for(name)), tmp_path_factory.mktemp(name))
        return made[name]

    return reference


# -- the faults -------------------------------------------------------------------------------------


def write_requests(tracker: str, fields: list[FieldWrite]) -> int:
    """How many write requests a run of ``fields`` sends (each connector groups by what is written)."""
    if tracker == "asana":
        return -(-len(fields) // ASANA_BATCH)
    if tracker == "jira-datacenter":  # no bulk edit: one edit per issue
        return len(fields)
    per = MAX_ISSUES_PER_BULK_EDIT if tracker == "jira" else LINEAR_BATCH
    groups = Counter(tuple(sorted(w.changes.items())) for w in fields)
    return sum(-(-n // per) for n in groups.values())


def split_pending(world: World) -> tuple[list[str], list[str]]:
    """The items whose write is unsettled: those the tracker took (it holds the new choice of every
    kind written) and those it did not (it holds the old one)."""
    records = world.store.writebacks.records(world.name, world.store.writebacks.unconfirmed(world.name))
    held = held_choices(world.name, world.state)
    took, kept = [], []
    for item_id, record in sorted(records.items()):
        now = held.get(item_id, {})

        def holds(kind: Kind, choice: tuple[str, str] | None, now: dict[Kind, frozenset[str]] = now) -> bool:
            return now.get(kind, frozenset()) == (frozenset({choice[1]}) if choice else frozenset())

        if all(holds(kind, record.labels.get(kind)) for kind in record.pending):
            took.append(item_id)
        elif all(holds(kind, record.previous.get(kind)) for kind in record.pending):
            kept.append(item_id)
    return took, kept


def unsettled(world: World, *, kept: bool) -> list[str]:
    """Some items of each kind whose write is unsettled (asserting there are: the fault bit)."""
    took, not_taken = split_pending(world)
    assert took, "the tracker took some of the writes before the fault"
    if kept:
        assert not_taken, "the tracker did not take some of the writes"
    return took[:TOUCH] + not_taken[:TOUCH]


def killed_mid_run(world: World, stall: Stall) -> None:
    """``v2mom writeback --apply`` in a subprocess, killed (SIGKILL) once it reaches ``stall``."""
    process = world.start_cli("killed")
    try:
        deadline = time.monotonic() + LIVENESS
        while not stall.reached.wait(0.05):
            if process.poll() is not None:
                output, _ = process.communicate()
                pytest.fail(f"the run ended (exit {process.returncode}) before the stall:\n{output}")
            if time.monotonic() > deadline:
                pytest.fail("the run did not reach the stall")
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
        stall.release(handle=False)
    assert process.returncode == -signal.SIGKILL
    deadline = time.monotonic() + LIVENESS  # its lock goes with it (once PostgreSQL sees the connection go)
    while not lock_free(world):
        assert time.monotonic() < deadline, "the killed run's write-back lock was not released"
        time.sleep(0.05)


def lock_free(world: World) -> bool:
    """Whether no run holds the tracker's write-back lock now."""
    with world.store.locks.exclusive(f"writeback-{world.name}") as acquired:
        return acquired


def half_way(world: World) -> list[str]:
    """500s to the write requests after half of them, until the retries give up."""
    requests = write_requests(world.kind, world.run(apply=False).fields)
    assert requests >= 2, "enough writes for a failure half-way"
    world.state.inject_fault(500, times=1000, after=requests // 2, path_prefix=WRITES[world.kind])
    try:
        failed = world.run()
    finally:
        world.state.faults.clear()
    assert failed.error is not None
    return unsettled(world, kept=True)


def kill_in_write(world: World, when: StallWhen) -> list[str]:
    """A subprocess killed while a write request half-way is held (``when`` the tracker handles it)."""
    requests = write_requests(world.kind, world.run(apply=False).fields)
    assert requests >= 2, "enough writes to be killed half-way"
    stall = world.state.stall(
        WRITES[world.kind], after=requests // 2, when=when, method=WRITE_METHODS.get(world.kind)
    )
    killed_mid_run(world, stall)
    return unsettled(world, kept=when == "before")


def kill_in_links(world: World) -> list[str]:
    """A subprocess killed while sending links (in its second batch when there are more than one), a
    request the tracker took held."""
    path, per_request = LINKS[world.kind]
    links = len(world.run(apply=False).links)
    # One batch recorded and some of the next one sent, when there are enough links; else half.
    after = min(LINK_BATCH + 10, links // 2) // per_request
    assert links > (after + 1) * per_request, "enough links to be killed half-way"
    stall = world.state.stall(path, after=after, when="after", method="POST")
    killed_mid_run(world, stall)
    recorded = {i for i, (_, url, _) in world.records().items() if url is not None}
    linked = set(our_links(world.name, world.state))
    unrecorded = sorted(linked - recorded)
    assert unrecorded, "the tracker holds links the store has not recorded"
    assert world.store.writebacks.unconfirmed(world.name) == []  # the fields were all written first
    return unrecorded[:TOUCH] + sorted(recorded)[:TOUCH]


FAULTS: dict[str, Callable[[World], list[str]]] = {
    "half-way": half_way,
    "kill-before-write": lambda world: kill_in_write(world, "before"),
    "kill-after-write": lambda world: kill_in_write(world, "after"),
    "kill-in-links": kill_in_links,
}


# -- the suite --------------------------------------------------------------------------------------


def assert_same(got: Snapshot, want: Snapshot, where: str) -> None:
    """The two worlds resolve every item alike and report the same (naming a few items that differ)."""
    differ = sorted(i for i in got.items.keys() | want.items.keys() if got.items.get(i) != want.items.get(i))
    shown = {i: (got.items.get(i), want.items.get(i)) for i in differ[:5]}
    assert not differ, f"{where}: {len(differ)} item(s) resolve otherwise (got, want): {shown}"
    assert got.report == want.report, where


@pytest.mark.parametrize("tracker", sorted(BUILDERS) + sorted(DATACENTER))
def test_write_back_recovers_from_faults(
    tracker: str, database_url: str, tmp_path: Path, references: Callable[[str], Reference]
) -> None:
    reference = references(tracker)
    with faults_world(tracker, database_url, tmp_path) as world:
        for step, fault in enumerate(faults_for(tracker)):
            change_plan(world, step + 1)
            assert_same(snapshot(world), reference.after_plan[step], f"{fault}: after the plan change")
            touched = FAULTS[fault](world)
            person_renames(world.name, world.state, touched)
            world.sync()
            assert_same(snapshot(world), reference.after_plan[step], f"{fault}: after a person's edit")
            own = {i: snapshot(world).items[i][3] for i in touched}  # the kinds a person set
            assert own == {i: reference.after_plan[step].items[i][3] for i in touched}, fault

        recovered = world.run()
        assert recovered.ok, (recovered.error, recovered.refused[:3])
        world.sync()
        assert_same(snapshot(world), reference.final, "after recovery")
        assert held_choices(world.name, world.state) == reference.held
        links = our_links(world.name, world.state)
        assert {i: urls for i, urls in links.items() if len(urls) != 1} == {}
        records = world.records()
        assert [i for i, (_, _, confirmed) in records.items() if not confirmed] == []
        # An item that holds nothing of ours needs no link: one that held ours while a run sent links
        # keeps it, so which of those are linked depends on when the faults struck.
        bare = {i for i, (labels, _, _) in records.items() if not labels}
        assert links.items() <= reference.links.items()
        assert {i: u for i, u in links.items() if i not in bare} == {
            i: u for i, u in reference.links.items() if i not in bare
        }
        assert {i: r for i, r in records.items() if i not in bare} == {
            i: r for i, r in reference.records.items() if i not in bare
        }
        assert {i: r[0] for i, r in records.items()} == {i: r[0] for i, r in reference.records.items()}
        assert {i for i, (_, url, _) in records.items() if url is not None} == set(links)
        left = world.run(apply=False)
        assert (left.fields, left.links) == ([], [])
