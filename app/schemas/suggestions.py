"""Response models of suggestions for untagged work."""

from __future__ import annotations

from pydantic import Field

from v2mom.app.schemas.common import ApiModel


class SuggestionModel(ApiModel):
    """A value or a method for an untagged item (one of the two is null), how sure, and why."""

    value: str | None
    method: str | None
    confidence: float = Field(ge=0, le=1, description="calibrated: of suggestions this sure, the share right")
    because: list[str] = Field(description="the words for it, and people-tagged items like it")


class SuggestionsDocument(ApiModel):
    """``GET /api/items/{tracker}/{key}/suggestions``: best first, at most three; empty for an item
    that is tagged, when no model has been trained under the current plan, or below the floor."""

    suggestions: list[SuggestionModel]
