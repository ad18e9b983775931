"""``v2mom demo``: sandbox Jira, Linear and Asana + the sample plan, synced through the real connectors.

Nothing here is on the product's own paths: it is the one place (besides tests and benchmarks) that
reaches into ``sandbox/``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from v2mom.mapping.plan import load_plan
from v2mom.settings import Settings, TrackersSettings, WriteBackSettings
from v2mom.store.database import Database
from v2mom.sync.service import run_sync

if TYPE_CHECKING:
    from v2mom.app.serve import Service
    from v2mom.sandbox.ground_truth import GroundTruth


@dataclass
class DemoWorld:
    """Running sandboxes, the settings pointing at them, the synced store and a viewer token."""

    settings: Settings
    store: Database
    viewer_token: str
    servers: list[object]
    states: dict[str, Any] = field(default_factory=dict)  # tracker -> sandbox state
    truths: dict[str, Any] = field(default_factory=dict)  # tracker -> its GroundTruth subclass
    webhook_secret: str = ""

    @property
    def jira_state(self) -> Any:
        """The Jira sandbox's state (the live activity and the webhook sender use it)."""
        return self.states["jira"]

    def truth(self) -> GroundTruth:
        """The ground truth of the whole mixed report (every tracker's items)."""
        from v2mom.sandbox.ground_truth import CombinedTruth

        return CombinedTruth(self.truths)

    def stop(self) -> None:
        """Stop the sandbox servers and close the store."""
        for server in self.servers:
            server.stop()  # type: ignore[attr-defined]
        self.store.close()


def build_demo(database_url: str, *, seed: int = 7, issues: int = 1200) -> DemoWorld:
    """Start the three sandboxes, apply the sample plan, sync each through its real connector.

    ``issues`` sizes the Jira site; Linear and Asana get three quarters of it each. The world
    carries each sandbox's own ground truth, which the report must equal per tracker and in total.
    """
    from v2mom.sandbox import SAMPLE_PLAN_PATH
    from v2mom.sandbox.asana.app import create_asana_app
    from v2mom.sandbox.asana.generator import asana_settings, generate_asana_workspace
    from v2mom.sandbox.generator import generate_jira_workspace, jira_settings
    from v2mom.sandbox.jira.app import create_jira_app
    from v2mom.sandbox.linear.app import create_linear_app
    from v2mom.sandbox.linear.generator import generate_linear_workspace, linear_settings
    from v2mom.sandbox.server import SandboxServer

    webhook_secret = secrets.token_hex(16)  # the sandboxes sign with it; a new one every run
    jira_state, jira_truth = generate_jira_workspace(seed=seed, issues=issues)
    linear_state, linear_truth = generate_linear_workspace(seed=seed, issues=issues * 3 // 4)
    asana_state, asana_truth = generate_asana_workspace(seed=seed, tasks=issues * 3 // 4)
    servers = {
        "jira": SandboxServer(create_jira_app(jira_state)),
        "linear": SandboxServer(create_linear_app(linear_state)),
        "asana": SandboxServer(create_asana_app(asana_state)),
    }
    urls = {name: server.start() for name, server in servers.items()}
    settings = Settings(
        database_url=database_url,
        trackers=TrackersSettings(
            jira=jira_settings(jira_state, urls["jira"], webhook_secrets=[webhook_secret]),
            linear=linear_settings(linear_state, urls["linear"], webhook_secrets=(webhook_secret,)),
            asana=asana_settings(asana_state, urls["asana"], asana_truth.projects),
        ),
    )
    store = Database.open(settings.database_url)
    plan = load_plan(SAMPLE_PLAN_PATH.read_text(encoding="utf-8"), str(SAMPLE_PLAN_PATH))
    store.plans.save(plan, actor="demo")
    results = run_sync(settings, store, full=True)
    failed = [r.summary() for r in results if not r.ok]
    if failed:
        for server in servers.values():
            server.stop()
        store.close()
        raise RuntimeError("demo sync failed: " + "; ".join(failed))
    return DemoWorld(
        settings,
        store,
        store.tokens.create("viewer", "demo"),
        list(servers.values()),
        states={"jira": jira_state, "linear": linear_state, "asana": asana_state},
        truths={"jira": jira_truth, "linear": linear_truth, "asana": asana_truth},
        webhook_secret=webhook_secret,
    )


def run_demo(*, host: str, port: int, database: Path, console: Console) -> None:
    """Build the demo world, print the URL and a viewer token, serve until Ctrl-C."""
    from v2mom.app.serve import serve_app, uvicorn_server

    console.print(
        "starting sandbox Jira, Linear and Asana; syncing through the real connectors…", markup=False
    )
    for suffix in ("", "-wal", "-shm"):  # the demo starts from a clean file every time
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    world = build_demo(f"sqlite:///{database}")
    try:
        base = f"http://{host}:{port}"
        _announce(world, base, database, console)
        write_back_demo(world, base, console)
        serve_app(
            world.settings,
            world.store,
            uvicorn_server(host, port, log_level="warning"),
            companions=live_activity(world, base),
        )
    finally:
        world.stop()


def _announce(world: DemoWorld, base: str, database: Path, console: Console) -> None:
    items = world.store.items.count()
    per_tracker = ", ".join(f"{t} {world.store.items.count(t)}" for t in world.settings.trackers.configured())
    console.print(f"synced {items} items ({per_tracker}) into {database}", markup=False)
    console.print(f"dashboard: {base}/  (sign in with the viewer token below)", markup=False)
    console.print(f"report:  {base}/api/reports/effort-by-value", markup=False)
    console.print(f"flags:   {base}/api/reports/flags?kind=untagged", markup=False)
    header = f"Authorization: Bearer {world.viewer_token}"
    console.print(f"try:     curl -H '{header}' {base}/api/reports/effort-by-value", markup=False)
    console.print("live: the sandbox teams change an item every 2 s; signed webhooks update the report")
    console.print(f"viewer token: {world.viewer_token}", markup=False)


def write_back_demo(world: DemoWorld, base: str, console: Console) -> None:
    """The in-tracker half: offer the plan in each sandbox, write inferred tags and links back, and
    print what one written item of each tracker now holds there (the sandboxes have no UI to look at).

    Write-back is switched on for the demo's own sandboxes only, with links pointing at ``base``.
    """
    from v2mom.connectors.registry import build_connector
    from v2mom.sync.provision import provision
    from v2mom.sync.writeback import writeback

    trackers = {
        name: getattr(world.settings.trackers, name).model_copy(
            update={"write_back": WriteBackSettings(enabled=True)}
        )
        for name in world.settings.trackers.configured()
    }
    world.settings = world.settings.model_copy(
        update={"public_url": base, "trackers": world.settings.trackers.model_copy(update=trackers)}
    )
    for result in provision(world.settings, world.store, apply=True):
        state = f"{len(result.changes)} vocabulary change(s)" if result.ok else f"FAILED: {result.error}"
        console.print(f"{result.tracker}: provisioned {state}", markup=False)
    for done in writeback(world.settings, world.store, apply=True):
        console.print(
            f"{done.tracker}: wrote inferred tags to {done.written} item(s), linked {done.linked}"
            + (f", {len(done.refused)} refused" if done.refused else "")
            + (f" — FAILED: {done.error}" if done.error else ""),
            markup=False,
        )
        sample = next((w for w in done.fields if any(w.changes.values())), None)
        if sample is None:
            continue
        connector = build_connector(done.tracker, world.settings)
        try:
            held = connector.get_item(sample.item.id)
        finally:
            connector.close()
        tags = {k: v for k, v in held.custom_fields.items() if k.startswith("V2MOM")} or [
            label for label in held.labels if label.startswith(("Value/", "Method/"))
        ]
        link = world.store.writebacks.records(done.tracker, [held.id]).get(held.id)
        console.print(
            f"  {done.tracker}:{held.key} now holds {tags}; link {link.link_url if link else 'none'}",
            markup=False,
        )


def live_activity(world: DemoWorld, base: str) -> list[Service]:
    """The demo's companions: webhook senders for each sandbox, then a team changing an item every 2 s.

    Registers the webhooks as ``v2mom webhooks register`` would leave them (the server is not up
    yet to shake hands), pointing at ``base``.
    """
    import random

    from v2mom.sandbox.activity import Activity, asana_step, jira_step, linear_step
    from v2mom.sandbox.asana.webhooks import AsanaWebhookSender
    from v2mom.sandbox.jira.webhooks import WebhookSender
    from v2mom.sandbox.linear.webhooks import LinearWebhookSender
    from v2mom.webhooks.hook_secrets import StoredHookSecrets

    states, truths, secret = world.states, world.truths, world.webhook_secret
    states["linear"].add_webhook(
        f"{base}/webhooks/linear", secret, team_key=None, resource_types=["Issue", "Project"]
    )
    hooks = StoredHookSecrets(world.store, "asana")
    for project in truths["asana"].projects:
        hooks.expect_handshake()
        hooks.accept_handshake(f"{secret}-{project}")
        states["asana"].add_webhook(project, f"{base}/webhooks/asana", f"{secret}-{project}")
    rng = random.Random(1)  # noqa: S311 - simulated activity, not security
    activity = Activity(
        [
            jira_step(states["jira"], truths["jira"], rng, removals=False),
            linear_step(states["linear"], truths["linear"], rng, removals=False),
            asana_step(states["asana"], truths["asana"], rng, removals=False),
        ],
        interval=2.0,
    )
    return [
        WebhookSender(states["jira"], f"{base}/webhooks/jira", secret),
        LinearWebhookSender(states["linear"]),
        AsanaWebhookSender(states["asana"]),
        activity,
    ]
