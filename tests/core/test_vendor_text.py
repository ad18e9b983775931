"""``v2mom.vendor_text``: vendor text made storable, identifiers refused, the common case untouched;
and ``load_body``, which hands every webhook parser a document whose strings are all storable."""

from __future__ import annotations

import json
import re

import pytest

from tests.factories import make_item
from tests.support import unstorable_strings
from v2mom.errors import FatalError
from v2mom.events import MalformedEvent, checked_id, load_body
from v2mom.store import schema
from v2mom.vendor_text import (
    MAX_ITEM_ID,
    MAX_STATUS_NAME,
    storable_document,
    storable_item,
    storable_text,
)


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("plain é 日本語 🙂", "plain é 日本語 🙂"),
        ("a\ud800b\udfff", "a\ufffdb\ufffd"),
        ("\x00\x01\x08\x0b\x0c\x0e\x1f", "\ufffd" * 7),
        ("tab\tnew\nline\rkept", "tab\tnew\nline\rkept"),
        ("\x7f\x85", "\x7f\x85"),  # DEL and C1 controls: both databases and JSON hold them
    ],
)
def test_unstorable_characters_become_one_replacement_character_each(text: str, stored: str) -> None:
    assert storable_text(text) == stored
    assert len(storable_text(text)) == len(text)


def test_the_limit_cuts_and_clean_text_is_returned_as_it_is() -> None:
    assert storable_text("x" * 500 + "\x00", 100) == "x" * 100
    assert storable_text("ab\x00", 3) == "ab\ufffd"
    clean = "nothing to do " * 10
    assert storable_text(clean) is clean


def test_documents_are_cleaned_in_keys_and_values_at_every_depth() -> None:
    document = {"a\x00": ["b\ud800", {"c": "d\x1b", "e\udfff": 1.5}], "n": None, "t": True}
    assert storable_document(document) == {
        "a\ufffd": ["b\ufffd", {"c": "d\ufffd", "e\ufffd": 1.5}],
        "n": None,
        "t": True,
    }


def test_a_clean_item_is_returned_as_it_is() -> None:
    item = make_item("1", labels=("value:x",), components=("Billing",), custom_fields={"F": ("o",)})
    assert storable_item(item) is item


def test_an_items_text_is_cleaned_and_its_status_name_cut_to_the_column() -> None:
    item = make_item(
        "1",
        title="t\ud800",
        url="https://x/\x00",
        status_name="s\x1b" + "s" * 300,
        labels=("l\udfff",),
        components=("c\x00",),
        custom_fields={"F\x00": ("o\ud800",)},
    )
    cleaned = storable_item(item)
    assert (cleaned.title, cleaned.url) == ("t\ufffd", "https://x/\ufffd")
    assert cleaned.status_name == ("s\ufffd" + "s" * 300)[:MAX_STATUS_NAME]
    assert (cleaned.labels, cleaned.components) == (("l\ufffd",), ("c\ufffd",))
    assert cleaned.custom_fields == {"F\ufffd": ("o\ufffd",)}
    assert (cleaned.id, cleaned.key, cleaned.updated_at) == (item.id, item.key, item.updated_at)


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"key": "ONB-1\ud800"}, "its key holds control characters"),
        ({"parent_id": "1\x00"}, "its parent id holds control characters"),
        ({"container": "x" * 129}, "its container is 129 characters long (limit 128)"),
        ({"assignee": "x" * 129}, "its assignee is 129 characters long (limit 128)"),
    ],
)
def test_an_item_whose_identifiers_cannot_be_stored_is_refused_naming_the_field(
    fields: dict[str, str], named: str
) -> None:
    with pytest.raises(FatalError, match=re.escape(named)) as raised:
        storable_item(make_item("1", **fields))
    assert raised.value.tracker == "jira"
    assert unstorable_strings(str(raised.value)) == []


def test_an_unstorable_assignee_is_refused_without_showing_the_account() -> None:
    with pytest.raises(FatalError, match="its assignee holds control characters") as raised:
        storable_item(make_item("1", assignee="acc-secret\x00"))
    assert "acc-secret" not in str(raised.value)


def test_an_item_id_with_unstorable_characters_is_named_escaped() -> None:
    with pytest.raises(FatalError) as raised:
        storable_item(make_item("1\ud800"))
    assert "item '1\\ud800': its id holds" in str(raised.value)


def test_the_limits_are_the_items_columns() -> None:
    columns = schema.items.c
    for column in (columns.item_id, columns.key, columns.parent_id, columns.container, columns.assignee):
        assert column.type.length == MAX_ITEM_ID, column.name
    assert columns.status_name.type.length == MAX_STATUS_NAME


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({"type": "a\ud800", "k\x00": ["\x08", "\x0c", "x\x1f"]}).encode(),  # \u escapes
        json.dumps({"type": "a\ud800", "k\x00": ["\b", "\f", "x\x1f"]}, ensure_ascii=False).encode(
            "utf-8", "surrogatepass"
        ),  # raw surrogate bytes, \b and \f
        json.dumps({"type": "a\ud800", "k\x00": ["\b", "\f", "x\x1f"]}).encode("utf-16"),
    ],
)
def test_a_body_is_loaded_with_every_string_storable(body: bytes) -> None:
    assert load_body(body) == {"type": "a\ufffd", "k\ufffd": ["\ufffd", "\ufffd", "x\ufffd"]}


def test_a_body_that_only_looks_suspicious_loads_unchanged() -> None:
    text = {"path": "C:\\u0000\\bin\\f", "emoji": "😀", "name": "Zoë"}
    assert load_body(json.dumps(text).encode()) == text
    assert load_body(json.dumps(text, ensure_ascii=False).encode()) == text


def test_identifiers_holding_the_replacement_character_are_refused() -> None:
    with pytest.raises(MalformedEvent, match=r"issue\.id holds control characters"):
        checked_id(load_body(b'{"id": "1\\u0000"}')["id"], "issue.id")
