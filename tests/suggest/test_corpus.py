"""What suggestions learn from, read from a store synced from the Jira sandbox: only the tags people
set, never what rules, epics or projects inferred; and ``v2mom suggest evaluate`` over it."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.suggest.conftest import settings_for
from v2mom.app.cli import app as cli
from v2mom.mapping.plan import Plan
from v2mom.mapping.resolver import Resolver, conventions
from v2mom.store.database import Database
from v2mom.suggest.corpus import read_corpus


def test_examples_are_what_people_tagged_and_untagged_what_nothing_tagged(
    store: Database, plan: Plan
) -> None:
    found = read_corpus(store, plan, ["jira"])
    stored = {s.item.ref: s.item for s in store.items.stream() if s.item.tracker == "jira"}
    resolver = Resolver(plan)
    assert found.examples
    for example in found.examples:
        tags = resolver.person_tags(stored[example.ref])
        kind, _, ref = example.tag.partition(":")
        assert ref in (tags.methods if kind == "method" else tags.values)
        assert example.text.split("\n")[0] == " ".join(stored[example.ref].title.split())
    # Work tagged only by a rule (the PLAT project's, the Billing component's) is not a person's tag.
    inferred = [
        ref
        for ref, item in stored.items()
        if (item.container == "PLAT" or "Billing" in item.components) and not list(conventions(item))
    ]
    assert inferred
    assert not set(inferred) & {example.ref for example in found.examples}
    untagged = {r.stored.item.ref for r in store.items.resolved("jira") if r.untagged}
    assert {item.ref for item in found.untagged} == untagged - {example.ref for example in found.examples}
    assert untagged


def test_evaluate_prints_precision_and_coverage_per_level(
    database_url: str, plan: Plan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(database_url, tmp_path, monkeypatch)
    got = CliRunner().invoke(cli, ["suggest", "evaluate", "-c", str(settings)])
    assert got.exit_code == 0, got.output
    lines = got.output.splitlines()
    assert lines[0].startswith("held out ")
    assert [line.split("\t")[0] for line in lines[2:9]] == [f">= {n / 10:.1f}" for n in range(3, 10)]
    assert "<- default floor" in lines[4]
    assert lines[9].startswith("untagged items with a suggestion at 0.5: ")


def test_evaluate_says_why_when_nothing_can_be_learned(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(database_url, tmp_path, monkeypatch)
    got = CliRunner().invoke(cli, ["suggest", "evaluate", "-c", str(settings)])
    assert got.exit_code == 1
    assert "no suggestions: suggestions need at least two values or methods" in got.output
