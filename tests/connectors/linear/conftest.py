"""respx intercepts httpx only; gql imports ``httpx2`` instead whenever it is installed."""

from __future__ import annotations

import importlib.util

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Fail fast, before any Linear test runs, if ``httpx2`` would make respx blind."""
    if importlib.util.find_spec("httpx2") is not None:
        raise pytest.UsageError(
            "httpx2 is installed: gql would use it instead of httpx and respx would intercept nothing; "
            "uninstall httpx2 from the test environment"
        )
