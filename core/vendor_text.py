"""Text from a tracker made storable: what the inbox and the items table keep, both databases can hold
and every JSON answer can send.

A vendor string is Python text decoded from JSON, so it can hold what no column takes: a lone UTF-16
surrogate (``"\\ud800"`` is valid JSON, but cannot be encoded as UTF-8: SQLite, PostgreSQL and every
JSON answer fail on it) and NUL (PostgreSQL text refuses it). The other C0 control characters are
refused by neither, but never mean anything in a title, a label or an event type. Each of these
becomes U+FFFD, the replacement character: one character for one, so a length limit means the same
before and after, two different strings never become one a tracker could have sent, and a reader
sees that something was there. Tab, newline and carriage return are kept.

Identifiers are never cleaned (a cleaned id would name another item): the webhook receivers refuse
them (``v2mom.events.checked_id``, 400) and :func:`storable_item` refuses an item whose identifiers
cannot be stored (FatalError naming the field).

Cleaning is rare, so the check is one regular-expression search, and the common case returns its
argument unchanged: :func:`storable_item` runs on every item the sync parses.
"""

from __future__ import annotations

import re
from typing import Any

from v2mom.errors import FatalError
from v2mom.models import WorkItem

REPLACEMENT = "\ufffd"
# C0 controls but tab, newline and carriage return, and every UTF-16 surrogate (decoded from JSON, a
# surrogate in a Python str is always a lone one: an escaped pair decodes to one character).
UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
# The ``items`` columns of identifiers and of the status name (``store/schema.py``; a test keeps
# them equal).
MAX_ITEM_ID = 128
MAX_STATUS_NAME = 128
# An item's description is kept to this many characters: enough for what people write about the
# work, bounded so a 1 MB description neither bloats the store nor slows training or scoring.
MAX_DESCRIPTION = 20_000


def storable_text(text: str, limit: int | None = None) -> str:
    """``text`` with unstorable characters replaced by U+FFFD, cut to ``limit`` characters."""
    if limit is not None and len(text) > limit:
        text = text[:limit]
    if UNSTORABLE.search(text) is None:
        return text
    return UNSTORABLE.sub(REPLACEMENT, text)


def storable_document(node: Any) -> Any:
    """A parsed JSON document with every string, keys included, made storable (no length limit).

    Recursive: callers pass documents of bounded depth (``v2mom.events.load_body`` refuses deeper
    ones).
    """
    if isinstance(node, str):
        return storable_text(node)
    if isinstance(node, dict):
        return {storable_text(key): storable_document(value) for key, value in node.items()}
    if isinstance(node, list):
        return [storable_document(value) for value in node]
    return node


def storable_item(item: WorkItem) -> WorkItem:
    """``item`` with its text (title, description, url, status name, labels, components, custom field
    names and options) made storable, its status name cut to its column and its description to
    :data:`MAX_DESCRIPTION` characters.

    ``item`` itself when nothing needs it (one search over all its text). FatalError naming the
    field when an identifier (id, key, parent id, container, assignee) is too long for its column
    or holds unstorable characters; the message shows the item's id escaped, never raw (and never
    the assignee's account id).
    """
    identifiers = (item.id, item.key, item.parent_id or "", item.container or "", item.assignee or "")
    texts = [
        item.title,
        item.description,
        item.url or "",
        item.status_name,
        item.parent_key or "",
        *item.labels,
        *item.components,
    ]
    for name, options in item.custom_fields.items():
        texts.append(name)
        texts.extend(options)
    if (
        len(item.status_name) <= MAX_STATUS_NAME
        and len(item.description) <= MAX_DESCRIPTION
        and len(item.parent_key or "") <= MAX_ITEM_ID
        and max(map(len, identifiers)) <= MAX_ITEM_ID
        and UNSTORABLE.search("\n".join((*identifiers, *texts))) is None
    ):
        return item
    _check_identifiers(item)
    return item.model_copy(
        update={
            "title": storable_text(item.title),
            "description": storable_text(item.description, MAX_DESCRIPTION),
            "url": storable_text(item.url) if item.url is not None else None,
            "status_name": storable_text(item.status_name, MAX_STATUS_NAME),
            # only ever shown in messages: made storable and cut, never refused like an identifier
            "parent_key": storable_text(item.parent_key, MAX_ITEM_ID)
            if item.parent_key is not None
            else None,
            "labels": tuple(storable_text(label) for label in item.labels),
            "components": tuple(storable_text(component) for component in item.components),
            "custom_fields": {
                storable_text(name): tuple(storable_text(option) for option in options)
                for name, options in item.custom_fields.items()
            },
            "choice_options": {  # the same names as the options above, so they still match
                kind: tuple((storable_text(option_id), storable_text(name)) for option_id, name in pairs)
                for kind, pairs in item.choice_options.items()
            },
        }
    )


def _check_identifiers(item: WorkItem) -> None:
    """FatalError naming the first identifier of ``item`` that cannot be stored as it is."""
    for field, value in (
        ("id", item.id),
        ("key", item.key),
        ("parent id", item.parent_id),
        ("container", item.container),
        ("assignee", item.assignee),  # named, never shown: an account id is person-level data
    ):
        if value is None:
            continue
        if len(value) > MAX_ITEM_ID:
            problem = f"is {len(value)} characters long (limit {MAX_ITEM_ID})"
        elif UNSTORABLE.search(value) is not None:
            problem = "holds control characters or unpaired surrogates"
        else:
            continue
        raise FatalError(f"item {item.id[:40]!a}: its {field} {problem}", tracker=item.tracker)
