"""A store synced from the Jira sandbox and resolved under the sample plan, for suggestions."""

from __future__ import annotations

from pathlib import Path

import pytest

from v2mom.connectors.jira.connector import JiraConnector
from v2mom.mapping.plan import Plan, load_plan
from v2mom.sandbox import SAMPLE_PLAN_PATH
from v2mom.sandbox.generator import generate_jira_workspace, jira_settings
from v2mom.sandbox.jira.app import create_jira_app
from v2mom.sandbox.server import SandboxServer
from v2mom.settings import SyncSettings
from v2mom.store.database import Database
from v2mom.store.resolution.run import remap
from v2mom.sync.runner import sync_tracker


@pytest.fixture
def plan(store: Database) -> Plan:
    """The Jira sandbox synced into ``store`` and resolved under the sample plan."""
    state, _ = generate_jira_workspace(seed=5, epics=12, issues=240)
    with SandboxServer(create_jira_app(state)) as url:
        assert sync_tracker(store, JiraConnector(jira_settings(state, url), SyncSettings()), full=True).ok
    plan = load_plan(SAMPLE_PLAN_PATH.read_text(encoding="utf-8"), str(SAMPLE_PLAN_PATH))
    store.plans.save(plan, actor="test")
    remap(store)
    return plan


def settings_for(database_url: str, folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A settings file naming ``database_url`` (and nothing from the environment)."""
    monkeypatch.delenv("V2MOM_DATABASE_URL", raising=False)
    monkeypatch.delenv("V2MOM_CONFIG", raising=False)
    settings = folder / "v2mom.yaml"
    settings.write_text(f"database_url: {database_url}\n", encoding="utf-8")
    return settings
