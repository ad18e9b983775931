"""The dashboard in a real browser: Debian's Chromium driven by Playwright against the real app.

The fixtures and helpers are in ``conftest.py`` (skipped with the reason where Chromium is missing).
Screenshots of the dashboard and the rule editor are saved as test artifacts in ``test-artifacts/``.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, Route

from tests.app.static.conftest import (
    ARTIFACTS,
    Site,
    expected_values,
    new_page,
    shown_values,
    signed_in,
    wait_prefix,
    wait_text,
)


def test_a_viewer_reads_the_chart_filters_follows_a_flag_and_cannot_write(
    browser: Browser, site: Site
) -> None:
    nothing = browser.new_page()
    nothing.goto(site.base + "/")
    nothing.wait_for_selector("body[data-page=login]")
    assert nothing.locator("#login").is_visible()
    assert not nothing.locator("#page-overview").is_visible()  # nothing is shown without a token
    assert not nothing.locator("#nav").is_visible()
    nothing.close()

    page = signed_in(browser, site, site.viewer)
    report = site.api("/api/reports/effort-by-value", site.viewer)
    assert shown_values(page) == expected_values(report)
    bars = page.locator("#chart .hbar-fill[data-value]")
    shares = {
        bars.nth(i).get_attribute("data-value"): float(bars.nth(i).get_attribute("data-share") or 0)
        for i in range(bars.count())
    }
    assert shares == {
        **{v["id"]: v["share"] for v in report["values"]},
        "untagged": report["untagged"]["share"],
    }
    assert page.locator("#chart .hbar-target").count() == sum(
        v["target_share"] is not None for v in report["values"]
    )
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

    page.select_option("#page-overview select[name=tracker]", "linear")
    page.wait_for_url("**/?tracker=linear")
    linear = site.api("/api/reports/effort-by-value?tracker=linear", site.viewer)
    wait_text(page, "#values tr[data-value=untagged] .effort", expected_values(linear)["untagged"][0])
    assert shown_values(page) == expected_values(linear)
    shared = new_page(browser)  # the URL carries the filters: a shared link shows the same view
    shared.context.add_cookies([{**cookie}])
    shared.goto(f"{site.base}/?tracker=linear")
    shared.wait_for_selector("body[data-ready=true][data-page=overview]")
    assert shown_values(shared) == expected_values(linear)
    shared.goto(f"{site.base}/health")  # freshness per tracker lives on its own page
    shared.wait_for_selector("body[data-ready=true][data-page=health]")
    trackers = {row.get_attribute("data-tracker") for row in shared.locator("#freshness tbody tr").all()}
    assert trackers == {"jira", "linear", "asana"}
    shared.close()

    page.goto(f"{site.base}/attention?tracker=linear")
    page.wait_for_selector("body[data-ready=true][data-page=attention]")
    flags = site.api("/api/reports/flags?kind=untagged&limit=20&tracker=linear", site.viewer)["items"]
    row = page.locator("#flags tbody tr[data-item]").first
    assert row.get_attribute("data-item") == f"linear:{flags[0]['key']}"
    assert row.locator("a.item-link").get_attribute("href") == flags[0]["url"]
    row.get_by_role("link", name=f"Explain linear:{flags[0]['key']}").click()
    page.wait_for_selector("body[data-ready=true][data-page=item]")
    assert "no value resolved" in page.locator("#page-item").inner_text()

    assert page.locator("#nav a[data-page=plan]").count() == 0  # no admin pages in a viewer's menu
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
    page = signed_in(browser, site, site.admin, "/plan")
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
    page.locator("#page-plan").screenshot(path=str(ARTIFACTS / "rule-editor.png"))
    preview = json.loads(
        requests.post(
            f"{site.base}/api/admin/rules?dry_run=true",
            json={"rule": {"when": {"tracker": "jira", "label": "frontend"}, "value": "efficiency"}},
            headers={"Authorization": f"Bearer {site.admin}"},
            timeout=10,
        ).text
    )["preview"]
    assert preview["summary"] in summary
    page.fill("#change-reason", "frontend work is about efficiency")  # the demo's plan is in a cycle
    page.click("#apply")
    wait_prefix(page, "#preview-text", "Applied")
    page.wait_for_function(f"document.querySelectorAll('#rules tbody tr').length === {rules_before + 1}")
    after = site.api("/api/reports/effort-by-value", site.admin)
    gained = {v["id"]: v["effort"] for v in after["values"]}["efficiency"] - {
        v["id"]: v["effort"] for v in before["values"]
    }["efficiency"]
    assert gained == pytest.approx(preview["deltas"]["efficiency"])
    assert gained > 0
    page.get_by_role("link", name="Overview", exact=True).click()
    wait_text(page, "#values tr[data-value=efficiency] .effort", expected_values(after)["efficiency"][0])
    page.get_by_role("link", name="Audit", exact=True).click()
    page.wait_for_selector("body[data-ready=true][data-page=audit]")
    assert "token:ui-admin" in page.locator("#audit li").first.inner_text()
    assert "rule added: " in page.locator("#audit li").first.inner_text()
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
    page.wait_for_selector("body[data-ready=true][data-page=overview]", timeout=20000)
    assert not [m for m in messages if "Content Security Policy" in m or "Refused" in m]
    assert all(url.startswith(site.base) or url.startswith("data:") for url in requests_made)
    page.close()


POISON = "javascript:document.title='pwned'"


def with_urls(document: Any, url: str) -> Any:
    """``document`` with every ``url`` string in it replaced by ``url``."""
    if isinstance(document, dict):
        return {
            k: url if k == "url" and isinstance(v, str) else with_urls(v, url) for k, v in document.items()
        }
    if isinstance(document, list):
        return [with_urls(v, url) for v in document]
    return document


def test_item_links_that_are_not_http_are_shown_as_plain_text(browser: Browser, site: Site) -> None:
    """Whatever the API sends (here every item URL rewritten to ``javascript:`` on its way), the
    dashboard makes only http(s) URLs into links: the flags, the blocked items, the explanation."""
    page = new_page(browser)

    def poison(route: Route) -> None:
        answer = route.fetch()
        route.fulfill(response=answer, json=with_urls(answer.json(), POISON))

    page.route(re.compile(r".*/api/(reports/(flags|obstacles)|items/).*"), poison)
    page.goto(site.base + "/")
    page.fill("#token", site.viewer)
    page.press("#token", "Enter")
    page.wait_for_selector("body[data-ready=true][data-page=overview]", timeout=20000)
    page.wait_for_selector("#obstacles .blocked-items li")
    blocked = page.locator("#obstacles .blocked-items li").first
    assert blocked.locator("a[href^='http']").count() == 0  # only the in-app link to the item's page
    assert blocked.inner_text().startswith(("jira:", "linear:", "asana:"))
    page.get_by_role("link", name="Attention", exact=True).click()
    page.wait_for_selector("body[data-ready=true][data-page=attention]")
    row = page.locator("#flags tbody tr[data-item]").first
    assert row.locator("a.item-link").count() == 0
    assert row.locator("td").first.inner_text().startswith(row.get_attribute("data-item") or "?")
    row.get_by_role("link", name=f"Explain {row.get_attribute('data-item')}").click()
    page.wait_for_selector("body[data-ready=true][data-page=item]")
    assert page.locator("#page-item a.ext").count() == 0
    assert page.locator("a[href^='javascript' i]").count() == 0
    assert page.title() != "pwned"
    page.close()


def test_an_admin_edits_reorders_and_changes_the_plan(browser: Browser, site: Site) -> None:
    page = signed_in(browser, site, site.admin, "/plan")
    rules = site.api("/api/admin/rules", site.admin)["rules"]
    first, second = rules[0], rules[1]
    page.fill("#change-reason", "the second rule comes first")  # the demo's plan is in a cycle
    page.click("#rules tr[data-position='0'] button[aria-label='Move rule 0 down']")
    moved_down = " and ".join(f"{k} is {v}" for k, v in first["when"].items())
    wait_text(page, "#rules tr[data-position='1'] td:nth-child(2)", moved_down)
    reordered = site.api("/api/admin/rules", site.admin)["rules"]
    assert (reordered[0]["when"], reordered[1]["when"]) == (second["when"], first["when"])

    page.click("#rules tr[data-position='1'] button[aria-label='Edit rule 1']")
    assert page.locator("#rule-form legend").inner_text() == "Edit rule 1"
    page.select_option("#rule-form select[name=target]", "value")
    page.select_option("#rule-form select[name=target_id]", "reliability")
    page.click("#preview")
    wait_prefix(page, "#preview-text", "This rule would re-tag")
    page.fill("#change-reason", "that work is reliability")
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
    page.fill("#change-reason", "a quarter of the effort for efficiency")
    page.click("#plan-apply")
    wait_prefix(page, "#plan-preview-text", "Applied")
    page.get_by_role("link", name="Overview", exact=True).click()
    wait_text(page, "#values tr[data-value=efficiency] td.target", "25.0%")
    page.go_back()
    page.wait_for_selector("body[data-ready=true][data-page=plan]")
    page.fill("#plan-json", "{not json")
    page.click("#plan-preview")
    wait_prefix(page, "#plan-error", "the plan is not valid JSON")
    page.fill("#plan-json", json.dumps({**document, "values": []}))  # an empty plan: refused, place named
    page.click("#plan-preview")
    page.wait_for_function("document.querySelector('#plan-error').textContent.includes('at least one value')")
    assert "values" in page.locator("#plan-error").inner_text()
    assert page.locator("#plan-apply").is_disabled()
    page.fill("#rule-form [name=match]", "   ")  # a rule that matches empty text: refused, place named
    page.click("#preview")
    page.wait_for_function("document.querySelector('#rule-error').textContent.includes('empty')")
    assert "when" in page.locator("#rule-error").inner_text()
    assert page.locator("#apply").is_disabled()
    page.close()


def test_an_admin_creates_and_revokes_a_token(browser: Browser, site: Site) -> None:
    page = signed_in(browser, site, site.admin, "/access")
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
