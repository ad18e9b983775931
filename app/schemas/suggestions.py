"""Response models of suggestions for untagged work."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from v2mom.app.schemas.common import ApiModel


class SuggestionModel(ApiModel):
    """A value or a method for an untagged item (one of the two is null), how sure, and why."""

    value: str | None
    method: str | None
    confidence: float = Field(ge=0, le=1, description="calibrated: of suggestions this sure, the share right")
    because: list[str] = Field(description="the words for it, and people-tagged items like it")


class QualityLevel(ApiModel):
    """At one confidence level, on held-out people-tagged items: the share answered and right."""

    confidence: float
    coverage: float
    precision: float


class ModelInfo(ApiModel):
    """The model suggestions come from: when, under which plan version, from how many items people
    tagged, and how good it measured on the fifth of them held out."""

    trained_at: datetime
    plan_version: int
    examples: int
    tags: list[str]
    floor: float = Field(description="the confidence below which nothing is offered")
    trained_on: int
    held_out: int
    levels: list[QualityLevel]


class ModelDocument(ApiModel):
    """``GET /api/suggestions/model``: the current model (null: none trained under this plan yet)."""

    model: ModelInfo | None


class SuggestionsDocument(ApiModel):
    """``GET /api/items/{tracker}/{key}/suggestions``: best first, at most three; empty for an item
    that is tagged, when no model has been trained under the current plan, or below the floor."""

    suggestions: list[SuggestionModel]


class BulkItem(ApiModel):
    """An untagged item whose best suggestion is the one being accepted, and how sure."""

    tracker: str
    key: str
    title: str
    confidence: float


class BulkPreview(ApiModel):
    """``GET /api/admin/suggestions/bulk``: the items a bulk acceptance would tag (most confident
    first), before anything is written."""

    value: str | None
    method: str | None
    name: str
    min_confidence: float
    count: int
    items: list[BulkItem]


class BulkSkipped(ApiModel):
    """An item of the request not tagged, and why."""

    item: str
    reason: str


class BulkResult(ApiModel):
    """``POST /api/admin/suggestions/bulk``: the items tagged (each the tagging write: tracker,
    audit, report), those skipped because they no longer qualify, and those a tracker refused."""

    tagged: list[str]
    skipped: list[BulkSkipped]
    failed: list[BulkSkipped]
