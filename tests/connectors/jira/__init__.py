"""Jira Cloud connector tests: pure parsing and the client against the sandbox."""
