"""Jira vocabulary provisioning through the real path: JiraConnector → atlassian-python-api → the
sandbox Jira on 127.0.0.1. The plan's values and methods become options of the ``V2MOM Value`` /
``V2MOM Method`` select fields; renames keep the option id, removals disable, refusals name the step."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from tests.factories import VALID
from v2mom.connectors.base import VocabularyWriter
from v2mom.connectors.jira.client import SELECT_TYPE
from v2mom.connectors.jira.connector import JiraConnector
from v2mom.connectors.jira.datacenter_writes import BY_HAND, read_options
from v2mom.errors import AuthError, FatalError
from v2mom.mapping.plan import Method, Plan, Value, load_plan
from v2mom.mapping.vocabulary import vocabulary_diff
from v2mom.sandbox.jira.app import create_jira_app
from v2mom.sandbox.jira.state import FieldContext, JiraState
from v2mom.sandbox.server import SandboxServer
from v2mom.settings import JiraSettings, SyncSettings
from v2mom.vocabulary import FIELD_NAMES, KINDS, Kind, ManualStep

PLAN = load_plan(VALID)
Site = tuple[JiraState, JiraConnector]


def jira_section(state: JiraState, url: str, token: str | None = None) -> JiraSettings:
    """Settings for the sandbox site in its deployment: email + API token on Cloud, a PAT on Data Center."""
    secret = SecretStr(token or state.api_token)
    if state.datacenter:
        return JiraSettings(deployment="datacenter", url=url, token=secret, jql="project = ONB")
    return JiraSettings(url=url, email=state.account_email, api_token=secret, jql="project = ONB")


def connect(state: JiraState, url: str) -> JiraConnector:
    """The real connector, pointed at the sandbox (no retries: every request is counted once)."""
    return JiraConnector(jira_section(state, url), SyncSettings(max_retries=0))


@pytest.fixture
def site() -> Iterator[Site]:
    """A Jira site without the V2MOM fields (the sandbox's default site has them)."""
    state = JiraState()
    state.fields = [f for f in state.fields if f["name"] not in FIELD_NAMES.values()]
    with SandboxServer(create_jira_app(state)) as url:
        connector = connect(state, url)
        yield state, connector
        connector.close()


def field_of(state: JiraState, kind: Kind) -> dict[str, object]:
    named = [f for f in state.fields if f["name"] == FIELD_NAMES[kind]]
    assert len(named) == 1, f"expected one field named {FIELD_NAMES[kind]}, found {len(named)}"
    return named[0]


def global_context(state: JiraState, kind: Kind) -> FieldContext:
    contexts = [c for c in state.field_contexts(str(field_of(state, kind)["id"])) if c.is_global]
    assert len(contexts) == 1
    return contexts[0]


def offered(state: JiraState, kind: Kind) -> dict[str, tuple[str, bool]]:
    """Option id -> (value, disabled) of the field's global context, as the sandbox keeps it."""
    return {o.id: (o.value, o.disabled) for o in global_context(state, kind).options}


def spent(connector: JiraConnector, before: dict[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in connector.calls.calls.items() if v != before.get(k, 0)}


def provision(
    connector: JiraConnector,
    plan: Plan,
    known: dict[str, dict[str, str]] | None = None,
    *,
    state: JiraState | None = None,
) -> dict[str, dict[str, str]]:
    """One ``v2mom trackers provision --apply``: read, diff, apply; the ids to record.

    On Data Center (``state`` given) the option changes left to an administrator are made in the
    sandbox as an administrator would, and a second run adopts them, as a person would run it.
    """
    read = connector.read_vocabulary()
    diff = vocabulary_diff(plan, read, known)
    made, steps = read.split(diff.changes)
    applied = connector.apply_vocabulary(made)
    manual = [step for step in steps if not step.follows] + [s for s in applied.manual if s.follows]
    if manual:
        assert state is not None, "only Data Center leaves changes to an administrator"
        assert state.datacenter
        administer(state, connector, manual)
        return provision(connector, plan, known)
    recorded: dict[str, dict[str, str]] = {"value": {}, "method": {}}
    for kind in KINDS:
        recorded[kind] = {**(known or {}).get(kind, {}), **diff.matched[kind], **applied.options[kind]}
    return recorded


def administer(state: JiraState, connector: JiraConnector, steps: list[ManualStep]) -> None:
    """What a Jira administrator does with ``steps`` in Jira's administration (no REST API for it)."""
    fields = connector.read_vocabulary().containers
    for step in steps:
        change, field_id = step.change, fields[step.change.kind]
        assert field_id is not None
        if step.follows:  # the field was created: it goes on the edit screens
            state.put_on_screens(field_id)
            continue
        if change.action == "create":
            state.add_field_option(field_id, change.name)
            continue
        assert change.option_id is not None
        option = state.option_of(field_id, change.option_id)
        assert option is not None
        if change.action == "rename":
            option.value = change.name
        else:
            option.disabled = change.action == "disable"


def test_on_data_center_a_refused_default_screen_leaves_the_whole_screens_step_and_a_note(
    dc_site: Site,
) -> None:
    state, connector = dc_site
    state.inject_fault(403, times=2, path_prefix="/rest/api/2/screens/addToDefault")
    read = connector.read_vocabulary()
    made, _ = read.split(vocabulary_diff(PLAN, read).changes)
    screens = connector.apply_vocabulary(made).manual
    assert state.default_screen == set()
    assert [s.task for s in screens] == [
        f"put the field '{c.name}' on the edit screens of the projects in scope" for c in made
    ]
    noted = [w for w in connector.warnings if "Default Screen" in w]
    assert len(noted) == 2, connector.warnings
    assert all(
        "permission denied" in w and "an administrator puts it on the edit screens" in w for w in noted
    )


def test_jira_connector_is_a_vocabulary_writer(site: Site) -> None:
    _, connector = site
    writer: VocabularyWriter = connector
    assert writer.tracker == "jira"


def test_an_empty_site_gets_both_fields_and_every_option_in_few_requests(site: Site) -> None:
    state, connector = site
    current = connector.read_vocabulary()
    assert current.containers == {"value": None, "method": None}
    diff = vocabulary_diff(PLAN, current)
    before = dict(connector.calls.calls)
    applied = connector.apply_vocabulary(diff.changes)

    # One field, one global context and ONE option request per kind.
    assert spent(connector, before) == {
        "field-create": 2,
        "field-context": 2,
        "context-create": 2,
        "option-create": 2,
    }
    wanted_by_kind: dict[Kind, list[tuple[str, str]]] = {
        "value": [(v.id, v.name) for v in PLAN.values],
        "method": [(m.id, m.name) for m in PLAN.methods],
    }
    for kind, wanted in wanted_by_kind.items():
        field = field_of(state, kind)
        assert field["custom"] is True
        assert field["schema"]["custom"] == SELECT_TYPE  # type: ignore[index]
        options = offered(state, kind)
        assert sorted(value for value, _ in options.values()) == sorted(name for _, name in wanted)
        assert not any(disabled for _, disabled in options.values())
        by_name = {value: option_id for option_id, (value, _) in options.items()}
        assert applied.options[kind] == {plan_id: by_name[name] for plan_id, name in wanted}

    again = connector.read_vocabulary()
    assert again.containers == {k: str(field_of(state, k)["id"]) for k in ("value", "method")}
    assert {o.name for o in again.options["value"]} == {v.name for v in PLAN.values}
    assert vocabulary_diff(PLAN, again).changes == []


def test_a_second_run_changes_nothing_and_writes_nothing(site: Site) -> None:
    state, connector = site
    provision(connector, PLAN)
    snapshot = {k: offered(state, k) for k in ("value", "method")}
    before = dict(connector.calls.calls)
    diff = vocabulary_diff(PLAN, connector.read_vocabulary())
    assert diff.changes == []
    assert connector.apply_vocabulary(diff.changes).options == {"value": {}, "method": {}}
    assert set(spent(connector, before)) == {"field", "field-context", "field-option"}  # reads only
    assert {k: offered(state, k) for k in ("value", "method")} == snapshot


def test_a_renamed_value_renames_its_option_keeping_its_id(site: Site) -> None:
    state, connector = site
    known = provision(connector, PLAN)
    first = PLAN.values[0]
    option_id = known["value"][first.id]
    renamed = PLAN.model_copy(
        update={"values": (Value(id=first.id, name="Customers first"), *PLAN.values[1:])}
    )

    diff = vocabulary_diff(renamed, connector.read_vocabulary(), known)
    assert [(c.action, c.option_id) for c in diff.changes] == [("rename", option_id)]
    before = dict(connector.calls.calls)
    applied = connector.apply_vocabulary(diff.changes)
    assert applied.options["value"] == {first.id: option_id}
    assert spent(connector, before) == {"option-update": 1}
    assert offered(state, "value")[option_id] == ("Customers first", False)
    assert len(offered(state, "value")) == len(PLAN.values)  # renamed, not added
    assert vocabulary_diff(renamed, connector.read_vocabulary(), known).changes == []


def test_a_removed_value_disables_its_option_and_its_return_enables_it(site: Site) -> None:
    state, connector = site
    known = provision(connector, PLAN)
    gone = PLAN.values[-1]
    option_id = known["value"][gone.id]
    smaller = PLAN.model_copy(
        update={
            "values": PLAN.values[:-1],
            "methods": tuple(
                Method(id=m.id, name=m.name, values=tuple(v for v in m.values if v != gone.id))
                for m in PLAN.methods
            ),
        }
    )
    provision(connector, smaller, known)
    assert offered(state, "value")[option_id] == (gone.name, True)  # still there, disabled
    read = connector.read_vocabulary()
    assert [o.enabled for o in read.options["value"] if o.option_id == option_id] == [False]
    assert vocabulary_diff(smaller, read, known).changes == []

    back = vocabulary_diff(PLAN, read, known)
    assert [(c.action, c.option_id) for c in back.changes] == [("enable", option_id)]
    assert connector.apply_vocabulary(back.changes).options["value"] == {gone.id: option_id}
    assert offered(state, "value")[option_id] == (gone.name, False)


def test_a_refused_field_creation_names_the_step_and_a_later_run_completes(site: Site) -> None:
    state, connector = site
    diff = vocabulary_diff(PLAN, connector.read_vocabulary())
    state.inject_fault(403, path_prefix="/rest/api/3/field")
    with pytest.raises(AuthError) as refused:
        connector.apply_vocabulary(diff.changes)
    message = str(refused.value)
    assert message.startswith("jira: create field 'V2MOM Value': permission denied")
    assert refused.value.status == 403
    assert not [f for f in state.fields if f["name"] in FIELD_NAMES.values()]  # nothing half-made

    provision(connector, PLAN)
    assert sorted(v for v, _ in offered(state, "value").values()) == sorted(v.name for v in PLAN.values)
    assert sorted(v for v, _ in offered(state, "method").values()) == sorted(m.name for m in PLAN.methods)


def test_a_run_stopped_after_the_field_resumes_from_what_the_tracker_has(site: Site) -> None:
    state, connector = site
    diff = vocabulary_diff(PLAN, connector.read_vocabulary())
    # The field is made and its contexts read; creating the global context is refused.
    state.inject_fault(403, path_prefix="/rest/api/3/field/", after=1)
    with pytest.raises(AuthError, match="create the global context of field 'V2MOM Value'"):
        connector.apply_vocabulary(diff.changes)
    field_id = str(field_of(state, "value")["id"])
    assert state.field_contexts(field_id) == []

    resumed = vocabulary_diff(PLAN, connector.read_vocabulary())
    assert ("value", "create_container") not in {(c.kind, c.action) for c in resumed.changes}
    connector.apply_vocabulary(resumed.changes)
    assert str(field_of(state, "value")["id"]) == field_id  # the same field, not a second one
    assert len(offered(state, "value")) == len(PLAN.values)


def test_a_non_administrator_and_a_locked_field_are_auth_errors_naming_the_step(site: Site) -> None:
    state, connector = site
    state.administrator = False
    with pytest.raises(AuthError, match=r"^jira: create field 'V2MOM Value': permission denied.*administer"):
        provision(connector, PLAN)
    state.administrator = True
    known = provision(connector, PLAN)
    state.locked_fields.add(str(field_of(state, "value")["id"]))
    renamed = PLAN.model_copy(update={"values": (Value(id=PLAN.values[0].id, name="New"), *PLAN.values[1:])})
    with pytest.raises(AuthError, match=r"update 1 option\(s\) of field 'V2MOM Value'.*locked"):
        provision(connector, renamed, known)


def test_options_are_read_page_by_page(site: Site) -> None:
    state, connector = site
    provision(connector, PLAN)
    context = global_context(state, "value")
    state.add_options(context, [(f"Extra {i}", i % 2 == 0) for i in range(5)])
    state.option_page_size = 2  # the site serves at most 2 options a page, whatever is asked
    before = dict(connector.calls.calls)
    read = connector.read_vocabulary()
    assert len(read.options["value"]) == len(PLAN.values) + 5
    assert [o.enabled for o in read.options["value"]][-5:] == [False, True, False, True, False]
    assert spent(connector, before)["field-option"] == 4 + 1  # 7 value options by 2; 2 method options


def test_a_field_of_that_name_that_is_not_a_select_is_refused(site: Site) -> None:
    state, connector = site
    state.create_custom_field(
        "V2MOM Value", "com.atlassian.jira.plugin.system.customfieldtypes:textfield", None
    )
    with pytest.raises(FatalError, match="'V2MOM Value' exists but is not a single-select"):
        connector.read_vocabulary()


# -- Jira Data Center: fields through REST v2, options by an administrator ----------------------


@pytest.fixture
def dc_site() -> Iterator[Site]:
    """A Jira Data Center site without the V2MOM fields."""
    state = JiraState(deployment="datacenter")
    state.fields = [f for f in state.fields if f["name"] not in FIELD_NAMES.values()]
    with SandboxServer(create_jira_app(state)) as url:
        connector = connect(state, url)
        yield state, connector
        connector.close()


def test_on_data_center_the_fields_are_created_and_every_option_is_left_to_an_admin(dc_site: Site) -> None:
    state, connector = dc_site
    read = connector.read_vocabulary()
    assert read.containers == {"value": None, "method": None}
    made, steps = read.split(vocabulary_diff(PLAN, read).changes)
    assert [(c.kind, c.action) for c in made] == [
        ("value", "create_container"),
        ("method", "create_container"),
    ]
    manual = [s for s in steps if not s.follows]
    assert sorted(s.change.name for s in manual if s.change.kind == "value") == sorted(
        v.name for v in PLAN.values
    )
    assert all(s.change.action == "create" for s in manual)
    # The preview already says the new fields go on the edit screens (their ids are not known yet).
    assert [(s.change, s.describe()) for s in steps if s.follows] == [
        (
            c,
            f"put the field '{c.name}' on the edit screens of the projects in scope, by hand: "
            f"Jira administration > Issues > Custom fields > '{c.name}' > Screens",
        )
        for c in made
    ]
    before = dict(connector.calls.calls)
    screens = connector.apply_vocabulary(made).manual
    # Data Center makes the global context itself; each new field goes on the Default Screen.
    assert spent(connector, before) == {"field-create": 2, "screen-add": 2}
    assert [(s.change, s.follows) for s in screens] == [(c, True) for c in made]
    value_field = str(field_of(state, "value")["id"])
    assert state.default_screen == {value_field, str(field_of(state, "method")["id"])}
    assert screens[0].describe() == (
        "put the field 'V2MOM Value' on the edit screens of the projects in scope that do not use the "
        "Default Screen (v2mom-sync put it there), by hand: "
        f"Jira administration > Issues > Custom fields > 'V2MOM Value' ({value_field}) > Screens"
    )
    for kind in KINDS:
        assert field_of(state, kind)["schema"]["custom"] == SELECT_TYPE  # type: ignore[index]
        assert global_context(state, kind).options == []

    again = connector.read_vocabulary()
    assert again.containers["value"] == value_field
    assert (
        f"'V2MOM Value' ({value_field}) > Contexts and default value > Edit Options"
        in again.admin_places["value"]
    )
    before = dict(connector.calls.calls)
    left = connector.apply_vocabulary([s.change for s in manual])  # handed over anyway: nothing is sent
    assert [s.change for s in left.manual] == [s.change for s in manual]
    assert value_field in left.manual[0].where
    assert spent(connector, before) == {}


def test_on_data_center_the_options_an_admin_added_are_adopted_and_a_second_run_changes_nothing(
    dc_site: Site,
) -> None:
    state, connector = dc_site
    known = provision(connector, PLAN, state=state)
    for kind in KINDS:
        by_name = {value: option_id for option_id, (value, _) in offered(state, kind).items()}
        pairs = (
            [(v.id, v.name) for v in PLAN.values]
            if kind == "value"
            else [(m.id, m.name) for m in PLAN.methods]
        )
        assert known[kind] == {plan_id: by_name[name] for plan_id, name in pairs}
    before = dict(connector.calls.calls)
    read = connector.read_vocabulary()
    assert vocabulary_diff(PLAN, read, known).changes == []
    assert spent(connector, before) == {"field": 1, "field-option": 2}  # reads only, one page a field


def test_on_data_center_a_rename_a_removal_and_a_return_are_steps_naming_the_option(dc_site: Site) -> None:
    state, connector = dc_site
    known = provision(connector, PLAN, state=state)
    first, gone = PLAN.values[0], PLAN.values[-1]
    changed = PLAN.model_copy(
        update={
            "values": (Value(id=first.id, name="Customers first"), *PLAN.values[1:-1]),
            "methods": tuple(
                Method(id=m.id, name=m.name, values=tuple(v for v in m.values if v != gone.id))
                for m in PLAN.methods
            ),
        }
    )
    read = connector.read_vocabulary()
    made, manual = read.split(vocabulary_diff(changed, read, known).changes)
    assert made == []
    assert [(s.change.action, s.change.option_id) for s in manual] == [
        ("rename", known["value"][first.id]),
        ("disable", known["value"][gone.id]),
    ]
    assert (
        manual[0].describe().startswith(f"rename value option '{first.name}' to 'Customers first', by hand:")
    )
    administer(state, connector, manual)
    assert offered(state, "value")[known["value"][gone.id]] == (gone.name, True)
    read = connector.read_vocabulary()
    assert vocabulary_diff(changed, read, known).changes == []
    back = vocabulary_diff(PLAN, read, known).changes
    assert ("enable", known["value"][gone.id]) in [(c.action, c.option_id) for c in back]
    assert {c.action for c in back} <= BY_HAND  # none of them can be sent


def test_on_data_center_options_are_read_page_by_page(dc_site: Site) -> None:
    state, connector = dc_site
    provision(connector, PLAN, state=state)
    value_field = str(field_of(state, "value")["id"])
    for n in range(5):
        state.add_field_option(value_field, f"Extra {n}").disabled = n % 2 == 0
    state.option_page_size = 2  # at most 2 options a page, whatever is asked
    before = dict(connector.calls.calls)
    read = connector.read_vocabulary()
    assert [o.name for o in read.options["value"]] == [v.name for v in PLAN.values] + [
        f"Extra {n}" for n in range(5)
    ]
    assert [o.enabled for o in read.options["value"]][-5:] == [False, True, False, True, False]
    # 7 value options by 2: the first page, page 1 again (pages count from 1 there), pages 2 to 4;
    # the 2 method options fit the first page.
    assert spent(connector, before) == {"field": 1, "field-option": 5 + 1}
    assert connector.warnings == []


def test_on_data_center_a_non_administrator_is_refused_naming_the_step(dc_site: Site) -> None:
    state, connector = dc_site
    state.administrator = False
    with pytest.raises(AuthError, match=r"^jira: create field 'V2MOM Value': permission denied.*administer"):
        provision(connector, PLAN, state=state)
    assert not [f for f in state.fields if f["name"] in FIELD_NAMES.values()]


@pytest.mark.parametrize("first_page", [0, 1])
def test_on_data_center_options_are_read_whether_pages_count_from_0_or_1(first_page: int) -> None:
    """The spec does not say where ``page`` starts: every option is read once either way."""
    options = [{"id": 10300 + n, "value": f"Option {n}", "disabled": n == 3} for n in range(7)]
    asked: list[int | None] = []

    class Pages:
        def dc_field_options(
            self, field_id: str, page: int | None, size: int, *, step: str
        ) -> dict[str, object]:
            asked.append(page)
            index = (first_page if page is None else page) - first_page
            return {"options": options[index * 3 : index * 3 + 3], "total": len(options)}

    notes: list[str] = []
    read = read_options(Pages(), lambda fn: fn(), "customfield_10100", "V2MOM Value", notes, page_size=3)  # type: ignore[arg-type]
    assert [o.name for o in read] == [f"Option {n}" for n in range(7)]
    assert [o.enabled for o in read] == [n != 3 for n in range(7)]
    assert notes == []
    assert asked == ([None, 1, 2] if first_page == 0 else [None, 1, 2, 3])
