"""Jira explanation links: one remote link per issue to its explanation page.

``POST /rest/api/3/issue/{id}/remotelink`` with the stable ``globalId`` ``v2mom-sync:item:<issue
id>``: Jira updates the link holding that ``globalId`` in place (every field resent, as Jira nulls the
ones left out), so the link is created once and a changed key or URL never adds a second one.

Sending the same link again changes nothing, so every request is retried with the connector's policy
(429, 5xx). A missing issue (404), a refused link (403: no *Link issues* permission there) or a
rejected body (400) is that issue's outcome and the others go on; bad credentials (401) or an
unreachable Jira raise the typed error.

Jira Data Center takes the same request on ``/rest/api/2``. An administrator may turn remote issue
linking off there: Jira then answers 403 to every link, and each is that issue's refusal while the
fields are still written.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from v2mom.connectors.jira.client import JiraClient
from v2mom.connectors.retry import Retrying
from v2mom.errors import AuthError, FatalError, NotFoundError
from v2mom.vocabulary import LinkWrite, WriteOutcome

__all__ = ["APPLICATION", "GLOBAL_ID_PREFIX", "JiraLinks", "global_id"]

GLOBAL_ID_PREFIX = "v2mom-sync:item:"
APPLICATION = {"type": "com.v2mom-sync", "name": "v2mom-sync"}


def global_id(item_id: str) -> str:
    """The stable ``globalId`` of an issue's explanation link (Jira allows 255 characters)."""
    return f"{GLOBAL_ID_PREFIX}{item_id}"


class JiraLinks:
    """Writes explanation links into Jira issues (the ``write_links`` half of the connector's TagWriter)."""

    def __init__(self, client: JiraClient, retrying: Retrying) -> None:
        """Work through ``client``; every request goes through ``retrying``."""
        self._client = client
        self._retrying = retrying

    def write_links(self, links: Sequence[LinkWrite]) -> list[WriteOutcome]:
        """Create or update each issue's explanation link (one request each); one outcome per link."""
        outcomes: list[WriteOutcome] = []
        for link in links:
            body: dict[str, object] = {
                "globalId": global_id(link.item_id),
                "application": dict(APPLICATION),
                "object": {"url": link.url, "title": link.title},
            }
            step = f"link issue {link.key} (id {link.item_id})"
            try:
                self._retrying(partial(self._client.put_remote_link, link.item_id, body, step=step))
            except AuthError as refused:
                if refused.status != 403:
                    raise
                outcomes.append(WriteOutcome(link.item_id, str(refused)))
            except (NotFoundError, FatalError) as refused:
                outcomes.append(WriteOutcome(link.item_id, str(refused)))
            else:
                outcomes.append(WriteOutcome(link.item_id))
        return outcomes
