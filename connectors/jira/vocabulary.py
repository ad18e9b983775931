"""Jira's in-tracker vocabulary: the ``V2MOM Value`` / ``V2MOM Method`` single-select custom fields.

Each kind is one single-select custom field, found by name in ``GET /rest/api/3/field``; its options
are those of the field's *global* context (``GET …/field/{id}/context?isGlobalContext=true``, then
``GET …/context/{contextId}/option``, both paged with ``startAt`` / ``isLast``). Provisioning:

- ``create_container``: ``POST /rest/api/3/field`` (type ``select``, searcher ``multiselectsearcher``),
  then a global context (``POST …/field/{id}/context`` without projects or issue types) unless Jira
  made one with the field;
- ``create``: ``POST …/option`` with every new option of the field in one request (≤ 1000 each);
- ``rename`` / ``disable`` / ``enable``: ``PUT …/option`` with every changed option of the field in
  one request, by option id (a rename keeps the id; a disabled option stays, ``disabled: true``).

Per field, updates go before creates, so a rename frees its old name before a create may reuse it.
Reads are retried like any read; a write is retried only after a 429 (Jira did nothing), never after a
5xx or a lost connection, where it may have been applied: the next run reads the tracker and resumes
(creating a field twice would leave two fields of the same name). Every refusal names its step.

Jira Data Center has neither contexts nor option writes in its REST API: its fields are created and
its options read as :mod:`connectors.jira.datacenter_writes` says, and every option change is left
to an administrator (the read names those actions ``by_hand``, ``apply`` returns them as steps).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import partial
from typing import Any, TypeVar

from v2mom.connectors.jira.client import SELECT_TYPE, TRACKER, JiraClient
from v2mom.connectors.jira.datacenter_writes import (
    BY_HAND,
    admin_place,
    read_options,
    screens_place,
    screens_task,
)
from v2mom.connectors.paging import paginate
from v2mom.connectors.retry import Retrying
from v2mom.errors import AuthError, FatalError, NotFoundError, RetriableError
from v2mom.vocabulary import (
    FIELD_NAMES,
    KINDS,
    AppliedVocabulary,
    Kind,
    ManualStep,
    TrackerOption,
    TrackerVocabulary,
    VocabularyChange,
)

__all__ = ["MAX_OPTIONS_PER_REQUEST", "OPTION_PAGE_SIZE", "JiraVocabulary"]

R = TypeVar("R")
OPTION_PAGE_SIZE = 100  # Jira's default page of options
MAX_OPTIONS_PER_REQUEST = 1000  # Jira's limit on options created in one request
FIELD_DESCRIPTIONS: dict[Kind, str] = {
    "value": "The V2MOM value this work serves (choices kept by v2mom-sync).",
    "method": "The V2MOM method this work advances (choices kept by v2mom-sync).",
}
CONTEXT_NAME = "Global context (v2mom-sync)"


def _next_start(what: str) -> Callable[[Mapping[str, Any]], str | None]:
    """Reads the ``startAt`` of the page after a Jira PageBean (None: that was the last page)."""

    def next_start(page: Mapping[str, Any]) -> str | None:
        values = page.get("values")
        if not isinstance(values, list):
            raise FatalError(f"{what}: a page without a 'values' list", tracker=TRACKER)
        if page.get("isLast", True) is not False:
            return None
        if not values:
            raise FatalError(f"{what}: isLast is false on an empty page", tracker=TRACKER)
        start = page.get("startAt", 0)
        if not isinstance(start, int) or isinstance(start, bool):
            raise FatalError(f"{what}: a page without a numeric startAt", tracker=TRACKER)
        return str(start + len(values))

    return next_start


def _text(raw: Mapping[str, Any], key: str, what: str) -> str:
    """``raw[key]`` as a non-empty string (Jira ids may come as numbers), else FatalError."""
    value = raw.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value:
        raise FatalError(f"{what}: an answer without '{key}'", tracker=TRACKER)
    return value


class JiraVocabulary:
    """Reads and changes the V2MOM select fields of one Jira site (the connector's VocabularyWriter half).

    Remembers, from the last read or write, each kind's field id and each field's global context id,
    so that applying the diff of a read costs no second lookup.
    """

    def __init__(self, client: JiraClient, retrying: Retrying, *, page_size: int = OPTION_PAGE_SIZE) -> None:
        """Work through ``client``; reads go through ``retrying``; ``page_size`` options per page."""
        self._client = client
        self._retrying = retrying
        self._page_size = page_size
        self._fields: dict[Kind, str] = {}
        self._contexts: dict[str, str | None] = {}  # field id -> its global context id (None: none)
        self.notes: list[str] = []

    @property
    def _datacenter(self) -> bool:
        """True on Jira Data Center (datacenter_writes.py): no contexts, options changed by hand."""
        return self._client.deployment == "datacenter"

    # -- reading ------------------------------------------------------------------------------

    def read(self) -> TrackerVocabulary:
        """Both fields (None when absent) and the options of their global contexts, in Jira's order.

        FatalError when a field of that name exists but is not a single-select: creating another
        of the same name would only confuse people.
        """
        all_fields = self._retrying(partial(self._client.fields, step="read fields"))
        containers: dict[Kind, str | None] = {"value": None, "method": None}
        options: dict[Kind, tuple[TrackerOption, ...]] = {"value": (), "method": ()}
        self._fields.clear()
        self._contexts.clear()
        for kind in KINDS:
            field_id = self._find_field(all_fields, kind)
            containers[kind] = field_id
            if field_id is None:
                continue
            self._fields[kind] = field_id
            if self._datacenter:
                options[kind] = tuple(
                    read_options(self._client, self._retrying, field_id, FIELD_NAMES[kind], self.notes)
                )
                continue
            context_id = self._global_context(field_id, FIELD_NAMES[kind])
            self._contexts[field_id] = context_id
            if context_id is not None:
                options[kind] = tuple(self._read_options(field_id, context_id, FIELD_NAMES[kind]))
        if self._datacenter:
            places = {kind: admin_place(kind, containers[kind]) for kind in KINDS}
            screens = {kind: (screens_task(kind), screens_place(kind, None)) for kind in KINDS}
            return TrackerVocabulary(
                containers, options, by_hand=BY_HAND, admin_places=places, after_create=screens
            )
        return TrackerVocabulary(containers=containers, options=options)

    def field_ids(self) -> dict[Kind, str | None]:
        """Each kind's field id (None: absent): from the last read or write, else one ``GET /field``.

        Write-back needs only the ids, not the options, so this never reads contexts.
        """
        if all(kind in self._fields for kind in KINDS):
            return {kind: self._fields[kind] for kind in KINDS}
        all_fields = self._retrying(partial(self._client.fields, step="read fields"))
        found: dict[Kind, str | None] = {kind: self._find_field(all_fields, kind) for kind in KINDS}
        for kind, field_id in found.items():
            if field_id is not None:
                self._fields[kind] = field_id
        return found

    def _find_field(self, all_fields: list[dict[str, Any]], kind: Kind) -> str | None:
        """The id of the single-select custom field named ``FIELD_NAMES[kind]`` (the oldest if many)."""
        name = FIELD_NAMES[kind]
        named = [f for f in all_fields if f.get("custom") is True and f.get("name") == name]
        if not named:
            return None
        selects = [f for f in named if (f.get("schema") or {}).get("custom") == SELECT_TYPE]
        if not selects:
            found = (named[0].get("schema") or {}).get("custom") or "unknown type"
            raise FatalError(
                f"read fields: field '{name}' exists but is not a single-select ({found})", tracker=TRACKER
            )
        ids = sorted((_text(f, "id", "read fields") for f in selects), key=lambda i: (len(i), i))
        if len(ids) > 1:
            self.notes.append(f"{len(ids)} fields are named '{name}': using {ids[0]}")
        return ids[0]

    def _pages(self, fetch: Callable[[int], dict[str, Any]], what: str) -> Iterator[dict[str, Any]]:
        """Every item of a Jira PageBean listing, page by page through :func:`connectors.paging.paginate`."""

        def page_at(token: str | None) -> dict[str, Any]:
            return self._retrying(partial(fetch, int(token or 0)))

        for page in paginate(page_at, _next_start(what), tracker=TRACKER, what=what, field="startAt"):
            for item in page.get("values") or []:
                if isinstance(item, dict):
                    yield item

    def _global_context(self, field_id: str, name: str) -> str | None:
        """The id of ``field_id``'s global context, or None when it has none."""
        step = f"read the contexts of field '{name}'"
        fetch = partial(self._client.field_contexts, field_id, step=step)
        for context in self._pages(fetch, step):
            if context.get("isGlobalContext") is True:
                return _text(context, "id", step)
        return None

    def _read_options(self, field_id: str, context_id: str, name: str) -> Iterator[TrackerOption]:
        """The options of one context: enabled unless Jira says ``disabled: true``."""
        step = f"read the options of field '{name}'"

        def fetch(start: int) -> dict[str, Any]:
            return self._client.field_options(field_id, context_id, start, self._page_size, step=step)

        for option in self._pages(fetch, step):
            if option.get("optionId"):  # a cascading child, never one of ours
                continue
            yield TrackerOption(
                option_id=_text(option, "id", step),
                name=_text(option, "value", step),
                enabled=option.get("disabled") is not True,
            )

    # -- writing ------------------------------------------------------------------------------

    def _write(self, fn: Callable[[], R]) -> R:
        """``fn()`` once; retried (with the connector's policy) only after a 429, when Jira did nothing."""
        try:
            return fn()
        except RetriableError as error:
            if error.status != 429:
                raise
        return self._retrying(fn)

    def apply(self, changes: list[VocabularyChange]) -> AppliedVocabulary:
        """Make ``changes``, kind by kind: the field first, then option updates, then creates.

        Returns, per kind, the option id now offering each plan id that was created, renamed or
        enabled. A refusal raises the typed error naming its step; what was done before it stays.
        """
        if self._datacenter:
            return self._apply_datacenter(changes)
        applied = AppliedVocabulary()
        for kind in KINDS:
            mine = [c for c in changes if c.kind == kind]
            if not mine:
                continue
            name = FIELD_NAMES[kind]
            if any(c.action == "create_container" for c in mine):
                field_id = self._create_field(kind)
            else:
                field_id = self._known_field(kind)
            context_id = self._ensure_context(field_id, name)
            self._update_options(field_id, context_id, name, mine, applied.options[kind])
            self._create_options(field_id, context_id, name, mine, applied.options[kind])
        return applied

    def _apply_datacenter(self, changes: list[VocabularyChange]) -> AppliedVocabulary:
        """Data Center: create the missing fields (``POST /rest/api/2/field``, which gives them a
        global context); every option change is returned as a step for a Jira administrator, and so
        is putting each new field on the edit screens (Data Center edits only the fields there)."""
        follow: list[ManualStep] = []
        for change in changes:
            if change.action != "create_container":
                continue
            field_id = self._create_field(change.kind)
            on_default = self._put_on_default_screen(change.kind, field_id)
            task = screens_task(change.kind, on_default=on_default)
            follow.append(ManualStep(change, screens_place(change.kind, field_id), task=task))
        manual = tuple(
            ManualStep(c, admin_place(c.kind, self._fields.get(c.kind)))
            for c in changes
            if c.action != "create_container"
        )
        return AppliedVocabulary(manual=(*manual, *follow))

    def _put_on_default_screen(self, kind: Kind, field_id: str) -> bool:
        """Data Center: put the new field of ``kind`` on the Default Screen; whether it is there. A
        refusal (a permission, a release without the resource) is a note: the admin's step says it all."""
        step = f"put field '{FIELD_NAMES[kind]}' on the Default Screen"
        try:
            self._write(partial(self._client.dc_add_to_default_screen, field_id, step=step))
        except (AuthError, NotFoundError, FatalError) as refused:
            if isinstance(refused, AuthError) and refused.status == 401:
                raise  # the credentials themselves: nothing else will work either
            self.notes.append(f"{refused}: an administrator puts it on the edit screens")
            return False
        return True

    def _known_field(self, kind: Kind) -> str:
        """The field of ``kind`` as last read (read again when not read yet); FatalError when absent."""
        if kind not in self._fields:
            self.read()
        field_id = self._fields.get(kind)
        if field_id is None:
            raise FatalError(
                f"field '{FIELD_NAMES[kind]}' does not exist: its options cannot be changed", tracker=TRACKER
            )
        return field_id

    def _create_field(self, kind: Kind) -> str:
        """``POST /rest/api/{3|2}/field``: the single-select field of ``kind``; its id."""
        step = f"create field '{FIELD_NAMES[kind]}'"
        created = self._write(
            partial(self._client.create_select_field, FIELD_NAMES[kind], FIELD_DESCRIPTIONS[kind], step=step)
        )
        field_id = _text(created, "id", step)
        self._fields[kind] = field_id
        return field_id

    def _ensure_context(self, field_id: str, name: str) -> str:
        """The field's global context, created when it has none (Jira may make one with the field)."""
        if field_id in self._contexts:
            known = self._contexts[field_id]
        else:
            known = self._global_context(field_id, name)
        if known is None:
            step = f"create the global context of field '{name}'"
            created = self._write(
                partial(self._client.create_global_context, field_id, CONTEXT_NAME, step=step)
            )
            known = _text(created, "id", step)
        self._contexts[field_id] = known
        return known

    def _update_options(
        self,
        field_id: str,
        context_id: str,
        name: str,
        changes: list[VocabularyChange],
        applied: dict[str, str],
    ) -> None:
        """Renames, disables and enables of one field, merged per option, in one ``PUT``."""
        updates: dict[str, dict[str, object]] = {}
        for change in changes:
            if change.action not in ("rename", "disable", "enable"):
                continue
            if change.option_id is None:
                raise FatalError(f"{change.describe()}: the change names no option id", tracker=TRACKER)
            entry = updates.setdefault(change.option_id, {"id": change.option_id})
            if change.action == "rename":
                entry["value"] = change.name
            else:
                entry["disabled"] = change.action == "disable"
            if change.plan_id is not None and change.action != "disable":
                applied[change.plan_id] = change.option_id
        if not updates:
            return
        step = f"update {len(updates)} option(s) of field '{name}'"
        self._write(
            partial(self._client.update_options, field_id, context_id, list(updates.values()), step=step)
        )

    def _create_options(
        self,
        field_id: str,
        context_id: str,
        name: str,
        changes: list[VocabularyChange],
        applied: dict[str, str],
    ) -> None:
        """The new options of one field in one ``POST`` (more only past Jira's 1000 per request)."""
        creates = [c for c in changes if c.action == "create"]
        for start in range(0, len(creates), MAX_OPTIONS_PER_REQUEST):
            batch = creates[start : start + MAX_OPTIONS_PER_REQUEST]
            step = f"create {len(batch)} option(s) of field '{name}'"
            answer = self._write(
                partial(self._client.create_options, field_id, context_id, [c.name for c in batch], step=step)
            )
            raw_options = answer.get("options")
            made = {
                _text(o, "value", step): _text(o, "id", step)
                for o in (raw_options if isinstance(raw_options, list) else [])
                if isinstance(o, dict)
            }
            for change in batch:
                option_id = made.get(change.name)
                if option_id is None:
                    raise FatalError(f"{step}: Jira did not return option '{change.name}'", tracker=TRACKER)
                if change.plan_id is not None:
                    applied[change.plan_id] = option_id
