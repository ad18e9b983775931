"""Jira explanation links through the real path: JiraConnector → atlassian-python-api → the sandbox
Jira on 127.0.0.1. Each item's explanation link is one remote link, updated in place."""

from __future__ import annotations

from dataclasses import replace

from tests.connectors.jira.conftest import Site, spent
from v2mom.connectors.jira.links import global_id
from v2mom.vocabulary import LinkWrite


def link_for(site: Site, item_id: str) -> LinkWrite:
    key = site.state.issues[int(item_id)].key
    return LinkWrite(item_id, key, f"https://v2mom.test/items/jira/{key}", f"V2MOM: why {key}")


def links_of(site: Site, item_id: str) -> list[tuple[str | None, str, str]]:
    return [
        (link.global_id, link.object["url"], link.object["title"])
        for link in site.state.remote_links.get(int(item_id), [])
    ]


def test_a_link_is_created_once_and_updated_in_place(site: Site) -> None:
    items = site.ids[:20]
    before = dict(site.connector.calls.calls)
    outcomes = site.connector.write_links([link_for(site, i) for i in items])
    assert all(o.ok for o in outcomes)
    assert spent(site.connector, before) == {"remote-link": 20}  # one request per link
    key = site.state.issues[int(items[0])].key
    assert links_of(site, items[0]) == [
        (global_id(items[0]), f"https://v2mom.test/items/jira/{key}", f"V2MOM: why {key}")
    ]
    ids_before = [link.id for link in site.state.remote_links[int(items[0])]]

    retitled = [replace(link_for(site, i), title="Why this work (v2mom)") for i in items]
    again = site.connector.write_links(retitled)

    assert all(o.ok for o in again)
    assert all(len(site.state.remote_links[int(i)]) == 1 for i in items)
    assert [link.id for link in site.state.remote_links[int(items[0])]] == ids_before
    assert links_of(site, items[0])[0][2] == "Why this work (v2mom)"


def test_a_moved_issue_keeps_one_link_pointing_at_its_new_key(site: Site) -> None:
    item = site.ids[0]
    site.connector.write_links([link_for(site, item)])
    site.state.add_project("PLAT", "Platform", team_managed=False)
    new_key = site.state.move_issue(int(item), "PLAT")

    outcomes = site.connector.write_links([link_for(site, item)])

    assert [o.ok for o in outcomes] == [True]
    assert links_of(site, item) == [
        (global_id(item), f"https://v2mom.test/items/jira/{new_key}", f"V2MOM: why {new_key}")
    ]


def test_a_link_to_a_deleted_issue_is_its_error_and_the_others_are_made(site: Site) -> None:
    items = site.ids[:3]
    links = [link_for(site, i) for i in items]
    site.state.delete_issue(int(items[1]))

    outcomes = site.connector.write_links(links)

    assert [o.ok for o in outcomes] == [True, False, True]
    assert links[1].key in (outcomes[1].error or "")
    assert "HTTP 404" in (outcomes[1].error or "")
    assert len(links_of(site, items[0])) == len(links_of(site, items[2])) == 1


def test_a_429_on_a_link_is_retried(site: Site) -> None:
    site.state.inject_fault(429, retry_after=0, path_prefix=site.path(f"issue/{site.ids[0]}/remotelink"))
    before = dict(site.connector.calls.calls)
    outcomes = site.connector.write_links([link_for(site, site.ids[0])])
    assert [o.ok for o in outcomes] == [True]
    assert spent(site.connector, before) == {"remote-link": 2}
    assert len(links_of(site, site.ids[0])) == 1


def test_on_data_center_with_remote_linking_turned_off_each_link_is_refused(dc_site: Site) -> None:
    site = dc_site
    site.state.remote_links_disabled = True  # an administrator deactivated issue linking
    items = site.ids[:3]
    before = dict(site.connector.calls.calls)
    outcomes = site.connector.write_links([link_for(site, i) for i in items])
    assert [o.ok for o in outcomes] == [False, False, False]
    assert all("issue linking is turned off" in (o.error or "") for o in outcomes)
    assert all("HTTP 403" in (o.error or "") for o in outcomes)
    assert spent(site.connector, before) == {"remote-link": 3}  # refused, not retried
    assert all(links_of(site, i) == [] for i in items)
