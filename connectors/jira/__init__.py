"""Jira Cloud (REST v3, atlassian-python-api): the connector files every tracker has
(``client``, ``parse``, ``webhook``, ``connector``, ``vocabulary``, ``tags``, ``links``; see
``connectors/__init__.py``)."""

from v2mom.connectors.jira.connector import JiraConnector

__all__ = ["JiraConnector"]
