"""``v2mom demo``: sandbox Jira, Linear and Asana + the sample plan, synced through the real connectors.

Nothing here is on the product's own paths: it is the one place (besides tests and benchmarks) that
reaches into ``sandbox/``.
"""

from __future__ import annotations

import os
import secrets
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import SecretStr
from rich.console import Console

from v2mom.app.serve import address, listen_socket
from v2mom.clock import utcnow
from v2mom.errors import V2momError
from v2mom.mapping.plan import Plan, load_plan
from v2mom.reports.effort import ReportQuery, build_report
from v2mom.reports.reviews import close_due_periods
from v2mom.settings import JiraDeployment, Settings, TrackersSettings, WriteBackSettings
from v2mom.store.database import Database
from v2mom.sync.service import run_sync

if TYPE_CHECKING:
    from v2mom.app.serve import Service
    from v2mom.sandbox.ground_truth import GroundTruth

DEMO_ISSUES = 1200  # the Jira site's size; Linear and Asana get three quarters of it each


class DemoError(V2momError):
    """The demo could not start: another one runs on its database, or its sync failed."""


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


def build_demo(
    database_url: str,
    *,
    seed: int = 7,
    issues: int = DEMO_ISSUES,
    plan: Plan | None = None,
    jira: JiraDeployment = "cloud",
) -> DemoWorld:
    """Start the three sandboxes, apply the sample plan, sync each through its real connector, and
    close the review of every period of the plan's cycle that has ended (as the scheduled reconcile
    does after a pass), so the demo opens with its past quarters reviewed.

    ``issues`` sizes the Jira site (``jira``: a Cloud or a Data Center one, the same workspace);
    Linear and Asana get three quarters of it each. ``plan``: applied
    instead of the sample plan (a test's own; the ground truths still read the sample's). The world
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
    jira_state, jira_truth = generate_jira_workspace(seed=seed, issues=issues, deployment=jira)
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
            # the deployment's default page size, as a site's settings without one get
            jira=jira_settings(jira_state, urls["jira"], webhook_secrets=[webhook_secret], page_size=None),
            linear=linear_settings(linear_state, urls["linear"], webhook_secrets=(webhook_secret,)),
            asana=asana_settings(asana_state, urls["asana"], asana_truth.projects),
        ),
    )
    store = Database.open(settings.database_url)
    if plan is None:
        plan = load_plan(SAMPLE_PLAN_PATH.read_text(encoding="utf-8"), str(SAMPLE_PLAN_PATH))
    store.plans.save(plan, actor="demo")
    results = run_sync(settings, store, full=True)
    failed = [r.summary() for r in results if not r.ok]
    if failed:
        for server in servers.values():
            server.stop()
        store.close()
        raise DemoError("demo sync failed: " + "; ".join(failed))
    close_due_periods(store, utcnow().date(), actor="demo", calendar=settings.calendar())
    return DemoWorld(
        settings,
        store,
        store.tokens.create("viewer", "demo"),
        list(servers.values()),
        states={"jira": jira_state, "linear": linear_state, "asana": asana_state},
        truths={"jira": jira_truth, "linear": linear_truth, "asana": asana_truth},
        webhook_secret=webhook_secret,
    )


class DemoLock:
    """An ``flock`` on ``<database>.demo.lock`` (created 0600, left in place), held for a demo's life.

    The kernel releases it when the demo ends or dies, so a stale file never blocks. The holder
    writes its pid and URL into the file, for the message another demo prints when it is refused.
    Without ``flock`` (Windows) nothing is locked: there the busy port refuses a second demo.
    """

    def __init__(self, database: Path) -> None:
        """Take the lock of ``database`` without waiting; DemoError naming the holder when it is held."""
        self.path = Path(f"{database}.demo.lock")
        self._fd: int | None = None
        if sys.platform == "win32":
            return
        import fcntl

        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise DemoError(f"{self.path}: cannot create the demo's lock file: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "starting"
            os.close(fd)
            raise DemoError(
                f"a demo is already running on {database} ({holder}); nothing was touched: stop it "
                "(Ctrl-C in its terminal), or start another with --database OTHER.db --port OTHER"
            ) from None
        self._fd = fd

    def note(self, text: str) -> None:
        """Say who holds the lock (the pid and URL another demo's refusal names)."""
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, text.encode(), 0)

    def release(self) -> None:
        """Release the lock (closing the only descriptor of the open file releases the flock)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


@dataclass
class RunningDemo:
    """A demo ready to serve: its world, its URL, the socket it holds and what it printed."""

    world: DemoWorld
    base: str
    listener: socket.socket
    admin_token: str
    settings_file: Path


@contextmanager
def started_demo(
    *,
    host: str,
    port: int,
    database: Path,
    console: Console,
    issues: int = DEMO_ISSUES,
    jira: JiraDeployment = "cloud",
) -> Iterator[RunningDemo]:
    """Lock the demo's database, bind its port, then (only then) start it from a clean database.

    A demo already running on ``database`` (its lock is held) or a busy ``host:port`` is one error
    (DemoError, ServeError) before anything is deleted. The demo's world is built, write-back shown,
    an admin token created and a settings file for the CLI written beside the database (0600);
    everything is printed; all of it is stopped and released when the block ends.
    """
    lock = DemoLock(database)
    try:
        with listen_socket(host, port) as listener:
            base = f"http://{address(host, port)}"
            lock.note(f"pid {os.getpid()}, {base}/")
            flavour = "Jira Data Center" if jira == "datacenter" else "Jira"
            console.print(
                f"starting sandbox {flavour}, Linear and Asana; syncing through the real connectors…",
                markup=False,
            )
            for suffix in ("", "-wal", "-shm"):  # the demo starts from a clean file every time
                Path(f"{database}{suffix}").unlink(missing_ok=True)
            world = build_demo(f"sqlite:///{database}", issues=issues, jira=jira)
            try:
                _announce_sync(world, database, console)
                write_back_demo(world, base, console)
                admin = world.store.tokens.create("admin", "demo-admin")
                settings_file = write_demo_settings(world.settings, database)
                _announce(world, base, admin, settings_file, console)
                yield RunningDemo(world, base, listener, admin, settings_file)
            finally:
                world.stop()
    finally:
        lock.release()


def run_demo(
    *, host: str, port: int, database: Path, console: Console, jira: JiraDeployment = "cloud"
) -> None:
    """Start the demo (:func:`started_demo`), serve it with its live activity until Ctrl-C."""
    from v2mom.app.serve import serve_app, uvicorn_server

    with started_demo(host=host, port=port, database=database, console=console, jira=jira) as demo:
        serve_app(
            demo.world.settings,
            demo.world.store,
            uvicorn_server(demo.listener, log_level="warning"),
            companions=live_activity(demo.world, demo.base),
        )


def demo_settings_path(database: Path) -> Path:
    """Where the demo writes the CLI's settings: beside the database (``v2mom-demo.yaml``)."""
    path = database.with_suffix(".yaml")
    return path if path != database else database.with_name(f"{database.name}.settings.yaml")


def write_demo_settings(settings: Settings, database: Path) -> Path:
    """Write ``settings`` (the demo's database, by absolute path, and its sandboxes with their
    credentials) as a settings file for the CLI beside ``database``, readable by its owner only."""
    document = _revealed(settings.model_dump(exclude_defaults=True))
    document["database_url"] = f"sqlite:///{database.resolve()}"
    path = demo_settings_path(database)
    header = (
        "# Settings for the v2mom CLI against the demo (written by 'v2mom demo' at each start; 0600:\n"
        "# it holds the sandboxes' throwaway credentials). Use: v2mom report -c " + str(path.resolve()) + "\n"
        "# The sandbox trackers live as long as the demo: report, explain, token and plan commands\n"
        "# work on its database afterwards too; sync, writeback and trackers need it running.\n"
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        os.fchmod(fd, 0o600)  # also when an earlier file had another mode
        file.write(header + yaml.safe_dump(document, sort_keys=False))
    return path


def _revealed(value: Any) -> Any:
    """``value`` (a settings dump) with every ``SecretStr`` as its text, for the settings file."""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, dict):
        return {key: _revealed(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_revealed(item) for item in value]
    return value


def _announce_sync(world: DemoWorld, database: Path, console: Console) -> None:
    """What was synced, and why the report (and the dashboard's "over M items") counts fewer."""
    items = world.store.items.count()
    trackers = world.settings.trackers.configured()
    per_tracker = ", ".join(f"{t} {world.store.items.count(t)}" for t in trackers)
    report = build_report(world.store, world.store.plans.current() or Plan(), ReportQuery(), trackers)
    counted = int(report["total"]["items"])
    console.print(
        f"synced {items} items ({per_tracker}) into {database}, epics and projects included; "
        f'the report and the dashboard\'s "over {counted} items" count {counted} of them: '
        f"the other {items - counted} are canceled or duplicates, which count nothing",
        markup=False,
    )


def _announce(world: DemoWorld, base: str, admin: str, settings_file: Path, console: Console) -> None:
    console.print(f"dashboard: {base}/  (sign in with a token below)", markup=False)
    console.print(f"report:  {base}/api/reports/effort-by-value", markup=False)
    console.print(f"flags:   {base}/api/reports/flags?kind=untagged", markup=False)
    header = f"Authorization: Bearer {world.viewer_token}"
    console.print(f"try:     curl -H '{header}' {base}/api/reports/effort-by-value", markup=False)
    console.print("live: the sandbox teams change an item every 2 s; signed webhooks update the report")
    reviews = world.store.reviews.list()
    if reviews:
        periods = ", ".join(f"{r.cycle_id}/{r.period_id}" for r in reviews)
        console.print(f"reviews: {periods} closed; see {base}/api/reviews", markup=False)
    console.print(f"viewer token: {world.viewer_token}", markup=False)
    console.print(f"admin token:  {admin}  (rules, plan, tokens and tagging in the dashboard)", markup=False)
    console.print(
        f"CLI settings: {settings_file.resolve()} (0600; the demo's database and sandboxes)", markup=False
    )
    console.print(f"try:     v2mom report -c {settings_file.resolve()}", markup=False)


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
    waited = False
    for result in provision(world.settings, world.store, apply=True):
        state = f"{len(result.changes)} vocabulary change(s)" if result.ok else f"FAILED: {result.error}"
        console.print(f"{result.tracker}: provisioned {state}", markup=False)
        if result.manual:  # Jira Data Center: options are added by an administrator, by hand
            from v2mom.sandbox.jira.administrator import do_by_hand

            by_hand = do_by_hand(world.states[result.tracker], result.manual).describe()
            console.print(
                f"{result.tracker}: {len(result.manual)} step(s) left to an administrator, done in the "
                f"sandbox as one would: {by_hand}",
                markup=False,
            )
            waited = True
    if waited:  # the next run adopts what the administrator made
        for result in provision(world.settings, world.store, apply=True):
            if result.manual or not result.ok:
                console.print(
                    f"{result.tracker}: still waiting: {result.error or result.manual}", markup=False
                )
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
    jira_sender: Service = WebhookSender(states["jira"], f"{base}/webhooks/jira", secret)
    if states["jira"].datacenter:  # as its administrator registers one, with a secret
        from v2mom.sandbox.jira.datacenter_webhooks import DataCenterWebhookSender, add_webhook

        jira = world.settings.trackers.jira
        assert jira is not None
        add_webhook(states["jira"], f"{base}/webhooks/jira", secret=secret, jql=jira.jql)
        jira_sender = DataCenterWebhookSender(states["jira"], jira.url)
    return [
        jira_sender,
        LinearWebhookSender(states["linear"]),
        AsanaWebhookSender(states["asana"]),
        activity,
    ]
