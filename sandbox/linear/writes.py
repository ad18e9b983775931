"""The write-back resolvers of the fake Linear: issue label changes and URL attachments.

``issueUpdate`` / ``issueBatchUpdate`` take ``addedLabelIds`` / ``removedLabelIds``; the batch refuses
more than 50 ids and, as Linear does, fails whole when one id is unknown (``Entity not found: Issue``,
code ``INVALID_INPUT``). The result must keep one label per label group. Changed issues get a newer
``updatedAt`` and fire an ``Issue`` ``update`` event (webhooks echo them like any edit).
``attachmentCreate`` keeps one attachment per (issue, url): the same url again updates it in place.
Attachments do not touch their issue (no ``updatedAt`` bump, no ``Issue`` event).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from graphql import GraphQLError

from v2mom.sandbox.linear.state import Attachment, Issue, IssueRefused, LinearState

__all__ = ["MAX_BATCH", "WriteResolvers", "attachment_matches"]

MAX_BATCH = 50  # Linear: "Can't be more than 50 at a time"


def _refused(exc: IssueRefused) -> GraphQLError:
    return GraphQLError(str(exc), extensions={"code": "INVALID_INPUT"})


def _string_matches(comparator: dict[str, Any] | None, value: str | None) -> bool:
    """A ``StringComparator`` / ``NullableStringComparator`` (``eq``, ``in``, ``null``) on ``value``."""
    if not comparator:
        return True
    if comparator.get("null") is not None and (value is None) != comparator["null"]:
        return False
    if comparator.get("eq") is not None and value != comparator["eq"]:
        return False
    return comparator.get("in") is None or value in comparator["in"]


def attachment_matches(attachment: Attachment, wanted: dict[str, Any] | None) -> bool:
    """Whether ``attachment`` passes an ``AttachmentFilter`` (subtitle, url)."""
    wanted = wanted or {}
    return _string_matches(wanted.get("subtitle"), attachment.subtitle) and _string_matches(
        wanted.get("url"), attachment.url
    )


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class WriteResolvers:
    """Mutation resolvers mixed into the app's ``Root`` (which renders issues)."""

    state: LinearState
    render_issue: Callable[[Issue], dict[str, Any]]

    def _labels(self, ids: list[str], input: dict[str, Any]) -> list[Issue]:
        try:
            return self.state.change_labels(
                ids, list(input.get("addedLabelIds") or []), list(input.get("removedLabelIds") or [])
            )
        except IssueRefused as exc:
            raise _refused(exc) from None

    def issueUpdate(self, info: Any, id: str, input: dict[str, Any]) -> dict[str, Any]:
        """``issueUpdate``: label changes of one issue (by id or identifier)."""
        del info
        found = self.state.issues.get(id) or next(
            (i for i in list(self.state.issues.values()) if i.identifier == id.upper()), None
        )
        if found is None:
            raise GraphQLError("Entity not found: Issue", extensions={"code": "INVALID_INPUT"})
        [issue] = self._labels([found.id], input)
        return {"success": True, "lastSyncId": 1.0, "issue": self.render_issue(issue)}

    def issueBatchUpdate(self, info: Any, ids: list[str], input: dict[str, Any]) -> dict[str, Any]:
        """``issueBatchUpdate``: the same label changes on up to 50 issues, all or nothing."""
        del info
        if len(ids) > MAX_BATCH:
            raise GraphQLError(
                f"Argument Validation Error: ids can't be more than {MAX_BATCH} at a time",
                extensions={"code": "INVALID_INPUT"},
            )
        for issue_id in ids:
            try:
                uuid.UUID(issue_id)
            except ValueError:
                raise GraphQLError(
                    f"Argument Validation Error: '{issue_id}' is not a UUID",
                    extensions={"code": "INVALID_INPUT"},
                ) from None
        issues = self._labels(list(ids), input)
        return {"success": True, "lastSyncId": 1.0, "issues": [self.render_issue(i) for i in issues]}

    def attachmentCreate(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        """``attachmentCreate``: a URL attachment, or the one with the same (issue, url) updated."""
        del info
        try:
            made = self.state.attach_url(
                input["issueId"],
                input["url"],
                input["title"],
                subtitle=input.get("subtitle"),
                metadata=input.get("metadata"),
            )
        except IssueRefused as exc:
            raise _refused(exc) from None
        return {"success": True, "lastSyncId": 1.0, "attachment": self.render_attachment(made)}

    def attachmentDelete(self, info: Any, id: str) -> dict[str, Any]:
        """``attachmentDelete``: an attachment by id."""
        del info
        try:
            self.state.delete_attachment(id)
        except IssueRefused as exc:
            raise _refused(exc) from None
        return {"success": True, "lastSyncId": 1.0, "entityId": id}

    def render_attachment(self, attachment: Attachment) -> dict[str, Any]:
        """An attachment as the schema's Attachment (its issue resolves lazily)."""
        issue = self.state.issues.get(attachment.issue_id)
        return {
            "id": attachment.id,
            "url": attachment.url,
            "title": attachment.title,
            "subtitle": attachment.subtitle,
            "metadata": attachment.metadata,
            "createdAt": _time(attachment.created),
            "updatedAt": _time(attachment.updated),
            "issue": (lambda info: self.render_issue(issue)) if issue else None,
        }

    def attachment_connection(self, issue: Issue) -> Callable[..., dict[str, Any]]:
        """The resolver of ``Issue.attachments(filter, first, after)`` (one page: ``first`` at most)."""

        def connection(
            info: Any,
            filter: dict[str, Any] | None = None,
            first: int | None = None,
            after: str | None = None,
        ) -> dict[str, Any]:
            del info
            found = [a for a in self.state.attachments_of(issue.id) if attachment_matches(a, filter)]
            offset = int(after) if after and after.isdigit() else 0
            size = first if first is not None else 50
            chunk = found[offset : offset + size]
            return {
                "nodes": [self.render_attachment(a) for a in chunk],
                "pageInfo": {
                    "hasNextPage": offset + size < len(found),
                    "endCursor": str(offset + len(chunk)) if chunk else None,
                },
            }

        return connection
