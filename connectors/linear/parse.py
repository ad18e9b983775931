"""Pure Linear parsing: an issue or project dict (GraphQL node or webhook ``data``) -> WorkItem.

Projects are Linear's epics: a project becomes a ``Level.CONTAINER`` item and an issue without a parent
issue names its project as parent, so issue -> parent -> project inheritance runs through the
generic parent chain. Labels in a group are also emitted as ``<Group>/<label>`` (the resolver's
``Value/<x>`` and ``Method/<x>`` conventions). Archived or trashed records are deletions to us:
``is_removed`` tells the connector to leave them out of the live set. Every item's text is made
storable (``v2mom.vendor_text.storable_item``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from v2mom.errors import FatalError
from v2mom.models import Level, State, WorkItem
from v2mom.vendor_text import storable_item
from v2mom.vocabulary import group_kind

TRACKER = "linear"
QUERIES = Path(__file__).resolve().parent / "queries"
STATE_TYPES: dict[str, State] = {
    "triage": State.TODO,
    "backlog": State.TODO,
    "unstarted": State.TODO,
    "started": State.IN_PROGRESS,
    "completed": State.DONE,
    "canceled": State.CANCELED,
    "duplicate": State.CANCELED,
}
PROJECT_STATUS_TYPES: dict[str, State] = {
    "backlog": State.TODO,
    "planned": State.TODO,
    "paused": State.TODO,
    "started": State.IN_PROGRESS,
    "completed": State.DONE,
    "canceled": State.CANCELED,
}


FRAGMENTS = "fragments"


def _fragments() -> dict[str, str]:
    """Each fragment of ``queries/fragments.graphql`` by name, with its text."""
    text = (QUERIES / f"{FRAGMENTS}.graphql").read_text(encoding="utf-8")
    found: dict[str, str] = {}
    for chunk in text.split("\nfragment ")[1:]:
        name = chunk.split(maxsplit=1)[0]
        found[name] = "fragment " + chunk.strip() + "\n"
    return found


def query_names() -> list[str]:
    """Every query file's name (without the shared fragments file)."""
    return sorted(p.stem for p in QUERIES.glob("*.graphql") if p.stem != FRAGMENTS)


def query_text(name: str) -> str:
    """The document of ``queries/<name>.graphql`` with the shared fragments it spreads appended."""
    text = (QUERIES / f"{name}.graphql").read_text(encoding="utf-8")
    used = [body for fragment, body in _fragments().items() if f"...{fragment}" in text]
    return "\n".join([text, *used])


def _fail(record: Mapping[str, Any], problem: str) -> FatalError:
    return FatalError(
        f"record {record.get('identifier') or record.get('id') or '?'}: {problem}", tracker=TRACKER
    )


def _required_time(record: Mapping[str, Any], field: str) -> datetime:
    value = _time(record, field)
    if value is None:
        raise _fail(record, f"missing {field}")
    return value


def _time(record: Mapping[str, Any], field: str) -> datetime | None:
    value = record.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _fail(record, f"{field} is not a timestamp")
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _fail(record, f"{field} '{value}' is not ISO 8601") from None


def _nodes(value: Any) -> list[Mapping[str, Any]]:
    """A connection's nodes (GraphQL) or a plain list (webhook payloads)."""
    if isinstance(value, Mapping):
        value = value.get("nodes")
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


Choices = dict[str, tuple[tuple[str, str], ...]]  # kind -> (label id, name) of each label in its group


def read_labels(*pages: Any) -> tuple[tuple[str, ...], Choices]:
    """The names of the labels on ``pages``, plus ``<Group>/<name>`` for labels inside a group; and
    the (label id, name) of each label in the ``Value`` / ``Method`` group by kind (the store reads
    the labels v2mom-sync provisioned by their ids). A label in those groups is named only as
    ``<Group>/<name>``: it is a plan choice, which a rule matching a plain label must not see."""
    names: list[str] = []
    choices: Choices = {}
    for label in (node for page in pages for node in _nodes(page)):
        name = label.get("name")
        if not isinstance(name, str):
            continue
        parent = label.get("parent")
        group = parent.get("name") if isinstance(parent, Mapping) else None
        if not isinstance(group, str):
            names.append(name)
            continue
        names.append(f"{group}/{name}")
        kind = group_kind(group)
        if kind is None:
            names.append(name)
        elif isinstance(label.get("id"), str):
            choices[kind] = (*choices.get(kind, ()), (label["id"], name))
    return tuple(dict.fromkeys(names)), choices


def is_removed(record: Mapping[str, Any]) -> bool:
    """True for archived or trashed issues and projects (counted as deleted)."""
    return bool(record.get("archivedAt")) or bool(record.get("trashed"))


def _parent_key(parent: Mapping[str, Any] | None, project: Mapping[str, Any] | None) -> str | None:
    """The key of an issue's parent: its parent issue's identifier, else its project's key."""
    if parent is not None:
        identifier = parent.get("identifier")
        return identifier if isinstance(identifier, str) and identifier else None
    if project is not None:
        slug = project.get("slugId")
        return f"project:{slug}" if isinstance(slug, str) and slug else None
    return None


def _assignee(raw: Mapping[str, Any]) -> str | None:
    """The id of the issue's assignee: ``assignee { id }`` (GraphQL; null: unassigned), else the
    ``assigneeId`` a webhook's ``data`` carries; FatalError when either is there but holds no id."""
    if "assignee" in raw:
        user = raw["assignee"]
        if user is None:
            return None
        user_id = user.get("id") if isinstance(user, Mapping) else None
        if not isinstance(user_id, str) or not user_id:
            raise _fail(raw, "assignee has no id")
        return user_id
    user_id = raw.get("assigneeId")
    if user_id is not None and (not isinstance(user_id, str) or not user_id):
        raise _fail(raw, "assigneeId is not a user id")
    return user_id


def parse_issue(raw: Mapping[str, Any], *, extra_labels: Any = None) -> WorkItem:
    """A Linear issue as a WorkItem; ``extra_labels`` are further label pages, if any. Its
    ``assignee`` is the assigned user's id (None: unassigned)."""
    issue_id = raw.get("id")
    if not isinstance(issue_id, str) or not issue_id:
        raise _fail(raw, "missing id")
    state = raw.get("state") or {}
    state_type = state.get("type") if isinstance(state, Mapping) else None
    if state_type not in STATE_TYPES:
        raise _fail(raw, f"unknown state type {state_type!r}")
    parent = raw.get("parent") if isinstance(raw.get("parent"), Mapping) else None
    project = raw.get("project") if isinstance(raw.get("project"), Mapping) else None
    team = raw.get("team") if isinstance(raw.get("team"), Mapping) else None
    estimate = raw.get("estimate")
    labels, choices = read_labels(raw.get("labels"), extra_labels)
    item = WorkItem(
        tracker=TRACKER,
        id=issue_id,
        key=str(raw.get("identifier") or issue_id),
        title=str(raw.get("title") or ""),
        description=text if isinstance(text := raw.get("description"), str) else "",
        url=raw.get("url") if isinstance(raw.get("url"), str) else None,
        level=Level.SUBTASK if parent else Level.STANDARD,
        parent_id=(parent or {}).get("id") or (project or {}).get("id"),
        parent_key=_parent_key(parent, project),
        container=(team or {}).get("key"),
        assignee=_assignee(raw),
        state=STATE_TYPES[state_type],
        status_name=str(state.get("name") or state_type),
        created_at=_time(raw, "createdAt"),
        updated_at=_required_time(raw, "updatedAt"),
        completed_at=_time(raw, "completedAt"),
        points=float(estimate) if isinstance(estimate, int | float) else None,
        labels=labels,
        choice_options=choices,
    )
    return storable_item(item)


def parse_project(raw: Mapping[str, Any]) -> WorkItem:
    """A Linear project as a container-level WorkItem (the epic of its issues) (key ``project:<slugId>``)."""
    project_id = raw.get("id")
    if not isinstance(project_id, str) or not project_id:
        raise _fail(raw, "missing id")
    status = raw.get("status") if isinstance(raw.get("status"), Mapping) else {}
    status_type = status.get("type") if status else None
    teams = _nodes(raw.get("teams"))
    item = WorkItem(
        tracker=TRACKER,
        id=project_id,
        key=f"project:{raw.get('slugId') or project_id}",
        title=str(raw.get("name") or ""),
        url=raw.get("url") if isinstance(raw.get("url"), str) else None,
        level=Level.CONTAINER,
        container=teams[0].get("key") if teams else None,
        state=PROJECT_STATUS_TYPES.get(str(status_type), State.TODO),
        status_name=str(status_type or ""),
        created_at=_time(raw, "createdAt"),
        updated_at=_required_time(raw, "updatedAt"),
        completed_at=_time(raw, "completedAt"),
    )
    return storable_item(item)
