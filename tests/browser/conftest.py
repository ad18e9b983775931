"""What the browser tests share: Debian's Chromium driven by Playwright against the real app.

Every test here is skipped (with the reason) where ``/usr/bin/chromium`` is missing; under CI it
must be there (``.ci/run`` installs it). Screenshots go to ``test-artifacts/``. The fixtures are
``site`` (the demo world served by the app, with an admin and a viewer token) and ``browser``; the
helpers (``signed_in``, ``wait_text``…) are imported from here by the test modules.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

from v2mom.app.demo import DemoWorld, build_demo
from v2mom.app.factory import create_app
from v2mom.sandbox.server import SandboxServer
from v2mom.settings import Settings

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
NO_CHROMIUM = f"{CHROMIUM} is missing (apt-get install chromium; .ci/run does)"
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without Chromium the browser tests are skipped, with the reason; under CI that is a failure."""
    if CHROMIUM.exists():
        return
    mine = [item for item in items if HERE in Path(str(item.path)).resolve().parents]
    if mine and os.environ.get("CI") == "true":
        raise pytest.UsageError(NO_CHROMIUM + ": CI must run the browser tests")
    for item in mine:
        item.add_marker(pytest.mark.skip(reason=NO_CHROMIUM))


@dataclass
class Site:
    """The app served on 127.0.0.1 over a demo world, with an admin and a viewer token."""

    base: str
    world: DemoWorld
    admin: str
    viewer: str
    settings: Settings | None = None  # the settings the app runs with, when not the world's own

    def api(self, path: str, token: str) -> Any:
        answer = requests.get(f"{self.base}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        answer.raise_for_status()
        return answer.json()


def serve(world: DemoWorld, settings: Settings | None = None, name: str = "ui") -> tuple[Site, SandboxServer]:
    """Tokens ``{name}-admin`` / ``{name}-viewer`` and the app over ``world`` (with ``settings``)."""
    admin = world.store.tokens.create("admin", f"{name}-admin")
    viewer = world.store.tokens.create("viewer", f"{name}-viewer")
    server = SandboxServer(create_app(settings or world.settings, world.store))
    return Site(server.start(), world, admin, viewer, settings), server


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    world = build_demo(f"sqlite:///{tmp_path_factory.mktemp('ui') / 'ui.db'}", seed=7, issues=400)
    served, server = serve(world)
    try:
        yield served
    finally:
        server.stop()
        world.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(NO_CHROMIUM)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield launched
        launched.close()


def new_page(browser: Browser) -> Page:
    # Playwright's polling predicates are evaluated with eval(), which the page's CSP forbids (good
    # for users); the CSP header itself is asserted in tests/reports/test_admin_api.py.
    return browser.new_page(viewport={"width": 1280, "height": 1000}, bypass_csp=True)


def wait_text(page: Page, selector: str, expected: str) -> None:
    page.wait_for_function(
        "([selector, expected]) => document.querySelector(selector)?.textContent === expected",
        arg=[selector, expected],
    )


def wait_prefix(page: Page, selector: str, prefix: str) -> None:
    page.wait_for_function(
        "([selector, prefix]) => document.querySelector(selector)?.textContent.startsWith(prefix)",
        arg=[selector, prefix],
    )


def signed_in(browser: Browser, site: Site, token: str, path: str = "/") -> Page:
    page = new_page(browser)
    page.goto(site.base + path)
    page.fill("#token", token)
    page.press("#token", "Enter")  # the form works from the keyboard
    page.wait_for_selector("body[data-ready=true]", timeout=20000)
    return page


def shown_values(page: Page) -> dict[str, tuple[str, str]]:
    rows = page.locator("#values tbody tr[data-value]")
    return {
        rows.nth(i).get_attribute("data-value") or "": (
            rows.nth(i).locator(".effort").inner_text(),
            rows.nth(i).locator(".share").inner_text(),
        )
        for i in range(rows.count())
    }


def fmt(n: float) -> str:
    """A number as the dashboard shows it (two decimals at most, thousands separated)."""
    return f"{round(n * 100) / 100:,}".removesuffix(".0")


def expected_values(report: dict[str, Any]) -> dict[str, tuple[str, str]]:
    out = {v["id"]: (fmt(v["effort"]), f"{v['share'] * 100:.1f}%") for v in report["values"]}
    out["untagged"] = (fmt(report["untagged"]["effort"]), f"{report['untagged']['share'] * 100:.1f}%")
    return out
