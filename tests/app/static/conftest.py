"""What the browser tests share: Debian's Chromium driven by Playwright against the real app.

Every test here is skipped (with the reason) where ``/usr/bin/chromium`` is missing; under CI it
must be there (``.ci/run`` installs it). Screenshots go to ``test-artifacts/``. The fixtures are
``site`` (the demo world served by the app, with an admin and a viewer token) and ``browser``; the
helpers (``signed_in``, ``wait_text``…) are imported from here by the test modules.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

from tests.layout import ROOT
from v2mom.app.demo import DemoWorld, build_demo
from v2mom.app.factory import create_app
from v2mom.sandbox.server import SandboxServer
from v2mom.settings import Settings

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
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
# axe-core, the accessibility engine, from npm (its own package, pinned), installed once into a cache
# directory outside the repository; V2MOM_AXE_JS names another copy of axe.min.js.
AXE_VERSION = "4.11.1"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
AXE_DIR = CACHE / "v2mom-sync" / f"axe-core-{AXE_VERSION}"
SERIOUS = ("serious", "critical")


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
    # for users); the CSP header itself is asserted in tests/app/routes/test_admin.py.
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
    page.wait_for_selector("body[data-ready=true]:not([data-page=login])", timeout=20000)
    return page


def shown_values(page: Page) -> dict[str, tuple[str, str]]:
    rows = page.locator("#page-overview #values tbody tr[data-value]")
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


@functools.cache
def axe_source() -> str:
    """axe-core's browser bundle (``npm install axe-core`` into the cache the first time)."""
    override = os.environ.get("V2MOM_AXE_JS")
    path = Path(override) if override else AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
    if not path.exists() and not override:
        npm = shutil.which("npm")
        if npm is None:
            if os.environ.get("CI") == "true":
                raise RuntimeError("npm is missing: CI runs the accessibility checks (.ci/run installs it)")
            pytest.skip("npm is missing: it installs axe-core for the accessibility checks")
        AXE_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(AXE_DIR),
                "--no-save",
                "--no-audit",
                "--no-fund",
                "--silent",
                f"axe-core@{AXE_VERSION}",
            ],
            check=True,
            timeout=300,
        )
    return path.read_text(encoding="utf-8")


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now (id, impact, help, where)."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    found: list[dict[str, Any]] = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ') + ' ' + (n.failureSummary || '')),
        }))"""
    )
    return [v for v in found if v["impact"] in SERIOUS]


class Console:
    """The page's console errors and uncaught script errors, collected from the moment it opens."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))

    def take(self) -> list[str]:
        """The errors so far (and forget them)."""
        errors, self.errors = self.errors, []
        return errors


def session_context(browser: Browser, site: Site, token: str, width: int, *, csp: bool = False) -> Any:
    """A browser context ``width`` px wide, signed in with ``token`` (the session cookie set through
    the API, as the sign-in form does). Without ``csp`` the page's CSP is bypassed: Playwright's
    waiting predicates and axe-core run as injected scripts."""
    context = browser.new_context(
        viewport={"width": width, "height": 900 if width > 500 else 844}, bypass_csp=not csp
    )
    answer = context.request.post(
        f"{site.base}/api/session", data={"token": token}, headers={"X-V2MOM-CSRF": "1"}
    )
    assert answer.ok, answer.text()
    return context


@pytest.fixture
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    """The browser contexts a test opens with :func:`open_page`, closed after it."""
    opened: list[BrowserContext] = []
    yield opened
    for context in opened:
        context.close()


def open_page(
    contexts: list[BrowserContext], browser: Browser, site: Site, token: str, width: int
) -> tuple[Page, Console]:
    """A new page ``width`` px wide, signed in with ``token``, with its console watched (its context
    goes into ``contexts``, closed after the test)."""
    context = session_context(browser, site, token, width)
    contexts.append(context)
    page = context.new_page()
    return page, Console(page)


def ready(page: Page, page_id: str | None = None) -> None:
    """Wait until the dashboard says the page (``page_id``) is shown and its data loaded."""
    selector = "body[data-ready=true]" + (f"[data-page={page_id}]" if page_id else "")
    page.wait_for_selector(selector, timeout=20000)
