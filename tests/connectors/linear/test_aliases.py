"""Several copies of one mutation in one document: numbered, valid against Linear's schema (and the
sandbox's), and split back per copy."""

from __future__ import annotations

import pytest
from graphql import parse, validate

from tests.connectors.linear.test_vocabulary import vendor_schema
from v2mom.connectors.linear.aliases import alias_index, aliased_text, split_data
from v2mom.connectors.linear.links import ALIASES
from v2mom.connectors.linear.parse import query_text
from v2mom.sandbox.linear.app import sandbox_schema


@pytest.mark.parametrize("name", ["link_create", "link_delete"])
@pytest.mark.parametrize("count", [1, 2, ALIASES])
def test_aliased_link_documents_validate_against_linears_schema(name: str, count: int) -> None:
    document = parse(aliased_text(query_text(name), count))
    assert [e.message for e in validate(vendor_schema(), document)] == []
    assert [e.message for e in validate(sandbox_schema(), document)] == []


def test_aliased_copies_are_numbered_and_split_back() -> None:
    text = aliased_text(query_text("link_delete"), 2)
    assert "mutation LinkDeleteBatch($id_0: String!, $id_1: String!)" in text
    assert "attachmentDelete_1: attachmentDelete(id: $id_1)" in text
    assert alias_index("attachmentDelete_12") == 12
    assert alias_index("attachmentDelete") is None
    data = {"attachmentDelete_0": {"success": True}, "attachmentDelete_1": None}
    assert split_data(data, 2) == [{"attachmentDelete": {"success": True}}, {"attachmentDelete": None}]
    with pytest.raises(ValueError, match="one named operation"):
        aliased_text("query { issues { nodes { id } } }", 2)
