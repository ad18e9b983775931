"""Asana explanation links through the real path: connector -> asana SDK (urllib3) -> sandbox.

Links are external attachments, created once and replaced (never doubled) when their URL changes.
Request counts are asserted, never time.
"""

from __future__ import annotations

from tests.connectors.asana.conftest import PUBLIC, Workspace
from v2mom.sandbox.asana.state import AsanaState


def attachments(state: AsanaState, gid: str) -> list[tuple[str, str]]:
    return [(a.name, a.url) for a in state.attachments.values() if a.parent == gid]


def test_links_are_created_once_and_replaced_in_place(workspace: Workspace) -> None:
    tasks = workspace.tasks[:30]
    foreign = workspace.state.add_attachment(tasks[0], "Design doc", "https://docs.example.com/d/1")
    connector = workspace.connector()
    try:
        created = connector.write_links([workspace.link(gid) for gid in tasks])
        assert all(o.ok for o in created)
        assert connector.calls.calls == {"batch": 3, "attachment_write": 30}  # 1.1 requests per link
        assert attachments(workspace.state, tasks[1]) == [
            (workspace.link(tasks[1]).title, workspace.link(tasks[1]).url)
        ]

        before = dict(connector.calls.calls)
        again = connector.write_links([workspace.link(gid) for gid in tasks])
        assert all(o.ok for o in again)
        assert connector.calls.calls == {**before, "batch": before["batch"] + 3}  # listed, nothing added
        assert all(len(attachments(workspace.state, gid)) == 1 for gid in tasks[1:])

        moved = connector.write_links([workspace.link(gid, "https://v2mom.new.example") for gid in tasks])
        assert all(o.ok for o in moved)
    finally:
        connector.close()
    for gid in tasks[1:]:
        assert attachments(workspace.state, gid) == [
            (workspace.link(gid).title, f"https://v2mom.new.example/items/asana/{gid}")
        ]
    assert (foreign.name, foreign.url) in attachments(workspace.state, tasks[0])  # not ours: kept
    assert len(attachments(workspace.state, tasks[0])) == 2


def test_duplicates_of_our_link_are_reduced_to_one_and_a_deleted_task_is_named(workspace: Workspace) -> None:
    kept, gone = workspace.tasks[:2]
    link = workspace.link(kept)
    workspace.state.add_attachment(kept, link.title, f"{PUBLIC}/old/items/asana/{kept}")  # same title
    workspace.state.add_attachment(kept, "V2MOM", link.url)  # same URL, renamed by hand
    workspace.state.delete_task(gone)
    connector = workspace.connector()
    try:
        outcomes = connector.write_links([link, workspace.link(gone)])
    finally:
        connector.close()
    assert outcomes[0].ok
    assert f"task T-{gone} ({gone}): HTTP 404" in str(outcomes[1].error)
    assert attachments(workspace.state, kept) == [("V2MOM", link.url)]
    assert connector.calls.calls == {"batch": 2}  # listed, the stale one deleted, nothing created


def test_our_link_is_found_beyond_the_first_page_of_attachments(workspace: Workspace) -> None:
    gid = workspace.tasks[0]
    for n in range(3):
        workspace.state.add_attachment(gid, f"Spec {n}", f"https://docs.example.com/{n}")
    link = workspace.link(gid)
    workspace.state.add_attachment(gid, link.title, link.url)  # fourth: on the second page of two
    connector = workspace.connector(page_size=2)
    try:
        assert connector.write_links([link])[0].ok
    finally:
        connector.close()
    assert connector.calls.calls == {"batch": 1, "attachments": 1}
    assert len(attachments(workspace.state, gid)) == 4  # nothing added, nothing removed
