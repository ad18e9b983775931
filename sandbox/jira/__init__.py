"""A stateful fake of Jira Cloud REST v3: the endpoints the connector uses, with real paging."""
