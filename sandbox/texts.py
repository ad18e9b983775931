"""Titles and descriptions a real team would write, about what each item is really for.

Each generated item has a topic: the sample plan's method or value it serves (from its own tags,
its epic's or the rule that reaches it), or, for work nobody tagged, one drawn at random — what it
is really about, that nobody wrote down. Its title and description are drawn from that topic's
vocabulary, mixed with the everyday words every team uses whatever the work, so that what people
tagged says something about what they did not (suggestions learn from it), without every item
of a topic reading alike. Drawn from a random generator of its own, so adding text to a workspace
changes nothing else the generators draw.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["TOPICS", "ItemText", "text_rng", "write_text"]


@dataclass(frozen=True)
class Topic:
    """What a topic's work is called: things worked on, what is done to them, and why."""

    things: tuple[str, ...]
    actions: tuple[str, ...]
    reasons: tuple[str, ...]


TOPICS: dict[str, Topic] = {
    "self-serve-onboarding": Topic(
        things=(
            "signup wizard",
            "welcome email",
            "trial workspace",
            "onboarding checklist",
            "invite flow",
            "first-run tour",
            "sample project",
            "account setup page",
        ),
        actions=("Redesign", "Simplify", "Add progress to", "A/B test", "Localize", "Shorten"),
        reasons=(
            "new customers drop off before they finish signing up",
            "trial users never reach their first project",
            "sales wants self-serve accounts without a call",
        ),
    ),
    "slo-program": Topic(
        things=(
            "SLO dashboard",
            "latency budget",
            "availability target",
            "p99 latency alert",
            "error budget report",
            "service level indicator",
            "uptime probe",
        ),
        actions=("Define", "Publish", "Alert on", "Track", "Review"),
        reasons=(
            "we cannot say whether we meet the availability we promise",
            "the error budget is spent without anyone noticing",
            "customers report slowness before our alerts do",
        ),
    ),
    "cost-savings": Topic(
        things=(
            "reserved instances",
            "idle staging clusters",
            "storage tiering",
            "log retention",
            "autoscaling policy",
            "database instance size",
            "CDN egress",
        ),
        actions=("Rightsize", "Shut down", "Move to cheaper", "Cap", "Audit spend on"),
        reasons=(
            "the cloud bill grew faster than usage",
            "finance asked for a 20% cut in infrastructure cost",
            "we pay for capacity nobody uses at night",
        ),
    ),
    "incident-tooling": Topic(
        things=(
            "paging rotation",
            "runbook",
            "incident channel bot",
            "postmortem template",
            "status page",
            "on-call handover",
            "escalation policy",
        ),
        actions=("Automate", "Write", "Improve", "Set up", "Clean up"),
        reasons=(
            "the last outage took an hour to find the right person",
            "on-call engineers repeat the same manual steps every incident",
            "postmortems are written late and forgotten",
        ),
    ),
    "checkout-conversion": Topic(
        things=(
            "checkout page",
            "payment form",
            "cart summary",
            "card declines",
            "saved cards",
            "coupon field",
            "order confirmation",
        ),
        actions=("Speed up", "Fix", "Redesign", "Reduce steps in", "Retry"),
        reasons=(
            "too many buyers abandon the cart at payment",
            "declined cards are not retried",
            "checkout is slow on mobile networks",
        ),
    ),
    "error-budgets": Topic(
        things=(
            "error budget policy",
            "release freeze rule",
            "burn rate alert",
            "budget review",
            "deploy gate",
        ),
        actions=("Enforce", "Automate", "Document", "Tune"),
        reasons=("teams keep shipping while the budget is gone", "burn rate alerts fire too late"),
    ),
    "app-store-refresh": Topic(
        things=(
            "app store screenshots",
            "release notes",
            "app icon",
            "store listing",
            "in-app review prompt",
        ),
        actions=("Refresh", "Rewrite", "Translate", "Update"),
        reasons=("the store listing still shows last year's design", "ratings dropped after the redesign"),
    ),
    "customer-first": Topic(
        things=(
            "support ticket queue",
            "customer feedback survey",
            "help center article",
            "customer interview notes",
            "NPS follow-up",
        ),
        actions=("Answer", "Triage", "Publish", "Summarize"),
        reasons=("customers wait days for an answer", "feedback never reaches the product team"),
    ),
    "reliability": Topic(
        things=(
            "retry logic",
            "timeout handling",
            "flaky health check",
            "failover test",
            "connection pool",
            "backup restore drill",
        ),
        actions=("Harden", "Fix", "Test", "Add"),
        reasons=("a dependency outage took us down last week", "restores were never tested"),
    ),
    "efficiency": Topic(
        things=(
            "build pipeline",
            "test suite runtime",
            "manual release steps",
            "deploy script",
            "code review queue",
        ),
        actions=("Speed up", "Automate", "Parallelize", "Remove"),
        reasons=("engineers wait on CI most of the day", "releases take a whole afternoon by hand"),
    ),
}
# What every team writes, whatever the work is for: it says nothing about the topic.
EVERYDAY = (
    "Follow-up from standup.",
    "See the thread in the team channel for context.",
    "Pair with design before starting.",
    "Needs a quick review from the tech lead.",
    "Small change, should fit in a day or two.",
    "Blocked on nothing for now.",
    "Add tests.",
    "Update the docs when done.",
)
GENERIC_THINGS = ("config", "logging", "dependency upgrade", "README", "lint warnings", "CI job")


@dataclass(frozen=True)
class ItemText:
    """An item's title and description (plain text, paragraphs split by a blank line)."""

    title: str
    description: str


def text_rng(tracker: str, seed: int) -> random.Random:
    """The generator of a workspace's texts, apart from the one drawing its items."""
    return random.Random(f"text:{tracker}:{seed}")


def write_text(rng: random.Random, topic: str | None, *, epic: bool = False) -> ItemText:
    """A title and description about ``topic`` (a key of :data:`TOPICS`; None: one at random).

    One item in eight is chores that say nothing of its topic: real backlogs have those too.
    """
    chosen = TOPICS[topic] if topic in TOPICS else TOPICS[rng.choice(sorted(TOPICS))]
    if not epic and rng.random() < 0.125:
        thing = rng.choice(GENERIC_THINGS)
        return ItemText(f"Clean up {thing}", " ".join(rng.sample(EVERYDAY, 2)))
    thing, action, reason = rng.choice(chosen.things), rng.choice(chosen.actions), rng.choice(chosen.reasons)
    title = f"{thing.capitalize()} overhaul" if epic else f"{action} {thing}"
    other = rng.choice(chosen.things)
    paragraphs = [
        f"{action} the {thing}: {reason}.",
        f"Also check the {other} while we are there." if other != thing else "",
        " ".join(rng.sample(EVERYDAY, rng.randrange(1, 3))),
    ]
    return ItemText(title, "\n\n".join(p for p in paragraphs if p))


def topic_from_tags(tags: list[str] | tuple[str, ...]) -> str | None:
    """The first ``value:<id>`` / ``method:<id>`` tag naming a topic, if any."""
    for tag in tags:
        kind, _, ref = tag.partition(":")
        if kind in ("value", "method") and ref in TOPICS:
            return ref
    return None
