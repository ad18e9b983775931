"""Re-resolution after a rule change, on N stored items, against a bare rewrite floor.

    python -m bench.remap [--items 1000000] [--database-url URL]

Builds a store of epics with stories and sub-tasks, tagged by labels, components and nothing at all
(so inheritance, rules and untagged work all occur), resolves it once, then adds a rule for one of
the three projects (it re-tags that project's untagged, uninherited work: about 13 % of items) and
times ``store.resolution.plan_change.apply_plan`` — what ``PUT /api/admin/rules`` runs: save the plan and
re-resolve what the change can move (the items whose signature the new plan reads differently, and
those inheriting from them), set-based, in one transaction. A second change (one
method's weights) moves the allocations of every item tagged through that method. Before timing,
PostgreSQL tables are vacuumed and analyzed, as autovacuum would have done after the load. The floor,
measured in the same run, is the bare I/O a row-by-row re-resolution needs: read every item row
and rewrite one resolution row per item. Target: under 10 s for 1,000,000 items.
"""

from __future__ import annotations

import argparse
import functools
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, text

from bench.common import peak_rss_mb, verdict
from v2mom.mapping.plan import Method, Rule, RuleWhen, check_plan, load_plan
from v2mom.mapping.signature import tag_signature
from v2mom.models import Level, State, WorkItem
from v2mom.sandbox import SAMPLE_PLAN_PATH
from v2mom.store import schema as t
from v2mom.store.database import Database
from v2mom.store.resolution.plan_change import apply_plan
from v2mom.store.resolution.run import remap

BATCH = 20_000
TARGET_SECONDS = 10.0
FULL_TARGET_SECONDS = 15.0  # target for a full re-resolution of 1,000,000 items
FULL_TARGET_MB = 1024


@functools.cache
def _signature(container: str, labels: tuple[str, ...], components: tuple[str, ...]) -> int:
    """The tag signature a sync would store for an item with these tags (a few dozen distinct ones)."""
    now = datetime(2026, 11, 1, tzinfo=UTC)
    item = WorkItem(
        tracker="jira",
        id="x",
        key="x",
        title="x",
        level=Level.STANDARD,
        container=container,
        state=State.TODO,
        updated_at=now,
        labels=labels,
        components=components,
    )
    return tag_signature(item)


def build(store: Database, n: int, seed: int = 3) -> None:
    """Insert ``n`` items: one epic per 25, stories under them, some sub-tasks; varied tags."""
    rng = random.Random(seed)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    labels = [["method:slo-program"], ["value:reliability"], ["frontend"], [], [], []]
    rows = []
    epic = 0
    for pk in range(1, n + 1):
        if pk % 25 == 1:
            epic, level, parent = pk, 1, None
        elif pk % 5 == 0:
            level, parent = -1, str(pk - 1)
        else:
            level, parent = 0, str(epic)
        rows.append(
            {
                "pk": pk,
                "tracker": "jira",
                "item_id": str(pk),
                "key": f"{('ONB', 'PLAT', 'MOB')[pk % 3]}-{pk}",
                "title": "x",
                "url": None,
                "level": level,
                "parent_id": parent,
                "container": ("ONB", "PLAT", "MOB")[pk % 3],
                "state": rng.choice(["todo", "in_progress", "done"]),
                "status_name": "",
                "created_at": now,
                "updated_at": now,
                "completed_at": now - timedelta(days=rng.randrange(60)),
                "points": float(rng.choice([0, 1, 2, 3, 5, 8])),
                "hours": None,
                "labels": (chosen := rng.choice(labels)),
                "components": (parts := ["Billing"] if rng.random() < 0.05 else []),
                "custom_fields": {},
                "deleted": False,
                "deleted_at": None,
                "synced_at": now,
                "tag_sig": _signature(("ONB", "PLAT", "MOB")[pk % 3], tuple(chosen), tuple(parts)),
            }
        )
        if len(rows) == BATCH:
            with store.unit_of_work() as uow:
                uow.connection.execute(insert(t.items), rows)
            rows = []
    if rows:
        with store.unit_of_work() as uow:
            uow.connection.execute(insert(t.items), rows)


def floor(store: Database) -> float:
    """Read every item row and rewrite one row per item into a scratch table; seconds."""
    started = time.perf_counter()
    with store.unit_of_work() as uow:
        conn = uow.connection
        conn.execute(text("CREATE TEMPORARY TABLE scratch (item_pk INTEGER PRIMARY KEY, data TEXT)"))
        rows = conn.execute(select(t.items.c.pk, t.items.c.labels, t.items.c.parent_id)).all()
        conn.execute(
            text("INSERT INTO scratch (item_pk, data) VALUES (:pk, :data)"),
            [{"pk": row.pk, "data": str(row.labels)} for row in rows],
        )
        conn.execute(text("DROP TABLE scratch"))
    return time.perf_counter() - started


def settle(store: Database) -> None:
    """On PostgreSQL, vacuum and analyze after the bulk load, as autovacuum would have by then.

    Right after loading a million rows and rewriting every resolution, the tables carry dead rows
    and no statistics; an admin's rule change never meets a store in that state.
    """
    if store.dialect == "postgresql":
        store.vacuum_analyze("items", "resolutions", "allocation_sets", "effort_rollup")


def _reweighted(method: Method) -> Method:
    """The method with its values weighted 0.8 / 0.2 (or its one value joined by another)."""
    values = list(method.value_weights()) or ["reliability"]
    other = "efficiency" if values[0] != "efficiency" else "reliability"
    second = values[1] if len(values) > 1 else other
    return method.model_copy(update={"values": (), "weights": {values[0]: 0.8, second: 0.2}})


def main() -> None:
    """Build, resolve once, change a rule, time the re-resolution against the floor."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Database.open(args.database_url or f"sqlite:///{tmp}/remap.db")
        plan = load_plan(SAMPLE_PLAN_PATH.read_text(encoding="utf-8"), str(SAMPLE_PLAN_PATH))
        store.plans.save(plan, actor="bench")
        started = time.perf_counter()
        build(store, args.items)
        built = time.perf_counter() - started
        print(f"built {args.items:,} items in {built:.1f} s; peak RSS {peak_rss_mb():,.0f} MB")
        started = time.perf_counter()
        first = remap(store, plan)  # the first resolution (what a first full sync runs)
        first_seconds = time.perf_counter() - started
        settle(store)
        print(
            f"first resolution of {first.items:,} items (signatures, trees, effort): {first_seconds:.1f} s; "
            f"peak RSS {peak_rss_mb():,.0f} MB"
        )
        started = time.perf_counter()
        again = remap(store, plan)  # every item compared again; nothing moves
        seconds = time.perf_counter() - started
        print(f"full re-resolution, nothing moved: {seconds:.1f} s ({again.moved} rows)")
        changed = plan.model_copy(
            update={
                "rules": [*plan.rules, Rule(when=RuleWhen(tracker="jira", project="MOB"), value="efficiency")]
            }
        ).with_rule_ids()
        started = time.perf_counter()
        stats = apply_plan(store, changed, actor="bench", reason="bench: a rule change").stats
        seconds = time.perf_counter() - started
        reweighted = changed.model_copy(
            update={"methods": tuple(_reweighted(m) if m.id == "slo-program" else m for m in changed.methods)}
        )
        started = time.perf_counter()
        weighted = apply_plan(
            store, check_plan(reweighted), actor="bench", reason="bench: a reweighting"
        ).stats
        weights_seconds = time.perf_counter() - started
        engine_rss = peak_rss_mb()  # before the floor, which holds every row in memory
        bare = floor(store)
        rate = stats.items / seconds
        print(f"floor  read + rewrite {args.items:,} rows: {bare:.1f} s")
        print(
            f"remap  after a rule change: {seconds:.1f} s, {stats.moved:,} resolutions rewritten "
            f"({rate:,.0f} items/s over the {stats.items:,})"
        )
        print(f"remap  after a weights change: {weights_seconds:.1f} s, {weighted.moved:,} rewritten")
        print(f"peak RSS through the re-resolutions: {engine_rss:,.0f} MB")
        worst = max(seconds, weights_seconds)
        print(
            f"RESULT remap/{store.dialect}: ratio {seconds / bare:.2f} to the floor; {seconds:.1f} s for "
            f"{args.items:,} items after a rule change, {weights_seconds:.1f} s after a weights change "
            f"(target < {TARGET_SECONDS:g} s per 1,000,000: "
            f"{verdict(worst * 1_000_000 / args.items < TARGET_SECONDS)})"
        )
        per_million = first_seconds * 1_000_000 / args.items
        met = verdict(per_million <= FULL_TARGET_SECONDS and engine_rss <= FULL_TARGET_MB)
        print(
            f"RESULT resolve/{store.dialect}: ratio {first_seconds / bare:.2f} to the floor; "
            "full re-resolution "
            f"of {args.items:,} items {first_seconds:.1f} s, peak RSS {engine_rss:,.0f} MB "
            f"(target <= {FULL_TARGET_SECONDS:g} s per 1,000,000 and <= {FULL_TARGET_MB:,} MB: {met})"
        )
        store.close()


if __name__ == "__main__":
    main()
