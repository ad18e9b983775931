"""``v2mom demo``: sandbox Jira + the sample plan, synced through the real connector, API served.

Nothing here is on the product's own paths: it is the one place (besides tests and benchmarks) that
reaches into ``sandbox/``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from mapping.plan import load_plan
from sync.service import run_sync
from v2mom.settings import Settings, TrackersSettings
from v2mom.store import Store

if TYPE_CHECKING:
    from sandbox.jira.truth import JiraGroundTruth as GroundTruth


@dataclass
class DemoWorld:
    """A running sandbox, the settings pointing at it, the synced store and a viewer token."""

    settings: Settings
    store: Store
    viewer_token: str
    servers: list[object]
    jira_state: Any = None
    webhook_secret: str = ""

    def stop(self) -> None:
        """Stop the sandbox servers and close the store."""
        for server in self.servers:
            server.stop()  # type: ignore[attr-defined]
        self.store.close()


def build_demo(database_url: str, *, seed: int = 7, issues: int = 1200) -> tuple[DemoWorld, GroundTruth]:
    """Start the sandbox, apply the sample plan, sync through the real connector into the database.

    Returns the world and the sandbox's own ground truth, which the report must equal.
    """
    from sandbox import SAMPLE_PLAN_PATH
    from sandbox.generator import generate_jira_workspace, jira_settings
    from sandbox.jira.app import create_jira_app
    from sandbox.server import SandboxServer

    state, truth = generate_jira_workspace(seed=seed, issues=issues)
    webhook_secret = secrets.token_hex(16)  # the sandbox signs with it; a new one every run
    jira_server = SandboxServer(create_jira_app(state))
    jira_url = jira_server.start()
    settings = Settings(
        database_url=database_url,
        trackers=TrackersSettings(jira=jira_settings(state, jira_url, webhook_secrets=[webhook_secret])),
    )
    store = Store.open(settings.database_url)
    plan = load_plan(SAMPLE_PLAN_PATH.read_text(encoding="utf-8"), str(SAMPLE_PLAN_PATH))
    store.save_plan(plan, actor="demo")
    results = run_sync(settings, store, full=True)
    failed = [r.summary() for r in results if not r.ok]
    if failed:
        jira_server.stop()
        raise RuntimeError("demo sync failed: " + "; ".join(failed))
    world = DemoWorld(settings, store, store.create_token("viewer", "demo"), [jira_server])
    world.jira_state = state
    world.webhook_secret = webhook_secret
    return world, truth


def run_demo(*, host: str, port: int, database: Path, console: Console) -> None:
    """Build the demo world, print the URL and a viewer token, serve until Ctrl-C."""
    import uvicorn

    from sandbox.activity import Activity
    from sandbox.generator import SCOPE_PROJECTS
    from sandbox.jira.webhooks import WebhookSender
    from sync.schedule import ReconcileThread
    from v2mom.app import create_app
    from webhooks.ingest import tune_interpreter_for_serving
    from webhooks.worker import start_worker

    console.print("starting sandbox Jira and syncing through the real connector…", markup=False)
    for suffix in ("", "-wal", "-shm"):  # the demo starts from a clean file every time
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    world, _truth = build_demo(f"sqlite:///{database}")
    try:
        items = world.store.count_items()
        base = f"http://{host}:{port}"
        console.print(f"synced {items} items into {database}", markup=False)
        console.print(f"report:  {base}/api/reports/effort-by-value", markup=False)
        console.print(f"flags:   {base}/api/reports/flags?kind=untagged", markup=False)
        header = f"Authorization: Bearer {world.viewer_token}"
        console.print(f"try:     curl -H '{header}' {base}/api/reports/effort-by-value", markup=False)
        console.print("live: the sandbox team changes an issue every 3 s; signed webhooks update the report")
        console.print(f"viewer token: {world.viewer_token}", markup=False)
        tune_interpreter_for_serving()
        application = create_app(world.settings, world.store)
        worker = start_worker(application, world.settings, world.store)
        reconcile = ReconcileThread(world.settings, world.store)
        sender = WebhookSender(world.jira_state, f"{base}/webhooks/jira", world.webhook_secret)
        activity = Activity(world.jira_state, set(SCOPE_PROJECTS))
        reconcile.start()
        sender.start()
        activity.start()
        try:
            uvicorn.run(application, host=host, port=port, log_level="warning")
        finally:
            activity.stop()
            sender.stop()
            reconcile.stop()
            worker.stop()
    finally:
        world.stop()
