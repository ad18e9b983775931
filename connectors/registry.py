"""The explicit registry of tracker connectors: name -> factory. No plugin magic."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from v2mom.connectors.base import Connector
from v2mom.errors import ConfigError
from v2mom.settings import Settings

C = TypeVar("C")


def _jira(settings: Settings) -> Connector:
    from v2mom.connectors.jira.connector import JiraConnector

    jira = settings.trackers.jira
    if jira is None:
        raise ConfigError("trackers.jira: not configured")
    return JiraConnector(jira, settings.sync)


def _linear(settings: Settings) -> Connector:
    from v2mom.connectors.linear.connector import LinearConnector

    linear = settings.trackers.linear
    if linear is None:
        raise ConfigError("trackers.linear: not configured")
    return LinearConnector(linear, settings.sync)


def _asana(settings: Settings) -> Connector:
    from v2mom.connectors.asana.connector import AsanaConnector

    asana = settings.trackers.asana
    if asana is None:
        raise ConfigError("trackers.asana: not configured")
    return AsanaConnector(asana, settings.sync)


REGISTRY: dict[str, Callable[[Settings], Connector]] = {"jira": _jira, "linear": _linear, "asana": _asana}


def build_connector(tracker: str, settings: Settings) -> Connector:
    """A connector for ``tracker`` from ``settings``; ConfigError for unknown or unsupported trackers."""
    factory = REGISTRY.get(tracker)
    if factory is None:
        supported = ", ".join(REGISTRY)
        raise ConfigError(f"trackers.{tracker}: no connector for '{tracker}' yet (supported: {supported})")
    return factory(settings)


def connector_with(tracker: str, settings: Settings, capability: type[C], doing: str) -> C:
    """``tracker``'s connector when it implements ``capability`` (a runtime-checkable protocol such
    as ``TagWriter``); ConfigError saying ``doing`` is not supported for the tracker otherwise."""
    connector = build_connector(tracker, settings)
    if not isinstance(connector, capability):
        connector.close()
        raise ConfigError(f"trackers.{tracker}: {doing} is not supported for {tracker} yet")
    return connector
