"""Suggestions for untagged work in a real browser: the attention list offers each untagged item's
suggestions and says how good they are; an admin accepts one (the tagging write: confirmed, written
to the sandbox tracker, the report moves) or rejects one (never offered again); a viewer sees them
without controls. At desktop and phone widths, with axe-core."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from tests.app.static.conftest import Site, axe_violations, open_page, ready, wait_prefix
from tests.app.static.test_tagging import TRACKER, value_labels, writing_to_linear
from v2mom.app.demo import DemoWorld
from v2mom.suggest.service import train_and_store

WIDTHS = (1280, 390)


def trained(world: DemoWorld) -> None:
    """Train the world's suggestion model, as the worker would after its first pass."""
    plan = world.store.plans.current()
    assert plan is not None
    train_and_store(world.store, plan)


@pytest.fixture(scope="module")
def suggesting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A demo world with Linear write-back on, its vocabulary provisioned, and a model trained."""
    with writing_to_linear(tmp_path_factory, "sug", ready=trained) as site:
        yield site


def suggested_leaf(site: Site) -> tuple[dict[str, Any], dict[str, Any]]:
    """An untagged TRACKER item with effort, no children and a value suggested, and that suggestion."""
    flags = site.api(f"/api/reports/flags?kind=untagged&limit=50&tracker={TRACKER}", site.admin)["items"]
    for flag in flags:
        stored = site.world.store.items.find(TRACKER, flag["key"])
        assert stored is not None
        if flag["effort"] <= 0 or site.world.store.items.children(TRACKER, [stored.item.id]):
            continue
        found = site.api(f"/api/items/{TRACKER}/{flag['key']}/suggestions", site.admin)["suggestions"]
        value = next((s for s in found if s["value"] is not None), None)
        if value is not None:
            return {**flag, "id": stored.item.id}, value
    raise AssertionError("no untagged leaf with a value suggested")


@pytest.mark.parametrize("width", WIDTHS)
def test_an_admin_accepts_a_suggestion_and_the_tracker_and_report_follow(
    browser: Browser, suggesting: Site, contexts: list[BrowserContext], width: int
) -> None:
    site = suggesting
    settings = site.settings
    assert settings is not None
    item, suggestion = suggested_leaf(site)
    name = f"{TRACKER}:{item['key']}"
    query = f"/api/reports/effort-by-value?tracker={TRACKER}"
    before = site.api(query, site.admin)
    values = {v["id"]: v["name"] for v in site.api("/api/plan", site.admin)["values"]}
    page, console = open_page(contexts, browser, site, site.admin, width)
    page.goto(f"{site.base}/attention?kind=untagged&tracker={TRACKER}")
    ready(page, "attention")
    expect(page.locator("#suggest-quality")).to_contain_text("were right")
    page.get_by_text("At each confidence level", exact=True).click()
    expect(page.locator("#suggest-levels tbody tr")).to_have_count(7)  # as suggest evaluate prints
    accept = page.get_by_role("button", name=f"Tag {name} with suggested value {values[suggestion['value']]}")
    expect(accept).to_be_visible()
    assert axe_violations(page) == []
    accept.click()
    confirm = page.get_by_role("group", name=f"Confirm the tag of {name}")
    expect(confirm).to_contain_text(f'Write value "{values[suggestion["value"]]}" to {name} in Linear')
    confirm.get_by_role("button", name=re.compile("^Write value")).click()
    wait_prefix(page, "#tag-status", f'Tagged {name} with value "{values[suggestion["value"]]}" in Linear')
    after = site.api(query, site.admin)
    assert after["untagged"]["effort"] == pytest.approx(before["untagged"]["effort"] - item["effort"])
    assert value_labels(settings, item["id"]) == [f"Value/{values[suggestion['value']]}"]
    assert site.api(f"/api/items/{TRACKER}/{item['key']}/suggestions", site.admin) == {"suggestions": []}
    assert console.take() == []


@pytest.mark.parametrize("width", WIDTHS)
def test_a_rejected_suggestion_is_not_offered_again_and_a_viewer_gets_no_controls(
    browser: Browser, suggesting: Site, contexts: list[BrowserContext], width: int
) -> None:
    site = suggesting
    item, suggestion = suggested_leaf(site)
    name = f"{TRACKER}:{item['key']}"
    values = {v["id"]: v["name"] for v in site.api("/api/plan", site.admin)["values"]}
    label = values[suggestion["value"]]
    page, console = open_page(contexts, browser, site, site.admin, width)
    page.goto(f"{site.base}/attention?kind=untagged&tracker={TRACKER}")
    ready(page, "attention")
    page.get_by_role("button", name=f"Not {label} for {name}: never suggest it again").click()
    expect(page.get_by_role("button", name=f"Tag {name} with suggested value {label}")).to_have_count(0)
    offered = site.api(f"/api/items/{TRACKER}/{item['key']}/suggestions", site.admin)["suggestions"]
    assert suggestion["value"] not in [s["value"] for s in offered]
    assert console.take() == []

    viewer, viewer_console = open_page(contexts, browser, site, site.viewer, width)
    viewer.goto(f"{site.base}/attention?kind=untagged&tracker={TRACKER}")
    ready(viewer, "attention")
    expect(viewer.locator("#flags .suggested .suggestion").first).to_be_visible()
    expect(viewer.locator("#flags .suggested button")).to_have_count(0)
    assert axe_violations(viewer) == []
    assert viewer_console.take() == []


@pytest.mark.parametrize("width", WIDTHS)
def test_an_admin_accepts_one_suggestion_for_many_items_after_a_preview(
    browser: Browser, suggesting: Site, contexts: list[BrowserContext], width: int
) -> None:
    site = suggesting
    settings = site.settings
    assert settings is not None
    plan = site.api("/api/plan", site.admin)
    counts = {}
    for value in plan["values"]:
        preview = site.api(f"/api/admin/suggestions/bulk?value={value['id']}&min_confidence=0.8", site.admin)
        counts[value["id"]] = [i for i in preview["items"] if i["tracker"] == TRACKER]
    # The value with the most Linear items to take it (each width's run takes one value's).
    value = max(plan["values"], key=lambda v: len(counts[v["id"]]))
    linear = counts[value["id"]]
    assert linear, f"no Linear item has a value as its best suggestion at 80%: {counts}"
    query = f"/api/reports/effort-by-value?tracker={TRACKER}"
    before = site.api(query, site.admin)
    page, console = open_page(contexts, browser, site, site.admin, width)
    page.goto(f"{site.base}/attention?kind=untagged")
    ready(page, "attention")
    page.get_by_text("Accept one suggestion for many items").click()
    form = page.get_by_role("form", name="Accept one suggestion for many items")
    form.get_by_label("Value or method").select_option(label=value["name"])
    form.get_by_role("button", name="Preview").click()
    expect(page.locator("#bulk-question")).to_contain_text(f"Write {value['name']} to these ")
    listed = page.locator("#bulk-items li")
    expect(listed.first).to_be_visible()
    assert axe_violations(page) == []
    count = listed.count()
    page.locator("#bulk-write").click()
    wait_prefix(page, "#bulk-status", "Tagged ")
    expect(page.locator("#bulk-status")).to_contain_text("the report is updated")
    after = site.api(query, site.admin)
    assert after["untagged"]["effort"] <= before["untagged"]["effort"]
    # Linear's items among them hold the value's label now, read back from the sandbox.
    stored = site.world.store.items.find(TRACKER, linear[0]["key"])
    assert stored is not None
    assert value_labels(settings, stored.item.id) == [f"Value/{value['name']}"]
    assert count >= len(linear)
    assert console.take() == []
