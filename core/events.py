"""The tracker-neutral webhook event that the inbox stores and the worker applies, and the checks
every receiver runs on a verified body before it becomes one.

The limits mirror the inbox's columns (``store/schema.py``: ``delivery_id`` 255, ``item_ref`` 128
characters; a test keeps them equal), so a value that would not fit is refused at the edge with a
400 naming the field instead of failing the database write (and, in a group commit, its neighbours).

Every string of a body is storable once :func:`load_body` has read it (``v2mom.vendor_text``: lone
surrogates and control characters become U+FFFD), so whatever an event keeps of it — the payload,
an ignored event's type and reason — can be stored on both databases and listed as JSON.
Identifiers are refused instead (:func:`checked_id`): a cleaned id would name another item.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, NoReturn

from v2mom.vendor_text import REPLACEMENT, UNSTORABLE, storable_document, storable_text

EventKind = Literal["refetch", "delete", "heartbeat", "ignored"]

MAX_DELIVERY_ID = 255
MAX_ITEM_REF = 128
MAX_REASON = 300
MAX_EVENT_TYPE = 100
# Real payloads (Jira's ADF descriptions are the deepest) nest a few dozen levels; far deeper bodies
# are refused before anything recursive (parsing, storing as JSON) can run out of stack.
MAX_DEPTH = 128
# In a UTF-8 body a decoded string can hold an unstorable character only through an escape
# (``\u0000``, ``\b``, ``\f``, ``\ud800``: JSON has no raw control characters) or the bytes of a
# surrogate (ED A0..BF, which ``json.loads`` decodes with ``surrogatepass``). A body with neither
# needs no cleaning; one with them (or in another encoding) is walked. Each pattern starts with a
# literal byte, which ``re`` scans for quickly (one alternation of both took 10x as long).
_UNSTORABLE_ESCAPE = re.compile(rb"\\(?:u(?:00[01]|[dD][89a-fA-F])|[bf])")
_SURROGATE_BYTES = re.compile(rb"\xed[\xa0-\xbf]")


class MalformedEvent(ValueError):
    """A verified delivery we cannot act on (400, nothing stored)."""


@dataclass(frozen=True)
class WebhookEvent:
    """One delivery, parsed: what happened to which item, when, and the raw payload.

    ``refetch``: re-read the item from the tracker (truth is the tracker; webhooks are hints).
    ``delete``: the tracker says the item is gone. ``heartbeat``: a liveness ping, nothing to apply.
    ``ignored``: a validly signed event that changes nothing v2mom reads; it is acknowledged and
    stored with its ``reason`` (see :meth:`ignore`) for admins, never applied.
    ``item_ref`` is the stable id when the payload has one, else the key.
    """

    tracker: str
    delivery_id: str
    kind: EventKind
    item_ref: str | None
    event_time: datetime | None
    payload: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Refuse values the inbox cannot hold (a backstop: parsers check with the field's name)."""
        if not self.delivery_id or len(self.delivery_id) > MAX_DELIVERY_ID:
            raise MalformedEvent(f"delivery id must be 1 to {MAX_DELIVERY_ID} characters")
        if self.item_ref is not None and not 0 < len(self.item_ref) <= MAX_ITEM_REF:
            raise MalformedEvent(f"item reference must be 1 to {MAX_ITEM_REF} characters")
        if UNSTORABLE.search(self.delivery_id) or (self.item_ref and UNSTORABLE.search(self.item_ref)):
            raise MalformedEvent("delivery id and item reference must hold no control characters")

    @classmethod
    def ignore(
        cls, tracker: str, delivery_id: str, event_type: str, reason: str, event_time: datetime | None
    ) -> WebhookEvent:
        """An acknowledged event that applies nothing; only its type and ``reason`` are kept (made
        storable and cut to length: both are listed to admins)."""
        payload = {
            "type": storable_text(event_type, MAX_EVENT_TYPE),
            "reason": storable_text(reason, MAX_REASON),
        }
        return cls(tracker, delivery_id, "ignored", None, event_time, payload)

    @property
    def reason(self) -> str | None:
        """Why an ``ignored`` event applies nothing (None for the other kinds)."""
        reason = self.payload.get("reason") if self.kind == "ignored" else None
        return reason if isinstance(reason, str) else None


def _reject_constant(name: str) -> NoReturn:
    raise MalformedEvent(f"body has a non-finite number ({name})")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise MalformedEvent("body has a number too large to represent")
    return value


def _depth_exceeds(data: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > limit:
                return True
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def load_body(body: bytes) -> Any:
    """The JSON document in a verified body; MalformedEvent (400) when it is not one we can store.

    Strict JSON only: ``NaN``/``Infinity`` and numbers that overflow a float are refused (they
    cannot be stored as JSON, nor read as times), and so are bodies nested deeper than
    ``MAX_DEPTH`` or too deep to parse at all. Every string, keys included, comes back storable
    (lone surrogates and control characters but tab, newline and carriage return as U+FFFD).
    """
    try:
        data = json.loads(body, parse_constant=_reject_constant, parse_float=_finite_float)
    except MalformedEvent:
        raise
    except RecursionError:
        raise MalformedEvent(f"body is nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, an integer of too many digits
        raise MalformedEvent(f"body is not JSON: {exc.__class__.__name__}") from None
    if _depth_exceeds(data, MAX_DEPTH):
        raise MalformedEvent(f"body is nested deeper than {MAX_DEPTH} levels")
    return data if _plainly_storable(body) else storable_document(data)


def _plainly_storable(body: bytes) -> bool:
    """True when no string in the JSON ``body`` can hold an unstorable character (see above)."""
    return (
        json.detect_encoding(body) == "utf-8"
        and _UNSTORABLE_ESCAPE.search(body) is None
        and (b"\xed" not in body or _SURROGATE_BYTES.search(body) is None)
    )


def checked_id(value: object, where: str, limit: int = MAX_ITEM_REF) -> str:
    """``value`` (a string or integer) as an identifier of at most ``limit`` characters.

    MalformedEvent names ``where`` when it is missing, of another type, too long, or holds control
    characters or unpaired surrogates (which neither database can store in a string column) — or
    U+FFFD, which :func:`load_body` put in their place.
    """
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MalformedEvent(f"{where} is not a string")
    text = str(value) if isinstance(value, str) else _int_text(value, where)
    if not text:
        raise MalformedEvent(f"{where} is empty")
    if len(text) > limit:
        raise MalformedEvent(f"{where} is {len(text)} characters long (limit {limit})")
    if any(ord(c) < 32 or ord(c) == 127 or 0xD800 <= ord(c) <= 0xDFFF or c == REPLACEMENT for c in text):
        raise MalformedEvent(f"{where} holds control characters or unpaired surrogates")
    return text


def _int_text(value: int, where: str) -> str:
    try:
        return str(value)
    except ValueError:  # more digits than int -> str allows
        raise MalformedEvent(f"{where} is too long") from None


def millis_time(value: object, where: str) -> datetime | None:
    """Epoch milliseconds as an aware UTC datetime; None when absent; MalformedEvent naming
    ``where`` when it is not a finite number of milliseconds between the years 1 and 9999."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedEvent(f"{where} is not a number of milliseconds")
    try:
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise MalformedEvent(f"{where} is not a time (epoch milliseconds) we can represent") from None


def checked_time(value: datetime, where: str) -> datetime:
    """``value`` in UTC; MalformedEvent naming ``where`` when it is naive or out of range in UTC."""
    if value.tzinfo is None:
        raise MalformedEvent(f"{where} has no UTC offset")
    try:
        return value.astimezone(UTC)
    except (ValueError, OverflowError):
        raise MalformedEvent(f"{where} is out of range") from None


def iso_time(value: object, where: str) -> datetime | None:
    """An ISO 8601 string (``Z`` allowed) as an aware UTC datetime; None when absent."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedEvent(f"{where} is not a timestamp string")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise MalformedEvent(f"{where} is not an ISO 8601 timestamp") from None
    return checked_time(parsed, where)
