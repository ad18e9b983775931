"""Write-back at scale: inferred values and methods written to each tracker's sandbox under a rate limit.

    python -m bench.writeback [--tracker jira|jira-datacenter|linear|asana|all] [--inferred 100000]
                              [--rate 200]
                              [--links] [--database-url URL]

Per tracker: a sandbox (its own process, :mod:`bench.sandboxes`) is generated large enough to hold
``--inferred`` items whose value or method the sample plan infers; the real sync fills a store, the
plan resolves it, the vocabulary is provisioned; then the sandbox is put under a rate limit of
``--rate`` requests a second (Asana: actions, as its Batch API counts them; the burst is one
second's worth) and the real ``writeback --apply`` (fields only) is timed.

Printed per tracker:

- **API calls per item**: HTTP requests the sandbox answered (not counting 429s) per item written.
  Goals: <= 0.05 for Jira bulk edit and Linear batches, <= 0.11 for Asana batches, and <= 1.01
  for Jira Data Center, which has no bulk edit: one edit per issue (a few at once), and the run's
  few reads. Its options are added by its administrator, done here in the sandbox as the
  provisioning's steps say.
- **wall / floor**: the run's wall time over the least time the rate limit allows for what was
  sent, ``cost / rate``. About 1.0 means the limit is all that slows the run (a run that starts
  with a full burst can come in a second under it).

With ``--links``, a second pass writes the explanation link of every written item (fields off) and
prints the same two figures for links. Jira and Asana have no batch for links (a remote link, an
attachment: one request each), so run it with a smaller ``--inferred``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from typing import Any

from bench.common import verdict
from bench.sandboxes import JIRA_DATACENTER, SandboxProcess
from v2mom.connectors.registry import build_connector
from v2mom.mapping.plan import load_plan
from v2mom.sandbox import SAMPLE_PLAN_PATH
from v2mom.settings import Settings, TrackersSettings, WriteBackSettings
from v2mom.store.database import Database
from v2mom.store.resolution.run import remap
from v2mom.sync.provision import provision
from v2mom.sync.runner import sync_tracker
from v2mom.sync.writeback import TrackerWriteback, writeback

GOALS = {"jira": 0.05, JIRA_DATACENTER: 1.01, "linear": 0.05, "asana": 0.11}
BENCHED = ("jira", JIRA_DATACENTER, "linear", "asana")
# Share of generated items the sample plan infers something for (measured at 20,000 per tracker,
# seed 11); the workspace is sized from it so that about --inferred items get written.
INFERRED_SHARE = {"jira": 0.65, JIRA_DATACENTER: 0.65, "linear": 0.50, "asana": 0.24}
PUBLIC_URL = "https://v2mom.example.com"


def settings_for(tracker: str, section: Any, *, fields: bool, links: bool) -> Settings:
    """Settings with only ``tracker`` configured (Data Center as Jira) and its write-back switched
    on as asked."""
    switched = section.model_copy(
        update={"write_back": WriteBackSettings(enabled=True, fields=fields, links=links)}
    )
    return Settings(public_url=PUBLIC_URL, trackers=TrackersSettings(**{tracker_of(tracker): switched}))


def tracker_of(benched: str) -> str:
    """The tracker a benched site is (Jira Data Center is Jira)."""
    return "jira" if benched == JIRA_DATACENTER else benched


def timed_run(
    sandbox: SandboxProcess, settings: Settings, store: Database, rate: float
) -> tuple[TrackerWriteback, float, dict[str, Any]]:
    """One ``writeback --apply`` under the rate limit: its result, wall seconds and sandbox counters."""
    sandbox.limit_rate(rate)
    before = sandbox.stats()
    started = time.perf_counter()
    (result,) = writeback(settings, store, apply=True)
    seconds = time.perf_counter() - started
    after = sandbox.stats()
    sandbox.limit_rate(None)
    counts = {
        "answered": after["requests"] - before["requests"] - after["refused"],
        "refused": after["refused"],
        "cost": after["accepted"],
        "floor_seconds": after["floor_seconds"],
    }
    return result, seconds, counts


def report(tracker: str, what: str, done: int, seconds: float, counts: dict[str, Any], rate: float) -> float:
    """Print one pass's figures; returns its calls per item."""
    per_item: float = counts["answered"] / max(1, done)
    floor = counts["floor_seconds"]
    print(
        f"{tracker:6} {what}: {done:,} items in {seconds:.1f} s, {counts['answered']:,} requests "
        f"({per_item:.4f} per item), {counts['refused']:,} answered 429; rate limit {rate:g}/s: "
        f"cost {counts['cost']:,}, floor {floor:.1f} s, wall / floor {seconds / max(floor, 1e-9):.2f}"
    )
    return per_item


def bench_tracker(
    tracker: str, inferred: int, rate: float, links: bool, page_size: int, database_url: str | None
) -> None:
    """Generate, sync, resolve and provision one tracker, then time its write-back; prints RESULT lines."""
    items = int(inferred / INFERRED_SHARE[tracker]) + 1
    with SandboxProcess(tracker, items, page_size) as sandbox, tempfile.TemporaryDirectory() as tmp:
        store = Database.open(database_url or f"sqlite:///{tmp}/bench.db")
        try:
            plan = load_plan(SAMPLE_PLAN_PATH.read_text(encoding="utf-8"), str(SAMPLE_PLAN_PATH))
            store.plans.save(plan, actor="bench")
            settings = settings_for(tracker, sandbox.section, fields=True, links=False)
            connector = build_connector(tracker_of(tracker), settings)
            started = time.perf_counter()
            synced = sync_tracker(store, connector, full=True, census=False)
            connector.close()
            if not synced.ok:
                raise SystemExit(f"{tracker}: sync failed: {synced.error}")
            remap(store)
            (provisioned,) = provision(settings, store, apply=True)
            if provisioned.ok and provisioned.manual:  # Data Center: its administrator's turn
                print(f"{tracker:6} administrator: {sandbox.by_hand(provisioned.manual)}")
                (provisioned,) = provision(settings, store, apply=True)
            if not provisioned.ok or provisioned.manual:
                raise SystemExit(f"{tracker}: provisioning failed: {provisioned.error or provisioned.manual}")
            (preview,) = writeback(settings, store, apply=False)
            print(
                f"{tracker:6} setup: {synced.seen:,} items synced, resolved and provisioned in "
                f"{time.perf_counter() - started:.1f} s; preview: {len(preview.fields):,} items to write, "
                f"{len(preview.skipped):,} that cannot hold the fields"
            )

            result, seconds, counts = timed_run(sandbox, settings, store, rate)
            if not result.ok:
                raise SystemExit(f"{tracker}: write-back failed: {result.error or result.refused[:3]}")
            if result.written != len(preview.fields):
                raise SystemExit(
                    f"{tracker}: wrote {result.written:,}, the preview counted {len(preview.fields):,}"
                )
            per_item = report(tracker, "fields", result.written, seconds, counts, rate)
            ratio = seconds / max(counts["floor_seconds"], 1e-9)
            met = verdict(per_item <= GOALS[tracker])
            print(
                f"RESULT writeback/{tracker}/{store.dialect}: {per_item:.4f} calls per item "
                f"(goal <= {GOALS[tracker]}: {met}), ratio {ratio:.2f} of wall time to the rate-limit floor"
            )
            if links:
                bench_links(sandbox, tracker, store, rate)
        finally:
            store.close()


def bench_links(sandbox: SandboxProcess, tracker: str, store: Database, rate: float) -> None:
    """Write the explanation link of every written item (fields off); prints a RESULT line."""
    settings = settings_for(tracker, sandbox.section, fields=False, links=True)
    result, seconds, counts = timed_run(sandbox, settings, store, rate)
    per_item = report(tracker, "links", result.linked, seconds, counts, rate)
    ratio = seconds / max(counts["floor_seconds"], 1e-9)
    print(
        f"RESULT writeback-links/{tracker}/{store.dialect}: {per_item:.4f} calls per item, "
        f"ratio {ratio:.2f} of wall time to the rate-limit floor"
    )


def main() -> None:
    """Benchmark the chosen trackers one after the other."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracker", choices=[*BENCHED, "all"], default="all")
    parser.add_argument("--inferred", type=int, default=100_000, help="items to write per tracker (about)")
    parser.add_argument("--rate", type=float, default=200.0, help="the sandboxes' rate limit, requests/s")
    parser.add_argument(
        "--links",
        action="store_true",
        help="also time the links (Jira, Asana: a request each; use a smaller --inferred)",
    )
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--page-size", type=int, default=100)
    args = parser.parse_args()
    for tracker in BENCHED if args.tracker == "all" else (args.tracker,):
        bench_tracker(tracker, args.inferred, args.rate, args.links, args.page_size, args.database_url)


if __name__ == "__main__":
    main()
