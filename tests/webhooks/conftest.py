"""The receivers every webhook edge test posts to."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.webhooks.receivers import Receivers, receivers
from v2mom.settings import JiraDeployment
from v2mom.store.database import Database


def deployment_of(request: pytest.FixtureRequest) -> JiraDeployment:
    """Data Center for a test whose ``tracker`` parameter is ``jira-datacenter``, else Cloud."""
    callspec = getattr(request.node, "callspec", None)
    tracker = callspec.params.get("tracker") if callspec is not None else None
    return "datacenter" if tracker == "jira-datacenter" else "cloud"


@pytest.fixture
def hooks(store: Database, request: pytest.FixtureRequest) -> Iterator[Receivers]:
    """The receivers, Jira's of the deployment a ``tracker`` parameter names (Cloud otherwise)."""
    yield from receivers(store, jira=deployment_of(request))
