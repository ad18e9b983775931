"""Linear explanation links: one URL attachment per issue, found again by its marker.

Everything goes the real way: LinearConnector -> gql over httpx -> the Linear sandbox on 127.0.0.1.
"""

from __future__ import annotations

from tests.connectors.linear.conftest import ISSUES, PUBLIC, Site, issue_ids, key, link, ours
from v2mom.connectors.linear.links import LINKS, MARKER
from v2mom.sandbox.linear.state import Record
from v2mom.vocabulary import LinkWrite


def test_links_are_created_once_and_replaced_when_the_url_changes(site: Site) -> None:
    state = site.state
    ids = issue_ids(state)
    links = [link(state, i) for i in ids]

    assert all(o.ok for o in site.connector.write_links(links))
    assert all(ours(state, i) == [f"{PUBLIC}/{key(state, i)}"] for i in ids)
    first = site.calls(LINKS)
    assert first == 2  # one read of up to 50 issues, one request of aliased creates

    assert all(o.ok for o in site.connector.write_links(links))  # the same urls again
    assert all(ours(state, i) == [f"{PUBLIC}/{key(state, i)}"] for i in ids)
    assert len(state.attachments) == len(ids)
    assert site.calls(LINKS) - first == 1  # only the read: nothing to change

    moved = ids[0]
    new = link(state, moved, url_key="OPS-7")
    assert site.connector.write_links([new])[0].ok
    assert ours(state, moved) == [f"{PUBLIC}/OPS-7"]  # the old one does not linger
    assert site.calls(LINKS) - first == 1 + 3  # read, create the new one, delete the old one
    [attachment] = state.attachments_of(moved)
    assert attachment.title == new.title
    assert len(state.attachments) == len(ids)


def test_a_link_keeps_other_attachments_and_updates_its_title_in_place(site: Site) -> None:
    state = site.state
    issue = issue_ids(state)[0]
    state.attach_url(issue, "https://github.com/acme/app/pull/1", "PR #1")
    site.connector.write_links([link(state, issue)])
    [ours_before] = [a for a in state.attachments_of(issue) if a.subtitle == MARKER]

    retitled = LinkWrite(issue, key(state, issue), ours_before.url, "A new title")
    assert site.connector.write_links([retitled])[0].ok

    [ours_after] = [a for a in state.attachments_of(issue) if a.subtitle == MARKER]
    assert ours_after.id == ours_before.id  # updated in place
    assert ours_after.title == "A new title"
    assert "https://github.com/acme/app/pull/1" in [a.url for a in state.attachments_of(issue)]


def test_a_link_to_a_deleted_issue_is_an_error_naming_it(site: Site) -> None:
    state = site.state
    ids = issue_ids(state)[:3]
    links = [link(state, i) for i in ids]
    gone_key = key(state, ids[1])
    state.delete_issue(ids[1])

    outcomes = site.connector.write_links(links)

    assert [o.ok for o in outcomes] == [True, False, True]
    assert outcomes[1].error is not None
    assert outcomes[1].error.startswith(f"{gone_key}: not found")
    assert ours(state, ids[0])
    assert ours(state, ids[2])


def test_links_for_500_issues_take_few_requests(site: Site) -> None:
    state = site.state
    for n in range(ISSUES - len(state.issues)):
        state.add_issue("ENG", f"More {n}")
    ids = issue_ids(state)

    assert all(o.ok for o in site.connector.write_links([link(state, i) for i in ids]))
    assert len(state.attachments) == ISSUES
    assert site.calls(LINKS) / ISSUES <= 0.07  # per 50 issues: one read, two requests of 25 creates
    before = site.calls(LINKS)
    moved = [link(state, i, url_key=f"NEW-{n}") for n, i in enumerate(ids)]
    assert all(o.ok for o in site.connector.write_links(moved))
    assert all(ours(state, i) == [f"{PUBLIC}/NEW-{n}"] for n, i in enumerate(ids))
    assert (site.calls(LINKS) - before) / ISSUES <= 0.11  # and two of 25 deletes


def test_a_refused_link_is_named_and_the_links_after_it_are_still_written(site: Site) -> None:
    state = site.state
    ids = issue_ids(state)
    links = [link(state, i) for i in ids]
    bad = 3
    links[bad] = LinkWrite(ids[bad], key(state, ids[bad]), "not a url", "Why")

    outcomes = site.connector.write_links(links)

    assert [o.ok for o in outcomes] == [n != bad for n in range(len(ids))]
    assert outcomes[bad].error is not None
    assert outcomes[bad].error.startswith(f"{key(state, ids[bad])}: ")
    assert "url" in outcomes[bad].error
    assert all(ours(state, i) == [f"{PUBLIC}/{key(state, i)}"] for n, i in enumerate(ids) if n != bad)
    assert ours(state, ids[bad]) == []
    assert site.calls(LINKS) == 3  # read, the copies up to the refused one, the copies after it


def test_a_rate_limited_link_is_retried(site: Site) -> None:
    state = site.state
    issue = issue_ids(state)[0]
    state.inject_fault(400, kind="ratelimited", retry_after=0.0, path_prefix="/graphql/LinkCreate")
    assert site.connector.write_links([link(state, issue)])[0].ok
    assert ours(state, issue) == [f"{PUBLIC}/{key(state, issue)}"]
    assert state.request_count("/graphql/LinkCreateBatch") == 2


def test_link_writes_fire_no_issue_event(site: Site) -> None:
    state = site.state
    seen: list[Record] = []
    state.listeners.append(lambda action, kind, record: seen.append(record))
    site.connector.write_links([link(state, issue_ids(state)[0])])
    assert seen == []
