"""Asana tags: the ``V2MOM Value`` / ``V2MOM Method`` enum custom fields of tasks.

Values and methods go through ``POST /batch`` (:mod:`connectors.asana.batch`), 10 actions a request,
each a ``PUT /tasks/{gid}`` with ``custom_fields: {<field gid>: <enum option gid or null>}`` (a list
for a ``multi_enum`` field a team made before us). The field gids are those of the workspace fields
``V2MOM Value`` / ``V2MOM Method``, found as ``read_vocabulary`` finds them and kept for the
connector's life; absent fields raise :class:`FieldsNotProvisioned`. Each action's own answer
becomes the item's outcome: a deleted task (404) and no permission (403) are errors naming the task;
a task on none of the projects holding the field (400: Asana refuses a field that is not on one of
the task's projects, as for a subtask outside every project) is ``unsupported``: it cannot hold the
field; the rest are written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from v2mom.connectors.asana.batch import Batch, chunks, reason
from v2mom.connectors.asana.client import TRACKER, error_messages
from v2mom.connectors.asana.vocabulary import AsanaVocabulary
from v2mom.errors import FatalError
from v2mom.vocabulary import FIELD_NAMES, Kind, TagWrite, WriteOutcome

__all__ = ["NOT_ON_PROJECT", "AsanaTags", "FieldsNotProvisioned"]

NOT_ON_PROJECT = "is not on given object"


class FieldsNotProvisioned(FatalError):
    """The ``V2MOM Value`` / ``V2MOM Method`` enum fields do not exist in the workspace yet."""


class AsanaTags:
    """Sets and clears the V2MOM enum fields of tasks (the ``write_tags`` half of the connector's
    TagWriter)."""

    def __init__(self, batch: Batch, vocabulary: AsanaVocabulary, *, workspace: str) -> None:
        """Nothing is sent until a write."""
        self._batch = batch
        self._vocabulary = vocabulary
        self._workspace = workspace
        self._fields: dict[Kind, tuple[str, str]] = {}

    def _field(self, kind: Kind) -> tuple[str, str]:
        """The gid and type of the ``kind`` field (read once, then kept)."""
        if kind not in self._fields:
            self._fields.update(self._vocabulary.fields())
        if kind not in self._fields:
            raise FieldsNotProvisioned(
                f"the enum custom field '{FIELD_NAMES[kind]}' does not exist in workspace {self._workspace}:"
                " run `v2mom trackers provision --apply` first",
                tracker=TRACKER,
            )
        return self._fields[kind]

    def _values(self, write: TagWrite) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for kind, option in write.options.items():
            gid, subtype = self._field(kind)
            if subtype == "multi_enum":
                values[gid] = [option] if option is not None else []
            else:
                values[gid] = option
        return values

    def write_tags(self, writes: Sequence[TagWrite]) -> list[WriteOutcome]:
        """Set or clear each task's value / method option, 10 tasks per ``/batch`` request."""
        outcomes: dict[int, WriteOutcome] = {}
        todo = [(i, w) for i, w in enumerate(writes) if w.options]
        for i, write in enumerate(writes):
            if not write.options:
                outcomes[i] = WriteOutcome(write.item_id)
        actions = [
            {
                "relative_path": f"/tasks/{write.item_id}",
                "method": "put",
                "data": {"custom_fields": self._values(write)},
                "options": {"fields": ["gid"]},
            }
            for _i, write in todo
        ]
        for chunk in chunks(list(range(len(todo)))):
            answers = self._batch.run([actions[n] for n in chunk])
            for n, answer in zip(chunk, answers, strict=True):
                index, write = todo[n]
                if 200 <= answer.status < 300:
                    outcomes[index] = WriteOutcome(write.item_id)
                    continue
                hint = ""
                unsupported = NOT_ON_PROJECT in error_messages(answer.body)
                if unsupported:
                    hint = (
                        " (the field is on none of the task's projects: a subtask outside every"
                        " project, or a project not in trackers.asana.projects and not provisioned)"
                    )
                outcomes[index] = WriteOutcome(
                    write.item_id, reason(write.item_id, write.key, answer, hint), unsupported=unsupported
                )
        return [outcomes[i] for i in range(len(writes))]
