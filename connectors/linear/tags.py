"""Linear tags: the Value / Method group labels of issues.

A :class:`~v2mom.vocabulary.TagWrite` selects, per kind, a child label of the workspace label group
``Value`` / ``Method`` (or clears the kind). Writes with the same ``options`` share one
``IssueUpdateInput`` and go out in ``issueBatchUpdate`` calls of at most 50 ids: ``addedLabelIds`` is
the chosen labels, ``removedLabelIds`` every other label of the groups written (retired ones
included), so an issue never holds two labels of one group, as Linear requires, and a cleared kind
loses all of its group's labels. The group's labels come from the vocabulary, read once per
connector (again once when a write names a label it does not know); missing groups raise
:class:`NotProvisionedError`.

Ids that are not live issues (projects, deleted or archived issues) get their outcome unsent
(:mod:`connectors.linear.targets`). Linear fails a whole batch when one id is unknown (an issue
deleted meanwhile) and does not say which: such a batch is split in halves, each tried again, down
to single issues, so the good ones land in ``O(log 50)`` extra calls per bad issue and the bad one
gets a :class:`~v2mom.vocabulary.WriteOutcome` naming its key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence

from v2mom.connectors.linear.parse import TRACKER
from v2mom.connectors.linear.targets import PROJECT, Execute, chunks, item_error, not_issues, reason
from v2mom.errors import FatalError, TrackerError
from v2mom.vocabulary import KINDS, LABEL_GROUPS, Kind, TagWrite, TrackerVocabulary, WriteOutcome

__all__ = ["BATCH", "TAGS", "LinearTags", "NotProvisionedError"]

BATCH = 50  # issueBatchUpdate takes at most 50 ids
TAGS = "writeback"  # the request kind counted in ``calls``


class NotProvisionedError(FatalError):
    """The ``Value`` / ``Method`` label groups are missing: nothing can be written until provisioned."""


class LinearTags:
    """Writes group labels through the connector's retrying ``execute``."""

    def __init__(self, execute: Execute, vocabulary: Callable[[], TrackerVocabulary]) -> None:
        """``vocabulary()`` reads the label groups (the connector's ``read_vocabulary``)."""
        self._execute = execute
        self._read = vocabulary
        self._groups: dict[Kind, dict[str, bool]] | None = None

    def _group_labels(self, refresh: bool = False) -> dict[Kind, dict[str, bool]]:
        """Per kind, every label of its group, id -> applicable (read once; again with ``refresh``)."""
        if self._groups is None or refresh:
            vocabulary = self._read()
            missing = [LABEL_GROUPS[k] for k in KINDS if vocabulary.containers.get(k) is None]
            if missing:
                raise NotProvisionedError(
                    f"no label group {' / '.join(missing)} in the workspace: "
                    "run `v2mom trackers provision --apply` first",
                    tracker=TRACKER,
                )
            self._groups = {k: {o.option_id: o.enabled for o in vocabulary.options[k]} for k in KINDS}
        return self._groups

    def _input(self, options: Mapping[Kind, str | None]) -> tuple[list[str], list[str]] | str:
        """(added, removed) label ids for ``options``, or why they cannot be written.

        A label unknown or retired in the cached vocabulary is looked up once more (it may have been
        provisioned or restored since); a retired label is refused here, as Linear would refuse it.
        """
        groups = self._group_labels()
        if any(o is not None and not groups[k].get(o) for k, o in options.items()):
            groups = self._group_labels(refresh=True)
        added: list[str] = []
        removed: list[str] = []
        for kind, option in options.items():
            group = LABEL_GROUPS[kind]
            if option is not None and option not in groups[kind]:
                return f"label {option} is not a label of the '{group}' group"
            if option is not None and not groups[kind][option]:
                return f"label {option} of the '{group}' group is retired"
            if option is not None:
                added.append(option)
            removed.extend(label for label in groups[kind] if label != option)
        return added, removed

    def write_tags(self, writes: Sequence[TagWrite]) -> list[WriteOutcome]:
        """Set or clear each issue's group labels (batches of 50 per same input); outcomes in order."""
        errors: dict[int, str] = {}
        unsupported: set[int] = set()  # projects: they cannot hold the labels at all
        sends: list[tuple[list[int], list[str], list[str]]] = []  # (indexes, added, removed)
        by_input: dict[tuple[tuple[Kind, str | None], ...], list[int]] = {}
        for index, write in enumerate(writes):
            by_input.setdefault(tuple(sorted(write.options.items())), []).append(index)
        for options, indexes in by_input.items():
            labels = self._input(dict(options)) if options else ([], [])
            if isinstance(labels, str):
                errors.update({i: f"{writes[i].key}: {labels}" for i in indexes})
            elif labels[0] or labels[1]:
                sends.append((indexes, *labels))
        ids = [writes[i].item_id for indexes, _, _ in sends for i in indexes]
        absent = not_issues(self._execute, TAGS, ids) if ids else {}
        for indexes, added, removed in sends:
            for i in indexes:
                if writes[i].item_id in absent:
                    errors[i] = f"{writes[i].key}: {absent[writes[i].item_id]}"
                    if absent[writes[i].item_id] == PROJECT:
                        unsupported.add(i)
            live = [i for i in indexes if i not in errors]
            for chunk in chunks(live, BATCH):
                for n, error in self._batch([writes[i] for i in chunk], added, removed):
                    if error is not None:
                        errors[chunk[n]] = error
        return [
            WriteOutcome(write.item_id, errors.get(i), unsupported=i in unsupported)
            for i, write in enumerate(writes)
        ]

    def _batch(
        self, writes: Sequence[TagWrite], added: list[str], removed: list[str]
    ) -> Iterator[tuple[int, str | None]]:
        """(index, error) per write: one ``issueBatchUpdate``; halves again when Linear refuses it."""
        variables = {"ids": [w.item_id for w in writes], "added": added, "removed": removed}
        failure: TrackerError | None = None
        try:
            data = self._execute(TAGS, "tags_batch_update", variables)
        except TrackerError as exc:
            if not item_error(exc):
                raise
            failure = exc
        else:
            payload = data.get("issueBatchUpdate")
            if not isinstance(payload, Mapping) or payload.get("success") is not True:
                failure = FatalError("Linear did not confirm the label change", tracker=TRACKER)
        if failure is None:
            yield from ((i, None) for i in range(len(writes)))
        elif len(writes) == 1:
            yield 0, f"{writes[0].key}: {reason(failure)}"
        else:
            half = len(writes) // 2
            yield from self._batch(writes[:half], added, removed)
            yield from ((half + i, e) for i, e in self._batch(writes[half:], added, removed))
