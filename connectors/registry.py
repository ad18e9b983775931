"""The explicit registry of tracker connectors: name -> factory. No plugin magic."""

from __future__ import annotations

from collections.abc import Callable

from connectors.base import Connector
from v2mom.errors import ConfigError
from v2mom.settings import Settings


def _jira(settings: Settings) -> Connector:
    from connectors.jira.connector import JiraConnector

    jira = settings.trackers.jira
    if jira is None:
        raise ConfigError("trackers.jira: not configured")
    return JiraConnector(jira, settings.sync)


REGISTRY: dict[str, Callable[[Settings], Connector]] = {"jira": _jira}


def build_connector(tracker: str, settings: Settings) -> Connector:
    """A connector for ``tracker`` from ``settings``; ConfigError for unknown or unsupported trackers."""
    factory = REGISTRY.get(tracker)
    if factory is None:
        supported = ", ".join(REGISTRY)
        raise ConfigError(f"trackers.{tracker}: no connector for '{tracker}' yet (supported: {supported})")
    return factory(settings)
