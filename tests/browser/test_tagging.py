"""Tag from the dashboard, and the explanation page, in a real browser (issue 12).

A demo world whose Linear has write-back enabled and its vocabulary provisioned (label groups
``Value`` / ``Method``): an admin picks a value for an untagged Linear item and clicks Tag; the
report moves at once, the item leaves the list, Linear holds the label (read back through the
connector) and the tag is audited with the admin's token. A viewer gets no control and a 403.
``/items/{tracker}/{key}``, the page the links in the trackers point at, opens that item's
explanation. The screenshot is saved in ``test-artifacts/tagging.png``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, Page

from tests.browser.conftest import ARTIFACTS, Site, expected_values, serve, signed_in, wait_prefix, wait_text
from v2mom.app.demo import build_demo
from v2mom.connectors.base import TagWriter
from v2mom.connectors.registry import build_connector
from v2mom.sync.provision import provision

TRACKER = "linear"  # the tracker with write-back on; the others stay off


@pytest.fixture(scope="module")
def tagging(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    world = build_demo(f"sqlite:///{tmp_path_factory.mktemp('tag') / 'tag.db'}", seed=11, issues=400)
    trackers = world.settings.trackers
    section = getattr(trackers, TRACKER)
    enabled = section.model_copy(
        update={"write_back": section.write_back.model_copy(update={"enabled": True})}
    )
    settings = world.settings.model_copy(update={"trackers": trackers.model_copy(update={TRACKER: enabled})})
    provision(settings, world.store, apply=True, tracker=TRACKER)
    site, server = serve(world, settings, name="tag")
    try:
        yield site
    finally:
        server.stop()
        world.stop()


def effort(report: dict[str, Any], value: str) -> float:
    return float(next(v["effort"] for v in report["values"] if v["id"] == value))


def leaf_untagged(site: Site) -> dict[str, Any]:
    """The biggest untagged item of TRACKER with effort and no children (its tag moves only itself)."""
    flags = site.api(f"/api/reports/flags?kind=untagged&limit=20&tracker={TRACKER}", site.admin)["items"]
    for flag in flags:
        stored = site.world.store.items.find(TRACKER, flag["key"])
        assert stored is not None
        if flag["effort"] > 0 and not site.world.store.items.children(TRACKER, [stored.item.id]):
            return {**flag, "id": stored.item.id}
    raise AssertionError(f"no untagged {TRACKER} item with effort and no children among {flags}")


def tag_form(page: Page, name: str) -> tuple[Any, Any]:
    """The row's choice and button, found by their accessible names (what a screen reader announces)."""
    return (
        page.get_by_role("combobox", name=f"Value or method to tag {name} with"),
        page.get_by_role("button", name=f"Tag {name}", exact=True),
    )


def test_an_admin_tags_an_untagged_item_and_the_tracker_and_the_report_follow(
    browser: Browser, tagging: Site
) -> None:
    site = tagging
    settings = site.settings
    assert settings is not None
    connector = build_connector(TRACKER, settings)
    assert isinstance(connector, TagWriter)
    plan = site.api("/api/plan", site.admin)
    value = plan["values"][1]
    item = leaf_untagged(site)
    name = f"{TRACKER}:{item['key']}"
    query = f"/api/reports/effort-by-value?tracker={TRACKER}"
    before = site.api(query, site.admin)

    page = signed_in(browser, site, site.admin, f"/?tracker={TRACKER}")
    wait_text(page, "#values tr[data-value=untagged] .effort", expected_values(before)["untagged"][0])
    choice, button = tag_form(page, name)
    options = choice.locator("option").all_inner_texts()
    assert options == [f"Value: {v['name']}" for v in plan["values"]] + [
        f"Method: {m['name']}" for m in plan["methods"]
    ]
    groups = choice.locator("optgroup").evaluate_all("groups => groups.map(g => g.label)")
    assert groups == ["Values", "Methods"]
    choice.focus()  # by keyboard: choose, tab to the button, press Enter
    choice.select_option(label=f"Value: {value['name']}")
    page.keyboard.press("Tab")
    assert button.evaluate("b => b === document.activeElement")
    page.keyboard.press("Enter")
    wait_prefix(page, "#tag-status", f"Tagged {name} with Value: {value['name']}")

    after = site.api(query, site.admin)
    assert after["untagged"]["effort"] == pytest.approx(before["untagged"]["effort"] - item["effort"])
    assert effort(after, value["id"]) == pytest.approx(effort(before, value["id"]) + item["effort"])
    wait_text(page, "#values tr[data-value=untagged] .effort", expected_values(after)["untagged"][0])
    wait_text(page, f"#values tr[data-value={value['id']}] .effort", expected_values(after)[value["id"]][0])
    page.wait_for_function(
        "name => !document.querySelector(`#flags tr[data-item='${name}']`)"
        " && document.querySelectorAll('#flags tbody tr').length > 0",
        arg=name,
    )
    flags = site.api(f"/api/reports/flags?kind=untagged&limit=100&tracker={TRACKER}", site.admin)["items"]
    assert item["key"] not in {f["key"] for f in flags}
    assert page.get_by_role("status").filter(has_text="Tagged").count() == 1  # announced (aria-live)

    try:  # the tracker holds the tag: Linear's label of the Value group, named as the plan names it
        labels = connector.get_item(item["id"]).labels
    finally:
        connector.close()
    assert [label for label in labels if label.startswith("Value/")] == [f"Value/{value['name']}"]
    (entry, *_) = site.world.store.writebacks.tag_log()
    assert (entry["actor"], entry["tracker"], entry["key"], entry["kind"], entry["plan_id"]) == (
        "token:tag-admin",
        TRACKER,
        item["key"],
        "value",
        value["id"],
    )
    explained = site.api(f"/api/items/{TRACKER}/{item['key']}", site.admin)
    assert list(explained["resolution"]["values"]) == [value["id"]]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "tagging.png"), full_page=True)
    page.close()


def test_a_refused_tag_shows_the_api_s_reason_and_conflicts_get_no_control(
    browser: Browser, tagging: Site
) -> None:
    site = tagging
    page = signed_in(browser, site, site.admin, "/?tracker=jira")  # write-back is off for Jira
    page.wait_for_function(
        "document.querySelector('#flags tbody tr[data-item]')?.dataset.item.startsWith('jira:')"
    )
    row = page.locator("#flags tbody tr[data-item]").first
    name = row.get_attribute("data-item") or ""
    before = site.api("/api/reports/effort-by-value?tracker=jira", site.admin)
    tag_form(page, name)[1].click()
    wait_prefix(page, "#tag-status", f"Could not tag {name}: write-back is not enabled for jira")
    assert "error" in (page.locator("#tag-status").get_attribute("class") or "")
    assert page.locator(f"#flags tr[data-item='{name}']").count() == 1  # nothing moved
    assert site.api("/api/reports/effort-by-value?tracker=jira", site.admin) == before

    for kind, tagged in (("orphaned", True), ("conflict", False)):  # conflicts are not tagged from here
        shown = site.api(f"/api/reports/flags?kind={kind}&limit=20&tracker=jira", site.admin)["items"]
        assert shown, f"the demo has {kind} Jira items"
        page.click(f"#flag-tabs [data-kind={kind}]")
        wait_text(page, "#flags tbody tr[data-item] td a", f"jira:{shown[0]['key']}")
        assert page.locator("#flags tbody tr[data-item]").count() == len(shown)
        assert page.locator("#flags .tag-form").count() == (len(shown) if tagged else 0)
    page.close()


def test_a_viewer_gets_no_tag_control_and_a_403(browser: Browser, tagging: Site) -> None:
    site = tagging
    page = signed_in(browser, site, site.viewer, f"/?tracker={TRACKER}")
    page.wait_for_selector("#flags tbody tr[data-item]")
    assert page.locator("#flags tbody button", has_text="Explain").count() > 0
    assert page.locator("#flags .tag-form, #flags select").count() == 0
    key = page.locator("#flags tbody tr[data-item]").first.get_attribute("data-item") or ""
    plan = site.api("/api/plan", site.viewer)
    refused = requests.post(
        f"{site.base}/api/items/{key.replace(':', '/', 1)}/tags",
        json={"value": plan["values"][0]["id"]},
        headers={"Authorization": f"Bearer {site.viewer}"},
        timeout=10,
    )
    assert refused.status_code == 403
    page.close()


def test_the_explanation_page_opens_the_item_after_sign_in(browser: Browser, tagging: Site) -> None:
    site = tagging
    flag = site.api(f"/api/reports/flags?kind=untagged&limit=1&tracker={TRACKER}", site.viewer)["items"][0]
    page = signed_in(browser, site, site.viewer, f"/items/{TRACKER}/{flag['key']}")
    page.wait_for_selector("body[data-explained=true]")
    assert page.url == f"{site.base}/items/{TRACKER}/{flag['key']}"  # still the link's page
    box = page.locator("#explain")
    assert box.is_visible()
    assert box.locator("h3").inner_text() == f"Why {TRACKER}:{flag['key']} — {flag['title']}"
    assert "no value resolved" in box.inner_text()
    assert page.evaluate("document.activeElement.id") == "explain"
    assert page.locator("#values tbody tr").count() > 0  # the dashboard's assets loaded from this path
    page.close()

    missing = signed_in(browser, site, site.viewer, f"/items/{TRACKER}/NOPE-999999")
    missing.wait_for_selector("body[data-explained=true]")
    assert missing.locator("#explain h3").inner_text() == f"No explanation for {TRACKER}:NOPE-999999"
    assert "knows no item" in missing.locator("#explain-missing").inner_text()
    missing.close()
