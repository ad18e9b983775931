"""Jira Cloud (REST v3): ``client`` (the only SDK importer), ``parse`` (pure) and ``connector``."""

from v2mom.connectors.jira.connector import JiraConnector

__all__ = ["JiraConnector"]
