"""Chaos: duplicated, reordered and dropped deliveries and an app restart mid-stream; after one
reconcile pass the store equals the sandbox, item for item (Jira; Asana and Linear follow)."""

from __future__ import annotations

import random
import socket
import time

from mapping.plan import load_plan
from sandbox import SAMPLE_PLAN_PATH
from sandbox.generator import generate_jira_workspace, jira_settings
from sandbox.jira.app import create_jira_app
from sandbox.jira.webhooks import Chaos, WebhookSender
from sandbox.server import SandboxServer
from sync.schedule import reconcile_pass
from sync.service import run_sync
from tests.test_demo_ground_truth import assert_report_matches
from v2mom.app import create_app
from v2mom.demo import DemoWorld
from v2mom.inbox import Inbox
from v2mom.settings import Settings, TrackersSettings
from v2mom.store import Store
from webhooks.worker import start_worker

SECRET = "chaos-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def drained(inbox: Inbox) -> bool:
    counts = inbox.counts().get("jira", {})
    return counts.get("pending", 0) + counts.get("processing", 0) == 0


def test_store_converges_despite_chaos_and_a_restart(database_url: str) -> None:
    state, truth = generate_jira_workspace(seed=12, epics=30, issues=200)
    with SandboxServer(create_jira_app(state)) as jira_url:
        settings = Settings(
            database_url=database_url,
            trackers=TrackersSettings(jira=jira_settings(state, jira_url, webhook_secrets=[SECRET])),
        )
        store = Store.open(database_url)
        store.save_plan(load_plan(SAMPLE_PLAN_PATH.read_text()), actor="test")
        assert all(r.ok for r in run_sync(settings, store, full=True))
        port = free_port()
        sender = WebhookSender(
            state,
            f"http://127.0.0.1:{port}/webhooks/jira",
            SECRET,
            Chaos(duplicate=0.1, reorder=0.1, drop=0.1, seed=3),
        )
        sender.start()
        rng = random.Random(5)
        live = sorted(i for i, issue in state.issues.items() if issue.project in truth.scope)

        def mutate(count: int) -> None:
            for _ in range(count):
                issue_id = rng.choice([i for i in live if i in state.issues])
                roll = rng.random()
                if roll < 0.05:
                    state.delete_issue(issue_id)
                elif roll < 0.10:
                    state.move_issue(issue_id, rng.choice(["ONB", "PLAT", "MOB"]))
                elif roll < 0.55:
                    state.update_issue(issue_id, points=float(rng.choice([1, 2, 3, 5, 8, 13])))
                else:
                    state.update_issue(
                        issue_id, labels=[f"value:{rng.choice(['reliability', 'efficiency'])}"]
                    )
                time.sleep(0.005)

        for run in range(2):  # the app is stopped and started again between the halves
            app = create_app(settings, store)
            server = SandboxServer(app, port=port)
            server.start()
            worker = start_worker(app, settings, store)
            mutate(60)
            if run == 0:
                time.sleep(0.3)
                server.stop()  # killed mid-stream: deliveries sent now are refused
                worker.stop()
                mutate(10)
        sender.stop()
        deadline = time.monotonic() + 30
        inbox = Inbox(store.engine)
        while not drained(inbox) and time.monotonic() < deadline:
            worker.wake()
            time.sleep(0.1)
        worker.stop()
        server.stop()
        assert drained(inbox)
        assert sender.log.dropped
        assert sender.log.duplicated
        assert sender.log.failed  # sent while the app was down

        results = reconcile_pass(settings, store)  # the one reconcile pass
        assert all(r.ok for r in results)
        assert results[0].kind == "incremental"

        expected = {str(i): issue for i, issue in state.issues.items() if issue.project in truth.scope}
        assert store.live_ids("jira") == set(expected)
        for item_id, issue in expected.items():
            stored = store.get_item_by_id("jira", item_id)
            assert stored is not None
            assert (stored.item.key, stored.item.points, list(stored.item.labels)) == (
                issue.key,
                issue.points,
                issue.labels,
            ), item_id
        assert_report_matches(DemoWorld(settings, store, "", []), truth)
        store.close()
