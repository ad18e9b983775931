"""Provisioning the vocabulary through the use case, the CLI and the admin API, over a stateful fake.

The fake tracker keeps options by id the way the real ones do (a rename keeps the id, a disabled
option stays); the real trackers' writers are tested against their sandboxes under tests/connectors.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Protocol, runtime_checkable

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from typer.testing import CliRunner

from tests.factories import VALID
from tests.support import auth
from v2mom.app.cli import app as cli
from v2mom.app.factory import create_app
from v2mom.connectors import registry
from v2mom.errors import AuthError, ConfigError
from v2mom.mapping.plan import Value, load_plan
from v2mom.settings import JiraSettings, Settings, TrackersSettings
from v2mom.store.database import Database
from v2mom.sync import provision as provision_module
from v2mom.sync.provision import provision
from v2mom.vocabulary import (
    FIELD_NAMES,
    KINDS,
    AppliedVocabulary,
    Kind,
    ManualStep,
    TrackerOption,
    TrackerVocabulary,
    VocabularyChange,
)

PLAN = load_plan(VALID)


class FakeTracker:
    """A tracker's choices kept by id; ``refuse`` makes the next apply fail after ``after`` changes."""

    tracker = "jira"

    def __init__(self) -> None:
        self.containers: dict[Kind, str | None] = {"value": None, "method": None}
        self.options: dict[Kind, dict[str, TrackerOption]] = {"value": {}, "method": {}}
        self.ids = (f"o{n}" for n in itertools.count(1))
        self.writes = 0
        self.refuse_after: int | None = None
        self.closed = 0
        self.warnings: list[str] = []

    def read_vocabulary(self) -> TrackerVocabulary:
        return TrackerVocabulary(
            containers=dict(self.containers),
            options={kind: tuple(self.options[kind].values()) for kind in KINDS},
        )

    def apply_vocabulary(self, changes: list[VocabularyChange]) -> AppliedVocabulary:
        applied = AppliedVocabulary()
        for change in changes:
            if self.refuse_after is not None and self.writes >= self.refuse_after:
                raise AuthError(f"{change.describe()}: no permission to administer fields", tracker="jira")
            self.writes += 1
            if change.action == "create_container":
                self.containers[change.kind] = FIELD_NAMES[change.kind]
                continue
            if change.action == "create":
                option = TrackerOption(next(self.ids), change.name)
            else:
                assert change.option_id is not None
                old = self.options[change.kind][change.option_id]
                enabled = {"disable": False, "enable": True}.get(change.action, old.enabled)
                option = TrackerOption(old.option_id, change.name, enabled)
            self.options[change.kind][option.option_id] = option
            if change.plan_id is not None:
                applied.options[change.kind][change.plan_id] = option.option_id
        return applied

    def close(self) -> None:
        self.closed += 1

    def names(self, kind: Kind) -> dict[str, tuple[str, bool]]:
        return {o.option_id: (o.name, o.enabled) for o in self.options[kind].values()}


def jira_settings(database_url: str = "sqlite://") -> Settings:
    return Settings(
        database_url=database_url,
        trackers=TrackersSettings(
            jira=JiraSettings(
                url="http://127.0.0.1:9", email="a@example.com", api_token=SecretStr("t"), jql="p"
            )
        ),
    )


@pytest.fixture
def fake() -> FakeTracker:
    return FakeTracker()


@pytest.fixture
def planned(store: Database) -> Database:
    store.plans.save(PLAN, actor="test")
    return store


def test_from_an_empty_tracker_apply_creates_everything_and_a_second_run_changes_nothing(
    planned: Database, fake: FakeTracker
) -> None:
    preview = provision(jira_settings(), planned, apply=False, writers=lambda _: fake)
    assert fake.writes == 0
    assert [c.action for c in preview[0].changes].count("create") == len(PLAN.values) + len(PLAN.methods)
    (done,) = provision(jira_settings(), planned, apply=True, writers=lambda _: fake)
    assert done.ok
    assert done.applied
    assert done.changes == preview[0].changes
    assert sorted(name for name, _ in fake.names("value").values()) == sorted(v.name for v in PLAN.values)
    (again,) = provision(jira_settings(), planned, apply=True, writers=lambda _: fake)
    assert again.changes == []
    assert fake.closed == 3  # each run closes the connection it opened


def test_a_renamed_value_renames_its_option_and_a_removed_one_is_disabled(
    planned: Database, fake: FakeTracker
) -> None:
    provision(jira_settings(), planned, apply=True, writers=lambda _: fake)
    before = fake.names("value")
    first, *rest = PLAN.values
    renamed = PLAN.model_copy(update={"values": (Value(id=first.id, name="Customers, first"), *rest)})
    planned.plans.save(renamed, actor="test")
    (result,) = provision(jira_settings(), planned, apply=True, writers=lambda _: fake)
    assert [c.action for c in result.changes] == ["rename"]
    after = fake.names("value")
    assert after.keys() == before.keys()  # the same option, by id
    assert ("Customers, first", True) in after.values()
    # A removed value (and the methods' references to it) disables its option; it is never deleted.
    gone = rest[-1]
    methods = tuple(
        m.model_copy(update={"values": tuple(v for v in m.values if v != gone.id), "weights": None})
        for m in PLAN.methods
    )
    planned.plans.save(
        renamed.model_copy(update={"values": renamed.values[:-1], "methods": methods}), actor="t"
    )
    (removed,) = provision(jira_settings(), planned, apply=True, writers=lambda _: fake)
    assert [(c.action, c.name) for c in removed.changes] == [("disable", gone.name)]
    assert fake.names("value").keys() == before.keys()
    assert (gone.name, False) in fake.names("value").values()


def test_a_refusal_is_named_records_nothing_and_a_later_run_resumes(
    planned: Database, fake: FakeTracker
) -> None:
    fake.refuse_after = 3
    (failed,) = provision(jira_settings(), planned, apply=True, writers=lambda _: fake)
    assert not failed.ok
    assert not failed.applied
    assert failed.error is not None
    assert "no permission to administer fields" in failed.error
    assert planned.vocabulary.offered("jira") == {"value": {}, "method": {}}
    made = fake.names("value")
    fake.refuse_after = None
    (resumed,) = provision(jira_settings(), planned, apply=True, writers=lambda _: fake)
    assert resumed.ok
    assert made.items() <= fake.names("value").items()  # what the failed run made is adopted, not duplicated
    assert len(fake.names("value")) == len(PLAN.values)
    assert provision(jira_settings(), planned, apply=False, writers=lambda _: fake)[0].changes == []


def test_without_a_plan_or_with_an_unconfigured_tracker_nothing_runs(
    store: Database, fake: FakeTracker
) -> None:
    with pytest.raises(Exception, match="no plan is stored"):
        provision(jira_settings(), store, apply=True, writers=lambda _: fake)
    store.plans.save(PLAN, actor="test")
    with pytest.raises(Exception, match="--tracker: 'linear' is not configured"):
        provision(jira_settings(), store, apply=True, tracker="linear", writers=lambda _: fake)
    assert fake.writes == 0


@pytest.fixture
def patched(monkeypatch: pytest.MonkeyPatch, fake: FakeTracker) -> FakeTracker:
    monkeypatch.setattr(registry, "build_connector", lambda tracker, settings: fake)
    return fake


def test_a_connector_without_the_capability_is_refused_by_name_and_closed(
    monkeypatch: pytest.MonkeyPatch, fake: FakeTracker
) -> None:
    @runtime_checkable
    class Teleporter(Protocol):
        def teleport(self) -> None: ...

    monkeypatch.setattr(registry, "build_connector", lambda tracker, settings: fake)
    assert provision_module.writer_for(jira_settings())("jira") is fake  # it can provision
    with pytest.raises(ConfigError, match=r"trackers\.jira: teleporting is not supported for jira yet"):
        registry.connector_with("jira", jira_settings(), Teleporter, "teleporting")
    assert fake.closed == 1


def test_the_cli_prints_the_diff_then_applies_it_and_exits_1_on_a_refusal(
    planned: Database, patched: FakeTracker, tmp_path: Path, database_url: str
) -> None:
    config = tmp_path / "v2mom.yaml"
    config.write_text(
        f"database_url: {database_url}\ntrackers:\n  jira:\n    url: http://127.0.0.1:9\n"
        "    email: a@example.com\n    api_token: t\n    jql: p\n"
    )
    config.chmod(0o600)
    runner = CliRunner()
    preview = runner.invoke(cli, ["trackers", "provision", "-c", str(config)])
    assert preview.exit_code == 0, preview.stderr
    assert "jira: would create the value field 'V2MOM Value'" in preview.stdout
    assert patched.writes == 0
    applied = runner.invoke(cli, ["trackers", "provision", "--apply", "-c", str(config)])
    assert applied.exit_code == 0, applied.stderr
    assert f"jira: create value option '{PLAN.values[0].name}'" in applied.stdout
    again = runner.invoke(cli, ["trackers", "provision", "--apply", "-c", str(config)])
    assert again.stdout == "jira: no change\n"
    planned.plans.save(
        PLAN.model_copy(update={"values": (Value(id=PLAN.values[0].id, name="X"), *PLAN.values[1:])}),
        actor="t",
    )
    patched.refuse_after = 0
    refused = runner.invoke(cli, ["trackers", "provision", "--apply", "-c", str(config)])
    assert refused.exit_code == 1
    assert "jira: FAILED:" in refused.stderr
    assert "no permission" in refused.stderr
    failed, unchanged, first = planned.audit.entries(kind="provision")  # three applied runs, no preview
    assert failed.actor.startswith("cli")
    assert failed.summary.startswith("provisioned jira: failed (")
    assert "no permission" in failed.details["trackers"][0]["error"]
    assert unchanged.details["trackers"][0]["changes"] == []
    assert first.details["trackers"][0]["changes"][0] == "create the value field 'V2MOM Value'"


def test_the_admin_api_previews_and_applies_and_viewers_cannot(
    planned: Database, patched: FakeTracker
) -> None:
    admin, viewer = planned.tokens.create("admin", "a"), planned.tokens.create("viewer", "v")
    with TestClient(create_app(jira_settings(), planned)) as client:
        assert client.get("/api/admin/trackers/provision", headers=auth(viewer)).status_code == 403
        assert client.post("/api/admin/trackers/provision", headers=auth(viewer)).status_code == 403
        preview = client.get("/api/admin/trackers/provision", headers=auth(admin)).json()
        assert preview["ok"] is True
        (jira,) = preview["trackers"]
        assert jira["applied"] is False
        assert jira["changes"][0]["description"] == "create the value field 'V2MOM Value'"
        assert patched.writes == 0
        applied = client.post("/api/admin/trackers/provision", headers=auth(admin)).json()
        assert applied["trackers"][0]["applied"] is True
        assert applied["trackers"][0]["changes"] == jira["changes"]
        again = client.get("/api/admin/trackers/provision", headers=auth(admin)).json()
        assert again["trackers"][0]["changes"] == []
        unknown = client.get("/api/admin/trackers/provision?tracker=linear", headers=auth(admin))
        assert unknown.status_code == 422
        assert unknown.json()["detail"][0]["loc"] == ["query", "tracker"]
        audit = client.get("/api/admin/audit?kind=provision", headers=auth(admin)).json()
    (entry,) = audit["entries"]  # the applied run only, not the previews
    assert (entry["kind"], entry["actor"]) == ("provision", "token:a")
    assert entry["details"]["trackers"] == [
        {
            "tracker": "jira",
            "applied": True,
            "changes": [change["description"] for change in jira["changes"]],
            "error": None,
        }
    ]
    assert entry["summary"] == f"provisioned jira: {len(jira['changes'])} change(s)"


# -- a tracker whose API cannot change options (Jira Data Center) -------------------------------

BY_HAND = frozenset({"create", "rename", "disable", "enable"})


class DataCenterFake(FakeTracker):
    """Jira Data Center as the use case sees it: fields are made through the API, options only by an
    administrator (``admin_adds`` / ``admin_sets``); an option change sent to it fails the test."""

    def read_vocabulary(self) -> TrackerVocabulary:
        read = super().read_vocabulary()
        places: dict[Kind, str] = {kind: f"the options of '{FIELD_NAMES[kind]}'" for kind in KINDS}
        screens = {kind: (f"put {FIELD_NAMES[kind]} on screens", "the screens") for kind in KINDS}
        return TrackerVocabulary(
            read.containers, read.options, by_hand=BY_HAND, admin_places=places, after_create=screens
        )

    def apply_vocabulary(self, changes: list[VocabularyChange]) -> AppliedVocabulary:
        assert {c.action for c in changes} <= {"create_container"}, "an option change was sent"
        applied = super().apply_vocabulary(changes)
        screens = tuple(
            ManualStep(c, f"the screens of {c.name}", task=f"put {c.name} on screens") for c in changes
        )
        return AppliedVocabulary(applied.options, manual=screens)  # a field made must go on screens

    def admin_adds(self, kind: Kind, name: str) -> str:
        option = TrackerOption(next(self.ids), name)
        self.options[kind][option.option_id] = option
        return option.option_id

    def admin_sets(
        self, kind: Kind, option_id: str, *, name: str | None = None, enabled: bool = True
    ) -> None:
        old = self.options[kind][option_id]
        self.options[kind][option_id] = TrackerOption(option_id, name or old.name, enabled)


@pytest.fixture
def datacenter() -> DataCenterFake:
    return DataCenterFake()


def test_option_changes_an_api_cannot_make_are_admin_steps_never_sent_nor_a_failure(
    planned: Database, datacenter: DataCenterFake
) -> None:
    (preview,) = provision(jira_settings(), planned, apply=False, writers=lambda _: datacenter)
    assert [c.action for c in preview.changes] == ["create_container", "create_container"]
    wanted = {
        (k, n) for k in KINDS for n in (v.name for v in (PLAN.values if k == "value" else PLAN.methods))
    }
    options = [s for s in preview.manual if not s.follows]
    assert {(s.change.kind, s.change.name) for s in options} == wanted
    assert all(s.change.action == "create" for s in options)
    assert options[0].describe().endswith("by hand: the options of 'V2MOM Value'")
    assert [s.describe() for s in preview.manual if s.follows] == [  # after the fields are made
        "put V2MOM Value on screens, by hand: the screens",
        "put V2MOM Method on screens, by hand: the screens",
    ]

    (done,) = provision(jira_settings(), planned, apply=True, writers=lambda _: datacenter)
    assert (done.ok, done.applied, datacenter.writes) == (True, True, 2)  # the fields only
    assert done.changes == preview.changes  # made, though a step follows each
    assert done.manual[: len(options)] == options
    assert [s.describe() for s in done.manual[len(options) :]] == [  # the writer's words, once each
        "put V2MOM Value on screens, by hand: the screens of V2MOM Value",
        "put V2MOM Method on screens, by hand: the screens of V2MOM Method",
    ]
    assert planned.vocabulary.offered("jira") == {"value": {}, "method": {}}  # nothing writable yet
    (entry,) = planned.audit.entries(kind="provision")
    assert entry.summary == f"provisioned jira: 2 change(s), {len(wanted) + 2} left to an administrator"
    assert entry.details["trackers"][0]["manual"] == [s.describe() for s in done.manual]

    added = {(k, n): datacenter.admin_adds(k, n) for k, n in sorted(wanted)}  # the administrator's turn
    (adopted,) = provision(jira_settings(), planned, apply=True, writers=lambda _: datacenter)
    assert (adopted.changes, adopted.manual) == ([], [])
    names = {"value": {v.id: v.name for v in PLAN.values}, "method": {m.id: m.name for m in PLAN.methods}}
    assert planned.vocabulary.offered("jira") == {
        k: {pid: added[(k, name)] for pid, name in names[k].items()} for k in KINDS
    }


def test_a_disabled_option_waiting_for_an_admin_is_not_recorded_a_pending_rename_is(
    planned: Database, datacenter: DataCenterFake
) -> None:
    provision(jira_settings(), planned, apply=True, writers=lambda _: datacenter)
    ids = {v.id: datacenter.admin_adds("value", v.name) for v in PLAN.values}
    for method in PLAN.methods:
        datacenter.admin_adds("method", method.name)
    provision(jira_settings(), planned, apply=True, writers=lambda _: datacenter)
    first, second = PLAN.values[0], PLAN.values[1]
    datacenter.admin_sets("value", ids[second.id], enabled=False)  # someone switched it off in Jira
    planned.plans.save(
        PLAN.model_copy(update={"values": (Value(id=first.id, name="Customers, first"), *PLAN.values[1:])}),
        actor="t",
    )
    (result,) = provision(jira_settings(), planned, apply=True, writers=lambda _: datacenter)
    assert result.ok
    assert result.changes == []
    assert sorted((s.change.action, s.change.option_id) for s in result.manual) == [
        ("enable", ids[second.id]),
        ("rename", ids[first.id]),
    ]
    offered = planned.vocabulary.offered("jira")["value"]
    assert offered == {first.id: ids[first.id]}  # the renamed option still takes writes; the disabled not
    assert datacenter.names("value")[ids[first.id]] == (first.name, True)  # nothing was renamed


def test_the_cli_and_the_api_name_the_admin_steps_and_the_run_is_not_a_failure(
    planned: Database, monkeypatch: pytest.MonkeyPatch, datacenter: DataCenterFake, tmp_path: Path
) -> None:
    monkeypatch.setattr(registry, "build_connector", lambda tracker, settings: datacenter)
    config = tmp_path / "v2mom.yaml"
    config.write_text(
        "database_url: sqlite://\ntrackers:\n  jira:\n    url: http://127.0.0.1:9\n"
        "    email: a@example.com\n    api_token: t\n    jql: p\n"
    )
    config.chmod(0o600)
    monkeypatch.setattr("v2mom.app.cli_trackers.open_store", lambda settings: planned)
    refused = "put field 'V2MOM Value' on the Default Screen: permission denied"
    datacenter.warnings.append(refused)  # what the connector met and went on past
    applied = CliRunner().invoke(cli, ["trackers", "provision", "--apply", "-c", str(config)])
    assert applied.exit_code == 0, applied.stderr
    lines = applied.stdout.splitlines()
    assert lines[0] == "jira: create the value field 'V2MOM Value'"
    assert f"jira: warning: {refused}" in lines
    value = PLAN.values[0].name
    assert (
        f"jira: for an administrator: create value option '{value}', by hand: the options of"
        in applied.stdout
    )
    steps = len(PLAN.values) + len(PLAN.methods) + 2  # every option, and both fields onto the screens
    assert lines[-1].startswith(f"jira: {steps} step(s) left to an administrator")
    admin = planned.tokens.create("admin", "a")
    with TestClient(create_app(jira_settings(), planned)) as client:
        document = client.get("/api/admin/trackers/provision", headers=auth(admin)).json()
        audit = client.get("/api/admin/audit?kind=provision", headers=auth(admin)).json()
    (entry,) = audit["entries"]  # the CLI's applied run
    assert entry["details"]["trackers"][0]["manual"][0].startswith(
        f"create value option '{PLAN.values[0].name}'"
    )
    assert entry["details"]["trackers"][0]["warnings"] == [refused]
    assert document["ok"] is True
    (jira,) = document["trackers"]
    assert jira["warnings"] == [refused]
    assert jira["changes"] == []
    assert jira["manual"][0]["change"]["action"] == "create"
    assert jira["manual"][0]["where"] == "the options of 'V2MOM Value'"
    assert jira["manual"][0]["description"].startswith(f"create value option '{value}'")
