"""Jira Data Center's in-tracker half: the V2MOM select fields, their options, tag edits and links.

Data Center 10.3 speaks REST v2 and offers less than Cloud for select fields:

- ``POST /rest/api/2/field`` creates the single-select field; Data Center gives it a global context
  but puts it on no screen, and an issue edit sets only the fields on its edit screen: putting it
  there is a step for an administrator too;
- ``GET /rest/api/2/customFields/{id}/options`` lists its options (``options``, ``total``; ``page`` /
  ``maxResults``); there is NO REST API to create, rename, disable or enable an option, nor to
  manage contexts. Those changes are left to a Jira administrator, named with the place to make
  them (:class:`~v2mom.vocabulary.ManualStep`), never a failed run;
- there is no bulk edit: each issue is ``PUT /rest/api/2/issue/{id}`` ``{"fields": {cf: {"id": …}
  | null}}`` (204), a few at once (:data:`WRITERS` workers, each with its own client and session),
  with ``notifyUsers=false`` so the watchers get no mail for it (Jira allows that to admins and
  project admins only: after a 403 the issue is edited again with notifications, and so are the
  rest of the run's);
- a remote link is ``POST /rest/api/2/issue/{id}/remotelink`` with the stable ``globalId`` (links.py).

Setting the same option again changes nothing, so every edit is retried with the connector's policy
(429 with its ``Retry-After``, 5xx). A refusal of one issue (400: an option Jira does not accept;
403; 404: deleted or invisible) is that issue's outcome and the others go on; bad credentials (401)
or an unreachable Jira raise the typed error and stop the edits not yet sent.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from v2mom.connectors.jira.client import TRACKER, JiraClient
from v2mom.connectors.retry import Retrying
from v2mom.errors import AuthError, FatalError, NotFoundError
from v2mom.vocabulary import FIELD_NAMES, Action, Kind, TagWrite, TrackerOption, WriteOutcome

__all__ = [
    "BY_HAND",
    "OPTION_PAGE_SIZE",
    "WRITERS",
    "DataCenterTags",
    "admin_place",
    "read_options",
    "screens_place",
    "screens_task",
]

log = logging.getLogger(__name__)

OPTION_PAGE_SIZE = 100  # options asked per page of GET …/customFields/{id}/options
WRITERS = 6  # issues edited at once (each worker its own session)
BY_HAND: frozenset[Action] = frozenset({"create", "rename", "disable", "enable"})


def admin_place(kind: Kind, field_id: str | None) -> str:
    """Where in Jira's administration an admin changes the options of the field of ``kind``."""
    named = f"'{FIELD_NAMES[kind]}'" + (f" ({field_id})" if field_id else "")
    return (
        f"Jira administration > Issues > Custom fields > {named} > Contexts and default value > "
        "Edit Options (its global context); Data Center has no REST API for select options"
    )


def screens_task(kind: Kind, *, on_default: bool = False) -> str:
    """The step after Data Center created the field of ``kind``: people (and v2mom-sync) can set it
    only where it is on an issue's edit screen, and a field made through REST is on none. Once
    v2mom-sync put it on the Default Screen (``on_default``), only the projects with screens of
    their own are left: Data Center's REST API does not say which screens a project edits through."""
    task = f"put the field '{FIELD_NAMES[kind]}' on the edit screens of the projects in scope"
    if on_default:
        return task + " that do not use the Default Screen (v2mom-sync put it there)"
    return task


def screens_place(kind: Kind, field_id: str | None) -> str:
    """Where an admin puts the field of ``kind`` on screens (its id once known)."""
    named = f"'{FIELD_NAMES[kind]}'" + (f" ({field_id})" if field_id else "")
    return f"Jira administration > Issues > Custom fields > {named} > Screens"


def _option(raw: Mapping[str, Any], step: str) -> TrackerOption:
    """A CustomFieldOptionBean (``id`` is a number there) as a TrackerOption."""
    option_id, value = raw.get("id"), raw.get("value")
    if isinstance(option_id, bool) or not isinstance(option_id, int | str) or not str(option_id):
        raise FatalError(f"{step}: an option without an id", tracker=TRACKER)
    if not isinstance(value, str) or not value:
        raise FatalError(f"{step}: option {option_id} without a value", tracker=TRACKER)
    return TrackerOption(option_id=str(option_id), name=value, enabled=raw.get("disabled") is not True)


def read_options(
    client: JiraClient,
    retrying: Retrying,
    field_id: str,
    name: str,
    notes: list[str],
    *,
    page_size: int = OPTION_PAGE_SIZE,
) -> list[TrackerOption]:
    """Every option of ``field_id``, in Jira's order, page by page until ``total``.

    The spec does not say whether ``page`` counts from 0 or 1: the first page is asked without it,
    then pages 1, 2, … follow and options already seen are dropped, which reads every option either
    way (at the cost of one repeated page when Jira counts from 1). A Jira that serves fewer options
    than its ``total`` says is noted, not guessed at.
    """
    step = f"read the options of field '{name}'"
    found: dict[str, TrackerOption] = {}

    def take(page: int | None) -> int:
        answer = retrying(partial(client.dc_field_options, field_id, page, page_size, step=step))
        raw = answer.get("options")
        if not isinstance(raw, list):
            raise FatalError(f"{step}: an answer without an 'options' list", tracker=TRACKER)
        for entry in raw:
            if isinstance(entry, dict):
                option = _option(entry, step)
                found.setdefault(option.option_id, option)
        total = answer.get("total")
        if isinstance(total, bool) or not isinstance(total, int):
            return len(found)
        return total

    total = take(None)
    served = max(1, len(found))
    last_page = math.ceil(total / served) + 1
    page = 1
    while len(found) < total and page <= last_page:
        before = len(found)
        take(page)
        if len(found) == before and page > 1:
            break  # an empty or repeated page past the first: Jira has nothing more
        page += 1
    if len(found) < total:
        notes.append(f"field '{name}': Jira counts {total} options but served {len(found)}")
    return list(found.values())


def _issue(write: TagWrite) -> str:
    """How messages name an issue: its key and its stable id."""
    return f"issue {write.key} (id {write.item_id})"


class _Stopped(Exception):
    """The run stopped before this issue was sent (another issue's error ends it)."""


class DataCenterTags:
    """Sets and clears the V2MOM choices of Data Center issues, one ``PUT`` per issue, a few at once."""

    def __init__(self, client: JiraClient, retrying: Retrying, *, writers: int = WRITERS) -> None:
        """Work through clients spawned from ``client``; every edit goes through ``retrying``."""
        self._client = client
        self._retrying = retrying
        self._writers = max(1, writers)
        self._notify = False  # True once Jira refused to edit without notifying (not an admin)
        self._lock = threading.Lock()

    def write(self, writes: Sequence[TagWrite], fields: Mapping[Kind, str]) -> list[WriteOutcome]:
        """One outcome per write, in order; ``fields`` is each kind's field id.

        The typed error of a whole-run failure (401, unreachable, retries exhausted) is raised once
        the edits under way have ended; the edits not yet sent are not sent.
        """
        todo = [w for w in writes if w.options]
        errors: dict[str, str | None] = {}
        if todo:
            errors = self._run(todo, fields)
        return [WriteOutcome(w.item_id, errors.get(w.item_id)) for w in writes]

    def _run(self, todo: list[TagWrite], fields: Mapping[Kind, str]) -> dict[str, str | None]:
        local = threading.local()
        spawned: list[JiraClient] = []
        stop = threading.Event()

        def client() -> JiraClient:
            mine: JiraClient | None = getattr(local, "client", None)
            if mine is None:
                mine = self._client.spawn()
                local.client = mine
                with self._lock:
                    spawned.append(mine)
            return mine

        def edit(write: TagWrite) -> str | None:
            if stop.is_set():
                raise _Stopped
            try:
                return self._edit(client(), write, fields)
            except Exception:
                stop.set()
                raise

        errors: dict[str, str | None] = {}
        failure: BaseException | None = None
        try:
            with ThreadPoolExecutor(max_workers=min(self._writers, len(todo))) as pool:
                futures = [(w, pool.submit(edit, w)) for w in todo]
                for write, future in futures:
                    try:
                        errors[write.item_id] = future.result()
                    except _Stopped:
                        continue
                    except Exception as exc:  # the first whole-run error is raised below
                        failure = failure or exc
        finally:
            for made in spawned:
                made.close()
        if failure is not None:
            raise failure
        return errors

    def _edit(self, client: JiraClient, write: TagWrite, fields: Mapping[Kind, str]) -> str | None:
        """Edit one issue; its error text (None: Jira took it)."""
        body: dict[str, object] = {}
        for kind, option_id in sorted(write.options.items()):
            if option_id is not None and not option_id.isdigit():
                return f"{_issue(write)}: {FIELD_NAMES[kind]} option id {option_id!r} is not a Jira option id"
            body[fields[kind]] = {"id": option_id} if option_id is not None else None
        step = f"edit {_issue(write)}"
        try:
            self._send(client, write, body, step)
        except NotFoundError as refused:
            return str(refused)
        except FatalError as refused:
            return str(refused)
        except AuthError as refused:
            if refused.status != 403:
                raise
            return str(refused)
        return None

    def _send(self, client: JiraClient, write: TagWrite, body: dict[str, object], step: str) -> None:
        """The edit, without notifications while Jira allows it; after a 403, again with them."""
        if not self._notify:
            try:
                self._retrying(partial(client.dc_edit_issue, write.item_id, body, notify=False, step=step))
                return
            except AuthError as refused:
                if refused.status != 403:
                    raise
            self._retrying(partial(client.dc_edit_issue, write.item_id, body, notify=True, step=step))
            with self._lock:
                if not self._notify:
                    log.warning(
                        "jira: the account may not edit issues without notifying their watchers"
                        " (notifyUsers=false needs a Jira or project administrator): they are notified"
                    )
                self._notify = True
            return
        self._retrying(partial(client.dc_edit_issue, write.item_id, body, notify=True, step=step))
