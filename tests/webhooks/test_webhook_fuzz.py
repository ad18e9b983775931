"""A seeded fuzzer for the three webhook receivers: correctly signed bodies of random shapes, numbers
(NaN, huge, negative), strings (long, unicode, control characters, lone surrogates), sizes, nesting
and encodings. Whatever arrives, no answer is a 5xx, and nothing is stored for a 4xx; what is
stored can be read back by a worker's claim."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import pytest

from tests.webhooks.jira_signing import DC_CHANGELOG, dc_delivery
from tests.webhooks.receivers import Receivers, inbox_tracker, now_ms

SEED = 20261111
BODIES_PER_TRACKER = 120
STRINGS = [
    "",
    "x",
    "ONB-1",
    "10001",
    "é",
    "日本語",
    "🙂",
    "\u0000",
    "\x1f",
    "\ud800",
    "\udfff",
    "\u202e",
    "a\nb",
]
NUMBERS: list[Any] = [0, -1, 1, 7, -(10**18), 10**20, 10**300, 1.5, -0.0, 1e20, -1e20, 1e308, 5e-324]
NON_FINITE = ["NaN", "Infinity", "-Infinity", "1e400", "-1e999"]


def scalar(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.3:
        return rng.choice(NUMBERS)
    if roll < 0.45:
        return rng.choice([None, True, False])
    if roll < 0.55:
        return rng.choice(STRINGS) * rng.choice([1, 2, 50, 300])
    if roll < 0.6:
        return "".join(chr(rng.randrange(0x10FFFF)) for _ in range(rng.randrange(1, 20)))
    return rng.choice(STRINGS)


def value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 4 or roll < 0.55:
        return scalar(rng)
    if roll < 0.75:
        return [value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice(STRINGS + KEYS): value(rng, depth + 1) for _ in range(rng.randrange(5))}


KEYS = [
    "id",
    "key",
    "self",
    "issueId",
    "fields",
    "updated",
    "timestamp",
    "webhookEvent",
    "issue",
    "worklog",
    "comment",
    "type",
    "action",
    "data",
    "webhookTimestamp",
    "updatedAt",
    "events",
    "resource",
    "gid",
    "resource_type",
    "created_at",
    "parent",
    "change",
    "field",
]


def mutate(rng: random.Random, document: Any) -> Any:
    """``document`` with one random place replaced by a random value (or a key added or dropped)."""
    if not isinstance(document, dict | list) or not document or rng.random() < 0.15:
        return value(rng)
    if isinstance(document, list):
        index = rng.randrange(len(document))
        document[index] = mutate(rng, document[index])
        return document
    key = rng.choice(list(document))
    roll = rng.random()
    if roll < 0.1:
        del document[key]
    elif roll < 0.4:  # a field the receivers read, given a value of another shape
        document[rng.choice(KEYS)] = value(rng)
    else:
        document[key] = mutate(rng, document[key])
    return document


def jira_template(rng: random.Random) -> dict[str, Any]:
    event = rng.choice(
        ["jira:issue_updated", "jira:issue_deleted", "worklog_updated", "comment_created", "x"]
    )
    body: dict[str, Any] = {"webhookEvent": event, "timestamp": 1763900000000}
    if rng.random() < 0.5:
        body["issue"] = {"id": "10001", "key": "ONB-1", "fields": {"updated": "2026-11-20T10:00:00.000+0000"}}
    else:
        body["worklog"] = {"issueId": "10001", "self": "https://s/rest/api/2/issue/10001/worklog/1"}
    return body


def jira_datacenter_template(rng: random.Random) -> dict[str, Any]:
    """A Data Center admin webhook's body: its user beans, the whole issue, a changelog or none."""
    event = rng.choice(
        ["jira:issue_updated", "jira:issue_created", "jira:issue_deleted", "worklog_updated", "x"]
    )
    changelog = DC_CHANGELOG if rng.random() < 0.5 else None
    issue_id = str(rng.randrange(10_000, 10_100))
    raw = dc_delivery(issue_id, f"ONB-{issue_id}", event, changelog=changelog)
    document: dict[str, Any] = json.loads(raw)
    return document


def linear_template(rng: random.Random) -> dict[str, Any]:
    kind = rng.choice(["Issue", "Project", "Comment", "Reaction", "IssueLabel", "ProjectUpdate", "Cycle"])
    data = {"id": "i-1", "issueId": "i-2", "updatedAt": "2026-11-20T12:00:00.000Z"}
    return {
        "action": rng.choice(["create", "update", "remove"]),
        "type": kind,
        "data": data,
        "webhookTimestamp": now_ms(),
        "webhookId": "wh",
    }


def asana_template(rng: random.Random) -> dict[str, Any]:
    def event() -> dict[str, Any]:
        return {
            "action": rng.choice(["changed", "deleted", "added"]),
            "resource": {"gid": str(rng.randrange(10**6)), "resource_type": rng.choice(["task", "story"])},
            "created_at": "2026-11-20T12:00:00.123Z",
            "parent": None,
            "change": {"field": "name"},
        }

    return {"events": [event() for _ in range(rng.randrange(4))]}


def encode(rng: random.Random, document: Any) -> bytes:
    """``document`` as bytes, in one of several encodings, sometimes with non-finite numbers."""
    text = json.dumps(document, ensure_ascii=rng.random() < 0.5)
    roll = rng.random()
    if roll < 0.1:
        text = text.replace("1763900000000", rng.choice(NON_FINITE), 1).replace(
            "0", rng.choice(NON_FINITE), 1
        )
    encoding = rng.choice(["utf-8", "utf-8", "utf-8", "utf-8-sig", "utf-16", "utf-32", "latin-1"])
    return text.encode(encoding, "surrogatepass" if encoding.startswith("utf") else "replace")


def body(rng: random.Random, template: Callable[[random.Random], dict[str, Any]]) -> bytes:
    roll = rng.random()
    if roll < 0.06:
        return rng.choice([b"[" * 200_000, b'{"a":' * 5000 + b"1" + b"}" * 5000, b"[" * 300 + b"]" * 300])
    if roll < 0.09:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(200)))
    if roll < 0.11:
        return json.dumps({"pad": "x" * rng.choice([10_000, 500_000, 1_100_000])}).encode()
    if roll < 0.2:
        return encode(rng, value(rng))
    document: Any = template(rng)
    for _ in range(rng.randrange(1, 4)):
        document = mutate(rng, document)
    return encode(rng, document)


# Every run starts with these (shapes that once broke the receiver), then goes on at random.
CORPUS = [
    b"[" * 100_000,
    b'{"a":' * 200 + b"1" + b"}" * 200,
    b'{"timestamp": NaN, "webhookTimestamp": NaN, "events": [], "type": "Issue"}',
    b'{"timestamp": 1e20, "issue": {"id": "1"}, "worklog": {"issueId": "1"}, "events": [1]}',
    b'{"n": ' + b"9" * 5000 + b"}",
    b"\xff\xfe\x00",
]


def delivery_id(rng: random.Random, n: int) -> str:
    roll = rng.random()
    if roll < 0.1:
        return "d" * rng.choice([255, 256, 1000])
    if roll < 0.15:
        return "dup"
    return f"fuzz-{n}-" + "".join(rng.choice("abc-_.:/0189") for _ in range(rng.randrange(30)))


@pytest.mark.parametrize("tracker", ["jira", "jira-datacenter", "linear", "asana"])
def test_no_signed_body_gets_a_5xx_and_no_refused_one_is_stored(hooks: Receivers, tracker: str) -> None:
    rng = random.Random(f"{SEED}-{tracker}")
    template = {
        "jira": jira_template,
        "jira-datacenter": jira_datacenter_template,
        "linear": linear_template,
        "asana": asana_template,
    }[tracker]
    stored_as = inbox_tracker(tracker)
    statuses: list[int] = []
    for n in range(BODIES_PER_TRACKER):
        raw = CORPUS[n] if n < len(CORPUS) else body(rng, template)
        before = hooks.stored()
        answer = hooks.post(tracker, raw, delivery_id(rng, n))
        statuses.append(answer.status_code)
        assert answer.status_code < 500, (n, answer.status_code, answer.text[:300])
        if answer.status_code >= 400:
            assert hooks.stored() == before, (n, answer.status_code)
            assert answer.json()["detail"]
    assert any(s == 202 for s in statuses)  # the fuzzer reaches the inbox, not only the parser's refusals
    assert any(s == 400 for s in statuses)
    entries = hooks.inbox.claim("fuzz", limit=10_000)  # everything stored reads back as an event
    assert {e.event.tracker for e in entries} <= {stored_as}
    assert len(entries) + hooks.inbox.counts().get(stored_as, {}).get("ignored", 0) == hooks.stored()
