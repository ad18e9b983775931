"""Jira Cloud's rich text (the Atlassian Document Format) as plain text.

An issue's ``description`` in REST v3 is a document: nested nodes, ``text`` leaves holding the words
and inline nodes holding the rest (a mention's name, an emoji, a link's address, a status's label).
Suggestions read the words only, so the document is flattened: each block (paragraph, heading, list
item, table cell, code block ...) on its own line, inline nodes as the text they show, marks
(bold, links) dropped. A node of a type this does not know is read through its ``content``, so a
new block type loses its formatting, never its words. A document is read iteratively, whatever its
depth, and anything that is not a node (a malformed part) is skipped.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["adf_text"]

# Inline nodes without ``text`` children, and the attribute holding what they show.
_INLINE_ATTRS = {
    "mention": "text",
    "emoji": "text",
    "status": "text",
    "inlineCard": "url",
    "blockCard": "url",
    "embedCard": "url",
    "date": "timestamp",
}
_INLINE = frozenset({"text", "hardBreak", *_INLINE_ATTRS})
_BLANK_LINES = re.compile(r"\n{3,}")
_LINE_END = object()  # pushed below a block's children: its line ends after them


def _shown(node: dict[str, Any]) -> str:
    """What an inline node shows."""
    kind = node.get("type")
    if kind == "text":
        text = node.get("text")
        return text if isinstance(text, str) else ""
    if kind == "hardBreak":
        return "\n"
    attrs = node.get("attrs")
    if not isinstance(attrs, dict):
        return ""
    shown = attrs.get(_INLINE_ATTRS.get(str(kind), ""))
    if kind == "emoji" and not isinstance(shown, str):
        shown = attrs.get("shortName")
    return shown if isinstance(shown, str) else ""


def adf_text(document: Any) -> str:
    """The words of an Atlassian Document Format ``document``, one block a line ("" for none)."""
    parts: list[str] = []
    stack: list[Any] = [document]
    while stack:
        node = stack.pop()
        if node is _LINE_END:
            parts.append("\n")
            continue
        if not isinstance(node, dict):
            continue
        kind = node.get("type")
        if kind in _INLINE:
            parts.append(_shown(node))
            continue
        children = node.get("content")
        if not isinstance(children, list):
            children = []
        if kind != "doc":
            stack.append(_LINE_END)
        stack.extend(reversed(children))
    return _BLANK_LINES.sub("\n\n", "".join(parts)).strip()
