"""Jira Cloud descriptions (the Atlassian Document Format) read as plain text."""

from __future__ import annotations

from typing import Any

from v2mom.connectors.jira.adf import adf_text


def text(words: str, **marks: Any) -> dict[str, Any]:
    return {"type": "text", "text": words, **marks}


def paragraph(*content: dict[str, Any]) -> dict[str, Any]:
    return {"type": "paragraph", "content": list(content)}


def doc(*content: dict[str, Any]) -> dict[str, Any]:
    return {"type": "doc", "version": 1, "content": list(content)}


def test_blocks_are_lines_and_inline_nodes_the_text_they_show() -> None:
    document = doc(
        {"type": "heading", "attrs": {"level": 2}, "content": [text("Checkout retries")]},
        paragraph(
            text("Declined cards are "),
            text("not", marks=[{"type": "strong"}]),
            text(" retried, says "),
            {"type": "mention", "attrs": {"id": "5b10", "text": "@Ada"}},
            {"type": "hardBreak"},
            text("see "),
            {"type": "inlineCard", "attrs": {"url": "https://example.com/runbook"}},
            {"type": "emoji", "attrs": {"shortName": ":fire:"}},
        ),
        {
            "type": "bulletList",
            "content": [
                {"type": "listItem", "content": [paragraph(text("retry once"))]},
                {"type": "listItem", "content": [paragraph(text("then page on-call"))]},
            ],
        },
        {"type": "codeBlock", "content": [text("retry(max=1)")]},
    )
    assert adf_text(document).splitlines() == [
        "Checkout retries",
        "Declined cards are not retried, says @Ada",
        "see https://example.com/runbook:fire:",
        "retry once",
        "",
        "then page on-call",
        "",
        "retry(max=1)",
    ]


def test_an_unknown_block_keeps_its_words_and_malformed_parts_are_skipped() -> None:
    document = doc(
        {"type": "someFutureBlock", "content": [paragraph(text("still read"))]},
        "not a node",
        {"type": "paragraph", "content": "not a list"},
        {"type": "mention", "attrs": "not an object"},
        {"type": "text", "text": 42},
        paragraph(text("end")),
    )
    assert adf_text(document) == "still read\n\nend"
    assert adf_text(None) == ""
    assert adf_text({"type": "doc"}) == ""


def test_a_very_deep_document_is_read_without_recursion() -> None:
    node: dict[str, Any] = paragraph(text("deep down"))
    for _ in range(50_000):
        node = {"type": "blockquote", "content": [node]}
    assert adf_text(doc(node)) == "deep down"
