"""Suggestions: training on 100,000 people-tagged items, and one item's suggestions.

    python -m bench.suggest [--items 100000] [--scores 500]

The items are written as the sandboxes write theirs (:mod:`v2mom.sandbox.texts`: a title, a
description of a few sentences, some of them chores that say nothing of their topic), each tagged
with its topic. Training runs in a process of its own, so its peak memory is its own.

Floors, measured in the same run on the same texts: fitting the two TF-IDF vectorizers alone (what
any text model must do to read the words), and transforming one text with them. Printed: training
time and its ratio to that floor, training's peak memory, and one item's scoring p95 (the model's
score with its reasons: what ``GET /api/items/{tracker}/{key}/suggestions`` spends beyond two
indexed reads) and its ratio to transforming it.
Targets: training <= 60 s and <= 1 GB; one item's suggestions <= 50 ms p95.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import statistics
import time
from typing import Any

from bench.common import peak_rss_mb, verdict
from v2mom.sandbox.texts import TOPICS, write_text
from v2mom.suggest.model import Example, train, vectorizer

TRAIN_SECONDS, TRAIN_MB, SCORE_MS = 60.0, 1024.0, 50.0


def examples(count: int, seed: int = 1) -> list[Example]:
    """``count`` items about the sandboxes' topics, each tagged with its topic."""
    rng = random.Random(seed)
    out = []
    for n in range(count):
        topic = rng.choice(sorted(TOPICS))
        text = write_text(rng, topic)
        out.append(Example(f"jira:B-{n}", f"{text.title}\n{text.description}", topic))
    return out


def _train(count: int, answer: Any) -> None:
    corpus = examples(count)
    started = time.perf_counter()
    model = train(corpus)
    seconds = time.perf_counter() - started
    answer.send((seconds, peak_rss_mb(), len(model.tags)))


def _floor(count: int, answer: Any) -> None:
    corpus = examples(count)
    started = time.perf_counter()
    vectorizer().fit_transform([example.text for example in corpus])
    answer.send(time.perf_counter() - started)


def in_child(target: Any, *args: Any) -> Any:
    """Run ``target(*args, pipe)`` in a fresh process; what it sends back."""
    ctx = mp.get_context("spawn")
    mine, theirs = ctx.Pipe()
    process = ctx.Process(target=target, args=(*args, theirs))
    process.start()
    got = mine.recv()
    process.join()
    return got


def p95(samples: list[float]) -> float:
    """The 95th percentile of ``samples``."""
    return statistics.quantiles(samples, n=20)[-1]


def main() -> None:
    """Measure and print (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--scores", type=int, default=500)
    args = parser.parse_args()

    floor = in_child(_floor, args.items)
    seconds, peak_mb, tags = in_child(_train, args.items)
    print(f"training on {args.items:,} items ({tags} tags): {seconds:.1f} s, peak {peak_mb:.0f} MB")
    print(f"  floor (TF-IDF fit alone): {floor:.1f} s -> ratio {seconds / floor:.2f}")
    print(f"  target <= {TRAIN_SECONDS:.0f} s: {verdict(seconds <= TRAIN_SECONDS)}")
    print(f"  target <= {TRAIN_MB:.0f} MB: {verdict(peak_mb <= TRAIN_MB)}")

    model = train(examples(args.items))
    texts = [example.text for example in examples(args.scores, seed=3)]
    scoring, reading = [], []
    for text in texts:
        started = time.perf_counter()
        model.score([text])
        scoring.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        model.features.transform([text])
        reading.append((time.perf_counter() - started) * 1000)
    print(f"one item's suggestions (a model of {len(model.tags)} tags): p95 {p95(scoring):.1f} ms")
    ratio = p95(scoring) / p95(reading)
    print(f"  floor (transforming its text): p95 {p95(reading):.1f} ms -> ratio {ratio:.2f}")
    print(f"  target <= {SCORE_MS:.0f} ms: {verdict(p95(scoring) <= SCORE_MS)}")


if __name__ == "__main__":
    main()
