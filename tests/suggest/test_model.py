"""The suggestion model on texts like the sandboxes': right tags, honest confidence, reasons, and
input it must survive."""

from __future__ import annotations

import pytest

from bench.suggest import examples as corpus
from tests.factories import make_item
from v2mom.sandbox.texts import TOPICS
from v2mom.suggest.model import MIN_EXAMPLES, Example, NotTrainable, train
from v2mom.suggest.quality import DEFAULT_FLOOR, LEVELS, held_out, offered_share
from v2mom.suggest.text import DESCRIPTION_WORDS, learning_text


@pytest.fixture(scope="module")
def examples() -> list[Example]:
    return corpus(400, seed=1)


def test_a_text_gets_its_topics_tag_first_with_the_words_and_items_behind_it(examples: list[Example]) -> None:
    model = train(examples)
    first, *others = model.score(["Speed up the checkout page: buyers abandon the cart at payment"])[0]
    assert first.tag == "checkout-conversion"
    assert first.confidence > DEFAULT_FLOOR
    assert {"checkout", "cart"} & set(first.words)
    tagged = {example.ref for example in examples if example.tag == "checkout-conversion"}
    assert first.neighbours
    assert set(first.neighbours) <= tagged
    assert len(others) == 2
    assert first.confidence >= others[0].confidence >= others[1].confidence


def test_held_out_precision_and_coverage_per_level(examples: list[Example]) -> None:
    quality = held_out(examples)
    assert quality.trained_on + quality.held_out == 400
    assert abs(quality.held_out - 80) <= len(TOPICS) / 2  # a fifth of each tag's, rounded
    assert [level.confidence for level in quality.levels] == list(LEVELS)
    coverage = [level.coverage for level in quality.levels]
    assert coverage == sorted(coverage, reverse=True)  # a higher level answers fewer
    at_floor = next(level for level in quality.levels if level.confidence == DEFAULT_FLOOR)
    assert at_floor.precision >= 0.8
    assert at_floor.coverage >= 0.5


def test_chores_that_say_nothing_of_their_topic_are_left_without_a_confident_guess(
    examples: list[Example],
) -> None:
    model = train(examples)
    assert offered_share(model, ["Clean up lint warnings\nAdd tests. Update the docs when done."]) == 0.0
    assert offered_share(model, ["Rightsize reserved instances: the cloud bill grew"]) == 1.0


def test_too_few_people_tagged_items_train_nothing_and_say_why(examples: list[Example]) -> None:
    one_tag = [e for e in examples if e.tag == "reliability"]
    with pytest.raises(NotTrainable, match=r"at least two values or methods .* reliability \("):
        train(one_tag)
    few = [
        *one_tag,
        *[Example(f"x:{n}", "Fix checkout", "checkout-conversion") for n in range(MIN_EXAMPLES - 1)],
    ]
    with pytest.raises(NotTrainable, match=rf"checkout-conversion \({MIN_EXAMPLES - 1}\)"):
        train(few)
    with pytest.raises(NotTrainable, match="none"):
        train([])
    enough = [*few, Example("x:last", "Fix checkout", "checkout-conversion")]
    assert set(train(enough).tags) == {"reliability", "checkout-conversion"}


def test_any_script_and_unstorable_text_neither_crash_training_nor_scoring(examples: list[Example]) -> None:
    odd = [
        Example(f"x:{n}", text, "customer-first")
        for n, text in enumerate(
            [
                "Ответить клиентам в поддержке",
                "顧客のフィードバックを要約する",
                "\x00nul",
                "lone \ud800 surrogate",
                "",
                "😀",
            ]
        )
    ]
    model = train([*examples, *odd])
    scored = model.score(["顧客のフィードバック", "", "\ud800", "x" * 1_000_000])
    assert [len(tags) for tags in scored] == [3, 3, 3, 3]
    assert all(0.0 <= s.confidence <= 1.0 for tags in scored for s in tags)


def test_the_learning_text_is_the_words_not_the_tags() -> None:
    item = make_item(
        "1",
        title="Retry   declined cards",
        description="x" * (DESCRIPTION_WORDS + 500),
        labels=("value:reliability", "Method/Retry", "METHOD: slo-program", "backend"),
        components=("Billing",),
        custom_fields={"V2MOM Method": ("SLO program",), "Team Bet": ("Onboarding",)},
    )
    text = learning_text(item, parent_title="Checkout overhaul")
    lines = text.split("\n")
    assert lines[0] == "Retry declined cards"
    assert lines[1] == "x" * DESCRIPTION_WORDS
    assert lines[2:] == ["backend", "Billing", "Onboarding", "Checkout overhaul"]
