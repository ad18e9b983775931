"""Every page of the dashboard, as a viewer and as an admin, at 1280 and 390 px.

One demo world serves the module. On each page: no console error and no uncaught script error,
axe-core finds no serious or critical violation, nothing scrolls sideways and every action (link,
button, choice) is on screen to reach. Then what the pages promise: a tracker's link opens the item's
explanation in the first screen (and, signed out, the sign-in names the item), the attention list
reaches every flagged item, the back button walks back through the pages, a bad filter keeps the
last good numbers marked stale and says why, the charts say what they show, a big plan change asks
for its phrase, and the audit log reads both shapes of its API.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, BrowserContext, Route, expect

from tests.app.static.conftest import (
    Console,
    Site,
    axe_violations,
    fmt,
    open_page,
    ready,
    serve,
    session_context,
)
from tests.mapping.test_cascade import cascade
from tests.reports.test_effort_cascade import ITEMS as CASCADE_ITEMS
from tests.support import auth
from v2mom.app.factory import create_app
from v2mom.mapping.plan import load_plan
from v2mom.sandbox.server import SandboxServer
from v2mom.settings import PersonSettings, Settings
from v2mom.store.database import Database
from v2mom.store.resolution.plan_change import apply_plan

WIDTHS = (1280, 390)
VIEWER_PAGES = [
    "/",
    "/values",
    "/values/{value}",
    "/teams",
    "/attention",
    "/attention?kind=orphaned",
    "/reviews",
    "/items/{item}",
    "/health",
]
ADMIN_PAGES = [*VIEWER_PAGES, "/attention?kind=conflict", "/plan", "/audit", "/access"]

# Every visible control of the page shown: its box on screen, inside the viewport's width.
OFF_SCREEN = """() => {
  const page = document.querySelector('.page:not([hidden])');
  const out = [];
  for (const node of page.querySelectorAll('a[href], button, select, input:not([type=hidden]), textarea')) {
    if (node.closest('[hidden], details:not([open])')) continue;
    const box = node.getBoundingClientRect();
    if (box.width < 1 || box.height < 1 || box.left < -1 || box.right > innerWidth + 1) {
      out.push(`${node.tagName} ${node.getAttribute('aria-label') || node.textContent.trim().slice(0, 40)}`);
    }
  }
  return out;
}"""


@pytest.fixture(scope="module")
def pages_of(site: Site) -> dict[str, str]:
    """The placeholders of the page paths: a value and a flagged item of the demo."""
    plan = site.api("/api/plan", site.admin)
    item = site.api("/api/reports/flags?kind=orphaned&limit=1", site.admin)["items"][0]
    return {"value": plan["values"][0]["id"], "item": f"{item['tracker']}/{item['key']}"}


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("role", ["viewer", "admin"])
def test_every_page_is_clean_accessible_and_fits(
    browser: Browser,
    site: Site,
    pages_of: dict[str, str],
    contexts: list[BrowserContext],
    role: str,
    width: int,
) -> None:
    token = site.admin if role == "admin" else site.viewer
    page, console = open_page(contexts, browser, site, token, width)
    problems: dict[str, Any] = {}
    for path in ADMIN_PAGES if role == "admin" else [*VIEWER_PAGES, "/plan"]:
        url = path.format(**pages_of)
        page.goto(site.base + url)
        ready(page)
        found: dict[str, Any] = {}
        if errors := console.take():
            found["console"] = errors
        if not page.locator(".page:not([hidden]) h1").is_visible():
            found["blank"] = "no page heading shown"
        if role == "viewer" and path == "/plan":  # an admin page says so, it is never blank
            if "is for admins" not in page.locator("#page-error").inner_text():
                found["admin page"] = "no message for a viewer"
        elif page.locator("#page-error").is_visible():
            found["error"] = page.locator("#page-error").inner_text()
        wide = page.evaluate("document.documentElement.scrollWidth - innerWidth")
        if wide > 0:
            found["scrolls sideways"] = f"{wide} px"
        if off := page.evaluate(OFF_SCREEN):
            found["off screen"] = off
        if violations := axe_violations(page):
            found["axe"] = violations
        if found:
            problems[url] = found
    assert not problems, json.dumps(problems, indent=1)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_menu_reaches_every_page(
    browser: Browser, site: Site, contexts: list[BrowserContext], width: int
) -> None:
    page, console = open_page(contexts, browser, site, site.admin, width)
    page.goto(site.base + "/")
    ready(page, "overview")
    for name, page_id in (
        ("Values", "values"),
        ("Teams", "teams"),
        ("Attention", "attention"),
        ("Reviews", "reviews"),
        ("Plan & rules", "plan"),
        ("Audit", "audit"),
        ("Access", "access"),
        ("Health", "health"),
        ("Overview", "overview"),
    ):
        if width < 500:  # the menu is one button at narrow widths
            assert not page.get_by_role("link", name=name, exact=True).is_visible()
            page.get_by_role("button", name="Menu").click()
            expect(page.get_by_role("button", name="Menu")).to_have_attribute("aria-expanded", "true")
        page.get_by_role("link", name=name, exact=True).click()
        ready(page, page_id)
        assert page.locator(f"#nav a[data-page={page_id}]").get_attribute("aria-current") == "page"
    assert console.take() == []


def test_a_tracker_link_opens_the_item_in_the_first_screen_signed_out_it_names_it(
    browser: Browser, site: Site, contexts: list[BrowserContext]
) -> None:
    item = site.api("/api/reports/flags?kind=orphaned&limit=1&tracker=jira", site.viewer)["items"][0]
    name = f"jira:{item['key']}"
    link = f"{site.base}/items/jira/{item['key']}"  # what the links written into Jira point at
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 900 if width > 500 else 844})
        contexts.append(context)  # its CSP enforced, no session yet
        page = context.new_page()
        console = Console(page)
        requests_made: list[str] = []
        page.on("request", lambda request, made=requests_made: made.append(request.url))
        page.goto(link)
        page.wait_for_selector("body[data-page=login]")
        expect(page.locator("#login-target")).to_contain_text(name)  # signed out, it says what opens
        assert name in page.title()
        assert not page.locator("#logout").is_visible()  # no "Sign out" on the sign-in page
        page.fill("#token", site.viewer)
        page.press("#token", "Enter")
        page.wait_for_selector("body[data-ready=true][data-page=item]")
        assert page.url == link  # signing in keeps the person on the link's page
        heading = page.locator("#item-title")
        assert heading.inner_text() == f"{name} — {item['title']}"
        expect(heading).to_be_in_viewport()
        expect(page.locator(".verdict")).to_be_in_viewport()  # where its effort counts, first screen
        expect(page.locator(".chain li").first).to_be_in_viewport()
        assert page.evaluate("document.activeElement.id") == "item-title"
        assert page.locator("#page-item .reasons li").count() == len(item["reasons"])
        open_in_jira = page.get_by_role("link", name=f"Open {item['key']} in Jira")
        assert open_in_jira.get_attribute("href") == item["url"]
        assert all(url.startswith(site.base) or url.startswith("data:") for url in requests_made)
        # The sign-in's own 401 (no session yet) is the only failed request; no script error.
        assert [e for e in console.take() if "401" not in e] == []


def test_an_item_page_shows_the_chain_of_keys_and_rules(
    browser: Browser, site: Site, contexts: list[BrowserContext]
) -> None:
    store = site.world.store
    inherited = next(
        s
        for s in store.items.stream()
        if s.item.tracker == "jira"
        and s.item.parent_id
        and (doc := site.api(f"/api/items/jira/{s.item.key}", site.viewer))["resolution"]
        and doc["resolution"]["source"] == "inherited"
    )
    doc = site.api(f"/api/items/jira/{inherited.item.key}", site.viewer)
    page, console = open_page(contexts, browser, site, site.viewer, 1280)
    page.goto(f"{site.base}/items/jira/{inherited.item.key}")
    ready(page, "item")
    chain = page.locator(".chain")
    source = doc["resolution"]["inherited_from"]
    expect(chain).to_contain_text("It inherits from")
    assert chain.get_by_role("link", name=source).count() == 1
    plan = site.api("/api/plan", site.viewer)
    for method in doc["resolution"]["methods"]:
        expect(chain).to_contain_text(next(m["name"] for m in plan["methods"] if m["id"] == method))
    parents = page.locator(".parents li")
    assert parents.count() == len(doc["ancestors"])
    page.get_by_role("link", name=source).first.click()  # the chain's keys are pages too
    ready(page, "item")
    expect(page.locator("#item-title")).to_contain_text(source)
    page.go_back()
    ready(page, "item")
    expect(page.locator("#item-title")).to_contain_text(inherited.item.key)
    missing_page = page.context.new_page()
    missing_console = Console(missing_page)
    missing_page.goto(f"{site.base}/items/jira/NOPE-999999")
    ready(missing_page, "item")
    assert missing_page.locator("#item-title").inner_text() == "No explanation for jira:NOPE-999999"
    assert "knows no item" in missing_page.locator("#explain-missing").inner_text()
    assert [e for e in missing_console.take() if "404" not in e] == []  # the API's 404, no script error
    assert console.take() == []


def test_the_attention_list_counts_and_reaches_every_flagged_item(
    browser: Browser, site: Site, contexts: list[BrowserContext]
) -> None:
    counts = site.api("/api/reports/flags/counts", site.viewer)
    page, console = open_page(contexts, browser, site, site.viewer, 390)
    page.goto(site.base + "/attention?kind=orphaned")
    ready(page, "attention")
    for kind in ("untagged", "orphaned", "conflict", "unaligned"):  # unaligned: the demo's plan has teams
        assert page.locator(f"#kinds a[data-kind={kind}] .count").inner_text() == f"{counts[kind]['items']:,}"
    more = page.locator("#flags-more")
    while more.is_visible():
        before = page.locator("#flags tbody tr[data-item]").count()
        more.click()
        page.wait_for_function(
            "n => document.querySelectorAll('#flags tbody tr[data-item]').length > n", arg=before
        )
    shown = page.locator("#flags tbody tr[data-item]").evaluate_all("rows => rows.map(r => r.dataset.item)")
    every = []
    cursor = None
    while True:
        answer = site.api(
            "/api/reports/flags?kind=orphaned&limit=500" + (f"&cursor={cursor}" if cursor else ""),
            site.viewer,
        )
        every += [f"{i['tracker']}:{i['key']}" for i in answer["items"]]
        if not (cursor := answer["next_cursor"]):
            break
    assert shown == every
    assert len(shown) == counts["orphaned"]["items"]
    expect(page.locator("#attention-count")).to_contain_text(
        f"Showing {len(shown)} of {len(shown)} orphaned items"
    )

    # Filters: the text (a key) and the tracker narrow the list and the counts; back undoes them.
    key = every[3].split(":", 1)[1]
    page.fill("#attention-filters input[name=q]", key.lower())
    page.press("#attention-filters input[name=q]", "Enter")
    ready(page, "attention")
    assert f"q={key.lower()}" in page.url
    keys = page.locator("#flags tbody tr[data-item]").evaluate_all("rows => rows.map(r => r.dataset.item)")
    assert every[3] in keys
    filtered = site.api(f"/api/reports/flags/counts?q={key.lower()}", site.viewer)
    assert page.locator("#kinds a[data-kind=orphaned] .count").inner_text() == str(
        filtered["orphaned"]["items"]
    )
    page.select_option("#attention-filters select[name=tracker]", "linear")
    ready(page, "attention")
    assert all(
        k.startswith("linear:")
        for k in page.locator("#flags tbody tr[data-item]").evaluate_all(
            "rows => rows.map(r => r.dataset.item)"
        )
    )
    page.go_back()
    ready(page, "attention")
    assert page.locator("#attention-filters select[name=tracker]").input_value() == ""
    assert page.locator("#attention-filters input[name=q]").input_value() == key.lower()
    assert console.take() == []


def test_pages_have_their_own_urls_and_the_back_button_walks_them(
    browser: Browser, site: Site, contexts: list[BrowserContext]
) -> None:
    plan = site.api("/api/plan", site.viewer)
    value = plan["values"][1]
    page, console = open_page(contexts, browser, site, site.viewer, 1280)
    page.goto(site.base + "/?measure=count")
    ready(page, "overview")
    page.get_by_role("link", name=value["name"], exact=True).click()
    ready(page, "values")
    assert page.url == f"{site.base}/values/{value['id']}?measure=count"  # the filters come along
    assert page.locator("#values-title").inner_text() == value["name"]
    first = page.locator("#value-items tbody tr[data-item]").first.get_attribute("data-item") or ""
    page.locator("#value-items tbody a.item-ref").first.click()
    ready(page, "item")
    assert page.url.endswith("/items/" + first.replace(":", "/", 1))
    page.go_back()
    ready(page, "values")
    assert page.locator("#values-title").inner_text() == value["name"]
    page.go_back()
    ready(page, "overview")
    assert page.url == f"{site.base}/?measure=count"
    page.go_forward()
    ready(page, "values")
    page.reload()  # a refresh lands on the same page
    ready(page, "values")
    assert page.locator("#values-title").inner_text() == value["name"]
    assert console.take() == []


def test_a_value_page_lists_its_methods_and_items_with_both_shares(
    browser: Browser, site: Site, contexts: list[BrowserContext]
) -> None:
    report = site.api("/api/reports/effort-by-value", site.viewer)
    value = max(report["values"], key=lambda v: len(v["methods"]))
    page, console = open_page(contexts, browser, site, site.viewer, 390)
    page.goto(f"{site.base}/values/{value['id']}")
    ready(page, "values")
    heads = page.locator("#value-methods thead th").all_inner_texts()
    assert heads == ["Method", "Effort", "Share of value", "Share of total", "Items"]
    rows = page.locator("#value-methods tbody tr")
    assert rows.count() == len(value["methods"])
    method = value["methods"][0]
    first = rows.first
    assert first.locator(".share-value").inner_text() == f"{method['effort'] / value['effort'] * 100:.1f}%"
    assert (
        first.locator(".share-total").inner_text()
        == f"{method['effort'] / report['total']['effort'] * 100:.1f}%"
    )
    expect(first.locator(".share-value")).to_have_attribute("data-label", "Share of value")  # said on cards
    items = site.api(f"/api/reports/values/{value['id']}/items?limit=50", site.viewer)
    assert page.locator("#value-items tbody tr[data-item]").count() == len(items["items"])
    expect(page.locator("#value-items-count")).to_contain_text(f"of {value['items']:,} items")
    assert console.take() == []


def test_a_bad_date_range_keeps_the_last_numbers_marked_stale_and_says_why(
    browser: Browser, site: Site, contexts: list[BrowserContext]
) -> None:
    page, console = open_page(contexts, browser, site, site.viewer, 1280)
    page.goto(site.base + "/")
    ready(page, "overview")
    section = page.locator("#page-overview")
    section.locator("input[name=to]").fill("2026-01-31")  # a good filter: the numbers follow it
    page.wait_for_url("**/?to=2026-01-31")
    ready(page, "overview")
    before = section.locator("#values tbody").inner_text()
    section.locator("input[name=from]").fill("2026-03-01")
    error = section.locator(".filter-error")
    expect(error).to_contain_text('"From" (2026-03-01) is after "To" (2026-01-31)')
    expect(section.locator("[data-report]")).to_have_attribute("data-stale", "true")
    expect(section.locator(".stale-note")).to_contain_text("Stale")
    expect(section.locator("input[name=from]")).to_have_attribute("aria-invalid", "true")
    assert section.locator("#values tbody").inner_text() == before  # the last good numbers, kept
    assert "from=" not in page.url  # the URL keeps the last good view
    section.locator("input[name=from]").fill("2026-01-01")
    page.wait_for_function("!document.querySelector('#page-overview [data-report]').dataset.stale")
    ready(page, "overview")
    assert error.inner_text() == ""
    assert "from=2026-01-01" in page.url
    # A shared link with a bad range: a message next to the inputs, never a blank page.
    page.goto(site.base + "/values?from=2026-05-01&to=2026-04-01")
    ready(page, "values")
    expect(page.locator("#page-values .filter-error")).to_contain_text("is after")
    expect(page.locator("#page-values .stale-note")).to_contain_text("No numbers for these filters yet")
    # A date the API refuses (422): its reason, next to the inputs.
    page.goto(site.base + "/?from=0001-01-01")
    ready(page, "overview")
    expect(page.locator("#page-overview .filter-error")).to_contain_text("refused")
    assert [e for e in console.take() if "422" not in e] == []  # the API's answer, no script error


def test_the_charts_say_what_they_show(browser: Browser, site: Site, contexts: list[BrowserContext]) -> None:
    report = site.api("/api/reports/effort-by-value", site.viewer)
    page, console = open_page(contexts, browser, site, site.viewer, 1280)
    page.goto(site.base + "/")
    ready(page, "overview")
    page.wait_for_selector("#trend-chart svg")
    shares = page.locator("#chart .hbar-fill").evaluate_all(
        "bars => Object.fromEntries(bars.map(b => [b.dataset.value, Number(b.dataset.share)]))"
    )
    assert shares == {
        **{v["id"]: v["share"] for v in report["values"]},
        "untagged": report["untagged"]["share"],
    }
    targets = sum(v["target_share"] is not None for v in report["values"])
    assert page.locator("#chart .hbar-target").count() == targets
    expect(page.locator("#chart-legend")).to_contain_text("the value's target")
    expect(page.locator("#chart-legend")).to_contain_text("share of all effort")
    # The share figure stands apart from the target marker: their boxes do not overlap.
    overlap = page.evaluate("""() => [...document.querySelectorAll('#chart .hbar')].some((row) => {
        const mark = row.querySelector('.hbar-target'); if (!mark) return false;
        const a = mark.getBoundingClientRect(), b = row.querySelector('.hbar-num').getBoundingClientRect();
        return a.right > b.left && a.left < b.right && a.bottom > b.top && a.top < b.bottom; })""")
    assert overlap is False
    assert page.locator("#values thead th").all_inner_texts()[2] == "Share of total"
    svg = page.locator("#trend-chart svg")
    assert svg.locator("text.axis-unit").text_content() == "points per week"
    assert svg.locator("text.axis-y").count() >= 3
    trend = site.api("/api/reports/trend", site.viewer)
    assert svg.locator("polyline").count() == len(report["values"]) + 1
    assert page.locator("#trend tbody tr").count() == len(trend["weeks"])
    page.select_option("#page-overview select[name=measure]", "hours")
    page.wait_for_function(
        "document.querySelector('#trend-chart text.axis-unit')?.textContent === 'hours per week'"
    )
    assert console.take() == []


def fulfil_json(route: Route, status: int, body: Any) -> None:
    route.fulfill(status=status, content_type="application/json", body=json.dumps(body))


def test_a_plan_change_that_moves_much_asks_for_its_phrase(
    browser: Browser, site: Site, contexts: list[BrowserContext]
) -> None:
    """The API's coming 409 {detail, confirm, moved_share} (and previews carrying confirm), stood in
    for here: Apply waits for the phrase, and the write is sent again with X-Confirm-Move."""
    page, console = open_page(contexts, browser, site, site.admin, 390)
    sent: list[dict[str, Any]] = []

    def big_move(route: Route) -> None:
        request = route.request
        if request.method == "GET":  # the list of rules
            route.fallback()
            return
        if "dry_run=true" in request.url:
            answer = route.fetch()
            fulfil_json(route, 200, {**answer.json(), "confirm": "move 42%", "moved_share": 0.42})
            return
        sent.append({"confirm": request.headers.get("x-confirm-move")})
        if request.headers.get("x-confirm-move") != "move 42%":
            fulfil_json(
                route,
                409,
                {"detail": "this rule moves 42% of all effort", "confirm": "move 42%", "moved_share": 0.42},
            )
            return
        route.fallback()

    page.route(re.compile(r".*/api/admin/rules(\?.*)?$"), big_move)
    page.goto(site.base + "/plan")
    ready(page, "plan")
    rules_before = page.locator("#rules tbody tr").count()
    page.fill("#rule-form input[name=match]", "frontend")
    page.select_option("#rule-form select[name=target]", "value")
    page.click("#preview")
    expect(page.locator("#preview-text")).to_contain_text('It moves 42.0% of all effort: type "move 42%"')
    phrase = page.locator("#rule-form .confirm-move input")
    expect(phrase).to_be_visible()
    expect(page.locator("#apply")).to_be_disabled()
    phrase.fill("move 4")
    expect(page.locator("#apply")).to_be_disabled()
    phrase.fill("move 42%")
    expect(page.locator("#apply")).to_be_enabled()
    page.fill("#change-reason", "frontend work is customer-first")  # the demo's plan is in a cycle
    page.click("#apply")
    expect(page.locator("#preview-text")).to_contain_text("Applied")
    assert sent == [{"confirm": "move 42%"}], sent
    page.wait_for_function(f"document.querySelectorAll('#rules tbody tr').length === {rules_before + 1}")

    # A write answered 409 without a preview's warning: the phrase is asked for, then sent.
    sent.clear()
    page.unroute(re.compile(r".*/api/admin/rules(\?.*)?$"))

    def refuse_first(route: Route) -> None:
        if "dry_run=true" in route.request.url or route.request.method == "GET":
            route.fallback()
            return
        big_move(route)

    page.route(re.compile(r".*/api/admin/rules(\?.*)?$"), refuse_first)
    page.fill("#rule-form input[name=match]", "backend")
    page.click("#preview")
    expect(page.locator("#apply")).to_be_enabled()
    page.fill("#change-reason", "backend work is customer-first")
    page.click("#apply")
    expect(page.locator("#preview-text")).to_contain_text("this rule moves 42% of all effort")
    expect(page.locator("#apply")).to_be_disabled()
    page.locator("#rule-form .confirm-move input").fill("move 42%")
    page.click("#apply")
    expect(page.locator("#preview-text")).to_contain_text("Applied")
    assert sent == [{"confirm": None}, {"confirm": "move 42%"}]
    assert [e for e in console.take() if "409" not in e] == []  # the API's answer, no script error


NEW_AUDIT = {
    "entries": [
        {
            "id": "t-9",
            "at": "2026-12-04T16:00:00.123456Z",
            "actor": "token:ada",
            "kind": "tag",
            "summary": "tagged jira:ONB-12 with value customer-first",
            "details": {},
        },
        {
            "id": "p-3",
            "at": "2026-12-04T15:00:00Z",
            "actor": "token:ada",
            "kind": "plan",
            "summary": "plan v3: 2 changes",
            "details": {"version": 3, "changes": ["values: added speed", "rules: added r9"]},
        },
    ],
    "next_cursor": "c2",
}
NEW_AUDIT_MORE = {
    "entries": [
        {
            "id": "k-1",
            "at": "2026-12-03T09:30:00+00:00",
            "actor": "cli",
            "kind": "token",
            "summary": "created viewer token weekly",
            "details": {},
        }
    ],
    "next_cursor": None,
}


def test_the_audit_log_reads_the_new_shape_and_the_old_one(
    browser: Browser, site: Site, contexts: list[BrowserContext]
) -> None:
    page, console = open_page(contexts, browser, site, site.admin, 1280)
    page.goto(site.base + "/audit")  # the API: every kind of change, each with its summary
    ready(page, "audit")
    logged = site.api("/api/admin/audit?limit=50", site.admin)["entries"]
    entries = page.locator("#audit > li")
    assert entries.count() == len(logged)
    assert entries.first.inner_text().endswith(f"{logged[0]['actor']}: {logged[0]['summary']}")
    assert not re.search(r"\d{2}:\d{2}:\d{2}", entries.first.inner_text())  # no raw ISO times

    seen: list[str] = []

    def new_shape(route: Route) -> None:
        seen.append(route.request.url)
        fulfil_json(route, 200, NEW_AUDIT_MORE if "cursor=c2" in route.request.url else NEW_AUDIT)

    page.route(re.compile(r".*/api/admin/audit\?.*"), new_shape)
    page.goto(site.base + "/audit?kind=tag")
    ready(page, "audit")
    assert "kind=tag" in seen[-1]
    assert page.locator("#audit-filters select").input_value() == "tag"
    page.select_option("#audit-filters select", "")
    ready(page, "audit")
    texts = page.locator("#audit > li").all_inner_texts()
    assert texts[0].startswith(
        "2026-12-04 16:00 UTC tag token:ada: tagged jira:ONB-12 with value customer-first"
    )
    assert "plan v3: 2 changes" in texts[1]
    assert "(plan v3)" not in texts[1]  # the summary names the version: it is not repeated
    page.click("#audit-more")
    page.wait_for_function("document.querySelectorAll('#audit > li').length === 3")
    assert page.locator("#audit > li").nth(2).inner_text().startswith("2026-12-03 09:30 UTC token cli")
    expect(page.locator("#audit-more")).to_be_hidden()
    page.go_back()  # the kind filter is part of the URL
    ready(page, "audit")
    assert page.url.endswith("/audit?kind=tag")
    assert console.take() == []


def test_the_pages_run_under_their_own_content_security_policy(
    browser: Browser, site: Site, pages_of: dict[str, str], contexts: list[BrowserContext]
) -> None:
    context = session_context(browser, site, site.admin, 1280, csp=True)
    contexts.append(context)
    page = context.new_page()
    console = Console(page)
    for path in ADMIN_PAGES:
        page.goto(site.base + path.format(**pages_of))
        page.wait_for_selector("body[data-ready=true]")
    refused = [m for m in console.take() if "Content Security Policy" in m or "Refused" in m]
    assert refused == []


def test_a_plan_with_teams_adds_the_unaligned_kind_to_the_attention_page(
    browser: Browser, tmp_path: Path, contexts: list[BrowserContext]
) -> None:
    store = Database.open(f"sqlite:///{tmp_path / 'teams.db'}")
    store.items.upsert(CASCADE_ITEMS)  # ONB-1 and ONB-2 are team work that reaches no value
    apply_plan(store, load_plan(cascade()), actor="test")
    server = SandboxServer(create_app(Settings(), store))
    try:
        site = Site(server.start(), None, "", store.tokens.create("viewer", "teams-viewer"))  # type: ignore[arg-type]
        page, console = open_page(contexts, browser, site, site.viewer, 1280)
        page.goto(site.base + "/attention?kind=unaligned")
        ready(page, "attention")
        assert page.locator("#kinds a[data-kind=unaligned] .count").inner_text() == "2"
        assert page.locator("#kinds a[data-kind=unaligned]").get_attribute("aria-current") == "page"
        shown = page.locator("#flags tbody tr[data-item]").evaluate_all(
            "rows => rows.map(r => r.dataset.item)"
        )
        assert shown == ["jira:ONB-1", "jira:ONB-2"]
        assert console.take() == []
    finally:
        server.stop()
        store.close()


def test_numbers_that_arrive_late_never_overwrite_those_of_the_newer_filters(
    browser: Browser, site: Site, contexts: list[BrowserContext]
) -> None:
    """Two quick changes of the measure, the first one's report held back until after the second's:
    the page ends on the second one's numbers, and says it is ready only then."""
    page, console = open_page(contexts, browser, site, site.viewer, 1280)
    page.goto(site.base + "/")
    ready(page, "overview")
    held: list[Route] = []

    def hold_hours(route: Route) -> None:
        if "measure=hours" in route.request.url and "effort-by-value" in route.request.url:
            held.append(route)  # answered once the count report is shown
            return
        route.fallback()

    page.route(re.compile(r".*/api/reports/.*"), hold_hours)
    page.select_option("#page-overview select[name=measure]", "hours")
    page.wait_for_function("document.body.dataset.ready === 'false'")
    page.select_option("#page-overview select[name=measure]", "count")
    count = site.api("/api/reports/effort-by-value?measure=count", site.viewer)
    expected = f"{count['total']['effort']:,.0f} items over {count['total']['items']:,} items"
    for _ in range(100):  # the handler runs while Playwright waits
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the hours report was asked for"
    page.wait_for_timeout(300)  # the count change waits its turn behind the held one: not ready yet
    assert page.evaluate("document.body.dataset.ready") == "false"
    for route in held:
        route.fallback()
    ready(page, "overview")
    expect(page.locator("#total")).to_contain_text(expected)
    assert page.url.endswith("/?measure=count")
    page.unroute(re.compile(r".*/api/reports/.*"))
    assert console.take() == []


NAME = "Grace Hopper"  # the person the settings map a demo account to


@dataclass
class Mapped:
    """The demo served with one account mapped to ``NAME`` in ``people:``, and an item that account
    worked on (its document as the unmapped site answers it)."""

    site: Site
    account: str
    path: str
    document: dict[str, Any]


@pytest.fixture(scope="module")
def mapped(site: Site) -> Iterator[Mapped]:
    worked = next(
        (stored, doc)
        for stored in site.world.store.items.stream()
        if stored.item.assignee
        and not stored.deleted
        and (doc := site.api(f"/api/items/{stored.item.tracker}/{stored.item.key}", site.viewer))[
            "people_time"
        ]["days_worked"]
    )
    stored, document = worked
    account = stored.item.assignee or ""
    people = [PersonSettings(name=NAME, accounts={stored.item.tracker: account})]
    served, server = serve(
        site.world, site.world.settings.model_copy(update={"people": people}), name="people"
    )
    try:
        yield Mapped(served, account, f"/items/{stored.item.tracker}/{stored.item.key}", document)
    finally:
        server.stop()


def test_an_item_page_shows_its_person_days_and_never_who_worked_on_it(
    browser: Browser, mapped: Mapped, contexts: list[BrowserContext]
) -> None:
    site = mapped.site
    answer = requests.get(f"{site.base}/api{mapped.path}", headers=auth(site.viewer), timeout=10)
    time = answer.json()["people_time"]
    assert time == mapped.document["people_time"]  # naming the account's person changes no figure
    for width in WIDTHS:
        page, console = open_page(contexts, browser, site, site.viewer, width)
        page.goto(site.base + mapped.path)
        ready(page, "item")
        person_days, days = time["person_days"], time["days_worked"]
        expected = (
            f"People's time: {fmt(person_days)} person-day{'' if person_days == 1 else 's'}"
            f" over {days} working day{'' if days == 1 else 's'}, {time['from']} to {time['to']}."
        )
        expect(page.locator("#item-people-time")).to_have_text(expected)
        for shown in (page.content(), answer.text):
            assert mapped.account not in shown
            assert NAME not in shown
        assert axe_violations(page) == []
        assert console.take() == []


def test_the_access_page_counts_the_accounts_seen_and_mapped_and_never_names_them(
    browser: Browser, mapped: Mapped, contexts: list[BrowserContext]
) -> None:
    site = mapped.site
    answer = requests.get(f"{site.base}/api/admin/people", headers=auth(site.admin), timeout=10)
    counts = answer.json()
    assert counts["people"] == 1
    assert sum(c["mapped"] for c in counts["trackers"].values()) == 1
    for width in WIDTHS:
        page, console = open_page(contexts, browser, site, site.admin, width)
        page.goto(site.base + "/access")
        ready(page, "access")
        rows = page.locator("#people-accounts tbody tr[data-tracker]")
        shown = {
            rows.nth(i).get_attribute("data-tracker"): [
                cell.inner_text() for cell in rows.nth(i).locator("td").all()
            ]
            for i in range(rows.count())
        }
        assert shown == {
            tracker: [fmt(c["accounts"]), fmt(c["mapped"]), fmt(c["unmapped"])]
            for tracker, c in counts["trackers"].items()
        }
        expect(page.locator("#people-count")).to_have_text("The settings list 1 person.")
        for text in (page.content(), answer.text):
            assert mapped.account not in text
            assert NAME not in text
        assert axe_violations(page) == []
        assert page.evaluate("document.documentElement.scrollWidth - innerWidth") <= 0
        assert console.take() == []
