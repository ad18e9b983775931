"""Facts about the test environment that other tests silently depend on."""

from __future__ import annotations

import importlib.util


def test_httpx2_is_not_installed() -> None:
    # gql imports httpx2 instead of httpx whenever it is installed, and respx then stops
    # intercepting gql's transport (DESIGN.md "Testing HTTP").
    assert importlib.util.find_spec("httpx2") is None, "uninstall httpx2: it makes gql bypass respx"
