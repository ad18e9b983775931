"""``v2mom suggest``: suggestions for untagged work — list them, train a model now, evaluate one."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from v2mom.app.cli_common import ConfigOpt, err, exit_on_errors, open_store
from v2mom.mapping.plan import Plan
from v2mom.models import TRACKERS, TrackerName
from v2mom.settings import load_settings
from v2mom.suggest.corpus import read_corpus
from v2mom.suggest.model import NotTrainable, train
from v2mom.suggest.quality import DEFAULT_FLOOR, Quality, held_out, offered_share
from v2mom.suggest.service import ModelCache, Suggestion, train_and_store, untagged_suggestions

suggest_app = typer.Typer(
    invoke_without_command=True,
    help="Suggestions for untagged work, learned on this machine from what people tagged.",
)
NO_MODEL = (
    "no suggestion model trained under the current plan yet: run `v2mom suggest train`"
    " (`v2mom serve` trains one after its next reconcile pass)"
)
TrackerOpt = Annotated[TrackerName | None, typer.Option("--tracker", help="Only this tracker's items.")]


def quality_lines(quality: Quality, untagged: int, offered: float) -> list[str]:
    """The held-out table (one line per confidence level) and the share of untagged items offered
    something at the default floor."""
    lines = [
        f"held out {quality.held_out} of {quality.held_out + quality.trained_on} people-tagged items"
        f" (trained on {quality.trained_on})",
        "confidence\tcoverage\tprecision (top 1)",
    ]
    for level in quality.levels:
        mark = "  <- default floor" if level.confidence == DEFAULT_FLOOR else ""
        lines.append(f">= {level.confidence:.1f}\t{level.coverage:.1%}\t{level.precision:.1%}{mark}")
    lines.append(f"untagged items with a suggestion at {DEFAULT_FLOOR:.1f}: {offered:.1%} of {untagged}")
    return lines


def suggestion_line(ref: str, suggestion: Suggestion) -> str:
    """One suggestion, one tab-separated line: the item, the tag, the confidence, why."""
    tag = f"method {suggestion.method}" if suggestion.method else f"value {suggestion.value}"
    return f"{ref}\t{tag}\t{suggestion.confidence:.2f}\t{'; '.join(suggestion.because)}"


@suggest_app.callback()
def suggest_list(
    ctx: typer.Context,
    tracker: TrackerOpt = None,
    min_confidence: Annotated[
        float, typer.Option("--min-confidence", min=0.0, max=1.0, help="Only suggestions at least this sure.")
    ] = DEFAULT_FLOOR,
    config: ConfigOpt = None,
) -> None:
    """Print each untagged item's suggestions (best first), from the model trained under the current
    plan. Exits 1 when there is none yet."""
    if ctx.invoked_subcommand is not None:
        return
    with exit_on_errors():
        store = open_store(load_settings(config))
        plan = store.plans.current() or Plan()
        model = ModelCache().current(store)
        if model is None:
            err.print(NO_MODEL, markup=False)
            raise typer.Exit(1)
        trackers = [tracker] if tracker else TRACKERS
        for item, offered in untagged_suggestions(store, plan, model, trackers, floor=min_confidence):
            for suggestion in offered:
                sys.stdout.write(suggestion_line(item.ref, suggestion) + "\n")


@suggest_app.command("train")
def suggest_train(config: ConfigOpt = None) -> None:
    """Train a model on every people-tagged item now and store it for the current plan (the worker
    does it by itself when tags or the plan change). Exits 1 when the store cannot train one."""
    with exit_on_errors():
        store = open_store(load_settings(config))
        plan = store.plans.current() or Plan()
        try:
            trained = train_and_store(store, plan)
        except NotTrainable as exc:
            err.print(f"no suggestions: {exc}", markup=False)
            raise typer.Exit(1) from None
        sys.stdout.write(
            f"trained suggestion model {trained.id} on {trained.examples} people-tagged items"
            f" ({len(trained.tags)} values and methods)\n"
        )


@suggest_app.command("evaluate")
def suggest_evaluate(
    tracker: Annotated[
        TrackerName | None, typer.Option("--tracker", help="Only this tracker's items.")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Hold out a fifth of the people-tagged items, train on the rest, and print precision and
    coverage at each confidence level; then the share of untagged items a model of every
    people-tagged item would offer a suggestion for. Exits 1 when the store cannot train one."""
    with exit_on_errors():
        store = open_store(load_settings(config))
        plan = store.plans.current() or Plan()
        corpus = read_corpus(store, plan, [tracker] if tracker else TRACKERS)
        try:
            quality = held_out(corpus.examples)
            model = train(corpus.examples)
        except NotTrainable as exc:
            err.print(f"no suggestions: {exc}", markup=False)
            raise typer.Exit(1) from None
        texts = [item.text for item in corpus.untagged]
        for line in quality_lines(quality, len(texts), offered_share(model, texts)):
            sys.stdout.write(line + "\n")  # tab-separated as written (the console expands tabs)
