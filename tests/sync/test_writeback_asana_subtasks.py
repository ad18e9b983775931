"""Asana subtasks through the real path (the Asana sandbox served, the connector on the asana SDK,
a synced store): a subtask added to a configured project holds the project's custom fields, so it
gets its inferred method and its explanation link; one outside every project cannot hold them and
is skipped with the reason, before anything is sent for it."""

from __future__ import annotations

from pathlib import Path

from tests.sync.writeback_worlds import PUBLIC, held_choices, open_world, our_links
from v2mom.sync.writeback import OUTSIDE_PROJECTS


def test_a_subtask_in_a_configured_project_is_written_and_one_outside_is_skipped(
    database_url: str, tmp_path: Path
) -> None:
    with open_world("asana", database_url, tmp_path, size=160) as world:
        state, store = world.state, world.store
        before = world.run(apply=False)
        outside = [entry.split(": ", 1) for entry in before.skipped]
        assert len(outside) >= 2, "the workspace has subtasks outside every project with something to write"
        assert all(reason == OUTSIDE_PROJECTS for _, reason in outside)
        assert all(state.tasks[gid].parent and not state.tasks[gid].projects for gid, _ in outside)

        (project, *_) = world.settings.trackers.asana.projects  # type: ignore[union-attr]
        added = [gid for gid, _ in outside[:-1]]  # all but one
        for gid in added:
            state.add_to_project(gid, project)  # a person adds the subtask to the project
        world.sync()  # the project's events name them: they are read again, as members

        preview = world.run(apply=False)
        planned = {w.item.id: w.changes for w in preview.fields}
        with_method = [gid for gid in added if planned.get(gid, {}).get("method")]
        assert with_method, "an added subtask inherits a method to write"
        left = outside[-1][0]
        assert preview.skipped == [f"{left}: {OUTSIDE_PROJECTS}"]

        done = world.run(apply=True)

        assert done.ok, (done.error, done.refused[:3])
        assert done.skipped == [f"{left}: {OUTSIDE_PROJECTS}"]
        names = {m.id: m.name for m in store.plans.current().methods}  # type: ignore[union-attr]
        held, links = held_choices("asana", state), our_links("asana", state)
        for gid in with_method:
            assert held[gid]["method"] == {names[planned[gid]["method"]]}, gid  # type: ignore[index]
            assert links[gid] == [f"{PUBLIC}/items/asana/{gid}"]
        assert left not in held  # nothing was sent for it
        assert left not in links
        assert state.tasks[left].enums == {}
