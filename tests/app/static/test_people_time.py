"""People's time on the dashboard, at 1280 and 390 px, over the demo world's histories (who had which
item in progress, and when).

The overview switched to FTE (or person-days) reads the API's figures: the total over the working
days and the people counted, each value's time, the in-progress items nobody held, the time worked
per week, and obstacles said to stay in points. The Teams page gives each team's people and names a
team too small to show, as does that team's own page. The pages whose reports count estimates only
offer no people's time and, reached in FTE, show points and say so. No console error, no serious
axe finding, no sideways scroll.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.app.static.conftest import Console, Site, axe_violations, fmt, open_page, ready, serve

WIDTHS = (1280, 390)
ESTIMATES = ["points", "hours", "count"]


def clean(page: Page, console: Console) -> None:
    """No error banner, no sideways scroll, no serious axe finding, no console error."""
    expect(page.locator("#page-error")).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth - innerWidth") <= 0
    assert axe_violations(page) == []
    assert console.take() == []


def measures(page: Page, page_id: str) -> list[str]:
    """The measures a page's filter form offers."""
    options: list[str] = page.locator(f"#page-{page_id} select[name=measure] option").evaluate_all(
        "options => options.map((o) => o.value)"
    )
    return options


def by_row(page: Page, rows: str, key: str, cell: str) -> dict[str, str | None]:
    """Each of the ``rows`` by its ``data-{key}``: the text of its ``cell`` (None without one)."""
    found: dict[str, str | None] = page.locator(rows).evaluate_all(
        """(rows, [key, cell]) => Object.fromEntries(
            rows.map((r) => [r.dataset[key], r.querySelector(cell)?.textContent ?? null]))""",
        [key, cell],
    )
    return found


def headline(report: dict[str, Any], amount: str) -> re.Pattern[str]:
    """The start of a people's-time report's headline: ``amount`` over its working days and people."""
    days, people = report["working_days"], report["people"]
    return re.compile("^" + re.escape(f"{amount} over {days} working days · {people} people · "))


@pytest.mark.parametrize("width", WIDTHS)
def test_the_overview_switched_to_fte_reads_ftes_over_working_days_and_people(
    browser: Browser, site: Site, contexts: list[BrowserContext], width: int
) -> None:
    page, console = open_page(contexts, browser, site, site.viewer, width)
    page.goto(site.base + "/")
    ready(page, "overview")
    assert measures(page, "overview") == [*ESTIMATES, "person_days", "fte"]
    hint = page.locator("#page-overview .time-hint")
    expect(hint).to_be_hidden()  # in points, the dates are completion dates: no hint
    switch = page.get_by_role("group", name="Count in")
    points, time = (
        switch.get_by_role("button", name="Points"),
        switch.get_by_role("button", name="People's time"),
    )
    expect(points).to_have_attribute("aria-pressed", "true")
    time.click()  # the switch is the measure choice's shortcut: people's time in FTE
    page.wait_for_url("**/?measure=fte")
    ready(page, "overview")

    report = site.api("/api/reports/effort-by-value?measure=fte", site.viewer)
    assert report["people"] > 0  # the demo's histories count
    assert report["total"]["effort"] > 0
    expect(page.locator("#total")).to_have_text(headline(report, f"{report['total']['effort']:.2f} FTE"))
    expect(page.locator("#page-overview select[name=measure]")).to_have_value("fte")
    expect(time).to_have_attribute("aria-pressed", "true")
    expect(points).to_have_attribute("aria-pressed", "false")
    expect(hint).to_have_text(re.compile("From and To select the days worked"))
    efforts = by_row(page, "#values tbody tr[data-value]", "value", ".effort")
    assert efforts == {
        **{v["id"]: f"{v['effort']:.2f} FTE" for v in report["values"]},
        "untagged": f"{report['untagged']['effort']:.2f} FTE",
    }
    nobody = report["unattributed"]["items"]
    assert nobody > 0  # the demo leaves some work in progress unassigned
    expect(page.locator("#time-notes .unattributed")).to_have_text(
        f"{fmt(nobody)} items in progress with nobody assigned: not counted."
    )
    expect(page.locator("#trend-title")).to_have_text("Time worked per week")
    expect(page.locator("#trend-chart text.axis-unit")).to_have_text("FTE per week")
    obstacles = site.api("/api/reports/obstacles", site.viewer)["obstacles"]
    expect(page.locator("#obstacles-note")).to_have_text(
        "Shown in points: obstacles count estimates, not people's time."
    )
    expect(page.locator("#obstacles > li[data-obstacle]")).to_have_count(len(obstacles))
    units = page.evaluate("[amount(1, 'person_days'), amount(2.5, 'person_days'), amount(3.2, 'fte')]")
    assert units == ["1 person-day", "2.5 person-days", "3.20 FTE"]
    clean(page, console)

    page.select_option("#page-overview select[name=measure]", "person_days")
    page.wait_for_url("**/?measure=person_days")
    ready(page, "overview")
    days = site.api("/api/reports/effort-by-value?measure=person_days", site.viewer)
    expect(page.locator("#total")).to_have_text(headline(days, f"{fmt(days['total']['effort'])} person-days"))
    expect(time).to_have_attribute("aria-pressed", "true")  # person-days are people's time too
    points.click()
    page.wait_for_url(re.compile(r"/$"))
    ready(page, "overview")
    expect(page.locator("#obstacles-note")).to_be_hidden()
    expect(page.locator("#trend-title")).to_have_text("Done effort per week")
    expect(hint).to_be_hidden()
    assert console.take() == []


@pytest.fixture(scope="module")
def folding(site: Site) -> Iterator[tuple[Site, str]]:
    """The demo world served with ``min_group_size`` one above its smallest team's people: that team
    is too small to show in people's time (its id comes with the site)."""
    teams = site.api("/api/teams?measure=fte", site.viewer)["teams"]
    smallest = min(teams, key=lambda t: t["people"])
    settings = site.world.settings.model_copy(update={"min_group_size": smallest["people"] + 1})
    served, server = serve(site.world, settings, name="folding")
    try:
        yield served, smallest["id"]
    finally:
        server.stop()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_teams_page_in_fte_gives_each_team_s_people_and_names_a_folded_team(
    browser: Browser, folding: tuple[Site, str], contexts: list[BrowserContext], width: int
) -> None:
    site, small = folding
    page, console = open_page(contexts, browser, site, site.viewer, width)
    page.goto(site.base + "/teams?measure=fte")
    ready(page, "teams")
    assert measures(page, "teams") == [*ESTIMATES, "person_days", "fte"]
    report = site.api("/api/teams?measure=fte", site.viewer)
    folded = [f["team"] for f in report["folded"]]
    assert small in folded
    expect(page.locator("#teams-body .total")).to_have_text(
        headline(report, f"{report['total']['effort']:.2f} FTE")
    )
    people = by_row(page, "#teams-table tbody tr[data-team]", "team", ".people")
    assert people == {
        **{t["id"]: fmt(t["people"]) for t in report["teams"]},
        "company": "—",
        "total": fmt(report["people"]),
    }
    assert not set(folded) & set(people)  # their time is in the company's figures, their rows not shown
    expect(page.locator("#teams-body .time-notes .folded")).to_have_text(
        [f"{f['note']}." for f in report["folded"]]
    )
    clean(page, console)

    page.goto(f"{site.base}/teams/{small}?measure=fte")
    ready(page, "teams")
    own = site.api(f"/api/reports/effort-by-value?measure=fte&team={small}", site.viewer)
    assert own["folded"]["team"] == small
    expect(page.locator("#teams-body .time-notes .folded")).to_have_text(f"{own['folded']['note']}.")
    expect(page.locator("#teams-body p.total")).to_have_text(
        headline(own, f"{own['total']['effort']:.2f} FTE")
    )
    clean(page, console)


@pytest.mark.parametrize("width", WIDTHS)
def test_pages_counting_estimates_offer_no_people_s_time_and_reached_in_fte_show_points(
    browser: Browser, site: Site, contexts: list[BrowserContext], width: int
) -> None:
    page, console = open_page(contexts, browser, site, site.viewer, width)
    page.goto(site.base + "/?measure=fte")
    ready(page, "overview")
    if width < 500:  # the menu is one button at narrow widths
        page.click("#nav-toggle")
    page.click("#nav a[data-page=values]")  # the menu carries the overview's filters
    ready(page, "values")
    assert measures(page, "values") == ESTIMATES
    assert page.locator("#page-values .time-hint").count() == 0
    expect(page.locator("#page-values .measure-note")).to_have_text(
        "This page counts estimates, so it shows points: "
        "people's time (FTE) is on the Overview and Teams pages."
    )
    assert page.url == f"{site.base}/values"  # the address says what is shown
    expect(page.locator("#page-values select[name=measure]")).to_have_value("points")
    points = site.api("/api/reports/effort-by-value", site.viewer)
    first = points["values"][0]
    expect(page.locator(f"#values-table tr[data-value={first['id']}] .effort")).to_have_text(
        fmt(first["effort"])
    )
    clean(page, console)

    page.goto(f"{site.base}/values/{first['id']}?measure=fte")  # its items count estimates only
    ready(page, "values")
    expect(page.locator("#page-values .measure-note")).to_be_visible()
    expect(page.locator("#value-items tbody tr[data-item]").first).to_be_visible()
    clean(page, console)

    page.goto(f"{site.base}/attention?measure=fte")
    ready(page, "attention")
    assert measures(page, "attention") == ESTIMATES
    expect(page.locator("#attention-filters select[name=measure]")).to_have_value("points")
    expect(page.locator("#flags tbody tr[data-item]").first).to_be_visible()
    clean(page, console)
