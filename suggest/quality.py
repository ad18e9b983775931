"""How good the suggestions are, measured honestly: on items people tagged that the model did not
see, the share it answers (coverage) and the share of those it gets right (precision, top-1), at
each confidence level; and the share of untagged items it would offer something for."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from v2mom.suggest.model import Example, TextModel, learnable, train

__all__ = ["DEFAULT_FLOOR", "LEVELS", "Level", "Quality", "held_out", "offered_share"]

LEVELS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
DEFAULT_FLOOR = 0.5  # below it, nothing is offered
HELD_OUT = 0.2


@dataclass(frozen=True)
class Level:
    """At one confidence level: the held-out items answered and how many of them rightly."""

    confidence: float
    answered: int
    right: int
    total: int

    @property
    def coverage(self) -> float:
        """The share of held-out items with a suggestion at this level."""
        return self.answered / self.total if self.total else 0.0

    @property
    def precision(self) -> float:
        """The share of those whose first suggestion is the tag a person gave (0 when none)."""
        return self.right / self.answered if self.answered else 0.0


@dataclass(frozen=True)
class Quality:
    """Held-out precision and coverage per confidence level, and what they were measured on."""

    levels: tuple[Level, ...]
    trained_on: int
    held_out: int


def _split(examples: Sequence[Example], seed: int) -> tuple[list[Example], list[Example]]:
    """A fifth of each tag's examples held out (at least one), the rest to train on."""
    by_tag: dict[str, list[Example]] = defaultdict(list)
    for example in examples:
        by_tag[example.tag].append(example)
    rng = random.Random(seed)  # noqa: S311 - a reproducible split, not security
    learn: list[Example] = []
    hold: list[Example] = []
    for tag in sorted(by_tag):
        mine = sorted(by_tag[tag], key=lambda example: example.ref)
        rng.shuffle(mine)
        cut = max(1, round(len(mine) * HELD_OUT))
        hold.extend(mine[:cut])
        learn.extend(mine[cut:])
    return learn, hold


def held_out(examples: Sequence[Example], *, seed: int = 0) -> Quality:
    """Train on four fifths of the learnable ``examples`` and measure on the fifth held out."""
    learn, hold = _split(learnable(examples), seed)
    model = train(learn, seed=seed)
    best = [scored[0] for scored in model.score([example.text for example in hold], top=1)]
    levels = tuple(
        Level(
            confidence=level,
            answered=sum(1 for s in best if s.confidence >= level),
            right=sum(1 for s, e in zip(best, hold, strict=True) if s.confidence >= level and s.tag == e.tag),
            total=len(hold),
        )
        for level in LEVELS
    )
    return Quality(levels=levels, trained_on=len(learn), held_out=len(hold))


def offered_share(model: TextModel, texts: Sequence[str], floor: float = DEFAULT_FLOOR) -> float:
    """The share of ``texts`` (untagged items) given at least one suggestion at ``floor``."""
    if not texts:
        return 0.0
    best = model.score(list(texts), top=1)
    return sum(1 for scored in best if scored[0].confidence >= floor) / len(texts)
