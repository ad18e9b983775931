"""Asana provisions the vocabulary through the real path: connector -> asana SDK -> sandbox.

The values and methods become enum options of the workspace custom fields ``V2MOM Value`` and
``V2MOM Method``, which are added to every configured project; renames keep the option's gid,
removals disable it, and a refusal names its step and leaves a state a later run completes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.factories import VALID
from v2mom.connectors.asana.connector import AsanaConnector
from v2mom.errors import AuthError
from v2mom.mapping.plan import Method, Plan, Value, load_plan
from v2mom.mapping.vocabulary import vocabulary_diff
from v2mom.sandbox.asana.app import create_asana_app
from v2mom.sandbox.asana.generator import asana_settings
from v2mom.sandbox.asana.state import AsanaState
from v2mom.sandbox.server import SandboxServer
from v2mom.settings import SyncSettings
from v2mom.vocabulary import FIELD_NAMES, AppliedVocabulary, Kind

PLAN = load_plan(VALID)


@dataclass
class Tracker:
    url: str
    state: AsanaState
    projects: list[str]

    def connector(self) -> AsanaConnector:
        """A fresh connector without retries; pages of two records, so listings page."""
        settings = asana_settings(self.state, self.url, self.projects, page_size=2)
        return AsanaConnector(settings, SyncSettings(max_retries=0), sleep=lambda _s: None)

    def provision(self, plan: Plan, known: AppliedVocabulary | None = None) -> AppliedVocabulary:
        """One ``v2mom trackers provision --apply``: read, diff, apply; the option ids recorded."""
        connector = self.connector()
        try:
            diff = vocabulary_diff(plan, connector.read_vocabulary(), known.options if known else None)
            applied = connector.apply_vocabulary(diff.changes)
        finally:
            connector.close()
        return AppliedVocabulary(
            {kind: {**diff.matched[kind], **applied.options[kind]} for kind in ("value", "method")}
        )

    def pending(self, plan: Plan, known: AppliedVocabulary | None = None) -> list[str]:
        """What a preview would list now."""
        connector = self.connector()
        try:
            diff = vocabulary_diff(plan, connector.read_vocabulary(), known.options if known else None)
        finally:
            connector.close()
        return [change.describe() for change in diff.changes]

    def options(self, kind: Kind) -> list[tuple[str, str, bool]]:
        """(gid, name, enabled) of the options of the ``kind`` field, in order."""
        field = self.state.custom_fields[FIELD_NAMES[kind]]
        return [(o.gid, o.name, o.enabled) for o in field.enum_options]

    def fields_on(self, project: str) -> set[str]:
        """The names of the custom fields added to ``project``."""
        by_gid = {f.gid: f.name for f in self.state.custom_fields.values()}
        return {by_gid[s.field_gid] for s in self.state.field_settings[project]}


@pytest.fixture
def tracker() -> Iterator[Tracker]:
    state = AsanaState(default_fields=False)
    for name in ("Priority", "Stage", "Team Bet"):  # unrelated fields: the listing takes pages
        state.create_custom_field(name, "enum")
    projects = [state.add_project("Platform"), state.add_project("Growth"), state.add_project("Mobile")]
    with SandboxServer(create_asana_app(state)) as url:
        yield Tracker(url, state, projects)


def test_an_empty_tracker_gets_both_fields_every_option_and_every_project(tracker: Tracker) -> None:
    assert tracker.pending(PLAN)[:1] == ["create the value field 'V2MOM Value'"]
    applied = tracker.provision(PLAN)
    for field_name in FIELD_NAMES.values():
        field = tracker.state.custom_fields[field_name]
        assert field.type == "enum"
        assert all(field_name in tracker.fields_on(p) for p in tracker.projects)
    value_options = tracker.options("value")
    assert [(name, on) for _gid, name, on in value_options] == [(v.name, True) for v in PLAN.values]
    assert [name for _gid, name, _on in tracker.options("method")] == [m.name for m in PLAN.methods]
    assert applied.options["value"] == {
        v.id: gid for v, (gid, _n, _e) in zip(PLAN.values, value_options, strict=True)
    }
    assert set(applied.options["method"]) == {m.id for m in PLAN.methods}
    assert tracker.pending(PLAN, applied) == []
    assert tracker.pending(PLAN) == []  # without recorded ids too: the options are found by name
    again = tracker.provision(PLAN, applied)
    assert again == applied
    assert len(tracker.options("value")) == len(PLAN.values)  # nothing created twice


def test_a_renamed_value_renames_its_option_in_place(tracker: Tracker) -> None:
    applied = tracker.provision(PLAN)
    first = PLAN.values[0]
    gid = applied.options["value"][first.id]
    renamed = PLAN.model_copy(
        update={"values": (Value(id=first.id, name="Customers above all"), *PLAN.values[1:])}
    )
    assert tracker.pending(renamed, applied) == [
        f"rename value option '{first.name}' to 'Customers above all'"
    ]
    after = tracker.provision(renamed, applied)
    assert after.options["value"][first.id] == gid
    assert (gid, "Customers above all", True) in tracker.options("value")
    assert len(tracker.options("value")) == len(PLAN.values)
    assert tracker.pending(renamed, after) == []


def test_a_removed_value_disables_its_option_and_a_returning_one_enables_it(tracker: Tracker) -> None:
    applied = tracker.provision(PLAN)
    gone = PLAN.values[-1]
    smaller = PLAN.model_copy(
        update={
            "values": PLAN.values[:-1],
            "methods": tuple(
                Method(id=m.id, name=m.name, values=tuple(v for v in m.values if v != gone.id))
                for m in PLAN.methods
            ),
        }
    )
    after = tracker.provision(smaller, applied)
    gid = applied.options["value"][gone.id]
    assert (gid, gone.name, False) in tracker.options("value")  # disabled, still there
    assert gone.id not in after.options["value"]
    assert tracker.pending(smaller, after) == []
    back = tracker.provision(PLAN, after)
    assert back.options["value"][gone.id] == gid
    assert (gid, gone.name, True) in tracker.options("value")


def test_a_refused_field_creation_names_its_step_and_a_later_run_completes(tracker: Tracker) -> None:
    tracker.state.inject_fault(403, path_prefix="/api/1.0/custom_fields")
    with pytest.raises(AuthError) as refused:
        tracker.provision(PLAN)
    assert str(refused.value).startswith("asana: create custom field 'V2MOM Value': permission denied")
    assert refused.value.status == 403
    assert FIELD_NAMES["value"] not in tracker.state.custom_fields
    applied = tracker.provision(PLAN)
    assert set(applied.options["value"]) == {v.id for v in PLAN.values}
    assert tracker.pending(PLAN, applied) == []
    assert all(FIELD_NAMES["method"] in tracker.fields_on(p) for p in tracker.projects)


def test_a_field_locked_by_another_app_refuses_new_options_by_name(tracker: Tracker) -> None:
    applied = tracker.provision(PLAN)
    tracker.state.custom_fields[FIELD_NAMES["method"]].locked = True
    more = PLAN.model_copy(update={"methods": (*PLAN.methods, Method(id="pricing", name="New pricing"))})
    with pytest.raises(AuthError, match=r"create enum option 'New pricing': permission denied \(Locked"):
        tracker.provision(more, applied)
    tracker.state.custom_fields[FIELD_NAMES["method"]].locked = False
    after = tracker.provision(more, applied)
    assert "pricing" in after.options["method"]


def test_an_existing_field_joins_the_projects_that_lack_it(tracker: Tracker) -> None:
    field = tracker.state.create_custom_field(FIELD_NAMES["value"], "enum")
    for value in PLAN.values:
        tracker.state.add_enum_option(field.gid, value.name)
    tracker.state.add_field_setting(tracker.projects[0], field.gid)
    applied = tracker.provision(PLAN)
    assert applied.options["value"] == {
        v.id: o.gid
        for v, o in zip(
            PLAN.values, tracker.state.custom_fields[FIELD_NAMES["value"]].enum_options, strict=True
        )
    }
    assert all(FIELD_NAMES["value"] in tracker.fields_on(p) for p in tracker.projects)
    assert [s.field_gid for s in tracker.state.field_settings[tracker.projects[0]]].count(field.gid) == 1


def test_a_refused_project_setting_is_resumed_and_a_new_project_gets_the_fields(tracker: Tracker) -> None:
    last = tracker.projects[-1]
    tracker.state.inject_fault(403, path_prefix=f"/api/1.0/projects/{last}/addCustomFieldSetting")
    with pytest.raises(
        AuthError, match=f"add custom field 'V2MOM Value' to project {last}: permission denied"
    ):
        tracker.provision(PLAN)
    assert FIELD_NAMES["value"] not in tracker.fields_on(last)
    applied = tracker.provision(PLAN)  # the fields exist now: only the options and the settings remain
    assert set(applied.options["method"]) == {m.id for m in PLAN.methods}
    assert {FIELD_NAMES["value"], FIELD_NAMES["method"]} <= tracker.fields_on(last)
    tracker.projects.append(tracker.state.add_project("Later"))
    assert tracker.pending(PLAN, applied) == []  # the diff has nothing, applying still adds the fields
    tracker.provision(PLAN, applied)
    assert {FIELD_NAMES["value"], FIELD_NAMES["method"]} <= tracker.fields_on(tracker.projects[-1])
