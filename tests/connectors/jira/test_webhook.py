"""Jira Data Center webhook bodies, pure: verification (fail closed, unsigned deliveries refused
saying why), delivery ids without a header, changelog transitions by user key, ignored kinds."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest

from tests.webhooks.jira_signing import DC_CHANGELOG, OLD_SECRET, SECRET, dc_delivery, sign
from v2mom.connectors.jira.webhook import changelog_transitions, parse_jira_dc_event, verify_jira_dc
from v2mom.errors import WebhookVerificationError
from v2mom.events import MalformedEvent
from v2mom.models import State

BODY = dc_delivery(changelog=DC_CHANGELOG)


def test_a_data_center_update_is_a_refetch_with_its_changes_by_user_key() -> None:
    event = parse_jira_dc_event({}, BODY)
    assert (event.kind, event.item_ref) == ("refetch", "10003")
    assert event.delivery_id == "sha256:" + hashlib.sha256(BODY).hexdigest()
    assert event.event_time == datetime(2026, 11, 23, 10, tzinfo=UTC)
    found = changelog_transitions("10003", event.payload, {"3": State.IN_PROGRESS}.get)
    assert [(c.field, c.event_id, c.from_value, c.to_value, c.to_category) for c in found] == [
        ("status", "10103", "10000", "3", State.IN_PROGRESS),
        ("assignee", "10103", None, "JIRAUSER10100", None),
    ]
    assert {c.at for c in found} == {datetime.fromtimestamp(1763900000, tz=UTC)}


def test_a_retried_delivery_keeps_its_id_and_a_sent_identifier_wins() -> None:
    assert parse_jira_dc_event({}, BODY).delivery_id == parse_jira_dc_event({}, BODY).delivery_id
    later = dc_delivery(changelog=DC_CHANGELOG, timestamp=1763900000001)
    assert parse_jira_dc_event({}, later).delivery_id != parse_jira_dc_event({}, BODY).delivery_id
    sent = {"x-atlassian-webhook-identifier": "dc-77"}
    assert parse_jira_dc_event(sent, BODY).delivery_id == "dc-77"


def test_a_deleted_issue_is_a_delete() -> None:
    event = parse_jira_dc_event({}, dc_delivery(event="jira:issue_deleted"))
    assert (event.kind, event.item_ref) == ("delete", "10003")


@pytest.mark.parametrize(
    "body",
    [
        {"webhookEvent": "sprint_started", "sprint": {"id": 7, "state": "active"}},
        {"webhookEvent": "board_updated", "board": {"id": 3}},
        {"webhookEvent": "project_created", "project": {"id": 10000, "key": "NEW"}},
        {"webhookEvent": "jira:version_released", "version": {"id": "10001"}},
        {"webhookEvent": "user_created", "user": {"name": "fred", "key": "JIRAUSER10100"}},
        {"webhookEvent": "issuelink_created", "issueLink": {"sourceIssueId": 1, "destinationIssueId": 2}},
    ],
)
def test_events_naming_no_issue_are_ignored_with_a_reason(body: dict[str, object]) -> None:
    event = parse_jira_dc_event({}, json.dumps({"timestamp": 1763900000000, **body}).encode())
    assert event.kind == "ignored"
    assert event.reason is not None
    assert "names no issue" in event.reason


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (b"{not json", "not JSON"),
        (b'{"webhookEvent": "jira:issue_updated", "issue": {"id": "1", "fields": [1]}}', "issue.fields"),
        (b'{"webhookEvent": "jira:issue_updated", "issue": {"id": "x y"}}', "issue.id"),
        (b'{"webhookEvent": "jira:issue_updated", "timestamp": "now", "issue": {"id": "1"}}', "timestamp"),
        (dc_delivery(changelog={"id": "1", "items": "status"}), "items"),
    ],
)
def test_malformed_data_center_bodies_name_the_problem(body: bytes, named: str) -> None:
    with pytest.raises(MalformedEvent, match=named):
        parse_jira_dc_event({}, body)


@pytest.mark.parametrize(
    ("signature", "secrets", "refusal"),
    [
        (sign(BODY), [SECRET], None),
        (sign(BODY, OLD_SECRET), [OLD_SECRET, SECRET], None),  # rotation: the previous one still verifies
        (sign(BODY, "nope"), [SECRET], "does not match"),
        (None, [SECRET], "has no secret"),  # an admin created the webhook without one
        (None, [], "no webhook secret configured"),
        (sign(BODY), [], "no webhook secret configured"),
    ],
)
def test_data_center_verification_fails_closed(
    signature: str | None, secrets: list[str], refusal: str | None
) -> None:
    headers = {"x-hub-signature": signature} if signature is not None else {}
    if refusal is None:
        verify_jira_dc(headers, BODY, secrets)
        return
    with pytest.raises(WebhookVerificationError, match=refusal) as refused:
        verify_jira_dc(headers, BODY, secrets)
    assert SECRET not in str(refused.value)


def test_an_unsigned_delivery_says_how_to_set_a_secret() -> None:
    with pytest.raises(WebhookVerificationError) as refused:
        verify_jira_dc({}, BODY, [SECRET])
    message = str(refused.value)
    assert "v2mom webhooks register" in message
    assert "Data Center 10" in message
