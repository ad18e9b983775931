"""The Teams page over a cascaded world, as a viewer and as an admin, at 1280 and 390 px.

A small demo world is given a cycle of monthly periods and three teams under the company, scoped to
the sandbox's containers: Growth (Jira ONB, Asana Growth; a value of its own), Platform (Jira PLAT,
Linear ENG, Asana Platform reliability) and Mobile under Platform (Jira MOB, Asana Mobile), whose
method serves nothing and is named by a rule, so it carries unaligned effort. Linear's WEB team is
in no team's scope: the company's own work. October and November 2026, where the demo's done work
falls, are closed through the review use case.

Each page shows the API's numbers (read back from the page and compared), has no console error, no
serious axe finding, and no sideways scroll.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.app.static.conftest import Console, Site, axe_violations, fmt, ready, serve, session_context
from v2mom.app.demo import DemoWorld, build_demo
from v2mom.app.factory import create_app
from v2mom.clock import today
from v2mom.mapping.plan import plan_from_data
from v2mom.reports.reviews import close_reference
from v2mom.sandbox.server import SandboxServer
from v2mom.settings import Settings
from v2mom.store.database import Database
from v2mom.store.resolution.plan_change import apply_plan

WIDTHS = (1280, 390)
ROLES = ("viewer", "admin")
CYCLE = {"id": "fy27", "name": "FY2027", "start": "2026-06-01", "end": "2027-05-31", "periods": "monthly"}
CLOSED = ("fy27/m5", "fy27/m6")  # October and November 2026: the demo's work is done in them
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
    world = build_demo(f"sqlite:///{database}", seed=7, issues=60)
    stored = world.store.plans.current()
    assert stored is not None
    document = stored.model_dump(mode="json", exclude_none=True)
    company = {x["id"] for x in [*document["values"], *document["methods"]]}
    rules = [r for r in document.get("rules", []) if (r.get("method") or r.get("value")) in company]
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
    served, server = serve(world, name="teams")
    try:
        mobile = served.api("/api/reports/effort-by-value?team=mobile", served.viewer)
        assert mobile["unaligned"]["effort"] > 0  # the rule gives the method serving nothing its effort
        assert served.api("/api/teams", served.viewer)["company"]["effort"] > 0  # Linear WEB
        yield served
    finally:
        server.stop()
        world.stop()


@pytest.fixture
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    opened: list[BrowserContext] = []
    yield opened
    for context in opened:
        context.close()


def open_page(
    contexts: list[BrowserContext], browser: Browser, site: Site, role: str, width: int
) -> tuple[Page, Console]:
    context = session_context(browser, site, site.admin if role == "admin" else site.viewer, width)
    contexts.append(context)
    page = context.new_page()
    return page, Console(page)


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
    page, console = open_page(contexts, browser, cascaded, role, width)
    page.goto(cascaded.base + "/teams")
    ready(page, "teams")
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
    assert "Teams" in nav  # for viewers and admins alike
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
    out["total"] = {"effort": fmt(total["effort"]), "share": pct(1.0), "items": fmt(total["items"])}
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
    page, console = open_page(contexts, browser, cascaded, role, width)
    page.goto(cascaded.base + "/teams?measure=count")
    ready(page, "teams")
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


@pytest.mark.parametrize("width", WIDTHS)
def test_a_plan_without_teams_says_how_to_add_them(
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
            page, console = open_page(contexts, browser, site, role, width)
            page.goto(site.base + "/teams")
            ready(page, "teams")
            expect(page.locator("#no-teams")).to_contain_text(
                "This plan has no teams: add teams: to the plan"
            )
            expect(page.locator("#teams-table")).to_have_count(0)
            expect(page.locator("#page-teams form[data-filters]")).to_be_hidden()
            clean(page, console)
            page.goto(site.base + "/teams/anything")
            ready(page, "teams")
            expect(page.locator("#no-teams")).to_be_visible()
    finally:
        server.stop()
        store.close()
