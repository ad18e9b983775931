"""The provisioned sandbox Asana workspace the tag and link tests write into, through the real
connector."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.connectors.asana.test_vocabulary import PLAN, Tracker
from v2mom.connectors.asana.connector import AsanaConnector
from v2mom.sandbox.asana.app import create_asana_app
from v2mom.sandbox.asana.generator import asana_settings
from v2mom.sandbox.asana.state import AsanaState
from v2mom.sandbox.server import SandboxServer
from v2mom.settings import SyncSettings
from v2mom.vocabulary import AppliedVocabulary, Kind, LinkWrite, TagWrite

TASKS = 500
PUBLIC = "https://v2mom.example.com"


@dataclass
class Workspace:
    tracker: Tracker
    applied: AppliedVocabulary
    tasks: list[str]  # project tasks, in creation order

    @property
    def state(self) -> AsanaState:
        return self.tracker.state

    def connector(
        self, *, token: str | None = None, retries: int = 0, page_size: int = 100
    ) -> AsanaConnector:
        """A fresh connector (``retries`` retries without sleeping)."""
        settings = asana_settings(
            self.state, self.tracker.url, self.tracker.projects, token=token, page_size=page_size
        )
        return AsanaConnector(settings, SyncSettings(max_retries=retries), sleep=lambda _s: None)

    def option(self, kind: Kind, plan_id: str) -> str:
        return self.applied.options[kind][plan_id]

    def tag(
        self, gid: str, value: str | None = "reliability", method: str | None = "slo-program"
    ) -> TagWrite:
        options: dict[Kind, str | None] = {}
        if value is not None:
            options["value"] = self.option("value", value) if value else None
        if method is not None:
            options["method"] = self.option("method", method) if method else None
        return TagWrite(item_id=gid, key=f"T-{gid}", options=options)

    def link(self, gid: str, base: str = PUBLIC) -> LinkWrite:
        return LinkWrite(gid, f"T-{gid}", f"{base}/items/asana/{gid}", "V2MOM: why this task counts")

    def fields(self, gid: str) -> dict[str, tuple[str, ...]]:
        connector = self.connector()
        try:
            return dict(connector.get_item(gid).custom_fields)
        finally:
            connector.close()


@pytest.fixture
def workspace() -> Iterator[Workspace]:
    state = AsanaState(default_fields=False)
    for name in ("Priority", "Stage", "Team Bet"):
        state.create_custom_field(name, "enum")
    projects = [state.add_project("Platform"), state.add_project("Growth"), state.add_project("Mobile")]
    tasks = [state.add_task(f"Task {n}", projects=[projects[n % 3]]) for n in range(TASKS)]
    with SandboxServer(create_asana_app(state)) as url:
        tracker = Tracker(url, state, projects)
        yield Workspace(tracker, tracker.provision(PLAN), tasks)
