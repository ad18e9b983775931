"""Suggestions as the product serves them, on a store synced from the Jira sandbox: trained and
stored per plan version, retrained when due, offered for untagged items only, never a rejected or
unknown tag again, through the API and the CLI; and the stored model's bytes."""

from __future__ import annotations

import pickle
import zlib
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.suggest.conftest import settings_for
from tests.suggest.test_model import corpus
from v2mom.app.cli import app as cli
from v2mom.app.factory import create_app
from v2mom.app.serve import after_reconcile
from v2mom.mapping.plan import Plan, dump_plan, load_plan
from v2mom.settings import Settings
from v2mom.store.database import Database
from v2mom.store.suggestions import KEEP
from v2mom.suggest.corpus import read_corpus
from v2mom.suggest.model import train
from v2mom.suggest.service import (
    RETRAIN_MIN,
    ModelCache,
    retrain_if_due,
    suggestions_for,
    train_and_store,
    untagged_suggestions,
)
from v2mom.suggest.storage import UnreadableModel, dump_model, load_model


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_model_is_stored_per_plan_version_and_retrained_only_when_due(store: Database, plan: Plan) -> None:
    assert ModelCache().current(store) is None
    first = retrain_if_due(store, plan)
    assert first is not None
    assert first.examples == len(read_corpus(store, plan).examples)
    assert retrain_if_due(store, plan) is None  # nothing new: not due
    stored = store.suggestions.latest(store.plans.current_version(), with_model=False)
    assert stored is not None
    assert (stored.id, stored.examples) == (first.id, first.examples)
    assert stored.quality["levels"][0]["confidence"] == 0.3
    # A new plan version has no model yet: due at once, and the old one is never used for it.
    store.plans.save(load_plan(dump_plan(plan)), actor="test", reason="re-saved")
    assert ModelCache().current(store) is None
    second = retrain_if_due(store, plan)
    assert second is not None
    assert second.id != first.id
    for _ in range(KEEP):
        train_and_store(store, plan)
    assert store.suggestions.count() == KEEP
    assert RETRAIN_MIN > 0


def test_only_untagged_items_get_suggestions_and_a_rejected_one_never_again(
    store: Database, plan: Plan
) -> None:
    train_and_store(store, plan)
    model = ModelCache().current(store)
    assert model is not None
    offered = untagged_suggestions(store, plan, model, ["jira"], floor=0.0)
    assert offered
    item, suggestions = offered[0]
    stored = store.items.by_id("jira", item.item_id)
    assert stored is not None
    assert suggestions_for(store, plan, model, stored, floor=0.0) == suggestions
    tagged = next(
        s
        for s in store.items.stream()
        if (found := store.resolutions.for_item(s.pk)) is not None and "untagged" not in found["flags"]
    )
    assert suggestions_for(store, plan, model, tagged, floor=0.0) == []
    best = suggestions[0]
    store.suggestions.reject("jira", item.item_id, best.tag, "test")
    store.suggestions.reject("jira", item.item_id, best.tag, "test")  # twice is once
    again = suggestions_for(store, plan, model, stored, floor=0.0)
    assert best.tag not in [s.tag for s in again]
    assert len(again) == len(suggestions) - 1
    assert suggestions_for(store, plan, model, stored, floor=1.01) == []


def test_the_api_serves_an_items_suggestions_and_takes_a_rejection(store: Database, plan: Plan) -> None:
    train_and_store(store, plan)
    model = ModelCache().current(store)
    assert model is not None
    item, suggestions = untagged_suggestions(store, plan, model, ["jira"])[0]
    viewer, admin = store.tokens.create("viewer", "pm"), store.tokens.create("admin", "ops")
    with TestClient(create_app(Settings(), store)) as client:
        url = f"/api/items/{item.ref.replace(':', '/')}/suggestions"
        got = client.get(url, headers=auth(viewer))
        assert got.status_code == 200
        answer = got.json()["suggestions"]
        assert answer == [s.as_dict() for s in suggestions]
        assert all((s["value"] is None) != (s["method"] is None) for s in answer)
        assert answer[0]["because"]
        assert client.get("/api/items/jira/NOPE-1/suggestions", headers=auth(viewer)).status_code == 404
        first = {k: v for k, v in answer[0].items() if k in ("value", "method") and v is not None}
        assert client.post(f"{url}/reject", json=first, headers=auth(viewer)).status_code == 403
        rejected = client.post(f"{url}/reject", json=first, headers=auth(admin))
        assert rejected.status_code == 200
        assert first not in [
            {k: v for k, v in s.items() if k in first} for s in rejected.json()["suggestions"]
        ]
        assert client.get(url, headers=auth(viewer)).json() == rejected.json()
        both = client.post(f"{url}/reject", json={"value": "a", "method": "b"}, headers=auth(admin))
        assert both.status_code == 422


def test_the_cli_trains_and_lists(
    database_url: str, plan: Plan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(database_url, tmp_path, monkeypatch)
    runner = CliRunner()
    none_yet = runner.invoke(cli, ["suggest", "-c", str(settings)])
    assert none_yet.exit_code == 1
    assert "v2mom suggest train" in none_yet.output
    trained = runner.invoke(cli, ["suggest", "train", "-c", str(settings)])
    assert trained.exit_code == 0, trained.output
    assert trained.output.startswith("trained suggestion model ")
    listed = runner.invoke(cli, ["suggest", "-c", str(settings), "--min-confidence", "0.6"])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines
    for line in lines:
        ref, tag, confidence, because = line.split("\t")
        assert ref.startswith("jira:")
        assert tag.split(" ")[0] in ("value", "method")
        assert float(confidence) >= 0.6
        assert because


def test_a_model_round_trips_and_bytes_that_are_not_one_are_refused() -> None:
    model = train(corpus(60))
    loaded = load_model(dump_model(model))
    assert loaded.tags == model.tags
    assert loaded.score(["Rightsize reserved instances"]) == model.score(["Rightsize reserved instances"])
    with pytest.raises(UnreadableModel, match="cannot be read"):
        load_model(b"not a model")
    with pytest.raises(UnreadableModel, match="is a dict, not a model"):
        load_model(zlib.compress(pickle.dumps({"a": 1})))


def test_a_reconcile_pass_trains_the_model_that_is_due(store: Database, plan: Plan) -> None:
    assert store.suggestions.latest(store.plans.current_version(), with_model=False) is None
    after_reconcile(store, date(2026, 11, 20))
    trained = store.suggestions.latest(store.plans.current_version(), with_model=False)
    assert trained is not None
    assert trained.examples == len(read_corpus(store, plan).examples)
