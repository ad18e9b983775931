"""The Plan page once the plan has a cycle, at 1280 and 390 px: the reason field is there and
required, a change applied without one shows the API's 422 and stores nothing, a change with one is
kept, and the History lists every version with who, when, why and what changed, newest first."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from tests.app.static.conftest import Console, Site, axe_violations, ready, serve, session_context
from v2mom.app.demo import build_demo
from v2mom.mapping.plan import plan_from_data
from v2mom.store.resolution.plan_change import apply_plan

WIDTHS = (1280, 390)
CYCLE = {"id": "fy27", "name": "FY2027", "start": "2026-02-01", "end": "2027-01-31", "periods": "quarterly"}


@pytest.fixture(scope="module")
def cycled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A small demo world whose plan was then put in cycle fy27, with a reason."""
    world = build_demo(f"sqlite:///{tmp_path_factory.mktemp('history') / 'ui.db'}", seed=7, issues=60)
    plan = world.store.plans.current()
    assert plan is not None
    document = {**plan.model_dump(mode="json", exclude_none=True), "cycle": CYCLE}
    apply_plan(world.store, plan_from_data(document, "plan"), actor="test", reason="the FY27 cycle starts")
    served, server = serve(world, name="history")
    try:
        yield served
    finally:
        server.stop()
        world.stop()


def _versions(site: Site) -> list[dict[str, Any]]:
    versions: list[dict[str, Any]] = site.api("/api/plan/history", site.viewer)["versions"]
    return versions


@pytest.mark.parametrize("width", WIDTHS)
def test_a_change_needs_its_reason_and_the_history_shows_who_when_why_and_what(
    browser: Browser, cycled: Site, width: int
) -> None:
    context = session_context(browser, cycled, cycled.admin, width)
    try:
        page = context.new_page()
        console = Console(page)
        page.goto(cycled.base + "/plan")
        ready(page, "plan")
        reason = page.get_by_label("Reason for this change")
        expect(reason).to_be_visible()
        expect(reason).to_have_attribute("required", "")
        expect(page.locator("#change-reason-hint")).to_contain_text("cycle fy27")

        history = page.locator("#plan-history li")
        before = _versions(cycled)
        expect(history).to_have_count(len(before))
        expect(history.first).to_contain_text(f"Version {before[0]['version']}")
        expect(history.first).to_contain_text(f"Why: {before[0]['reason']}")
        expect(page.locator(f"#plan-history li[data-version='{before[0]['version']}']")).to_contain_text(
            "What changed: "
        )

        # The plan's vision changed, applied without a reason: the API's 422, and nothing stored.
        document = page.locator("#plan-json")
        document.fill(document.input_value().replace('"vision": "', f'"vision": "At {width} px: ', 1))
        page.click("#plan-preview")
        expect(page.locator("#plan-apply")).to_be_enabled()
        page.click("#plan-apply")
        expect(page.locator("#plan-error")).to_contain_text("a reason is needed: the plan is in cycle fy27")
        assert _versions(cycled) == before
        expect(history).to_have_count(len(before))

        # With a reason it is applied, and the history leads with it.
        why = f"sharper vision, checked at {width} px"
        reason.fill(why)
        page.click("#plan-apply")
        expect(page.locator("#plan-preview-text")).to_contain_text("Applied: plan version")
        expect(history).to_have_count(len(before) + 1)
        expect(history.first).to_contain_text(f"Why: {why}")
        expect(history.first).to_contain_text("What changed: vision changed")
        expect(reason).to_have_value("")  # spent: the next change says its own
        after = _versions(cycled)
        assert (after[0]["version"], after[0]["reason"]) == (before[0]["version"] + 1, why)

        wide = page.evaluate("document.documentElement.scrollWidth - innerWidth")
        assert wide <= 0, f"the page scrolls sideways by {wide} px"
        assert axe_violations(page) == []
        assert [e for e in console.take() if "422" not in e] == []  # the API's answer, no script error
    finally:
        context.close()
