"""Effort-by-value latency on 1,000,000 items, as a ratio to a bare GROUP BY on the same database.

    python -m bench.report [--items 1000000] [--database-url URL]

Builds the store through the real schema (items, resolutions and their allocation sets as
re-resolution writes them), then times ``reports.effort.build_report`` — the code behind the HTTP
endpoint — against a bare ``SELECT alloc_key, SUM(points) FROM resolutions GROUP BY alloc_key`` over
the million-row fact table, with a covering index, measured in the same run.
Targets: ratio <= 1.5 on SQLite, and under 200 ms.
"""

from __future__ import annotations

import argparse
import functools
import random
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

from bench.common import median_seconds, verdict
from v2mom.mapping.plan import load_plan
from v2mom.mapping.resolver import Share, shares_key
from v2mom.reports.effort import ReportQuery, build_report
from v2mom.sandbox import SAMPLE_PLAN_PATH as PLAN
from v2mom.store import schema as t
from v2mom.store.database import Database
from v2mom.store.resolution.rollup import store_allocation_sets

BATCH = 20_000


def build(store: Database, n: int, plan_path: Path = PLAN, seed: int = 1) -> None:
    """Insert ``n`` items with resolutions and allocation sets, as re-resolution would write them."""
    rng = random.Random(seed)
    plan = load_plan(plan_path.read_text(), str(plan_path))
    pairs = [(v, m.id, w) for m in plan.methods for v, w in m.value_weights().items()] or [("v", "m", 1.0)]
    now = datetime(2026, 11, 1, tzinfo=UTC)
    states = ["todo", "in_progress", "done", "done"]
    with store.unit_of_work() as uow:
        conn = uow.connection  # a bulk load as re-resolution would leave it, not through the API
        for start in range(0, n, BATCH):
            items, res = [], []
            sets: dict[int, list[Share]] = {}
            for pk in range(start + 1, min(start + BATCH, n) + 1):
                state = rng.choice(states)
                done_on = (now - timedelta(days=rng.randrange(90))) if state == "done" else None
                points = float(rng.choice([0, 1, 2, 3, 5, 8]))
                items.append(
                    {
                        "pk": pk,
                        "tracker": "jira",
                        "item_id": str(pk),
                        "key": f"B-{pk}",
                        "title": "x",
                        "url": None,
                        "level": 0,
                        "parent_id": None,
                        "container": "B",
                        "state": state,
                        "status_name": state,
                        "created_at": now,
                        "updated_at": now,
                        "completed_at": done_on,
                        "points": points,
                        "hours": None,
                        "labels": [],
                        "components": [],
                        "custom_fields": {},
                        "deleted": False,
                        "deleted_at": None,
                        "synced_at": now,
                    }
                )
                roll = rng.random()
                untagged = roll < 0.1
                chosen: list[Share] = [(None, None, 1.0)] if untagged else [rng.choice(pairs)]
                if not untagged and roll > 0.8:
                    chosen = [(v, m, w / 2) for v, m, w in (chosen[0], rng.choice(pairs))]
                total_weight = sum(w for _, _, w in chosen)
                shares = [(v, m, w / total_weight) for v, m, w in chosen]
                key = shares_key(shares, conflict=False, untagged=untagged)
                sets[key] = shares
                res.append(
                    {
                        "item_pk": pk,
                        "untagged": untagged,
                        "orphaned": roll > 0.97,
                        "conflict": False,
                        "points": points,
                        "hours": 0.0,
                        "count": 1.0,
                        "alloc_key": key,
                        "resolved_at": now,
                        "tracker": "jira",
                        "state": state,
                        "completed_on": done_on.date() if done_on else None,
                    }
                )
            conn.execute(insert(t.items), items)
            conn.execute(insert(t.resolutions), res)
            store_allocation_sets(conn, store.dialect, sets)
    store.resolutions.rebuild_rollup()
    with store.unit_of_work() as uow:
        uow.connection.execute(text("ANALYZE"))
    store.plans.save(plan, actor="bench")


BARE_GROUP_BY = "SELECT alloc_key, SUM(points) FROM resolutions GROUP BY alloc_key"


def bare_group_by(store: Database) -> None:
    """The floor of the report benchmarks: a bare GROUP BY over the fact table, read to the end."""
    with store.unit_of_work(commit=False) as uow:
        uow.connection.execute(
            text("SELECT alloc_key, SUM(points) FROM resolutions GROUP BY alloc_key")
        ).all()


def main() -> None:
    """Build, time, print one line per query and the verdict."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--plan", type=Path, default=PLAN)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        store = Database.open(url)
        started = time.perf_counter()
        build(store, args.items, args.plan)
        print(f"built {args.items:,} items on {store.dialect} in {time.perf_counter() - started:.1f} s")
        plan = store.plans.current()
        assert plan is not None

        bare = functools.partial(bare_group_by, store)
        cases = {
            "all": ReportQuery(measure="points", state="all"),
            "done, last 30 days": ReportQuery(
                measure="points", state="done", date_from=date(2026, 10, 2), date_to=date(2026, 11, 1)
            ),
        }
        # Give the floor its best case: a covering index for exactly its GROUP BY.
        with store.unit_of_work() as uow:
            uow.connection.execute(text("CREATE INDEX bench_floor ON resolutions (alloc_key, points)"))
            uow.connection.execute(text("ANALYZE"))
        floor = median_seconds(bare, repeat=args.repeat)
        print(f"floor  bare GROUP BY: {floor * 1000:.1f} ms")
        worst = 0.0
        worst_ms = 0.0
        for name, query in cases.items():
            seconds = median_seconds(
                functools.partial(build_report, store, plan, query, ["jira"]), repeat=args.repeat
            )
            ratio = seconds / floor
            worst, worst_ms = max(worst, ratio), max(worst_ms, seconds * 1000)
            print(f"report {name}: {seconds * 1000:.1f} ms, ratio {ratio:.2f}x the floor")
        print(
            f"RESULT report/{store.dialect}: ratio {worst:.2f} (target <= 1.5: {verdict(worst <= 1.5)}), "
            f"{worst_ms:.0f} ms (target < 200 ms: {verdict(worst_ms < 200)})"
        )
        store.close()


if __name__ == "__main__":
    main()
