"""Small builders used across tests: WorkItems and a valid plan."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from typing import Any

from v2mom.models import Level, State, WorkItem

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)

# A complete plan (the documented example, with rules) that every plan test starts from.
VALID = textwrap.dedent(
    """\
    vision: Be the payments platform small businesses trust most.
    values:
      - id: customer-first
        name: Customer-first thinking
        target_share: 0.40
      - id: reliability
        name: Reliability
        target_share: 0.30
    methods:
      - id: self-serve-onboarding
        name: Launch self-serve onboarding
        values: [customer-first]
      - id: slo-program
        name: SLO program
        weights: {customer-first: 0.3, reliability: 0.7}
    obstacles:
      - id: legacy-billing
        name: Legacy billing
        methods: [self-serve-onboarding]
    measures:
      - id: cf-share
        name: 40% to customer-first
        value: customer-first
        kind: effort_share
        target: 0.40
    rules:
      - when: {tracker: jira, component: Billing}
        method: slo-program
      - when: {tracker: asana, custom_field: Team Bet, equals: Onboarding}
        method: self-serve-onboarding
    """
)


def make_item(item_id: str, *, minutes: int = 0, **fields: Any) -> WorkItem:
    """A Jira-like WorkItem updated ``minutes`` after T0; any field can be overridden."""
    values: dict[str, Any] = {
        "tracker": "jira",
        "id": item_id,
        "key": f"ONB-{item_id}",
        "title": f"Item {item_id}",
        "level": Level.STANDARD,
        "container": "ONB",
        "state": State.TODO,
        "updated_at": T0 + timedelta(minutes=minutes),
    }
    values.update(fields)
    return WorkItem(**values)
