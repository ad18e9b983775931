"""Response models of the plan and rule routes: rules, previews and applied changes.

The plan document itself is :class:`v2mom.mapping.plan.Plan` (the contract makes the JSON plan the
same document as ``plan.yaml``), served without the keys it leaves out.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from v2mom.app.schemas.common import ApiModel, Number
from v2mom.app.schemas.reviews import ReviewListed, listed
from v2mom.store.reviews import CloseResult

CLOSED_DESCRIPTION = (
    "The periods of the replaced cycle closed before this plan was applied (their reviews taken under "
    "the plan they ran on): absent unless the plan starts a new cycle."
)


class RuleWhenDocument(ApiModel):
    """A rule's conditions; only the keys the rule sets are sent."""

    tracker: Literal["jira", "asana", "linear"] | None = None
    project: str | None = None
    team: str | None = None
    key: str | None = None
    epic: str | None = None
    label: str | None = None
    component: str | None = None
    custom_field: str | None = None
    equals: str | None = None


class RuleDocument(ApiModel):
    """One mapping rule as stored in the plan (exactly one of ``method`` or ``value``)."""

    id: str | None = None
    when: RuleWhenDocument
    method: str | None = None
    value: str | None = None


class PositionedRule(ApiModel):
    """A rule with its 0-based position in the plan (how the admin routes address it)."""

    position: int
    id: str | None = None
    when: RuleWhenDocument
    method: str | None = None
    value: str | None = None


class RuleList(ApiModel):
    """``GET /api/rules``: the plan's rules in order."""

    rules: list[RuleDocument]


class PositionedRuleList(ApiModel):
    """``GET /api/admin/rules``: the plan's rules in order, with their positions."""

    rules: list[PositionedRule]


class PlanPreview(ApiModel):
    """What a plan change would do: items re-tagged and effort per value before and after, beside
    ``untagged`` and, when either plan has teams, ``unaligned``."""

    measure: Literal["points", "hours", "count"]
    items: int
    changed: int
    newly_tagged: int
    newly_untagged: int
    before: dict[str, Number]
    after: dict[str, Number]
    deltas: dict[str, Number]
    summary: str
    moved_share: float = Field(description="The share of the total effort the change moves, 0 to 1.")
    confirm: str | None = Field(
        default=None,
        description="Only when the change moves more than a quarter of the effort: the phrase to send "
        "as the X-Confirm-Move header to apply it (move 42%).",
    )


class UnalignedMove(ApiModel):
    """Unaligned effort (team work reaching no value) before and after a plan change."""

    before: Number
    after: Number


class MoveNeedsConfirming(ApiModel):
    """409: the change moves more than a quarter of the effort and the request did not confirm it;
    nothing was written. Send ``confirm`` as the ``X-Confirm-Move`` header to apply it."""

    detail: str
    confirm: str
    moved_share: float
    unaligned: UnalignedMove | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="team work reaching no value before and after the change (present only when "
        "either plan has teams)",
    )


class ResolvedCounts(ApiModel):
    """Items re-resolved by an applied change, and how many of them are flagged."""

    items: int
    untagged: int
    orphaned: int


class ResolvedWithConflicts(ResolvedCounts):
    """:class:`ResolvedCounts` plus the items in conflict."""

    conflict: int


class PlanReplaced(ApiModel):
    """``PUT /api/plan``: the new version, what changed, why, the re-resolution's counts, and the
    periods of a replaced cycle that were closed first."""

    version: int
    changes: list[str]
    reason: str | None = Field(
        default=None, description="Why, as stored with the version (absent: none given)."
    )
    resolved: ResolvedWithConflicts
    closed: list[ReviewListed] = Field(default_factory=list, description=CLOSED_DESCRIPTION)


class PlanChangePreview(ApiModel):
    """A dry run (``?dry_run=true`` or ``POST /api/rules/preview``): nothing was written."""

    dry_run: bool
    changes: list[str]
    preview: PlanPreview
    rules: list[RuleDocument]


class PlanChangeApplied(PlanChangePreview):
    """An applied change: the preview, then the new plan version, why, the re-resolution's counts,
    and the periods of a replaced cycle that were closed first."""

    version: int
    reason: str | None = Field(
        default=None, description="Why, as stored with the version (absent: none given)."
    )
    resolved: ResolvedCounts
    closed: list[ReviewListed] = Field(default_factory=list, description=CLOSED_DESCRIPTION)


class RuleCreated(PlanChangeApplied):
    """``POST /api/rules``: the applied change and the new rule, with its id."""

    rule: RuleDocument


class RenamedEntry(ApiModel):
    """A value or method that kept its id and changed its name."""

    id: str
    from_: str = Field(alias="from")
    to: str


class NamedChanges(ApiModel):
    """Values or methods (the company's and every team's) added, renamed, removed or otherwise
    changed (weights, serves, targets), by id."""

    added: list[str]
    renamed: list[RenamedEntry]
    removed: list[str]
    changed: list[str]


class RuleChanges(ApiModel):
    """Rules added, removed and changed, each in one line (``r3: tracker=jira, label=x -> value y``)."""

    added: list[str]
    removed: list[str]
    changed: list[str]


class EffortMoved(ApiModel):
    """What the change's preview measured: the effort that changed value (untagged counts as one), of
    the total, its share (0 to 1) and the gain or loss per value."""

    measure: Literal["points", "hours", "count"]
    moved: Number
    total: Number
    share: float
    deltas: dict[str, Number]


class PlanChangeSummary(ApiModel):
    """What a version changed: the human lines, then values, methods and rules, and the effort moved
    (absent when the change was not measured: the first plan, or a version saved without a preview)."""

    lines: list[str]
    values: NamedChanges
    methods: NamedChanges
    rules: RuleChanges
    effort_moved: EffortMoved | None = None


class PlanVersion(ApiModel):
    """One plan version: who applied it, when, why and what changed."""

    version: int
    created_at: str = Field(description="When it was applied (ISO 8601, UTC).")
    created_by: str = Field(description="Who applied it: cli:<user>, token:<name>, demo…")
    reason: str | None = Field(
        description="Why; null when none was given or for versions kept before reasons."
    )
    changes: PlanChangeSummary | None = Field(
        description="What changed; null for versions kept before summaries were."
    )


class PlanHistory(ApiModel):
    """``GET /api/plan/history``: the plan's versions, newest first."""

    versions: list[PlanVersion]


def why_and_closed(reason: str | None, closed: list[CloseResult]) -> dict[str, object]:
    """The ``reason`` and ``closed`` keys of an applied change's answer, each only when there is
    one, so a change without them answers as it always did."""
    out: dict[str, object] = {}
    if reason is not None:
        out["reason"] = reason
    if stored := [listed(result.review) for result in closed if result.closed]:
        out["closed"] = stored
    return out
