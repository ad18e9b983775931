"""Linear provisions the vocabulary: the Value / Method label groups and their labels.

Everything goes the real way: LinearConnector -> gql over httpx -> the Linear sandbox on 127.0.0.1,
whose labels keep ids, parents, groups and ``retiredAt`` as Linear does.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

import pytest
from graphql import GraphQLSchema, build_schema, parse, validate

from tests.contracts import contracts_dir
from tests.factories import VALID
from v2mom.connectors.linear import vocabulary as linear_vocabulary
from v2mom.connectors.linear.connector import LinearConnector
from v2mom.connectors.linear.parse import query_names, query_text
from v2mom.errors import AuthError, FatalError, RetriableError
from v2mom.mapping.plan import Plan, Value, load_plan
from v2mom.mapping.vocabulary import vocabulary_diff
from v2mom.sandbox.linear.app import create_linear_app
from v2mom.sandbox.linear.generator import linear_settings
from v2mom.sandbox.linear.state import Label, LinearState
from v2mom.sandbox.server import SandboxServer
from v2mom.settings import SyncSettings
from v2mom.vocabulary import LABEL_GROUPS, AppliedVocabulary, VocabularyChange

PLAN = load_plan(VALID)
DOCUMENTS = ("vocabulary_labels", "label_group_create", "label_create", "label_rename", "label_retire")
DOCUMENTS += ("label_restore",)


@cache
def vendor_schema() -> GraphQLSchema:
    return build_schema((contracts_dir() / "linear" / "schema.graphql").read_text(encoding="utf-8"))


@pytest.fixture
def workspace() -> Iterator[tuple[LinearConnector, LinearState]]:
    """An empty Linear workspace (one team, no labels) served on 127.0.0.1, and a connector to it."""
    state = LinearState()
    state.add_team("ENG", "Engineering")
    with SandboxServer(create_linear_app(state)) as url:
        assert url.startswith("http://127.0.0.1:")
        connector = LinearConnector(
            linear_settings(state, url), SyncSettings(max_retries=2), sleep=lambda _: None
        )
        try:
            yield connector, state
        finally:
            connector.close()


def provision(
    connector: LinearConnector, plan: Plan, known: AppliedVocabulary | None = None
) -> AppliedVocabulary:
    """One ``v2mom trackers provision --apply``: read, diff, apply; the recorded ids, merged."""
    recorded = known.options if known is not None else None
    diff = vocabulary_diff(plan, connector.read_vocabulary(), recorded)
    applied = connector.apply_vocabulary(diff.changes)
    return AppliedVocabulary(
        options={kind: {**diff.matched[kind], **applied.options[kind]} for kind in ("value", "method")}
    )


def group(state: LinearState, name: str) -> Label:
    [found] = [label for label in state.labels.values() if label.is_group and label.name == name]
    return found


def children(state: LinearState, name: str) -> dict[str, Label]:
    parent = group(state, name).id
    return {label.name: label for label in state.labels.values() if label.parent == parent}


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_vocabulary_document_validates_against_linears_schema(name: str) -> None:
    assert name in query_names()
    document = parse(query_text(name))
    assert [e.message for e in validate(vendor_schema(), document)] == []


def test_a_wrong_field_in_a_vocabulary_document_is_caught() -> None:
    broken = query_text("label_retire").replace("retiredAt", "retired")
    assert validate(vendor_schema(), parse(broken))


def test_an_empty_workspace_gets_both_groups_and_every_label(
    workspace: tuple[LinearConnector, LinearState],
) -> None:
    connector, state = workspace
    empty = connector.read_vocabulary()
    assert empty.containers == {"value": None, "method": None}
    diff = vocabulary_diff(PLAN, empty)
    applied = connector.apply_vocabulary(diff.changes)

    for kind, name in LABEL_GROUPS.items():
        made = group(state, name)
        assert made.is_group
        assert made.parent is None
        assert made.retired is None
        wanted = [v.name for v in PLAN.values] if kind == "value" else [m.name for m in PLAN.methods]
        labels = children(state, name)
        assert sorted(labels) == sorted(wanted)
        assert all(not label.is_group and label.retired is None for label in labels.values())
    assert applied.options["value"] == {v.id: children(state, "Value")[v.name].id for v in PLAN.values}
    assert applied.options["method"] == {m.id: children(state, "Method")[m.name].id for m in PLAN.methods}

    again = connector.read_vocabulary()
    assert again.containers == {"value": group(state, "Value").id, "method": group(state, "Method").id}
    second = vocabulary_diff(PLAN, again, applied.options)
    assert second.changes == []
    assert second.matched == applied.options


def test_a_renamed_value_renames_its_label_keeping_its_id(
    workspace: tuple[LinearConnector, LinearState],
) -> None:
    connector, state = workspace
    known = provision(connector, PLAN)
    first = PLAN.values[0]
    label_id = known.options["value"][first.id]
    renamed = PLAN.model_copy(
        update={"values": (Value(id=first.id, name="Customers first"), *PLAN.values[1:])}
    )

    diff = vocabulary_diff(renamed, connector.read_vocabulary(), known.options)
    assert [(c.action, c.option_id) for c in diff.changes] == [("rename", label_id)]
    applied = connector.apply_vocabulary(diff.changes)

    assert applied.options["value"] == {first.id: label_id}
    assert state.labels[label_id].name == "Customers first"
    assert first.name not in children(state, "Value")
    assert len(children(state, "Value")) == len(PLAN.values)  # renamed, not a new label
    assert vocabulary_diff(renamed, connector.read_vocabulary(), known.options).changes == []


def test_a_removed_value_retires_its_label_and_a_returning_one_restores_it(
    workspace: tuple[LinearConnector, LinearState],
) -> None:
    connector, state = workspace
    known = provision(connector, PLAN)
    gone = PLAN.values[-1]
    label_id = known.options["value"][gone.id]
    smaller = PLAN.model_copy(
        update={
            "values": PLAN.values[:-1],
            "methods": tuple(m for m in PLAN.methods if gone.id not in m.values),
            "rules": (),
        }
    )

    diff = vocabulary_diff(smaller, connector.read_vocabulary(), known.options)
    assert ("disable", label_id) in [(c.action, c.option_id) for c in diff.changes]
    connector.apply_vocabulary(diff.changes)
    assert state.labels[label_id].retired is not None  # retired, still there
    assert children(state, "Value")[gone.name].id == label_id
    option = next(o for o in connector.read_vocabulary().options["value"] if o.option_id == label_id)
    assert not option.enabled
    assert vocabulary_diff(smaller, connector.read_vocabulary(), known.options).changes == []

    back = vocabulary_diff(PLAN, connector.read_vocabulary(), known.options)
    assert ("enable", label_id) in [(c.action, c.option_id) for c in back.changes]
    applied = connector.apply_vocabulary(back.changes)
    assert applied.options["value"][gone.id] == label_id
    assert state.labels[label_id].retired is None
    assert vocabulary_diff(PLAN, connector.read_vocabulary(), known.options).changes == []


def test_forbidden_group_creation_names_the_step_and_a_later_run_completes(
    workspace: tuple[LinearConnector, LinearState],
) -> None:
    connector, state = workspace
    state.inject_fault(400, kind="forbidden", path_prefix="/graphql/LabelGroupCreate")
    with pytest.raises(AuthError, match=r"^linear: create label group 'Value': permission denied") as caught:
        provision(connector, PLAN)
    assert caught.value.tracker == "linear"
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None
    assert state.labels == {}

    known = provision(connector, PLAN)
    assert len(known.options["value"]) == len(PLAN.values)
    assert len(known.options["method"]) == len(PLAN.methods)
    assert vocabulary_diff(PLAN, connector.read_vocabulary(), known.options).changes == []


def test_a_refusal_midway_keeps_what_was_applied_and_the_rerun_resumes(
    workspace: tuple[LinearConnector, LinearState],
) -> None:
    connector, state = workspace
    state.inject_fault(400, kind="forbidden", path_prefix="/graphql/LabelCreate", after=1)
    second = PLAN.values[1].name
    with pytest.raises(AuthError, match=rf"^linear: create label '{second}': permission denied"):
        provision(connector, PLAN)
    assert list(children(state, "Value")) == [PLAN.values[0].name]  # the first stayed

    provision(connector, PLAN)
    expected = 2 + len(PLAN.values) + len(PLAN.methods)
    assert len(state.labels) == expected  # nothing created twice


def test_a_duplicate_name_in_a_group_is_refused_naming_the_step(
    workspace: tuple[LinearConnector, LinearState],
) -> None:
    connector, _state = workspace
    provision(connector, PLAN)
    taken = PLAN.values[0].name.upper()  # Linear compares names case-insensitively
    change = VocabularyChange("value", "create", taken, plan_id="another")
    with pytest.raises(FatalError, match=rf"^linear: create label '{taken}': GraphQL error: duplicate label"):
        connector.apply_vocabulary([change])


def test_rate_limits_are_retried_and_named_when_they_last(
    workspace: tuple[LinearConnector, LinearState],
) -> None:
    connector, state = workspace
    state.inject_fault(400, kind="ratelimited", retry_after=0.01, path_prefix="/graphql/LabelCreate")
    known = provision(connector, PLAN)  # one rate limit: retried
    assert len(known.options["value"]) == len(PLAN.values)

    state.inject_fault(400, times=5, kind="ratelimited", retry_after=0.01, path_prefix="/graphql/LabelRename")
    option = known.options["value"][PLAN.values[0].id]
    rename = VocabularyChange("value", "rename", "New", option_id=option, old_name=PLAN.values[0].name)
    with pytest.raises(RetriableError, match=rf"^linear: rename label '{PLAN.values[0].name}' to 'New'"):
        connector.apply_vocabulary([rename])
    assert state.labels[option].name == PLAN.values[0].name


def test_the_read_pages_and_leaves_out_other_labels(
    workspace: tuple[LinearConnector, LinearState], monkeypatch: pytest.MonkeyPatch
) -> None:
    connector, state = workspace
    noise = state.label("value:speed")  # the old convention, outside any group
    state.label("Speed", group="Other")  # another group
    values = state.create_label("Value", is_group=True).id
    methods = state.create_label("Method", is_group=True).id
    deleted = state.create_label("Deleted", parent=values).id
    state.labels[deleted].archived = state.clock()
    kept = state.create_label("Kept", parent=values).id
    for name in ("a", "b", "c", "d", "e"):
        state.create_label(name, parent=methods)
    monkeypatch.setattr(linear_vocabulary, "LABELS_PAGE_SIZE", 2)

    before = connector.calls.calls.get("vocabulary", 0)
    vocabulary = connector.read_vocabulary()
    assert connector.calls.calls.get("vocabulary", 0) - before >= 4  # paged
    assert vocabulary.containers == {"value": values, "method": methods}
    assert [o.option_id for o in vocabulary.options["value"]] == [kept]
    assert [o.name for o in vocabulary.options["method"]] == ["a", "b", "c", "d", "e"]
    assert noise not in {o.option_id for kind in ("value", "method") for o in vocabulary.options[kind]}
