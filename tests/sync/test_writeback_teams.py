"""A plan with a team, per tracker, through the real connector against its sandbox, on both databases:
provisioning offers the team's values and methods beside the company's (Jira select options, Asana
enum options, Linear labels in the ``Value`` / ``Method`` groups), and write-back writes a team method
it inferred once its option is offered, as it does the company's; reading it back moves nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.sync.writeback_worlds import BUILDERS, held_choices, open_world
from v2mom.mapping.plan import Plan, load_plan
from v2mom.mapping.vocabulary import choice_names
from v2mom.sandbox import SAMPLE_PLAN_PATH
from v2mom.store.resolution.plan_change import apply_plan
from v2mom.sync.provision import provision

TEAM_VALUE = ("merchant-trust", "Merchant trust")


SCOPE_KEYS = {"jira": "projects", "linear": "teams", "asana": "projects"}


def team_plan(tracker: str, containers: set[str]) -> Plan:
    """The sample plan with one team, whose scope holds every synced container of ``tracker``, and
    whose methods take over every rule's company method: each serves the method it replaces, so
    the work still reaches the same company values. The sample's own teams, and the rules naming
    their methods, give way to it."""
    document = yaml.safe_load(SAMPLE_PLAN_PATH.read_text())
    company = {method["id"] for method in document["methods"]}
    document["rules"] = [r for r in document["rules"] if r.get("method", next(iter(company))) in company]
    replaced = sorted({rule["method"] for rule in document["rules"] if "method" in rule})
    document["teams"] = [
        {
            "id": "payments",
            "name": "Payments",
            "scope": {tracker: {SCOPE_KEYS[tracker]: sorted(containers)}},
            "values": [{"id": TEAM_VALUE[0], "name": TEAM_VALUE[1]}],
            "methods": [
                {"id": f"team-{m}", "name": f"Payments team: {m}", "serves": {m: 1}} for m in replaced
            ],
        }
    ]
    for rule in document["rules"]:
        if "method" in rule:
            rule["method"] = f"team-{rule['method']}"
    return load_plan(yaml.safe_dump(document, sort_keys=False))


@pytest.mark.parametrize("tracker", sorted(BUILDERS))
def test_a_team_is_provisioned_and_its_inferred_method_written(
    tracker: str, database_url: str, tmp_path: Path
) -> None:
    with open_world(tracker, database_url, tmp_path, size=80) as world:
        containers = {s.item.container for s in world.store.items.stream() if s.item.container}
        plan = team_plan(tracker, containers)
        apply_plan(world.store, plan, actor="test", reason="one team takes over the company's methods")
        before = world.run(apply=False)  # the team's choices are not offered yet: named, not written
        assert any("not offered" in note and "team-" in note for note in before.notes), before.notes
        assert not any(p and p.startswith("team-") for w in before.fields for p in w.changes.values())

        (provisioned,) = provision(world.settings, world.store, apply=True)
        assert provisioned.ok, provisioned.error
        created = {(c.kind, c.name) for c in provisioned.changes if c.action == "create"}
        team_methods = {m.id: m.name for team in plan.teams or () for m in team.methods}
        assert created == {("value", TEAM_VALUE[1])} | {("method", name) for name in team_methods.values()}
        offered = world.store.vocabulary.offered(tracker)
        assert TEAM_VALUE[0] in offered["value"]
        assert set(team_methods) <= set(offered["method"])
        assert {v.id for v in plan.values} <= set(offered["value"])  # the company's stay offered
        (again,) = provision(world.settings, world.store, apply=False)
        assert again.changes == []

        done = world.run()
        assert done.ok, (done.error, done.refused[:3])
        assert not any("not offered" in note for note in done.notes), done.notes
        written = {w.item.id: w.changes["method"] for w in done.fields if w.changes.get("method")}
        assert set(written.values()) & set(team_methods), "a rule's team method is inferred and written"
        names = choice_names(plan)["method"]
        held = held_choices(tracker, world.state)
        for item_id, method in written.items():
            assert held[item_id]["method"] == {names[method]}, item_id

        before = sorted(world.store.resolutions.rollup_rows(), key=repr)
        world.sync(full=True)  # the team options read back as what was written: nothing moves
        assert sorted(world.store.resolutions.rollup_rows(), key=repr) == before
        assert world.run(apply=False).fields == []
