"""Sandbox trackers for the write-back tests: each tracker's sandbox served, with settings pointing at
it, and what its state holds read directly (the V2MOM choices per item, our explanation links).

Shared by the end-to-end test (``test_writeback_sandboxes``, with webhooks), the fault suite and the
concurrency tests (``test_writeback_faults``, ``test_writeback_concurrency``: a :class:`World`
without webhooks, and ``v2mom writeback --apply`` in a subprocess).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from pydantic import SecretStr

from tests.webhooks.jira_signing import v2mom
from v2mom.mapping.plan import load_plan
from v2mom.models import WorkItem
from v2mom.sandbox import SAMPLE_PLAN_PATH
from v2mom.sandbox.jira.administrator import do_by_hand
from v2mom.sandbox.server import SandboxServer
from v2mom.sandbox.webhooks import Sender
from v2mom.settings import Settings, SyncSettings, TrackersSettings, WriteBackSettings
from v2mom.store.database import Database
from v2mom.store.resolution.plan_change import apply_plan
from v2mom.sync.provision import provision
from v2mom.sync.service import run_sync
from v2mom.sync.writeback import TrackerWriteback, writeback
from v2mom.vocabulary import FIELD_NAMES, KINDS, LABEL_GROUPS, Kind
from v2mom.webhooks.hook_secrets import StoredHookSecrets

SECRET = "writeback-secret"
WRITES = {  # the request path of a batch of field writes (Data Center: of one issue's edit)
    "jira": "/rest/api/3/bulk/issues/fields",
    "jira-datacenter": "/rest/api/2/issue/",
    "asana": "/api/1.0/batch",
    "linear": "/graphql/IssueBatchUpdate",
}
PUBLIC = "https://v2mom.example.com"
ON = WriteBackSettings(enabled=True)
Held = dict[str, dict[Kind, frozenset[str]]]  # item id -> kind -> the option names it holds
UrlFor = Callable[[Any], str]  # serves an ASGI app, returns its base URL


@dataclass
class Tracker:
    """One sandbox tracker, served, with settings pointing at it (and, with webhooks, their sender)."""

    name: str
    settings: Settings
    state: Any  # the sandbox's state (a FaultBook)
    sender: Sender | None
    register: Callable[[Database], None]


def _nothing(_store: Database) -> None:
    return None


def jira_tracker(url_for: UrlFor, hooks: str | None, *, seed: int = 21, size: int = 160) -> Tracker:
    """A Jira site of ``size`` issues; ``hooks`` is where its webhooks go (None: no webhooks)."""
    from v2mom.sandbox.generator import generate_jira_workspace, jira_settings
    from v2mom.sandbox.jira.app import create_jira_app
    from v2mom.sandbox.jira.webhooks import WebhookSender

    state, _ = generate_jira_workspace(seed=seed, epics=max(4, size // 13), issues=size)
    url = url_for(create_jira_app(state))
    section = jira_settings(state, url, webhook_secrets=[SECRET]).model_copy(update={"write_back": ON})
    settings = Settings(public_url=PUBLIC, trackers=TrackersSettings(jira=section))
    sender = WebhookSender(state, f"{hooks}/jira", SECRET) if hooks is not None else None
    return Tracker("jira", settings, state, sender, _nothing)


def jira_datacenter_tracker(url_for: UrlFor, hooks: str | None, *, seed: int = 21, size: int = 80) -> Tracker:
    """A Jira Data Center site of ``size`` issues; its webhook (``hooks``) is registered as its
    administrator would, with a secret, and delivers Data Center's own shapes."""
    from v2mom.sandbox.generator import generate_jira_workspace, jira_settings
    from v2mom.sandbox.jira.app import create_jira_app
    from v2mom.sandbox.jira.datacenter_webhooks import DataCenterWebhookSender, add_webhook

    state, _ = generate_jira_workspace(
        seed=seed, epics=max(4, size // 13), issues=size, deployment="datacenter"
    )
    url = url_for(create_jira_app(state))
    section = jira_settings(state, url, webhook_secrets=[SECRET]).model_copy(update={"write_back": ON})
    settings = Settings(public_url=PUBLIC, trackers=TrackersSettings(jira=section))
    sender = None
    if hooks is not None:
        add_webhook(state, f"{hooks}/jira", secret=SECRET, jql=section.jql)
        sender = DataCenterWebhookSender(state, url)
    return Tracker("jira", settings, state, sender, _nothing)


def linear_tracker(url_for: UrlFor, hooks: str | None, *, seed: int = 21, size: int = 160) -> Tracker:
    """A Linear workspace of ``size`` issues; ``hooks`` is where its webhooks go (None: no webhooks)."""
    from v2mom.sandbox.linear.app import create_linear_app
    from v2mom.sandbox.linear.generator import generate_linear_workspace, linear_settings
    from v2mom.sandbox.linear.webhooks import LinearWebhookSender

    state, _ = generate_linear_workspace(seed=seed, projects=max(3, size // 32), issues=size)
    url = url_for(create_linear_app(state))
    section = linear_settings(state, url, webhook_secrets=(SECRET,)).model_copy(update={"write_back": ON})
    settings = Settings(public_url=PUBLIC, trackers=TrackersSettings(linear=section))
    sender = None
    if hooks is not None:
        state.add_webhook(f"{hooks}/linear", SECRET, team_key=None, resource_types=["Issue", "Project"])
        sender = LinearWebhookSender(state)
    return Tracker("linear", settings, state, sender, _nothing)


def asana_tracker(url_for: UrlFor, hooks: str | None, *, seed: int = 21, size: int = 160) -> Tracker:
    """An Asana workspace of ``size`` tasks; ``hooks`` is where its webhooks go (None: no webhooks)."""
    from v2mom.sandbox.asana.app import create_asana_app
    from v2mom.sandbox.asana.generator import asana_settings, generate_asana_workspace
    from v2mom.sandbox.asana.webhooks import AsanaWebhookSender

    state, truth = generate_asana_workspace(seed=seed, tasks=size)
    url = url_for(create_asana_app(state))
    section = asana_settings(state, url, truth.projects).model_copy(update={"write_back": ON})
    settings = Settings(public_url=PUBLIC, trackers=TrackersSettings(asana=section))
    if hooks is None:
        return Tracker("asana", settings, state, None, _nothing)

    def register(store: Database) -> None:  # as `v2mom webhooks register` leaves it
        secrets = StoredHookSecrets(store, "asana")
        for project in truth.projects:
            secrets.expect_handshake()
            assert secrets.accept_handshake(f"{SECRET}-{project}")
            state.add_webhook(project, f"{hooks}/asana", f"{SECRET}-{project}")

    return Tracker("asana", settings, state, AsanaWebhookSender(state), register)


# Jira Data Center is built on its own (``DATACENTER``): its options are added by an administrator.
DATACENTER: dict[str, Callable[..., Tracker]] = {"jira-datacenter": jira_datacenter_tracker}
BUILDERS: dict[str, Callable[..., Tracker]] = {
    "jira": jira_tracker,
    "linear": linear_tracker,
    "asana": asana_tracker,
}


def shown(item: WorkItem, kind: Kind) -> set[str]:
    """The option names the tracker holds for ``kind`` on ``item`` (field or group label)."""
    names = set(item.custom_fields.get(FIELD_NAMES[kind], ()))
    prefix = f"{LABEL_GROUPS[kind]}/"
    return names | {label.removeprefix(prefix) for label in item.labels if label.startswith(prefix)}


# -- the sandbox's state, read directly ------------------------------------------------------------


def held_choices(tracker: str, state: Any) -> Held:
    """Per item, the ``V2MOM Value`` / ``V2MOM Method`` option names (Linear: ``Value`` / ``Method``
    group labels) it holds in the sandbox now; items holding neither are left out."""
    held: Held = {}
    with state.lock:
        if tracker == "jira":
            kinds = {f["id"]: k for k in KINDS for f in state.fields if f.get("name") == FIELD_NAMES[k]}
            for issue in state.issues.values():
                held[str(issue.id)] = {
                    kind: frozenset(v for f, v in issue.selects.items() if kinds.get(f) == kind)
                    for kind in KINDS
                }
        elif tracker == "asana":
            for task in state.tasks.values():
                held[task.gid] = {
                    kind: frozenset(
                        [*task.multi_enums.get(FIELD_NAMES[kind], ())]
                        + ([task.enums[FIELD_NAMES[kind]]] if FIELD_NAMES[kind] in task.enums else [])
                    )
                    for kind in KINDS
                }
        else:
            groups = {
                label.id: kind
                for kind in KINDS
                for label in state.labels.values()
                if label.parent is None and label.name == LABEL_GROUPS[kind]
            }
            for issue in state.issues.values():
                labels = [state.labels[i] for i in issue.label_ids]
                held[issue.id] = {
                    kind: frozenset(label.name for label in labels if groups.get(label.parent) == kind)
                    for kind in KINDS
                }
    return {item: kinds for item, kinds in held.items() if any(kinds.values())}


def our_links(tracker: str, state: Any) -> dict[str, list[str]]:
    """Per item, the URLs of the explanation links of ours it holds in the sandbox (items without any
    are left out): Jira remote links with our ``globalId``, Asana attachments and Linear attachments
    pointing at an ``/items/<tracker>/`` page."""
    page = f"/items/{tracker}/"
    found: dict[str, list[str]] = {}
    with state.lock:
        if tracker == "jira":
            for issue_id, links in state.remote_links.items():
                for link in links:
                    if (link.global_id or "").startswith("v2mom-sync:item:"):
                        found.setdefault(str(issue_id), []).append(link.object["url"])
        else:
            for attachment in state.attachments.values():
                parent = attachment.parent if tracker == "asana" else attachment.issue_id
                if urlsplit(attachment.url).path.startswith(page):
                    found.setdefault(parent, []).append(attachment.url)
    return found


def person_renames(tracker: str, state: Any, item_ids: list[str]) -> None:
    """A person edits something unrelated (the title) of each item in the tracker."""
    for item_id in item_ids:
        if tracker == "jira":
            state.update_issue(int(item_id), summary=f"{state.issues[int(item_id)].summary} (edited)")
        elif tracker == "asana":
            state.update_task(item_id, name=f"{state.tasks[item_id].name} (edited)")
        else:
            state.update_issue(item_id, title=f"{state.issues[item_id].title} (edited)")


# -- the CLI in a subprocess --------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def write_settings_file(path: Path, settings: Settings) -> Path:
    """``settings`` as a ``v2mom.yaml`` at ``path`` (secrets inline, so the file is 0600 from the start)."""
    text = yaml.safe_dump(_plain(settings.model_dump(exclude_none=True)), sort_keys=False)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
        file.write(text)
    path.chmod(0o600)  # a file that was there keeps its mode through os.open
    return path


def start_cli_writeback(settings: Settings, config: Path) -> subprocess.Popen[str]:
    """``v2mom writeback --apply -c CONFIG`` in a subprocess (``settings`` written to ``config``),
    its output and errors in one pipe."""
    write_settings_file(config, settings)
    return subprocess.Popen(
        v2mom("writeback", "--apply", "-c", str(config)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


# -- a world: one sandbox tracker with its own store ------------------------------------------------

Records = dict[str, tuple[Any, ...]]  # item id -> (labels, link url, confirmed)


@dataclass
class World:
    """One sandbox tracker (no webhooks) with its own store."""

    tracker: Tracker
    settings: Settings
    store: Database
    tmp: Path
    flavour: str = ""  # the builder's name ("jira-datacenter"), when it is not the tracker's

    @property
    def name(self) -> str:
        """The tracker's name."""
        return self.tracker.name

    @property
    def kind(self) -> str:
        """Which sandbox this is: the tracker's name, or ``jira-datacenter``."""
        return self.flavour or self.tracker.name

    @property
    def state(self) -> Any:
        """The sandbox's state."""
        return self.tracker.state

    def run(self, *, apply: bool = True, settings: Settings | None = None) -> TrackerWriteback:
        """One write-back run (or preview) in this process."""
        (result,) = writeback(settings or self.settings, self.store, apply=apply)
        return result

    def sync(self, *, full: bool = False) -> None:
        """An incremental (or full) sync through the real connector."""
        results = run_sync(self.settings, self.store, full=full)
        assert all(r.ok for r in results), [r.error for r in results]

    def records(self) -> Records:
        """The write-back records, by item id."""
        return {
            item_id: (record.labels, record.link_url, record.confirmed)
            for item_id, record in self.store.writebacks.records(self.name).items()
        }

    def start_cli(self, label: str) -> subprocess.Popen[str]:
        """``v2mom writeback --apply`` against this world, in a subprocess."""
        return start_cli_writeback(self.settings, self.tmp / f"v2mom-{self.name}-{label}.yaml")


@contextmanager
def open_world(
    name: str, database_url: str, tmp: Path, *, size: int, seed: int = 21, sync: SyncSettings | None = None
) -> Iterator[World]:
    """A world of ``name`` (``size`` items from ``seed``) synced, with the sample plan, provisioned.

    ``sync`` is the connectors' retry budget. Stalls left armed or holding are released at the end.
    """
    servers: list[SandboxServer] = []

    def url_for(app: Any) -> str:
        server = SandboxServer(app)
        servers.append(server)
        return server.start()

    tracker = {**BUILDERS, **DATACENTER}[name](url_for, None, seed=seed, size=size)
    settings = tracker.settings.model_copy(
        update={"database_url": database_url, "sync": sync or tracker.settings.sync}
    )
    store = Database.open(database_url)
    world = World(tracker, settings, store, tmp, flavour=name)
    try:
        world.sync(full=True)
        apply_plan(store, load_plan(SAMPLE_PLAN_PATH.read_text()), actor="test")
        (provisioned,) = provision(settings, store, apply=True)
        assert provisioned.ok, provisioned.error
        if provisioned.manual:  # Data Center: its administrator adds the options; the next run adopts them
            do_by_hand(tracker.state, provisioned.manual)
            (adopted,) = provision(settings, store, apply=True)
            assert (adopted.ok, adopted.manual) == (True, []), adopted.error
        yield world
    finally:
        tracker.state.release_stalls()
        store.close()
        for server in servers:
            server.stop()
