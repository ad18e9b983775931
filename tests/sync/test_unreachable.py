"""A tracker that cannot be reached: it fails at once, naming its URL, while it has never answered
(a wrong URL, a tracker that is down); once it has answered, the same failure is a blip in the
middle of a run and gets the whole retry budget. Each real connector, through real sockets."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from tests.outages import TcpProxy
from tests.support import free_port
from tests.sync.sites import SITES
from v2mom.connectors.base import Connector
from v2mom.errors import UnreachableError
from v2mom.settings import SyncSettings

Build = Callable[[str, SyncSettings, Callable[[float], None]], Connector]


@contextmanager
def jira_site() -> Iterator[tuple[str, Build]]:
    from v2mom.connectors.jira.connector import JiraConnector
    from v2mom.sandbox.generator import generate_jira_workspace, jira_settings
    from v2mom.sandbox.jira.app import create_jira_app
    from v2mom.sandbox.server import SandboxServer

    state, _ = generate_jira_workspace(seed=9, epics=5, issues=40)

    def build(url: str, sync: SyncSettings, sleep: Callable[[float], None]) -> Connector:
        return JiraConnector(jira_settings(state, url), sync, sleep=sleep)

    with SandboxServer(create_jira_app(state)) as url:
        yield url, build


@contextmanager
def shared_site(tracker: str) -> Iterator[tuple[str, Build]]:
    with SITES[tracker]() as site:

        def build(url: str, sync: SyncSettings, sleep: Callable[[float], None]) -> Connector:
            return site.build(url, token=None, page_size=50, sync=sync, sleep=sleep)

        yield site.url, build


@pytest.fixture(params=["jira", "asana", "linear"])
def sandbox(request: pytest.FixtureRequest) -> Iterator[tuple[str, Build]]:
    with jira_site() if request.param == "jira" else shared_site(request.param) as found:
        yield found


def upstream(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


def test_a_tracker_that_never_answered_fails_at_once_naming_its_url(sandbox: tuple[str, Build]) -> None:
    _, build = sandbox
    waits: list[float] = []
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    connector = build(closed, SyncSettings(max_retries=5), waits.append)
    try:
        with pytest.raises(UnreachableError) as caught:
            connector.discover()
    finally:
        connector.close()
    assert f"cannot connect to {closed}" in str(caught.value)
    assert str(caught.value).endswith(": connection refused")
    assert waits == []  # not one wait of the budget
    assert connector.calls.total == 1


def test_a_tracker_that_answered_then_went_away_gets_the_retry_budget(sandbox: tuple[str, Build]) -> None:
    url, build = sandbox
    waits: list[float] = []
    proxy = TcpProxy(upstream(url)).start()
    through = f"http://127.0.0.1:{proxy.port}"
    connector = build(through, SyncSettings(max_retries=3), waits.append)
    try:
        connector.discover()  # it answered
        proxy.close()  # and now refuses every connection
        with pytest.raises(UnreachableError) as caught:
            list(connector.iter_ids())
    finally:
        connector.close()
        proxy.close()
    assert f"cannot connect to {through}" in str(caught.value)
    assert len(waits) == 3  # the whole budget, each wait told (see test_retry)


def test_sync_settings_carry_the_connect_timeout() -> None:
    assert SyncSettings().connect_timeout_seconds == 5.0
    with pytest.raises(ValueError, match="greater than 0"):
        SyncSettings(connect_timeout_seconds=0)
