"""Linear: every document the connector sends, with the largest variables it sends, stays under the
complexity Linear accepts for one query, priced over Linear's own schema.

Linear refuses a query priced over 10,000 points outright ("Query too complex"), and nested pages
multiply: the issues listing at Linear's largest page (250) with each issue's first labels page, or
50 issues' first history pages, would each be priced far beyond it had their nested pages been left
at Linear's default of 50. The connector keeps every document at or under :data:`BUDGET`, a fifth
below the ceiling, so that a price Linear computes a little differently from our estimate (which
already multiplies ``pageInfo`` with the nodes) still passes.
"""

from __future__ import annotations

from typing import Any

import pytest
from annotated_types import Le
from graphql import parse

from tests.connectors.linear.test_queries_and_parse import vendor_schema
from v2mom.connectors.linear import history, links, targets, vocabulary
from v2mom.connectors.linear.aliases import aliased_text
from v2mom.connectors.linear.connector import CENSUS_PAGE_SIZE, LABEL_PAGE_SIZE
from v2mom.connectors.linear.parse import query_names, query_text
from v2mom.sandbox.linear.complexity import MAX_COMPLEXITY, query_complexity
from v2mom.settings import LinearSettings

BUDGET = 0.8 * MAX_COMPLEXITY


def largest_page() -> int:
    """The largest ``page_size`` the settings accept for Linear (listings ask for that many)."""
    (bound,) = [m.le for m in LinearSettings.model_fields["page_size"].metadata if isinstance(m, Le)]
    return int(bound)


# Each document with the page variables the connector sends it (the listings at the settings' largest
# page); a document without a page variable is priced as it is.
LARGEST: dict[str, dict[str, Any]] = {
    "issues": {"first": largest_page()},
    "projects": {"first": largest_page()},
    "issue_ids": {"first": CENSUS_PAGE_SIZE},
    "project_ids": {"first": CENSUS_PAGE_SIZE},
    "issue_labels": {"first": LABEL_PAGE_SIZE},
    "issue_history": {"first": history.HISTORY_ISSUES, "historyFirst": history.HISTORY_FIRST},
    "issue_history_page": {"first": history.HISTORY_PAGE},
    "link_attachments": {"first": links.BATCH},
    "write_targets": {"first": targets.TARGETS},
    "vocabulary_labels": {"first": vocabulary.LABELS_PAGE_SIZE},
}


@pytest.mark.parametrize("name", query_names())
def test_every_document_is_priced_under_the_budget_at_the_largest_pages_it_asks(name: str) -> None:
    document = parse(query_text(name))
    points = query_complexity(vendor_schema(), document, LARGEST.get(name, {}))
    assert 0 < points <= BUDGET, f"{name}: {points:,.1f} points"


@pytest.mark.parametrize("name", ["link_create", "link_delete"])
def test_aliased_writes_are_priced_under_the_budget(name: str) -> None:
    points = query_complexity(vendor_schema(), parse(aliased_text(query_text(name), links.ALIASES)))
    assert 0 < points <= BUDGET


def test_the_history_and_the_listing_would_be_refused_with_linears_default_nested_pages() -> None:
    """What the budget guards: the nested pages at Linear's default would be priced over the ceiling."""
    listing = query_text("issues").replace("labels(first: 6)", "labels")
    assert listing != query_text("issues")
    assert query_complexity(vendor_schema(), parse(listing), {"first": largest_page()}) > MAX_COMPLEXITY
    default_pages = {"first": history.HISTORY_ISSUES, "historyFirst": 50}
    objects = query_text("issue_history").replace("fromAssigneeId", "fromAssignee { id }")
    assert query_complexity(vendor_schema(), parse(objects), default_pages) > MAX_COMPLEXITY
