"""The Teams and Reviews pages over a cascaded world, as a viewer and as an admin, at 1280 and 390 px.

A small demo world is given a cycle of monthly periods and three teams under the company, scoped to
the sandbox's containers: Growth (Jira ONB, Asana Growth; a value of its own), Platform (Jira PLAT,
Linear ENG, Asana Platform reliability) and Mobile under Platform (Jira MOB, Asana Mobile), whose
method serves nothing and is named by a rule, so it carries unaligned effort. Linear's WEB team is
in no team's scope: the company's own work. October and November 2026, where the demo's done work
falls, are closed through the review use case. The reviews pages' world also holds August, closed as
a review was stored before it held people's time, and September, closed where a team needs ten
people to be shown (so Growth and Mobile are folded in its people's time).

Each page shows the API's numbers (read back from the page and compared), has no console error, no
serious axe finding, and no sideways scroll.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.app.static.conftest import Console, Site, axe_violations, fmt, open_page, ready, serve
from tests.reviews_world import close_before_people_time
from v2mom.app.demo import DemoWorld, build_demo
from v2mom.app.factory import create_app
from v2mom.clock import today
from v2mom.mapping.plan import load_plan, plan_from_data
from v2mom.reports.reviews import close_reference
from v2mom.sandbox import SAMPLE_PLAN_PATH
from v2mom.sandbox.server import SandboxServer
from v2mom.settings import Settings
from v2mom.store.database import Database
from v2mom.store.resolution.plan_change import apply_plan
from v2mom.workdays import WorkCalendar

WIDTHS = (1280, 390)
ROLES = ("viewer", "admin")
CYCLE = {"id": "fy27", "name": "FY2027", "start": "2026-06-01", "end": "2027-05-31", "periods": "monthly"}
CLOSED = ("fy27/m5", "fy27/m6")  # October and November 2026: the demo's work is done in them
BEFORE_TIME = "fy27/m3"  # August 2026, closed as before reviews held people's time
FOLDING = "fy27/m4"  # September 2026, closed where a team needs ten people to be shown
TEAM_ORDER = ["growth", "platform", "mobile"]  # parents first (Mobile is listed before its parent)


def teams(asana: list[str]) -> list[dict[str, Any]]:
    """The three teams, scoped to the sandbox's containers (Asana's by the projects' gids)."""
    growth, platform, mobile = asana
    return [
        {
            "id": "growth",
            "name": "Growth",
            "scope": {"jira": {"projects": ["ONB"]}, "asana": {"projects": [growth]}},
            "vision": "Every new merchant live on day one.",
            "values": [{"id": "activation", "name": "Activation that sticks", "target_share": 0.2}],
            "methods": [
                {
                    "id": "guided-setup",
                    "name": "Guided setup",
                    "serves": {"self-serve-onboarding": 2, "activation": 1},  # two thirds, one third
                }
            ],
            "measures": [
                {
                    "id": "growth-cf",
                    "name": "Half of Growth's done effort goes to customer-first",
                    "value": "customer-first",
                    "target": 0.5,
                }
            ],
            "obstacles": [{"id": "flaky-signup", "name": "Flaky signup emails", "methods": ["guided-setup"]}],
        },
        {
            "id": "mobile",
            "name": "Mobile",
            "parent": "platform",
            "scope": {"jira": {"projects": ["MOB"]}, "asana": {"projects": [mobile]}},
            "vision": "The app merchants open first.",
            "methods": [{"id": "app-polish", "name": "App polish"}],  # serves nothing: unaligned
        },
        {
            "id": "platform",
            "name": "Platform",
            "scope": {
                "jira": {"projects": ["PLAT"]},
                "linear": {"teams": ["ENG"]},
                "asana": {"projects": [platform]},
            },
            "vision": "Boring, cheap, always up.",
            "methods": [
                {
                    "id": "reliable-core",
                    "name": "Reliable core services",
                    "serves": {"slo-program": 0.6, "cost-savings": 0.4},
                }
            ],
        },
    ]


def cascaded_world(database: Path) -> DemoWorld:
    """A small demo world under the cascaded plan, with October and November closed."""
    sample = load_plan(SAMPLE_PLAN_PATH.read_text(encoding="utf-8"))
    document = sample.model_dump(mode="json", exclude_none=True)
    company = {x["id"] for x in [*document["values"], *document["methods"]]}
    rules = [r for r in document.get("rules", []) if (r.get("method") or r.get("value")) in company]
    document.pop("teams"), document.pop("cycle")  # the company's own V2MOM, in no cycle yet
    world = build_demo(
        f"sqlite:///{database}", seed=7, issues=60, plan=plan_from_data({**document, "rules": rules}, "plan")
    )
    document |= {
        "cycle": CYCLE,
        "teams": teams(world.truths["asana"].projects),
        "rules": [
            *rules,
            {"when": {"tracker": "jira", "project": "MOB"}, "method": "app-polish"},
            {"when": {"tracker": "asana", "project": "Mobile"}, "method": "app-polish"},
            {"when": {"tracker": "linear", "team": "ENG"}, "method": "reliable-core"},
            {"when": {"tracker": "asana", "project": "Growth"}, "method": "guided-setup"},
        ],
    }
    plan = plan_from_data(document, "plan")
    apply_plan(world.store, plan, actor="test", reason="three teams and monthly reviews")
    for reference in CLOSED:
        assert close_reference(world.store, plan, reference, "test", today()).closed
    return world


@pytest.fixture(scope="module")
def cascaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    world = cascaded_world(tmp_path_factory.mktemp("teams") / "ui.db")
    plan = world.store.plans.current()
    assert plan is not None
    close_before_people_time(world.store, plan, BEFORE_TIME)
    ten = WorkCalendar(min_group_size=10)
    assert close_reference(world.store, plan, FOLDING, "test", today(), calendar=ten).closed
    served, server = serve(world, name="teams")
    try:
        mobile = served.api("/api/reports/effort-by-value?team=mobile", served.viewer)
        assert mobile["unaligned"]["effort"] > 0  # the rule gives the method serving nothing its effort
        assert served.api("/api/teams", served.viewer)["company"]["effort"] > 0  # Linear WEB
        yield served
    finally:
        server.stop()
        world.stop()


def as_role(site: Site, role: str) -> str:
    """The token ``role`` (viewer or admin) signs in with."""
    return site.admin if role == "admin" else site.viewer


def visit(
    contexts: list[BrowserContext], browser: Browser, site: Site, role: str, width: int, path: str
) -> tuple[Page, Console]:
    """A page ``width`` px wide signed in as ``role``, at ``path`` (``/teams?measure=count``), shown."""
    page, console = open_page(contexts, browser, site, as_role(site, role), width)
    page.goto(site.base + path)
    ready(page, path.split("?")[0].strip("/").split("/")[0])
    return page, console


def pct(share: float | None) -> str:
    """A share as the dashboard shows it (JavaScript's toFixed(1) on the percentage)."""
    if share is None:
        return "—"
    return f"{Decimal(share * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"


def clean(page: Page, console: Console) -> None:
    """No sideways scroll, no serious axe finding, no console error."""
    wide = page.evaluate("document.documentElement.scrollWidth - innerWidth")
    assert wide <= 0, f"the page scrolls sideways by {wide} px"
    assert axe_violations(page) == []
    assert console.take() == []


def cells(page: Page, table: str, key: str) -> dict[str, dict[str, str]]:
    """Each body row of ``table`` (by its ``data-{key}``): its cells' texts by their first class."""
    found: dict[str, dict[str, str]] = page.locator(table).evaluate(
        """(table, key) => {
            const name = (c) => c.dataset.period || [...c.classList].find((k) => k !== 'num');
            const rows = [...table.querySelectorAll(`tbody tr[data-${key}]`)];
            return Object.fromEntries(rows.map((row) => [row.dataset[key], Object.fromEntries(
              [...row.cells].filter((c) => c.classList.length).map((c) => [name(c), c.textContent.trim()]),
            )]));
        }""",
        key,
    )
    return found


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("role", ROLES)
def test_the_teams_page_shows_the_tree_with_the_api_s_numbers(
    browser: Browser, cascaded: Site, contexts: list[BrowserContext], role: str, width: int
) -> None:
    page, console = visit(contexts, browser, cascaded, role, width, "/teams")
    api = cascaded.api("/api/teams", cascaded.viewer)
    assert [t["id"] for t in api["teams"]] == TEAM_ORDER
    rows = page.locator("#teams-table tbody tr[data-team]")
    assert rows.evaluate_all("rows => rows.map((r) => r.dataset.team)") == [*TEAM_ORDER, "company", "total"]
    assert page_numbers(page) == api_numbers(api)
    # The tree: Mobile is drawn inside Platform, and says it is under it.
    inset = {
        team: page.locator(f"#teams-table tr[data-team={team}] th a").bounding_box()["x"]  # type: ignore[index]
        for team in ("platform", "mobile")
    }
    assert inset["mobile"] > inset["platform"]
    expect(page.locator("#teams-table tr[data-team=mobile] .under")).to_have_text("under Platform")
    nav = page.locator("#nav-list a").evaluate_all("links => links.map((a) => a.textContent)")
    assert {"Teams", "Reviews"} <= set(nav)  # for viewers and admins alike
    expect(page.locator("#nav a[data-page=teams]")).to_have_attribute("aria-current", "page")
    clean(page, console)

    # Another measure and a review period: the numbers follow, the URL keeps them.
    page.select_option("#page-teams select[name=measure]", "hours")
    ready(page, "teams")
    assert page.url.endswith("/teams?measure=hours")
    assert page_numbers(page) == api_numbers(cascaded.api("/api/teams?measure=hours", cascaded.viewer))
    periods = cascaded.api("/api/reviews", cascaded.viewer)["periods"]
    options = page.locator("#page-teams select[name=period] option").evaluate_all(
        "o => o.map((x) => x.value)"
    )
    assert options == ["", *(f"{p['cycle']}/{p['period']}" for p in periods)]
    page.fill("#page-teams input[name=from]", "2026-09-01")
    page.locator("#page-teams input[name=from]").dispatch_event("change")
    ready(page, "teams")
    page.select_option("#page-teams select[name=period]", CLOSED[1])
    ready(page, "teams")
    expect(page.locator("#page-teams input[name=from]")).to_have_value("")  # a period stands for its dates
    assert page.url.endswith(f"/teams?measure=hours&period={CLOSED[1].replace('/', '%2F')}")
    november = cascaded.api(f"/api/teams?measure=hours&period={CLOSED[1]}", cascaded.viewer)
    assert page_numbers(page) == api_numbers(november)
    assert page_numbers(page) != api_numbers(cascaded.api("/api/teams?measure=hours", cascaded.viewer))
    assert console.take() == []


def share_of(part: float, whole: float) -> float:
    """``part`` of ``whole``, 0 when there is no whole (as the page computes it)."""
    return part / whole if whole else 0.0


def api_numbers(api: dict[str, Any]) -> dict[str, dict[str, str]]:
    """What the Teams table should show for ``api`` (``GET /api/teams``), per row."""
    out = {
        team["id"]: {
            "effort": fmt(team["effort"]),
            "share": pct(team["share"]),
            "aligned": pct(team["aligned_share"]),
            "untagged": pct(team["untagged_share"]),
            "unaligned": pct(team["unaligned_share"]),
            "items": fmt(team["items"]),
            **{
                f"value:{v['id']}": f"{fmt(v['effort'])} · {pct(share_of(v['effort'], team['effort']))}"
                for v in team["values"]
            },
        }
        for team in api["teams"]
    }
    company, total = api["company"], api["total"]
    out["company"] = {
        "effort": fmt(company["effort"]),
        "share": pct(company["share"]),
        "items": fmt(company["items"]),
    }
    out["total"] = {
        "effort": fmt(total["effort"]),
        "share": pct(1.0 if total["effort"] else 0.0),
        "items": fmt(total["items"]),
    }
    return out


def page_numbers(page: Page) -> dict[str, dict[str, str]]:
    """The Teams table's numbers as shown, per row (a team's effort by value as ``value:{id}``)."""
    shown: dict[str, dict[str, str]] = page.locator("#teams-table").evaluate(
        """(table) => Object.fromEntries([...table.querySelectorAll('tbody tr[data-team]')].map((row) => {
            const out = {};
            for (const name of ['effort', 'share', 'aligned', 'untagged', 'unaligned', 'items']) {
              const cell = row.querySelector(`td.${name}`);
              if (cell) out[name] = cell.textContent.trim();
            }
            for (const li of row.querySelectorAll('.team-values li[data-value]')) {
              out[`value:${li.dataset.value}`] = li.querySelector('.tv-num').textContent.trim();
            }
            return [row.dataset.team, out];
        }))"""
    )
    return shown


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("role", ROLES)
def test_a_team_shows_its_own_v2mom_and_names_its_unaligned_method(
    browser: Browser, cascaded: Site, contexts: list[BrowserContext], role: str, width: int
) -> None:
    page, console = visit(contexts, browser, cascaded, role, width, "/teams?measure=count")
    page.locator("#teams-table tr[data-team=mobile] th a").click()
    ready(page, "teams")
    assert page.url == f"{cascaded.base}/teams/mobile?measure=count"  # the filters come along
    expect(page.locator("#teams-title")).to_have_text("Mobile")
    report = cascaded.api("/api/reports/effort-by-value?team=mobile&measure=count", cascaded.viewer)
    lost = report["unaligned"]["methods"]
    assert [m["id"] for m in lost] == ["app-polish"]
    polish = page.locator("#team-unaligned li[data-method=app-polish]")
    expect(polish).to_contain_text(f"App polish: {fmt(lost[0]['effort'])} item")
    expect(polish).to_contain_text("method app-polish serves no parent method or value")
    methods = cells(page, "#team-methods", "method")
    assert methods["app-polish"]["serves"].startswith("nothing")
    assert methods["app-polish"]["effort"] == fmt(lost[0]["effort"])
    shown = cells(page, "#team-report", "value")
    expected = {v["id"]: (fmt(v["effort"]), pct(v["share"])) for v in report["values"]}
    expected |= {k: (fmt(report[k]["effort"]), pct(report[k]["share"])) for k in ("untagged", "unaligned")}
    assert {k: (row["effort"], row["share"]) for k, row in shown.items()} == expected
    expect(page.locator("#teams-body")).to_contain_text("Part of: the company › Platform › Mobile")
    clean(page, console)

    # Growth: a value of its own, a method serving two things with their weights, measure, obstacle.
    page.goto(cascaded.base + "/teams/growth")
    ready(page, "teams")
    expect(page.locator(".team-own-values li[data-value=activation]")).to_have_text(
        "Activation that sticks (target 20.0% of the team's effort)"
    )
    serves = cells(page, "#team-methods", "method")["guided-setup"]["serves"]
    assert serves == "Launch self-serve onboarding by end of Q2 (66.7%), Activation that sticks (33.3%)"
    done = cascaded.api("/api/reports/effort-by-value?team=growth&state=done", cascaded.viewer)
    actual = next(v["share"] for v in done["values"] if v["id"] == "customer-first")
    expect(page.locator("#team-measures li[data-measure=growth-cf]")).to_contain_text(
        f"{pct(actual)} of the team's done effort goes to Customer-first thinking (target 50.0%)"
    )
    expect(page.locator("#teams-body li[data-obstacle=flaky-signup]")).to_have_text(
        "Flaky signup emails: holds up Guided setup"
    )
    clean(page, console)

    page.get_by_role("link", name="← All teams").click()
    ready(page, "teams")
    assert page.url == f"{cascaded.base}/teams"
    page.goto(cascaded.base + "/teams/nope")
    ready(page, "teams")
    expect(page.locator("#team-missing")).to_have_text(
        'The plan has no team "nope". Its teams are Growth, Mobile, Platform.'
    )
    assert console.take() == []


def snapshot(site: Site, reference: str) -> dict[str, Any]:
    """The review stored for ``reference`` (``fy27/m5``), as the API serves it."""
    document: dict[str, Any] = site.api(f"/api/reviews/{reference}", site.viewer)
    return document


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("role", ROLES)
def test_the_reviews_page_sets_the_closed_periods_side_by_side(
    browser: Browser, cascaded: Site, contexts: list[BrowserContext], role: str, width: int
) -> None:
    page, console = visit(contexts, browser, cascaded, role, width, "/reviews")
    listed = [f"{r['cycle']}/{r['period']}" for r in cascaded.api("/api/reviews", cascaded.viewer)["reviews"]]
    assert set(CLOSED) <= set(listed)
    heads = page.locator("#review-shares thead th[data-period]").evaluate_all(
        "t => t.map((x) => x.dataset.period)"
    )
    assert heads == listed
    documents = {reference: snapshot(cascaded, reference) for reference in listed}
    assert review_shares(page) == expected_shares(documents, None, "points")
    october, november = (documents[r]["company"]["reports"]["points"] for r in CLOSED)
    assert {v["id"]: v["share"] for v in october["values"]} != {
        v["id"]: v["share"] for v in november["values"]
    }
    met = cells(page, "#review-measures", "measure")
    for reference in CLOSED:
        for measure in documents[reference]["company"]["measures"]["points"]:
            word = "✔ met" if measure["met"] else "✘ not met"
            assert met[measure["id"]][reference] == f"{word} ({pct(measure['actual'])})"
    close = page.get_by_role("button", name="Close ended periods")
    if role == "admin":
        expect(close).to_be_visible()
    else:
        expect(close).to_be_hidden()
    clean(page, console)

    # A team and another measure: the numbers are that team's, in that measure, from the snapshots.
    page.select_option("#reviews-filters select[name=team]", "platform")
    ready(page, "reviews")
    page.select_option("#reviews-filters select[name=measure]", "hours")
    ready(page, "reviews")
    assert page.url.endswith("/reviews?team=platform&measure=hours")
    assert review_shares(page) == expected_shares(documents, "platform", "hours")
    teams_offered = page.locator("#reviews-filters select[name=team] option").evaluate_all(
        "o => o.map((x) => x.textContent)"
    )
    assert teams_offered == ["the company", "Growth", "Mobile", "Platform"]
    assert console.take() == []


def expected_shares(documents: dict[str, dict[str, Any]], team: str | None, measure: str) -> dict[str, Any]:
    """Per value (and untagged, unaligned), the share each review stored, as the page shows it."""
    out: dict[str, dict[str, str]] = {}
    for reference, document in documents.items():
        part = document["company"] if team is None else document["teams"][team]
        report = part["reports"][measure]
        for value in report["values"]:
            out.setdefault(value["id"], {})[reference] = pct(value["share"])
        for kind in ("untagged", "unaligned"):
            out.setdefault(kind, {})[reference] = pct(report[kind]["share"])
    return out


def review_shares(page: Page) -> dict[str, Any]:
    """The Reviews page's shares per value and period, as shown (targets and totals left out)."""
    shown = cells(page, "#review-shares", "value")
    shown.pop("total")
    return {value: {k: v for k, v in row.items() if k != "target"} for value, row in shown.items()}


def report_rows(report: dict[str, Any]) -> dict[str, tuple[str, str, str]]:
    """A stored report's rows as a review page shows them: effort, share and target per value."""
    rows = {v["id"]: (fmt(v["effort"]), pct(v["share"]), pct(v["target_share"])) for v in report["values"]}
    return rows | {
        k: (fmt(report[k]["effort"]), pct(report[k]["share"]), "—") for k in ("untagged", "unaligned")
    }


def review_report(page: Page) -> dict[str, tuple[str, str, str]]:
    """A review's report table as shown: effort, share and target per value."""
    return {
        k: (r["effort"], r["share"], r["target"]) for k, r in cells(page, "#review-report", "value").items()
    }


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("role", ROLES)
def test_a_period_s_review_shows_what_was_stored_when_it_closed(
    browser: Browser, cascaded: Site, contexts: list[BrowserContext], role: str, width: int
) -> None:
    page, console = visit(contexts, browser, cascaded, role, width, "/reviews?measure=count")
    page.get_by_role("link", name=f"Review of {CLOSED[0]}").first.click()
    ready(page, "reviews")
    assert page.url == f"{cascaded.base}/reviews/{CLOSED[0]}?measure=count"
    document = snapshot(cascaded, CLOSED[0])
    expect(page.locator("#reviews-title")).to_have_text("Review of FY2027 · m5")
    meta = page.locator(".review-meta")
    expect(meta).to_contain_text("FY2027 (fy27), period m5: 2026-10-01 to 2026-10-31. Closed ")
    expect(meta).to_contain_text(f"computed under plan version {document['plan_version']}.")
    assert review_report(page) == report_rows(document["company"]["reports"]["count"])
    for measure in document["company"]["measures"]["count"]:
        item = page.locator(f"#review-measure-list li[data-measure={measure['id']}]")
        expect(item).to_have_class("met" if measure["met"] else "missed")
        expect(item).to_contain_text(f"{pct(measure['actual'])} of done effort went to")
        expect(item).to_contain_text(
            f"(target {pct(measure['target'])}) — {'met' if measure['met'] else 'not met'}"
        )
    flags = cells(page, "#review-flags", "flag")
    assert flags == {
        kind: {"items": fmt(count["items"]), "effort": fmt(count["effort"])}
        for kind, count in document["flags"]["count"].items()
    }
    for obstacle in document["obstacles"]["count"]:
        expect(page.locator(f"#reviews-body li[data-obstacle={obstacle['id']}]")).to_contain_text(
            obstacle["name"]
        )
    expect(page.locator("#reviews-admin")).to_be_hidden()
    clean(page, console)

    # Mobile's review of October names its unaligned method; a period never closed says so.
    page.goto(f"{cascaded.base}/reviews/{CLOSED[0]}?measure=count")
    ready(page, "reviews")
    page.select_option("#reviews-filters select[name=team]", "mobile")
    ready(page, "reviews")
    assert page.url == f"{cascaded.base}/reviews/{CLOSED[0]}?team=mobile&measure=count"
    mobile = snapshot(cascaded, CLOSED[0])["teams"]["mobile"]["reports"]["count"]
    assert review_report(page) == report_rows(mobile)
    lost = mobile["unaligned"]["methods"]
    assert [m["id"] for m in lost] == ["app-polish"]
    expect(page.locator("#reviews-body li[data-method=app-polish]")).to_contain_text(
        f"App polish: {fmt(lost[0]['effort'])} item"
    )
    page.goto(cascaded.base + "/reviews/fy27/m9")
    ready(page, "reviews")
    expect(page.locator("#review-missing")).to_have_text(
        "There is no review of fy27/m9: that period has not been closed."
    )
    assert [e for e in console.take() if "404" not in e] == []  # the API's answer, no script error


BEFORE_NOTE = "This review was closed before people's time was recorded: it has no person-days or FTE."


def time_total(report: dict[str, Any]) -> str:
    """A people's-time report's total as the Reviews pages show it: "0.48 FTE over 21 working days,
    16 people counted"."""
    days = "working day" if report["working_days"] == 1 else "working days"
    people = "person" if report["people"] == 1 else "people"
    return (
        f"{report['total']['effort']:.2f} FTE over {fmt(report['working_days'])} {days},"
        f" {fmt(report['people'])} {people} counted"
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_the_reviews_page_shows_fte_and_says_what_a_review_does_not_hold(
    browser: Browser, cascaded: Site, contexts: list[BrowserContext], width: int
) -> None:
    page, console = visit(contexts, browser, cascaded, "viewer", width, "/reviews")
    page.select_option("#reviews-filters select[name=measure]", "fte")
    ready(page, "reviews")
    assert page.url.endswith("/reviews?measure=fte")
    listed = [f"{r['cycle']}/{r['period']}" for r in cascaded.api("/api/reviews", cascaded.viewer)["reviews"]]
    documents = {reference: snapshot(cascaded, reference) for reference in listed}
    timed = {r: d for r, d in documents.items() if "fte" in d["company"]["reports"]}
    assert set(timed) == set(listed) - {BEFORE_TIME}  # the API serves the old review as stored
    shown = cells(page, "#review-shares", "value")
    totals = shown.pop("total")
    expected = expected_shares(timed, None, "fte")
    for row in expected.values():
        row[BEFORE_TIME] = "—"
    assert {
        value: {k: v for k, v in row.items() if k != "target"} for value, row in shown.items()
    } == expected
    for reference, document in timed.items():
        assert totals[reference] == time_total(document["company"]["reports"]["fte"])
    assert totals[BEFORE_TIME] == "—"
    expect(page.locator(f'#review-gaps li[data-period="{BEFORE_TIME}"]')).to_have_text(
        f"{BEFORE_TIME}: {BEFORE_NOTE}"
    )
    met = cells(page, "#review-measures", "measure")
    for reference, document in timed.items():
        for measure in document["company"]["measures"]["fte"]:
            word = "✔ met" if measure["met"] else "✘ not met"
            assert met[measure["id"]][reference] == f"{word} ({pct(measure['actual'])})"
    clean(page, console)

    # Growth needed ten people in September's review: its time there is only a note, never figures.
    folded = documents[FOLDING]["teams"]["growth"]["folded"]["fte"]
    assert "fte" not in documents[FOLDING]["teams"]["growth"]["reports"]
    page.select_option("#reviews-filters select[name=team]", "growth")
    ready(page, "reviews")
    assert page.url.endswith("/reviews?team=growth&measure=fte")
    expect(page.locator(f'#review-gaps li[data-period="{FOLDING}"]')).to_have_text(
        f"{FOLDING}: {folded['note']}"
    )
    september = page.locator(f'#review-shares td[data-period="{FOLDING}"]')
    assert set(september.all_text_contents()) == {"—"}
    assert console.take() == []

    # One review in FTE: the stored report, its reach, and no obstacles or flags (estimates only).
    page.goto(f"{cascaded.base}/reviews/{CLOSED[1]}?measure=fte")
    ready(page, "reviews")
    report = timed[CLOSED[1]]["company"]["reports"]["fte"]
    assert review_report(page) == report_rows(report)
    expect(page.locator("#review-total")).to_contain_text(time_total(report))
    for measure in timed[CLOSED[1]]["company"]["measures"]["fte"]:
        expect(page.locator(f"#review-measure-list li[data-measure={measure['id']}]")).to_contain_text(
            f"{pct(measure['actual'])} of the time worked went to"
        )
    expect(page.locator("#review-estimates-only")).to_be_visible()
    expect(page.locator("#review-flags")).to_have_count(0)
    clean(page, console)

    # The review closed before people's time says so in person-days, and still shows its points.
    page.goto(f"{cascaded.base}/reviews/{BEFORE_TIME}?measure=person_days")
    ready(page, "reviews")
    expect(page.locator("#review-gap")).to_have_text(BEFORE_NOTE)
    expect(page.locator("#review-report")).to_have_count(0)
    page.select_option("#reviews-filters select[name=measure]", "points")
    ready(page, "reviews")
    old = documents[BEFORE_TIME]["company"]["reports"]["points"]
    assert review_report(page) == report_rows(old)
    clean(page, console)


@pytest.mark.parametrize("width", WIDTHS)
def test_an_admin_closes_the_ended_periods_and_a_second_press_closes_nothing(
    browser: Browser, tmp_path: Path, contexts: list[BrowserContext], width: int
) -> None:
    world = cascaded_world(tmp_path / "close.db")
    site, server = serve(world, name="close")
    try:
        before = site.api("/api/reviews", site.viewer)["periods"]
        waiting = [f"{p['cycle']}/{p['period']}" for p in before if p["ended"] and not p["closed"]]
        assert waiting[:4] == ["fy27/m1", "fy27/m2", "fy27/m3", "fy27/m4"]
        page, console = visit(contexts, browser, site, "admin", width, "/reviews")
        expect(page.locator("#reviews-pending")).to_have_text(
            f"Ended and not closed yet: {', '.join(waiting)}."
        )
        press = page.get_by_role("button", name="Close ended periods")
        status = page.locator("#reviews-close-status")
        press.click()
        expect(status).to_have_text(
            f"Closed {', '.join(waiting)}: their reviews are stored. "
            f"Already closed before: {', '.join(CLOSED)}."
        )
        ready(page, "reviews")
        after = site.api("/api/reviews", site.viewer)["reviews"]
        listed = [f"{r['cycle']}/{r['period']}" for r in after]
        assert sorted(listed) == sorted([*waiting, *CLOSED])
        heads = page.locator("#review-shares thead th[data-period]").evaluate_all(
            "t => t.map((x) => x.dataset.period)"
        )
        assert heads == listed
        expect(page.locator("#reviews-pending")).to_have_text(
            "Every period of FY2027 that has ended is closed."
        )
        press.click()
        expect(status).to_have_text(
            f"Nothing to close: every ended period is already closed ({', '.join(listed)})."
        )
        ready(page, "reviews")
        assert site.api("/api/reviews", site.viewer)["reviews"] == after  # nothing closed again
        clean(page, console)
        # A viewer's close is refused by the API too.
        refused = requests.post(
            f"{site.base}/api/reviews/close",
            headers={"Authorization": f"Bearer {site.viewer}", "X-V2MOM-CSRF": "1"},
            timeout=10,
        )
        assert refused.status_code == 403
    finally:
        server.stop()
        world.stop()


@pytest.mark.parametrize("width", WIDTHS)
def test_a_plan_without_teams_or_reviews_says_how_to_get_them(
    browser: Browser, tmp_path: Path, contexts: list[BrowserContext], width: int
) -> None:
    store = Database.open(f"sqlite:///{tmp_path / 'plain.db'}")
    plain = {"vision": "A plain plan.", "values": [{"id": "speed", "name": "Speed", "target_share": 0.5}]}
    apply_plan(store, plan_from_data(plain, "plan"), actor="test")
    server = SandboxServer(create_app(Settings(), store))
    try:
        admin, viewer = (
            store.tokens.create("admin", "plain-admin"),
            store.tokens.create("viewer", "plain-viewer"),
        )
        site = Site(server.start(), None, admin, viewer)  # type: ignore[arg-type]  # no demo world here
        for role in ROLES:
            page, console = visit(contexts, browser, site, role, width, "/teams")
            expect(page.locator("#no-teams")).to_contain_text(
                "This plan has no teams: add teams: to the plan"
            )
            expect(page.locator("#teams-table")).to_have_count(0)
            expect(page.locator("#page-teams form[data-filters]")).to_be_hidden()
            clean(page, console)
            page.goto(site.base + "/teams/anything")
            ready(page, "teams")
            expect(page.locator("#no-teams")).to_be_visible()
            page.goto(site.base + "/reviews")
            ready(page, "reviews")
            expect(page.locator("#no-reviews")).to_contain_text(
                "No period has been reviewed, and the plan has no cycle: add cycle: to the plan"
            )
            expect(page.locator("#no-reviews")).to_contain_text("A period is closed after its last day")
            expect(page.locator("#reviews-filters")).to_be_hidden()
            clean(page, console)
    finally:
        server.stop()
        store.close()
