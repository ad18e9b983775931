"""Linear's vocabulary: the workspace label groups ``Value`` / ``Method`` and their labels.

The plan's values and methods are offered as child labels of two workspace label groups
(:data:`~v2mom.vocabulary.LABEL_GROUPS`: ``isGroup: true``, no team). They are read with
``issueLabels`` (relay-paged, ``includeArchived`` so nothing is hidden; deleted labels are then left
out, retired ones kept as disabled options: a label is enabled unless ``retiredAt`` is set) and changed
one step at a time:

==================  ===================================================
change              mutation
==================  ===================================================
``create_container``  ``issueLabelCreate(input: {name, isGroup: true})``
``create``            ``issueLabelCreate(input: {name, parentId})``
``rename``            ``issueLabelUpdate(id, input: {name})`` (same id)
``disable``           ``issueLabelRetire(id)`` (never a deletion)
``enable``            ``issueLabelRestore(id)``
==================  ===================================================

A container is named by :data:`LABEL_GROUPS` whatever ``VocabularyChange.name`` says (the shared diff
names containers by the Jira / Asana field names). A refusal raises the client's typed error
(AuthError for ``FORBIDDEN``, FatalError for ``INVALID_INPUT`` such as a duplicate name, RetriableError
for ``RATELIMITED`` once retries are spent) with the step in its message (``linear: create label 'X':
permission denied: ...``); the steps before it stay applied and the next read sees them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from v2mom.connectors.linear.parse import TRACKER
from v2mom.errors import FatalError, TrackerError
from v2mom.vocabulary import (
    KINDS,
    LABEL_GROUPS,
    AppliedVocabulary,
    Kind,
    TrackerOption,
    TrackerVocabulary,
    VocabularyChange,
)

__all__ = ["CALLS", "LABELS_PAGE_SIZE", "LinearVocabulary", "parse_vocabulary", "vocabulary_filter"]

CALLS = "vocabulary"  # the request kind counted in ``calls``
LABELS_PAGE_SIZE = 250  # Linear's largest page

Execute = Callable[[str, str, Mapping[str, Any]], dict[str, Any]]
Pages = Callable[
    [str, str, tuple[str, ...], Mapping[str, Any]], Iterator[tuple[list[Mapping[str, Any]], int]]
]

# change action -> (document, the mutation's field in ``data``)
_MUTATIONS: dict[str, tuple[str, str]] = {
    "create_container": ("label_group_create", "issueLabelCreate"),
    "create": ("label_create", "issueLabelCreate"),
    "rename": ("label_rename", "issueLabelUpdate"),
    "disable": ("label_retire", "issueLabelRetire"),
    "enable": ("label_restore", "issueLabelRestore"),
}


def vocabulary_filter() -> dict[str, Any]:
    """The ``IssueLabelFilter`` of the vocabulary: the workspace groups by name, and their children."""
    group = {"isGroup": {"eq": True}, "name": {"in": list(LABEL_GROUPS.values())}, "team": {"null": True}}
    return {"or": [group, {"parent": group}]}


def _text(node: Mapping[str, Any], field: str) -> str:
    value = node.get(field)
    if not isinstance(value, str) or not value:
        raise FatalError(f"vocabulary_labels: a label without {field}", tracker=TRACKER)
    return value


def _ref_id(node: Mapping[str, Any], field: str) -> str | None:
    ref = node.get(field)
    value = ref.get("id") if isinstance(ref, Mapping) else None
    return value if isinstance(value, str) else None


def parse_vocabulary(nodes: list[Mapping[str, Any]]) -> TrackerVocabulary:
    """The vocabulary in ``issueLabels`` nodes: per kind its workspace group's id and child labels.

    Deleted (``archivedAt``) labels are left out; a retired child label is a disabled option. When two
    live workspace groups share a name (Linear refuses it, but be safe), the first listed wins.
    """
    live = [n for n in nodes if not n.get("archivedAt")]
    containers: dict[Kind, str | None] = {kind: None for kind in KINDS}
    for kind in KINDS:
        containers[kind] = next(
            (
                _text(n, "id")
                for n in live
                if n.get("isGroup") is True and n.get("team") is None and n.get("name") == LABEL_GROUPS[kind]
            ),
            None,
        )
    options: dict[Kind, tuple[TrackerOption, ...]] = {}
    for kind in KINDS:
        group = containers[kind]
        options[kind] = tuple(
            TrackerOption(_text(n, "id"), _text(n, "name"), enabled=not n.get("retiredAt"))
            for n in live
            if group is not None and _ref_id(n, "parent") == group and n.get("isGroup") is not True
        )
    return TrackerVocabulary(containers=containers, options=options)


def _step(change: VocabularyChange) -> str:
    """How a person names the step ``change`` takes in Linear (used in error messages)."""
    if change.action == "create_container":
        return f"create label group '{LABEL_GROUPS[change.kind]}'"
    if change.action == "create":
        return f"create label '{change.name}'"
    if change.action == "rename":
        return f"rename label '{change.old_name}' to '{change.name}'"
    verb = "retire" if change.action == "disable" else "restore"
    return f"{verb} label '{change.name}'"


def _at_step(error: TrackerError, step: str) -> TrackerError:
    """``error`` (same class, status, request id and retry wait) with ``step`` named in its message."""
    prefix = f"{error.tracker}: "
    text = str(error)
    body = text[len(prefix) :] if text.startswith(prefix) else text
    named = type(error).__new__(type(error))
    named.__dict__.update(error.__dict__)
    named.args = (f"{prefix}{step}: {body}",)
    return named


class LinearVocabulary:
    """Reads and changes the Linear vocabulary through the connector's ``execute`` and ``pages``.

    Both callables retry as the connector does. The group ids of the last read (or created here) are
    kept, so a ``create`` knows its parent; when one is unknown, the vocabulary is read again.
    """

    def __init__(self, execute: Execute, pages: Pages) -> None:
        """``execute(kind, document, variables)`` -> data; ``pages(kind, document, path, variables)``."""
        self._execute = execute
        self._pages = pages
        self._groups: dict[Kind, str] = {}

    def read(self) -> TrackerVocabulary:
        """What Linear offers now: the ``Value`` / ``Method`` groups and their labels, retired included."""
        nodes: list[Mapping[str, Any]] = []
        variables = {"filter": vocabulary_filter(), "first": LABELS_PAGE_SIZE}
        for page, _ in self._pages(CALLS, "vocabulary_labels", ("issueLabels",), variables):
            nodes.extend(page)
        vocabulary = parse_vocabulary(nodes)
        self._groups = {kind: gid for kind, gid in vocabulary.containers.items() if gid is not None}
        return vocabulary

    def apply(self, changes: list[VocabularyChange]) -> AppliedVocabulary:
        """Make ``changes`` in order; per kind, the label id now offering each plan id they touched."""
        applied = AppliedVocabulary()
        for change in changes:
            step = _step(change)
            failure: TrackerError | None = None
            try:
                label_id = self._apply_one(change, step)
            except TrackerError as exc:
                failure = _at_step(exc, step)
            if failure is not None:
                raise failure
            if change.action == "create_container":
                self._groups[change.kind] = label_id
            elif change.plan_id is not None and change.action in ("create", "rename", "enable"):
                applied.options[change.kind][change.plan_id] = label_id
        return applied

    def _variables(self, change: VocabularyChange, step: str) -> dict[str, Any]:
        if change.action == "create_container":
            return {"name": LABEL_GROUPS[change.kind]}
        if change.action == "create":
            return {"name": change.name, "parentId": self._group_id(change.kind, step)}
        if change.option_id is None:
            raise ValueError(f"{step}: the change names no label id")
        if change.action == "rename":
            return {"id": change.option_id, "name": change.name}
        return {"id": change.option_id}

    def _apply_one(self, change: VocabularyChange, step: str) -> str:
        """Run the mutation of ``change``; the id of the label it created or changed."""
        document, field = _MUTATIONS[change.action]
        data = self._execute(CALLS, document, self._variables(change, step))
        payload = data.get(field)
        label = payload.get("issueLabel") if isinstance(payload, Mapping) else None
        if (
            not isinstance(payload, Mapping)
            or payload.get("success") is not True
            or not isinstance(label, Mapping)
        ):
            raise FatalError("Linear did not confirm the change", tracker=TRACKER)
        label_id = _text(label, "id")
        if change.option_id is not None and label_id != change.option_id:
            raise FatalError(f"Linear answered with another label ({label_id})", tracker=TRACKER)
        return label_id

    def _group_id(self, kind: Kind, step: str) -> str:
        """The id of ``kind``'s label group (read again when not known yet)."""
        if kind not in self._groups:
            self.read()
        group = self._groups.get(kind)
        if group is None:
            raise FatalError(f"no label group '{LABEL_GROUPS[kind]}' to create it in", tracker=TRACKER)
        return group
