"""The dashboard in a real browser: Debian's Chromium driven by Playwright against the real app.

Skipped (with the reason) where ``/usr/bin/chromium`` is missing; under CI it must be there
(``.ci/run`` installs it). Screenshots of the dashboard and the rule editor are saved as test
artifacts in ``test-artifacts/``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from v2mom.app.demo import DemoWorld, build_demo
from v2mom.app.factory import create_app
from v2mom.sandbox.server import SandboxServer

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

if not CHROMIUM.exists():
    reason = f"{CHROMIUM} is missing (apt-get install chromium; .ci/run does)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason + ": CI must run the browser tests", pytrace=False)
    pytest.skip(reason, allow_module_level=True)

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402


@dataclass
class Site:
    base: str
    world: DemoWorld
    admin: str
    viewer: str

    def api(self, path: str, token: str) -> Any:
        answer = requests.get(f"{self.base}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        answer.raise_for_status()
        return answer.json()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    world = build_demo(f"sqlite:///{tmp_path_factory.mktemp('ui') / 'ui.db'}", seed=7, issues=400)
    admin = world.store.tokens.create("admin", "ui-admin")
    viewer = world.store.tokens.create("viewer", "ui-viewer")
    server = SandboxServer(create_app(world.settings, world.store))
    base = server.start()
    try:
        yield Site(base, world, admin, viewer)
    finally:
        server.stop()
        world.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
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


def expected_values(report: dict[str, Any]) -> dict[str, tuple[str, str]]:
    def fmt(n: float) -> str:
        return f"{round(n * 100) / 100:,}".removesuffix(".0")

    out = {v["id"]: (fmt(v["effort"]), f"{v['share'] * 100:.1f}%") for v in report["values"]}
    out["untagged"] = (fmt(report["untagged"]["effort"]), f"{report['untagged']['share'] * 100:.1f}%")
    return out


def test_a_viewer_reads_the_chart_filters_follows_a_flag_and_cannot_write(
    browser: Browser, site: Site
) -> None:
    nothing = browser.new_page()
    nothing.goto(site.base + "/")
    assert nothing.locator("#login").is_visible()
    assert not nothing.locator("#main").is_visible()  # nothing is shown without a token
    nothing.close()

    page = signed_in(browser, site, site.viewer)
    report = site.api("/api/reports/effort-by-value", site.viewer)
    assert shown_values(page) == expected_values(report)
    bars = page.locator("#chart rect[data-value]")
    shares = {
        bars.nth(i).get_attribute("data-value"): float(bars.nth(i).get_attribute("data-share") or 0)
        for i in range(bars.count())
    }
    assert shares == {
        **{v["id"]: v["share"] for v in report["values"]},
        "untagged": report["untagged"]["share"],
    }
    assert page.locator("#chart line.target").count() == sum(
        v["target_share"] is not None for v in report["values"]
    )
    assert {li.get_attribute("data-tracker") for li in page.locator("#freshness li").all()} == {
        "jira",
        "linear",
        "asana",
    }
    assert page.locator("#measures li").count() == 2
    obstacles = site.api("/api/reports/obstacles", site.viewer)["obstacles"]
    shown = page.locator("#obstacles > li")
    assert shown.count() == len(obstacles)
    blocked = obstacles[0]
    assert blocked["blocked_items"] > 0  # the sandbox labels some work "blocked"
    first = shown.nth(0)
    assert f"{blocked['blocked_items']} item" in first.inner_text()
    assert first.locator(".blocked-items li").count() == len(blocked["items"])
    trend = site.api("/api/reports/trend", site.viewer)
    assert page.locator("#trend tbody tr").count() == len(trend["weeks"])
    assert page.locator("#trend-chart polyline").count() == len(report["values"]) + 1
    cookie = next(c for c in page.context.cookies() if c["name"] == "v2mom_session")
    assert cookie["httpOnly"] is True
    assert page.evaluate("document.cookie") == ""  # scripts cannot read the session
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

    page.select_option("#filters select[name=tracker]", "linear")
    page.wait_for_url("**/?tracker=linear")
    page.wait_for_function(
        "document.querySelector('#flags tbody a.item-link')?.textContent.startsWith('linear:')"
    )
    linear = site.api("/api/reports/effort-by-value?tracker=linear", site.viewer)
    wait_text(page, "#values tr[data-value=untagged] .effort", expected_values(linear)["untagged"][0])
    assert shown_values(page) == expected_values(linear)
    shared = new_page(browser)  # the URL carries the filters: a shared link shows the same view
    shared.context.add_cookies([{**cookie}])
    shared.goto(f"{site.base}/?tracker=linear")
    shared.wait_for_selector("body[data-ready=true]")
    assert shown_values(shared) == expected_values(linear)
    shared.close()

    flags = site.api("/api/reports/flags?kind=untagged&limit=20&tracker=linear", site.viewer)["items"]
    first = page.locator("#flags tbody a.item-link").first
    assert first.inner_text() == f"linear:{flags[0]['key']}"
    assert first.get_attribute("href") == flags[0]["url"]
    page.locator("#flags tbody button").first.click()
    page.wait_for_selector("#explain:not([hidden])")
    assert "no value resolved" in page.locator("#explain").inner_text()

    assert not page.locator("#admin").is_visible()
    status = page.evaluate(
        """async () => (await fetch('/api/admin/rules', {
            method: 'POST',
            headers: {'Content-Type': 'application/json', 'X-V2MOM-CSRF': '1'},
            body: JSON.stringify({rule: {when: {label: 'x'}, value: 'efficiency'}}),
        })).status"""
    )
    assert status == 403
    page.close()


def test_an_admin_previews_a_rule_applies_it_and_the_totals_move(browser: Browser, site: Site) -> None:
    page = signed_in(browser, site, site.admin)
    before = site.api("/api/reports/effort-by-value", site.admin)
    rules_before = page.locator("#rules tbody tr").count()
    page.select_option("#rule-form select[name=tracker]", "jira")
    page.select_option("#rule-form select[name=key]", "label")
    page.fill("#rule-form input[name=match]", "frontend")
    page.select_option("#rule-form select[name=target]", "value")
    page.select_option("#rule-form select[name=target_id]", "efficiency")
    assert page.locator("#apply").is_disabled()  # no apply before a preview
    page.click("#preview")
    page.wait_for_function(
        "document.querySelector('#preview-text').textContent.startsWith('This rule would re-tag')"
    )
    summary = page.locator("#preview-text").inner_text()
    assert "to efficiency" in summary
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#admin").screenshot(path=str(ARTIFACTS / "rule-editor.png"))
    preview = json.loads(
        requests.post(
            f"{site.base}/api/admin/rules?dry_run=true",
            json={"rule": {"when": {"tracker": "jira", "label": "frontend"}, "value": "efficiency"}},
            headers={"Authorization": f"Bearer {site.admin}"},
            timeout=10,
        ).text
    )["preview"]
    assert preview["summary"] in summary
    page.click("#apply")
    wait_prefix(page, "#preview-text", "Applied")
    page.wait_for_function(f"document.querySelectorAll('#rules tbody tr').length === {rules_before + 1}")
    after = site.api("/api/reports/effort-by-value", site.admin)
    gained = {v["id"]: v["effort"] for v in after["values"]}["efficiency"] - {
        v["id"]: v["effort"] for v in before["values"]
    }["efficiency"]
    assert gained == pytest.approx(preview["deltas"]["efficiency"])
    assert gained > 0
    wait_text(page, "#values tr[data-value=efficiency] .effort", expected_values(after)["efficiency"][0])
    # The admin panels re-render after the report does: wait for the audit log, do not race it.
    page.wait_for_function("document.querySelector('#audit').textContent.includes('token:ui-admin')")
    assert "rules: added" in page.locator("#audit li").first.inner_text()
    page.close()


def test_the_page_runs_under_its_own_content_security_policy(browser: Browser, site: Site) -> None:
    page = browser.new_page()  # CSP enforced: no inline script or style, no eval, nothing off-site
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    page.on("pageerror", lambda error: messages.append(str(error)))
    requests_made: list[str] = []
    page.on("request", lambda request: requests_made.append(request.url))
    page.goto(site.base + "/")
    page.fill("#token", site.viewer)
    page.press("#token", "Enter")
    page.wait_for_selector("body[data-ready=true]", timeout=20000)
    assert not [m for m in messages if "Content Security Policy" in m or "Refused" in m]
    assert all(url.startswith(site.base) or url.startswith("data:") for url in requests_made)
    page.close()


def test_an_admin_edits_reorders_and_changes_the_plan(browser: Browser, site: Site) -> None:
    page = signed_in(browser, site, site.admin)
    rules = site.api("/api/admin/rules", site.admin)["rules"]
    first, second = rules[0], rules[1]
    page.click("#rules tr[data-position='0'] button[aria-label='Move rule 0 down']")
    moved_down = " and ".join(f"{k} = {v}" for k, v in first["when"].items())
    wait_text(page, "#rules tr[data-position='1'] td:nth-child(2)", moved_down)
    reordered = site.api("/api/admin/rules", site.admin)["rules"]
    assert (reordered[0]["when"], reordered[1]["when"]) == (second["when"], first["when"])

    page.click("#rules tr[data-position='1'] button[aria-label='Edit rule 1']")
    assert page.locator("#rule-form legend").inner_text() == "Edit rule 1"
    page.select_option("#rule-form select[name=target]", "value")
    page.select_option("#rule-form select[name=target_id]", "reliability")
    page.click("#preview")
    wait_prefix(page, "#preview-text", "This rule would re-tag")
    page.click("#apply")
    wait_prefix(page, "#preview-text", "Applied")
    edited = site.api("/api/admin/rules", site.admin)["rules"][1]
    assert edited["when"] == first["when"]
    assert edited.get("value") == "reliability"
    assert "method" not in edited

    document = json.loads(page.locator("#plan-json").input_value())
    document["values"][2]["target_share"] = 0.25
    page.fill("#plan-json", json.dumps(document))
    page.click("#plan-preview")
    wait_prefix(page, "#plan-preview-text", "values: changed efficiency")
    page.click("#plan-apply")
    wait_prefix(page, "#plan-preview-text", "Applied")
    wait_text(page, "#values tr[data-value=efficiency] td:nth-child(4)", "25.0%")
    page.fill("#plan-json", "{not json")
    page.click("#plan-preview")
    wait_prefix(page, "#plan-error", "the plan is not valid JSON")
    page.close()


def test_an_admin_creates_and_revokes_a_token(browser: Browser, site: Site) -> None:
    page = signed_in(browser, site, site.admin)
    page.fill("#token-form input[name=name]", "weekly export")
    page.select_option("#token-form select[name=role]", "viewer")
    page.click("#token-create")
    page.wait_for_selector("#token-value")
    secret = page.locator("#token-value").inner_text()
    assert site.api("/api/reports/effort-by-value", secret)["measure"] == "points"
    tokens = site.api("/api/admin/tokens", site.admin)["tokens"]
    created = next(t for t in tokens if t["name"] == "weekly export")
    row = page.locator(f"#tokens tr[data-token='{created['id']}']")
    assert row.locator("td").nth(1).inner_text() == "viewer"
    assert "secret" not in row.inner_text()
    row.locator("button.revoke").click()
    wait_prefix(page, f"#tokens tr[data-token='{created['id']}'] td.status", "revoked")
    refused = requests.get(
        f"{site.base}/api/reports/effort-by-value", headers={"Authorization": f"Bearer {secret}"}, timeout=10
    )
    assert refused.status_code == 401
    page.close()
