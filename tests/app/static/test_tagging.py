"""Tag from the dashboard, and the explanation page, in a real browser.

A demo world whose Linear has write-back enabled and its vocabulary provisioned (label groups
``Value`` / ``Method``): an admin picks a value for an untagged Linear item and clicks Tag; the
report moves at once, the item leaves the list, Linear holds the label (read back through the
connector) and the tag is audited with the admin's token. A viewer gets no control and a 403.
The picker starts empty ("Choose…"), shows the plan's names whole, and asks to confirm what it will
write to which tracker; the whole flow works by keyboard alone, and from the item's own page. The
screenshot is saved in ``test-artifacts/tagging.png``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from tests.app.static.conftest import (
    ARTIFACTS,
    Console,
    Site,
    expected_values,
    serve,
    signed_in,
    wait_prefix,
    wait_text,
)
from v2mom.app.demo import DemoWorld, build_demo
from v2mom.connectors.base import TagWriter
from v2mom.connectors.registry import build_connector
from v2mom.settings import Settings
from v2mom.sync.provision import provision

TRACKER = "linear"  # the tracker with write-back on; the others stay off


@contextmanager
def writing_to_linear(
    tmp_path_factory: pytest.TempPathFactory, name: str, *, ready: Callable[[DemoWorld], None] | None = None
) -> Iterator[Site]:
    """A demo world served with TRACKER's write-back on and its vocabulary provisioned (``ready``
    runs on the world before it is served)."""
    world = build_demo(f"sqlite:///{tmp_path_factory.mktemp(name) / f'{name}.db'}", seed=11, issues=400)
    trackers = world.settings.trackers
    section = getattr(trackers, TRACKER)
    enabled = section.model_copy(
        update={"write_back": section.write_back.model_copy(update={"enabled": True})}
    )
    settings = world.settings.model_copy(update={"trackers": trackers.model_copy(update={TRACKER: enabled})})
    provision(settings, world.store, apply=True, tracker=TRACKER)
    if ready is not None:
        ready(world)
    site, server = serve(world, settings, name=name)
    try:
        yield site
    finally:
        server.stop()
        world.stop()


@pytest.fixture(scope="module")
def tagging(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with writing_to_linear(tmp_path_factory, "tag") as site:
        yield site


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


def value_labels(settings: Settings, item_id: str) -> list[str]:
    """The item's Value-group labels, read back from Linear through the connector."""
    connector = build_connector(TRACKER, settings)
    try:
        assert isinstance(connector, TagWriter)  # Linear takes tags (connectors/linear/tags.py)
        return [label for label in connector.get_item(item_id).labels if label.startswith("Value/")]
    finally:
        connector.close()


def tag_form(page: Page, name: str) -> tuple[Any, Any]:
    """The row's choice and button, found by their accessible names (what a screen reader announces)."""
    return (
        page.get_by_role("combobox", name=f"Value or method to tag {name} with"),
        page.get_by_role("button", name=f"Tag {name}", exact=True),
    )


def test_an_admin_tags_an_untagged_item_by_keyboard_and_the_tracker_and_the_report_follow(
    browser: Browser, tagging: Site
) -> None:
    site = tagging
    settings = site.settings
    assert settings is not None
    plan = site.api("/api/plan", site.admin)
    value = plan["values"][1]
    item = leaf_untagged(site)
    name = f"{TRACKER}:{item['key']}"
    query = f"/api/reports/effort-by-value?tracker={TRACKER}"
    before = site.api(query, site.admin)
    assert value_labels(settings, item["id"]) == []

    page = signed_in(browser, site, site.admin, f"/attention?tracker={TRACKER}")
    console = Console(page)
    choice, button = tag_form(page, name)
    # The picker starts empty: nothing is written by one click; the names are whole.
    assert choice.input_value() == ""
    assert choice.locator("option").first.inner_text() == "Choose…"
    assert button.is_disabled()
    options = choice.locator("option").all_inner_texts()
    assert options == ["Choose…"] + [v["name"] for v in plan["values"]] + [m["name"] for m in plan["methods"]]
    groups = choice.locator("optgroup").evaluate_all("groups => groups.map(g => g.label)")
    assert groups == ["Values", "Methods"]

    choice.focus()  # by keyboard alone: arrow to the value, tab to Tag, Enter, Enter to confirm
    for _ in range(2):  # "Choose…", the first value, the second value
        page.keyboard.press("ArrowDown")
    assert choice.input_value() == value["id"]
    page.keyboard.press("Tab")
    assert button.evaluate("b => b === document.activeElement")
    page.keyboard.press("Enter")
    confirm = page.get_by_role("group", name=f"Confirm the tag of {name}")
    expect(confirm).to_be_visible()
    # The confirmation says what is written, to which item, in which tracker, and how.
    expect(confirm).to_contain_text(
        f'Write value "{value["name"]}" to {name} in Linear, as the Linear label "Value/{value["name"]}"?'
    )
    assert page.evaluate("document.activeElement.textContent") == "Write to Linear"
    page.keyboard.press("Enter")
    wait_prefix(page, "#tag-status", f'Tagged {name} with value "{value["name"]}" in Linear')

    after = site.api(query, site.admin)
    assert after["untagged"]["effort"] == pytest.approx(before["untagged"]["effort"] - item["effort"])
    assert effort(after, value["id"]) == pytest.approx(effort(before, value["id"]) + item["effort"])
    page.wait_for_function(
        "name => !document.querySelector(`#flags tr[data-item='${name}']`)"
        " && document.querySelectorAll('#flags tbody tr').length > 0",
        arg=name,
    )
    # The keyboard stays in the list: on the choice of the row that took the tagged one's place.
    page.wait_for_function(
        "document.activeElement?.closest('#flags tbody') && document.activeElement.name === 'tag'"
    )
    flags = site.api(f"/api/reports/flags?kind=untagged&limit=100&tracker={TRACKER}", site.admin)["items"]
    assert item["key"] not in {f["key"] for f in flags}
    assert page.get_by_role("status").filter(has_text=re.compile("^Tagged")).count() == 1  # announced
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "tagging.png"), full_page=False)

    page.goto(f"{site.base}/?tracker={TRACKER}")  # the overview shows the moved numbers
    page.wait_for_selector("body[data-ready=true][data-page=overview]")
    wait_text(page, "#values tr[data-value=untagged] .effort", expected_values(after)["untagged"][0])
    wait_text(page, f"#values tr[data-value={value['id']}] .effort", expected_values(after)[value["id"]][0])

    # The tracker holds the tag: Linear's label of the Value group, named as the plan names it.
    assert value_labels(settings, item["id"]) == [f"Value/{value['name']}"]
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
    assert console.take() == []
    page.close()


def test_an_admin_tags_from_the_item_page(browser: Browser, tagging: Site) -> None:
    site = tagging
    plan = site.api("/api/plan", site.admin)
    method = plan["methods"][0]
    item = leaf_untagged(site)
    name = f"{TRACKER}:{item['key']}"
    page = signed_in(browser, site, site.admin, f"/items/{TRACKER}/{item['key']}")
    expect(page.locator(".verdict")).to_contain_text("untagged")
    choice, button = tag_form(page, name)
    choice.select_option(method["id"])
    button.click()
    confirm = page.get_by_role("group", name=f"Confirm the tag of {name}")
    expect(confirm).to_contain_text(f'Write method "{method["name"]}" to {name} in Linear')
    confirm.get_by_role("button", name="Cancel").click()  # nothing written
    expect(confirm).to_be_hidden()
    assert site.api(f"/api/items/{TRACKER}/{item['key']}", site.admin)["resolution"]["methods"] == []
    button.click()
    confirm.get_by_role("button", name=re.compile("^Write method")).click()
    wait_prefix(page, "#item-tag-status", f'Tagged {name} with method "{method["name"]}"')
    expect(page.locator(".chain")).to_contain_text(f'Method "{method["name"]}"')
    expect(page.locator(".verdict")).to_contain_text("Its effort counts for")
    page.close()


def test_a_refused_tag_shows_the_api_s_reason_and_conflicts_get_no_control(
    browser: Browser, tagging: Site
) -> None:
    site = tagging
    page = signed_in(browser, site, site.admin, "/attention?tracker=jira")  # write-back is off for Jira
    row = page.locator("#flags tbody tr[data-item]").first
    name = row.get_attribute("data-item") or ""
    assert name.startswith("jira:")
    before = site.api("/api/reports/effort-by-value?tracker=jira", site.admin)
    choice, button = tag_form(page, name)
    choice.select_option(index=1)
    button.click()
    page.get_by_role("group", name=f"Confirm the tag of {name}").get_by_role(
        "button", name=re.compile("^Write")
    ).click()
    wait_prefix(page, "#tag-status", f"Could not tag {name}: write-back is not enabled for jira")
    assert "error" in (page.locator("#tag-status").get_attribute("class") or "")
    assert page.locator(f"#flags tr[data-item='{name}']").count() == 1  # nothing moved
    assert site.api("/api/reports/effort-by-value?tracker=jira", site.admin) == before

    for kind, tagged in (("orphaned", True), ("conflict", False)):  # conflicts are not tagged from here
        shown = site.api(f"/api/reports/flags?kind={kind}&limit=50&tracker=jira", site.admin)["items"]
        assert shown, f"the demo has {kind} Jira items"
        page.click(f"#kinds a[data-kind={kind}]")
        page.wait_for_selector(
            f"body[data-ready=true][data-page=attention] #kinds a[data-kind={kind}][aria-current]"
        )
        wait_text(page, "#flags tbody tr[data-item] td a.item-ref", f"jira:{shown[0]['key']}")
        assert page.locator("#flags tbody tr[data-item]").count() == len(shown)
        assert page.locator("#flags .tag-form").count() == (len(shown) if tagged else 0)
    page.close()


def test_a_viewer_gets_no_tag_control_and_a_403(browser: Browser, tagging: Site) -> None:
    site = tagging
    page = signed_in(browser, site, site.viewer, f"/attention?tracker={TRACKER}")
    page.wait_for_selector("#flags tbody tr[data-item]")
    assert page.locator("#flags tbody a", has_text="Explain").count() > 0
    assert page.locator("#flags .tag-form, #flags select").count() == 0
    key = page.locator("#flags tbody tr[data-item]").first.get_attribute("data-item") or ""
    page.goto(f"{site.base}/items/{key.replace(':', '/', 1)}")
    page.wait_for_selector("body[data-ready=true][data-page=item]")
    assert page.locator("#page-item .tag-form").count() == 0
    plan = site.api("/api/plan", site.viewer)
    refused = requests.post(
        f"{site.base}/api/items/{key.replace(':', '/', 1)}/tags",
        json={"value": plan["values"][0]["id"]},
        headers={"Authorization": f"Bearer {site.viewer}"},
        timeout=10,
    )
    assert refused.status_code == 403
    page.close()
