"""Every path to Jira, not only the sync, first asks ``serverInfo`` which Jira the URL names: the
other deployment than the configured one is refused in one line naming the setting, before any
credentials are sent."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from pydantic import SecretStr

from v2mom.connectors.jira.connector import JiraConnector
from v2mom.errors import ConfigError
from v2mom.sandbox.generator import scope_jql
from v2mom.sandbox.jira.app import create_jira_app
from v2mom.sandbox.jira.state import JiraState
from v2mom.sandbox.server import SandboxServer
from v2mom.settings import JiraSettings, Settings, SyncSettings, TrackersSettings
from v2mom.store.database import Database
from v2mom.vocabulary import TagWrite
from v2mom.webhooks.hook_secrets import StoredHookSecrets
from v2mom.webhooks.register import register_webhook

Step = Callable[[JiraConnector, JiraSettings], object]


def _provision(connector: JiraConnector, _settings: JiraSettings) -> object:
    return connector.read_vocabulary()


def _history(connector: JiraConnector, _settings: JiraSettings) -> object:
    return connector.read_history(["10001"])


def _write_back(connector: JiraConnector, _settings: JiraSettings) -> object:
    return connector.write_tags([TagWrite("10001", "ONB-1", {"value": "1"})])


def _register(_connector: JiraConnector, settings: JiraSettings) -> object:
    whole = Settings(trackers=TrackersSettings(jira=settings))
    with tempfile.TemporaryDirectory() as folder:
        store = Database.open(f"sqlite:///{folder}/v2mom.db")
        try:
            return register_webhook(whole, "jira", "https://v2mom.example.com/webhooks/jira", lambda: store)
        finally:
            assert StoredHookSecrets(store, "jira").secrets(fresh=True) == []  # none kept for a refused site
            store.close()


STEPS: dict[str, Step] = {
    "provision": _provision,
    "history": _history,
    "write-back": _write_back,
    "register-webhooks": _register,
}


# (what the site is, the step): registering Cloud's webhooks sends no request (its UI does it), so a
# Data Center site configured as Cloud has no registration to refuse.
CASES = [
    (site, step)
    for site in ("cloud", "datacenter")
    for step in STEPS
    if (site, step) != ("datacenter", "register-webhooks")
]


@contextmanager
def mismatched(site_is: str) -> Iterator[tuple[JiraState, JiraSettings]]:
    """A site of one deployment, configured as the other: its state and the settings."""
    state = JiraState(deployment=site_is)  # type: ignore[arg-type]
    state.add_project("ONB", "Onboarding", team_managed=False)
    with SandboxServer(create_jira_app(state)) as url:
        if site_is == "datacenter":  # configured as Cloud
            settings = JiraSettings(
                url=url, email=state.account_email, api_token=SecretStr("x"), jql=scope_jql()
            )
        else:
            settings = JiraSettings(url=url, deployment="datacenter", token=SecretStr("x"), jql=scope_jql())
        yield state, settings


@pytest.mark.parametrize(("site_is", "step"), CASES)
def test_each_path_refuses_the_other_deployment_before_sending_credentials(site_is: str, step: str) -> None:
    with mismatched(site_is) as (state, settings):
        connector = JiraConnector(settings, SyncSettings(max_retries=0))
        try:
            with pytest.raises(ConfigError) as refused:
                STEPS[step](connector, settings)
        finally:
            connector.close()
    message = str(refused.value)
    assert f"set deployment: {site_is}" in message
    assert "\n" not in message
    assert state.request_count("/") == state.request_count("/rest/api/2/serverInfo") == 1
    assert state.credentials_on_server_info == 0


def test_the_site_is_asked_once_for_a_connector_and_the_clients_it_spawns() -> None:
    state = JiraState(deployment="datacenter")
    state.add_project("ONB", "Onboarding", team_managed=False)
    with SandboxServer(create_jira_app(state)) as url:
        token = SecretStr(state.api_token)
        settings = JiraSettings(url=url, deployment="datacenter", token=token, jql=scope_jql())
        connector = JiraConnector(settings, SyncSettings(max_retries=0))
        try:
            connector.discover()
            connector.read_vocabulary()
            connector.read_history(["10001"])
        finally:
            connector.close()
    assert state.request_count("/rest/api/2/serverInfo") == 1
