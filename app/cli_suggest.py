"""``v2mom suggest evaluate``: how good suggestions for untagged work would be on this store."""

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

suggest_app = typer.Typer(
    no_args_is_help=True, help="Suggestions for untagged work, learned from what people tagged."
)


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
