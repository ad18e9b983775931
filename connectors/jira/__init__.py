"""Jira Cloud (REST v3): ``client`` (the only SDK importer), ``parse`` (pure) and ``connector``."""

from connectors.jira.connector import JiraConnector

__all__ = ["JiraConnector"]
