"""Write-back through the use case, the CLI and the API, over a stateful fake tracker, on both databases.

The fake keeps items the way a tracker does: a write sets the item's ``V2MOM Value`` / ``V2MOM Method``
field to the option's name and moves its ``updated_at``; reading an item back (the webhook echo)
returns exactly that. The real trackers' writers are tested against their sandboxes under
tests/connectors; the loop through them end to end is in tests/sync/test_writeback_sandboxes.py.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.factories import T0, VALID, make_item
from tests.support import auth
from tests.sync.fake_connector import FakeConnector
from v2mom.app.cli import app as cli
from v2mom.app.factory import create_app
from v2mom.clock import utcnow
from v2mom.connectors.base import CallCounter, Page, TagWriter
from v2mom.errors import AuthError, NotFoundError, RetriableError
from v2mom.mapping.plan import load_plan
from v2mom.models import Level, WorkItem
from v2mom.settings import Settings
from v2mom.store.database import Database
from v2mom.store.resolution.run import remap, remap_changed
from v2mom.sync import tagging as tagging_module
from v2mom.sync import writeback as writeback_module
from v2mom.sync.service import run_sync
from v2mom.sync.writeback import WriteBackBusy, WriteBackDisabled, writeback
from v2mom.vocabulary import FIELD_NAMES, Kind, LinkWrite, TagWrite, WriteOutcome

PLAN = load_plan(VALID)
OPTIONS: dict[Kind, dict[str, str]] = {
    "value": {"customer-first": "o-cf", "reliability": "o-rel"},
    "method": {"self-serve-onboarding": "o-sso", "slo-program": "o-slo"},
}
NAMES = {"o-cf": "Customer-first thinking", "o-rel": "Reliability"} | {
    "o-sso": "Launch self-serve onboarding",
    "o-slo": "SLO program",
}
PUBLIC = "https://v2mom.example.com"


class FakeTracker:
    """Jira-like items held by id; writes set the fields by option name and move ``updated_at``."""

    tracker = "jira"

    def __init__(self, items: Sequence[WorkItem]) -> None:
        self.items = {item.id: item for item in items}
        self.calls = CallCounter()
        self.links: dict[str, str] = {}
        self.refuse: set[str] = set()
        self.fail_after: int | None = None
        self.answer_lost = False  # take the writes, then fail as a bulk edit whose retries ran out
        self.tag_writes: list[TagWrite] = []
        self.closed = 0
        self.clock = utcnow()  # a tracker's clock runs with ours (write-back compares the two)

    def tick(self) -> Any:
        self.clock += timedelta(minutes=1)
        return self.clock

    def write_tags(self, writes: Sequence[TagWrite]) -> list[WriteOutcome]:
        if self.fail_after is not None and len(self.tag_writes) >= self.fail_after:
            raise AuthError("the token was revoked", tracker="jira")
        self.calls.add("bulk")
        outcomes = []
        for write in writes:
            if write.item_id in self.refuse:
                outcomes.append(WriteOutcome(write.item_id, f"issue {write.key} does not exist"))
                continue
            self.tag_writes.append(write)
            self.set(write.item_id, {kind: NAMES[o] if o else None for kind, o in write.options.items()})
            outcomes.append(WriteOutcome(write.item_id))
        if self.answer_lost:
            raise RetriableError("bulk edit: HTTP 500 until the retries gave up", tracker="jira", status=500)
        return outcomes

    def touch(self, item_id: str) -> None:
        """A person edits something v2mom-sync does not read (the title): only ``updated_at`` moves."""
        item = self.items[item_id]
        self.items[item_id] = item.model_copy(update={"title": item.title + "!", "updated_at": self.tick()})

    def set(self, item_id: str, names: dict[Kind, str | None]) -> None:
        """A change in the tracker (ours or a person's): the fields and ``updated_at`` move."""
        item = self.items[item_id]
        fields = dict(item.custom_fields)
        for kind, name in names.items():
            if name is None:
                fields.pop(FIELD_NAMES[kind], None)
            else:
                fields[FIELD_NAMES[kind]] = (name,)
        self.items[item_id] = item.model_copy(update={"custom_fields": fields, "updated_at": self.tick()})

    def write_links(self, links: Sequence[LinkWrite]) -> list[WriteOutcome]:
        self.calls.add("link", len(links))
        self.links.update((link.item_id, link.url) for link in links)
        return [WriteOutcome(link.item_id) for link in links]

    def get_item(self, item_id: str) -> WorkItem:
        if item_id not in self.items:
            raise NotFoundError(f"no issue {item_id}", tracker="jira")
        return self.items[item_id]

    def close(self) -> None:
        self.closed += 1


def forest() -> list[WorkItem]:
    """An epic tagged by a person (method), its stories, a person-set value, a rule-tagged item, an
    untagged one."""
    return [
        make_item("E1", level=Level.EPIC, labels=("method:self-serve-onboarding",), points=0),
        make_item("S1", parent_id="E1", points=3),
        make_item("S2", parent_id="E1", points=5),
        make_item("S3", parent_id="E1", points=2, custom_fields={"V2MOM Value": ("Reliability",)}),
        make_item("S4", components=("Billing",), points=8),
        make_item("S5", points=1),
    ]


def settings(*, enabled: bool = True, links: bool = True, public_url: str | None = PUBLIC) -> Settings:
    jira = {
        "url": "http://127.0.0.1:9",
        "email": "a@example.com",
        "api_token": "t",
        "jql": "project = ONB",
        "write_back": {"enabled": enabled, "links": links},
    }
    return Settings(public_url=public_url, trackers={"jira": jira})  # type: ignore[arg-type]


@pytest.fixture
def world(store: Database) -> tuple[Database, FakeTracker]:
    store.plans.save(PLAN, actor="test")
    fake = FakeTracker(forest())
    store.items.upsert(list(fake.items.values()))
    remap(store, PLAN)
    store.vocabulary.record("jira", OPTIONS)
    return store, fake


def run(store: Database, fake: FakeTracker, *, apply: bool, **kw: Any) -> writeback_module.TrackerWriteback:
    (result,) = writeback(kw.pop("settings", settings()), store, apply=apply, writers=lambda _: fake, **kw)
    return result


def echo(store: Database, fake: FakeTracker, ids: Sequence[str] | None = None) -> None:
    """What the webhooks do after a write: read the items back from the tracker, store, re-resolve."""
    chosen = list(ids) if ids is not None else list(fake.items)
    store.items.upsert([fake.get_item(i) for i in chosen])
    remap_changed(store, {"jira": set(chosen)})


def planned(result: writeback_module.TrackerWriteback) -> dict[str, dict[Kind, str | None]]:
    return {w.item.key: dict(w.changes) for w in result.fields}


def report(store: Database) -> list[dict[str, Any]]:
    return sorted(store.resolutions.rollup_rows(), key=repr)


def test_the_fake_is_a_tag_writer() -> None:
    assert isinstance(FakeTracker([]), TagWriter)


def test_preview_names_exactly_the_inferred_writes_and_the_run_makes_them(
    world: tuple[Database, FakeTracker],
) -> None:
    store, fake = world
    preview = run(store, fake, apply=False)
    expected: dict[str, dict[Kind, str | None]] = {
        "ONB-E1": {"value": "customer-first"},  # its method is a person's; its value is inferred
        "ONB-S1": {"value": "customer-first", "method": "self-serve-onboarding"},
        "ONB-S2": {"value": "customer-first", "method": "self-serve-onboarding"},
        "ONB-S4": {"method": "slo-program"},  # two values resolve: no value is written
    }
    assert planned(preview) == expected  # S3 (a person's value) and S5 (untagged) are not touched
    assert preview.values == {"customer-first": 3}
    assert preview.methods == {
        "self-serve-onboarding": 2,
        "slo-program": 1,
    }
    assert {link.key for link in preview.links} == set(expected)
    assert fake.tag_writes == []
    assert store.writebacks.records("jira") == {}

    done = run(store, fake, apply=True)
    assert done.written == len(preview.fields) == 4
    assert done.linked == 4
    assert done.ok
    assert {w.key: w.options for w in fake.tag_writes} == {
        key: {k: OPTIONS[k][p] for k, p in changes.items() if p} for key, changes in expected.items()
    }
    assert fake.links["S1"] == f"{PUBLIC}/items/jira/ONB-S1"
    assert fake.items["S3"].custom_fields == {"V2MOM Value": ("Reliability",)}
    assert run(store, fake, apply=False).fields == []  # a second run writes nothing
    assert fake.closed == 1  # the run closed the connection it opened; a preview opens none
    assert run(store, fake, apply=True).written == 0


def test_the_echo_of_a_write_changes_nothing_and_writes_nothing(world: tuple[Database, FakeTracker]) -> None:
    store, fake = world
    run(store, fake, apply=True)
    before, writes = report(store), len(fake.tag_writes)
    echo(store, fake)
    stored = store.items.by_id("jira", "S1")
    assert stored is not None
    assert "V2MOM Value" not in stored.item.custom_fields
    assert report(store) == before
    again = run(store, fake, apply=True)
    assert again.fields == []
    assert again.links == []
    assert len(fake.tag_writes) == writes


def test_an_epic_retag_moves_its_childrens_written_values_and_a_person_set_field_survives(
    world: tuple[Database, FakeTracker],
) -> None:
    store, fake = world
    run(store, fake, apply=True)
    echo(store, fake)
    fake.items["E1"] = fake.items["E1"].model_copy(
        update={"labels": ("method:slo-program",), "updated_at": fake.tick()}
    )
    fake.set("S2", {"method": "SLO program"})  # a person picks another method for S2 themselves
    echo(store, fake, ["E1", "S2"])
    moved = run(store, fake, apply=True)
    assert planned(moved) == {
        "ONB-E1": {"value": None},  # slo-program serves two values: what we wrote no longer holds
        "ONB-S1": {"value": None, "method": "slo-program"},
        "ONB-S2": {"value": None},  # its method is now a person's: never overwritten
    }
    assert fake.items["S1"].custom_fields == {"V2MOM Method": ("SLO program",)}
    assert fake.items["S2"].custom_fields == {"V2MOM Method": ("SLO program",)}
    assert fake.items["S3"].custom_fields == {"V2MOM Value": ("Reliability",)}
    echo(store, fake)
    assert run(store, fake, apply=False).fields == []


def test_a_reading_older_than_the_write_is_not_a_persons_tag(world: tuple[Database, FakeTracker]) -> None:
    store, fake = world
    run(store, fake, apply=True)
    echo(store, fake)
    fake.set("S1", {"method": "SLO program"})  # a later page of an older read, carrying another value
    late = fake.items["S1"].model_copy(update={"updated_at": T0 + timedelta(hours=1)})
    store.items.upsert([late.model_copy(update={"updated_at": T0 + timedelta(hours=20)})])
    stored = store.items.by_id("jira", "S1")
    assert stored is not None
    assert "V2MOM Method" not in stored.item.custom_fields


def test_a_refused_item_is_named_and_not_recorded_and_the_next_run_retries_it(
    world: tuple[Database, FakeTracker],
) -> None:
    store, fake = world
    fake.refuse = {"S2"}
    result = run(store, fake, apply=True)
    assert result.refused == ["ONB-S2: issue ONB-S2 does not exist"]
    assert not result.ok
    assert result.written == 3
    assert "S2" not in store.writebacks.records("jira")
    fake.refuse = set()
    assert set(planned(run(store, fake, apply=True))) == {"ONB-S2"}


def test_an_interrupted_run_resumes_with_what_is_missing(
    world: tuple[Database, FakeTracker], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, fake = world
    monkeypatch.setattr(writeback_module, "BATCH", 1)
    fake.fail_after = 2
    failed = run(store, fake, apply=True)
    assert failed.error is not None
    assert "revoked" in failed.error
    assert failed.written == 2
    records = store.writebacks.records("jira")
    assert sum(r.confirmed for r in records.values()) == 2  # the two batches the tracker took
    assert len(records) == 3  # and the one cut off, unconfirmed: sent again next run
    fake.fail_after = None
    resumed = run(store, fake, apply=True)
    assert resumed.written == 2
    assert resumed.ok
    assert run(store, fake, apply=False).fields == []


def test_write_back_is_off_until_enabled_and_links_need_a_public_url(
    world: tuple[Database, FakeTracker],
) -> None:
    store, fake = world
    with pytest.raises(WriteBackDisabled, match=r"trackers.<tracker>.write_back.enabled"):
        run(store, fake, apply=True, settings=settings(enabled=False))
    assert fake.tag_writes == []
    result = run(store, fake, apply=True, settings=settings(public_url=None))
    assert result.linked == 0
    assert fake.links == {}
    assert "set public_url" in result.notes[0]
    assert run(store, fake, apply=False, settings=settings(links=False)).links == []


def test_a_renamed_option_still_reads_as_ours(world: tuple[Database, FakeTracker]) -> None:
    store, fake = world
    run(store, fake, apply=True)
    store.writebacks.relabel("jira", "value", "customer-first", "Customers first")
    fake.set("S1", {"value": "Customers first"})  # provisioning renamed the option in the tracker
    echo(store, fake, ["S1"])
    stored = store.items.by_id("jira", "S1")
    assert stored is not None
    assert "V2MOM Value" not in stored.item.custom_fields


def write_settings_file(path: Path, store_url: str, *, enabled: bool) -> Path:
    path.write_text(
        f"database_url: {store_url}\npublic_url: {PUBLIC}\ntrackers:\n  jira:\n    url: http://127.0.0.1:9\n"
        "    email: a@example.com\n    api_token: t\n    jql: project = ONB\n"
        f"    write_back: {{enabled: {str(enabled).lower()}}}\n"
    )
    path.chmod(0o600)
    return path


def test_cli_previews_applies_and_exits_2_when_disabled(
    world: tuple[Database, FakeTracker], database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _store, fake = world
    monkeypatch.setattr(writeback_module, "writer_for", lambda _settings: lambda _tracker: fake)
    runner = CliRunner()
    off = write_settings_file(tmp_path / "off.yaml", database_url, enabled=False)
    disabled = runner.invoke(cli, ["writeback", "--apply", "-c", str(off)])
    assert disabled.exit_code == 2
    assert "write_back.enabled" in disabled.output
    on = write_settings_file(tmp_path / "on.yaml", database_url, enabled=True)
    preview = runner.invoke(cli, ["writeback", "-c", str(on)])
    assert preview.exit_code == 0, preview.output
    assert "jira: would write 4 item(s); values: customer-first 3" in preview.output
    assert fake.tag_writes == []
    fake.refuse = {"S4"}
    applied = runner.invoke(cli, ["writeback", "--apply", "-c", str(on)])
    assert applied.exit_code == 1
    assert "refused ONB-S4" in applied.output
    assert "writeback: wrote 3 item(s) in 1 tracker(s), 1 refused" in applied.output
    (run_entry,) = _store.audit.entries(kind="writeback")  # the preview and the disabled run: none
    assert run_entry.actor.startswith("cli")
    assert run_entry.summary == "write-back jira: wrote 3, linked 3, 1 refused"
    (jira,) = run_entry.details["trackers"]
    assert (jira["written"], jira["refused_count"]) == (3, 1)
    assert jira["refused"][0].startswith("ONB-S4: ")


def test_api_preview_run_and_tag_from_the_dashboard(
    world: tuple[Database, FakeTracker], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, fake = world
    monkeypatch.setattr(writeback_module, "writer_for", lambda _settings: lambda _tracker: fake)
    monkeypatch.setattr(tagging_module, "build_connector", lambda _tracker, _settings: fake)
    admin, viewer = store.tokens.create("admin", "pm-admin"), store.tokens.create("viewer", "v")
    with TestClient(create_app(settings(), store)) as client:
        preview = client.get("/api/admin/writeback", headers=auth(admin)).json()
        assert preview["trackers"][0]["items"] == 4
        assert preview["trackers"][0]["applied"] is False
        assert client.post("/api/admin/writeback", headers=auth(viewer)).status_code == 403
        done = client.post("/api/admin/writeback", headers=auth(admin)).json()
        assert done["ok"]
        assert done["trackers"][0]["written"] == 4

        untagged = store.items.by_id("jira", "S5")
        assert untagged is not None
        bad = client.post("/api/items/jira/ONB-S5/tags", json={"value": "nope"}, headers=auth(admin))
        assert bad.status_code == 422
        assert "'nope' is not a value id" in bad.text
        both = client.post(
            "/api/items/jira/ONB-S5/tags", json={"value": "reliability", "method": "x"}, headers=auth(admin)
        )
        assert both.status_code == 422
        denied = client.post(
            "/api/items/jira/ONB-S5/tags", json={"value": "reliability"}, headers=auth(viewer)
        )
        assert denied.status_code == 403
        assert "S5" not in {w.item_id for w in fake.tag_writes}
        tagged = client.post(
            "/api/items/jira/ONB-S5/tags", json={"value": "reliability"}, headers=auth(admin)
        )
        assert tagged.status_code == 200, tagged.text
        assert tagged.json()["resolution"]["values"] == {"reliability": 1.0}
        assert fake.items["S5"].custom_fields == {"V2MOM Value": ("Reliability",)}  # the tracker holds it
        missing = client.post(
            "/api/items/jira/ONB-404/tags", json={"value": "reliability"}, headers=auth(admin)
        )
        assert missing.status_code == 404
        # One audit: the dashboard's tag (who, the item, the tag) and the run (its counts), newest first.
        audit = client.get("/api/admin/audit?limit=2", headers=auth(admin)).json()["entries"]
    tag, run_entry = audit
    assert (tag["kind"], tag["actor"]) == ("tag", "token:pm-admin")
    assert tag["details"] == {
        "item": {"tracker": "jira", "id": "S5", "key": "ONB-S5"},
        "tag": {"kind": "value", "id": "reliability", "name": "Reliability"},
        "before": [],
    }
    assert tag["summary"] == "tagged jira:ONB-S5 with value reliability (Reliability)"
    assert (run_entry["kind"], run_entry["actor"]) == ("writeback", "token:pm-admin")
    (written,) = run_entry["details"]["trackers"]
    assert (written["tracker"], written["written"], written["refused_count"], written["error"]) == (
        "jira",
        4,
        0,
        None,
    )
    assert run_entry["summary"] == "write-back jira: wrote 4, linked 4"
    log = store.writebacks.tag_log()
    assert log[0]["actor"] == "token:pm-admin"
    assert log[0]["key"] == "ONB-S5"
    assert log[0]["plan_id"] == "reliability"
    before = report(store)
    echo(store, fake, ["S5"])  # the webhook echo of the tag: a person's own tag, nothing moves
    assert report(store) == before
    assert "ONB-S5" not in planned(run(store, fake, apply=False))


def test_tagging_needs_write_back_enabled(world: tuple[Database, FakeTracker]) -> None:
    store, _fake = world
    admin = store.tokens.create("admin", "a")
    with TestClient(create_app(settings(enabled=False), store)) as client:
        answer = client.post(
            "/api/items/jira/ONB-S5/tags", json={"value": "reliability"}, headers=auth(admin)
        )
    assert answer.status_code == 409
    assert "write_back.enabled" in answer.text


# -- writes that fail, are cut short or whose answer is lost -------------------------------------------

RETARGETED = load_plan(VALID.replace("    values: [customer-first]\n", "    values: [reliability]\n"))


def retarget(store: Database) -> None:
    """A plan change: self-serve-onboarding now serves reliability, so E1's stories move there."""
    store.plans.save(RETARGETED, actor="test")
    remap(store, RETARGETED)


def written_then_retargeted(store: Database, fake: FakeTracker) -> list[dict[str, Any]]:
    """A write-back the tracker took and echoed, then a plan change that moves E1, S1 and S2 to
    another value; the report as the plan change left it (what it must stay through any failure)."""
    run(store, fake, apply=True)
    echo(store, fake)
    retarget(store)
    return report(store)


def own_values(store: Database, item_id: str) -> tuple[str, ...]:
    stored = store.items.by_id("jira", item_id)
    assert stored is not None
    return stored.item.custom_fields.get(FIELD_NAMES["value"], ())


def test_a_failed_write_keeps_the_old_value_ours_and_the_next_run_sends_it_again(
    world: tuple[Database, FakeTracker],
) -> None:
    store, fake = world
    expected = written_then_retargeted(store, fake)
    fake.fail_after = len(fake.tag_writes)  # the bulk edit fails before the tracker took anything
    failed = run(store, fake, apply=True)
    assert failed.error is not None
    assert fake.items["S1"].custom_fields[FIELD_NAMES["value"]] == ("Customer-first thinking",)
    fake.touch("S1")  # someone edits S1: a sync reads the old value v2mom-sync wrote
    echo(store, fake, ["S1"])
    assert own_values(store, "S1") == ()  # still ours, not a person's tag
    assert report(store) == expected
    assert planned(run(store, fake, apply=False))["ONB-S1"]["value"] == "reliability"

    fake.fail_after = None
    resumed = run(store, fake, apply=True)
    assert resumed.ok, resumed.refused
    assert resumed.settled == 3  # E1, S1 and S2 were pending; each still held its old value
    assert fake.items["S1"].custom_fields[FIELD_NAMES["value"]] == ("Reliability",)
    assert all(record.confirmed for record in store.writebacks.records("jira").values())
    echo(store, fake)
    assert report(store) == expected
    assert run(store, fake, apply=False).fields == []


def test_a_write_the_tracker_took_before_the_answer_was_lost_is_settled_as_written(
    world: tuple[Database, FakeTracker],
) -> None:
    store, fake = world
    expected = written_then_retargeted(store, fake)
    fake.answer_lost = True
    failed = run(store, fake, apply=True)
    assert failed.error is not None
    assert fake.items["S1"].custom_fields[FIELD_NAMES["value"]] == ("Reliability",)
    assert not store.writebacks.records("jira")["S1"].confirmed
    fake.touch("S2")
    echo(store, fake, ["S2"])  # a reading of one item settles its record
    assert store.writebacks.records("jira")["S2"].confirmed
    assert own_values(store, "S2") == ()
    assert report(store) == expected

    fake.answer_lost = False
    writes = len(fake.tag_writes)
    resumed = run(store, fake, apply=True)
    assert resumed.ok
    assert resumed.settled == 2  # E1 and S1: read back, the tracker holds the new value
    assert (resumed.written, len(fake.tag_writes)) == (0, writes)  # nothing is sent twice
    assert all(record.confirmed for record in store.writebacks.records("jira").values())
    assert report(store) == expected


def test_a_persons_choice_made_while_a_write_was_pending_is_theirs(
    world: tuple[Database, FakeTracker],
) -> None:
    store, fake = world
    written_then_retargeted(store, fake)
    fake.fail_after = len(fake.tag_writes)
    run(store, fake, apply=True)
    fake.set("S2", {"value": "Growth"})  # a person picks neither the old nor the new value meanwhile
    fake.fail_after = None
    resumed = run(store, fake, apply=True)
    assert "ONB-S2" not in {w.item.key for w in resumed.fields if "value" in w.changes}
    assert own_values(store, "S2") == ("Growth",)  # the person's own tag, never overwritten
    assert fake.items["S2"].custom_fields[FIELD_NAMES["value"]] == ("Growth",)
    record = store.writebacks.records("jira")["S2"]
    assert record.confirmed
    assert "value" not in record.labels


def test_a_reading_of_an_item_whose_write_was_not_taken_keeps_a_persons_choice(
    world: tuple[Database, FakeTracker],
) -> None:
    store, fake = world
    run(store, fake, apply=True)
    echo(store, fake)
    fake.set("S2", {"method": "SLO program"})  # a person's method: two values, so ours is to be cleared
    echo(store, fake, ["S2"])
    expected = report(store)
    fake.fail_after = len(fake.tag_writes)  # nothing is taken: S2 keeps its fields and its time
    assert run(store, fake, apply=True).error is not None
    assert store.writebacks.records("jira")["S2"].pending == ("value",)
    echo(store, fake, ["S2"])  # read again unchanged (a sync's overlap, a reconcile): no newer than the write
    stored = store.items.by_id("jira", "S2")
    assert stored is not None
    assert stored.item.custom_fields.get(FIELD_NAMES["method"]) == ("SLO program",)  # still the person's
    assert report(store) == expected


def test_links_are_recorded_per_call_so_a_cut_run_resends_only_what_is_missing(
    world: tuple[Database, FakeTracker], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, fake = world
    monkeypatch.setattr(writeback_module, "LINK_BATCH", 1)
    sent: list[str] = []
    take = fake.write_links

    def cut_after_two(links: Sequence[LinkWrite]) -> list[WriteOutcome]:
        if len(sent) == 2:
            raise RetriableError("remote link: connection reset", tracker="jira")
        sent.extend(link.item_id for link in links)
        return take(links)

    monkeypatch.setattr(fake, "write_links", cut_after_two)
    assert run(store, fake, apply=True).error is not None
    linked = {i for i, r in store.writebacks.records("jira").items() if r.link_url}
    assert linked == set(sent)
    assert len(linked) == 2
    resumed = run(store, fake, apply=True)
    assert {link.item_id for link in resumed.links} == {"E1", "S1", "S2", "S4"} - linked


def test_one_write_back_run_per_tracker_at_a_time(
    world: tuple[Database, FakeTracker], monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path
) -> None:
    store, fake = world
    monkeypatch.setattr(writeback_module, "writer_for", lambda _settings: lambda _tracker: fake)
    admin = store.tokens.create("admin", "a")
    on = write_settings_file(tmp_path / "on.yaml", database_url, enabled=True)
    with store.locks.exclusive("writeback-jira") as held:  # another process's run is under way
        assert held
        cli_run = CliRunner().invoke(cli, ["writeback", "--apply", "-c", str(on)])
        assert cli_run.exit_code == 1
        assert "a write-back of jira is already running" in cli_run.output
        with pytest.raises(WriteBackBusy, match="write-back of jira is already running"):
            run(store, fake, apply=True)
        assert run(store, fake, apply=False).fields  # a preview writes nothing: it needs no lock
        with TestClient(create_app(settings(), store)) as client:
            busy = client.post("/api/admin/writeback", headers=auth(admin))
        assert busy.status_code == 409
        assert "already running" in busy.json()["detail"]
    assert fake.tag_writes == []
    assert store.writebacks.records("jira") == {}
    assert run(store, fake, apply=True).written == 4


def test_a_tag_the_tracker_took_is_stored_and_audited_when_its_read_back_fails(
    world: tuple[Database, FakeTracker], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, fake = world
    monkeypatch.setattr(tagging_module, "build_connector", lambda _tracker, _settings: fake)

    def unreachable(item_id: str) -> WorkItem:
        raise RetriableError("connection reset while reading the issue back", tracker="jira")

    monkeypatch.setattr(fake, "get_item", unreachable)
    admin = store.tokens.create("admin", "pm-admin")
    with TestClient(create_app(settings(), store)) as client:
        tagged = client.post(
            "/api/items/jira/ONB-S5/tags", json={"value": "reliability"}, headers=auth(admin)
        )
    assert tagged.status_code == 200, tagged.text
    body = tagged.json()
    assert body["read_back"] == "pending"
    assert "connection reset" in body["read_back_error"]
    assert body["resolution"]["values"] == {"reliability": 1.0}  # the report moved at once
    assert fake.items["S5"].custom_fields == {"V2MOM Value": ("Reliability",)}
    (entry,) = store.writebacks.tag_log()
    assert (entry["key"], entry["plan_id"], entry["actor"]) == ("ONB-S5", "reliability", "token:pm-admin")
    before = report(store)
    monkeypatch.undo()
    echo(store, fake, ["S5"])  # the webhook echo brings the tracker's copy: the same tag, nothing moves
    assert report(store) == before
    assert "ONB-S5" not in planned(run(store, fake, apply=False))


class ListsNothing(FakeConnector):
    """The tracker as a sync sees it when its listing shows none of the items (the cursor is past them)."""

    def iter_pages(self, since: datetime | None) -> Iterator[Page]:
        self.since_seen.append(since)
        yield from ()


def test_every_sync_reads_back_the_writes_a_run_left_unconfirmed(world: tuple[Database, FakeTracker]) -> None:
    store, fake = world
    run(store, fake, apply=True)
    lister = FakeConnector([])
    lister.items = fake.items  # the same tracker, as a sync reads it
    (first,) = run_sync(settings(), store, connectors={"jira": lister})
    assert first.ok, first.error
    retarget(store)
    expected = report(store)
    fake.answer_lost = True
    run(store, fake, apply=True)
    pending = {i for i, r in store.writebacks.records("jira").items() if not r.confirmed}
    assert pending == {"E1", "S1", "S2"}
    reader = ListsNothing([])
    reader.items = fake.items
    (synced,) = run_sync(settings(), store, connectors={"jira": reader})
    assert synced.ok, synced.error
    assert synced.kind == "incremental"
    assert all(r.confirmed for r in store.writebacks.records("jira").values())
    assert synced.changed_ids >= pending
    assert report(store) == expected
    fake.answer_lost = False
    assert run(store, fake, apply=False).fields == []


TEAM_PLAN = load_plan(
    VALID
    + """
teams:
  - id: payments
    name: Payments
    methods:
      - {id: smart-retries, name: Smart retries, serves: {slo-program: 1}}
"""
)


def test_a_team_method_is_tagged_from_the_dashboard_once_it_is_offered(
    world: tuple[Database, FakeTracker], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, fake = world
    store.plans.save(TEAM_PLAN, actor="test")
    remap(store, TEAM_PLAN)
    store.vocabulary.record(
        "jira", {"value": OPTIONS["value"], "method": {**OPTIONS["method"], "smart-retries": "o-sr"}}
    )
    monkeypatch.setitem(NAMES, "o-sr", "Smart retries")
    monkeypatch.setattr(tagging_module, "build_connector", lambda _tracker, _settings: fake)
    admin = store.tokens.create("admin", "pm-admin")
    with TestClient(create_app(settings(), store)) as client:
        tagged = client.post(
            "/api/items/jira/ONB-S5/tags", json={"method": "smart-retries"}, headers=auth(admin)
        )
    assert tagged.status_code == 200, tagged.text
    assert fake.items["S5"].custom_fields == {"V2MOM Method": ("Smart retries",)}
    assert store.writebacks.tag_log()[0]["plan_id"] == "smart-retries"
