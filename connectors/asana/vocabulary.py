"""Asana's vocabulary: the workspace enum custom fields ``V2MOM Value`` / ``V2MOM Method``.

:class:`AsanaVocabulary` reads and changes them for :class:`~v2mom.connectors.base.VocabularyWriter`,
which offers the plan's values and methods as enum options. A field is found by name
(case-insensitively) among the workspace's custom fields (paged by ``offset``); its
``enum_options`` come with it (gid, name, enabled). A field of either enum type counts (``enum``,
or a ``multi_enum`` a team made before us); a field we create is an ``enum``. Creating a field also
adds it to every configured project, and every apply makes sure each existing field is on every
configured project (a project added to the settings later gets it too). Options are created,
renamed, enabled and disabled by gid; never deleted.

A refusal (403: no permission, or the field is locked by another app) is the client's typed error,
raised again with the step in its message (``asana: create enum option 'X': ...``). What was
applied before it stays applied, so the next read resumes from there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import partial
from typing import Any

from v2mom.connectors.asana.client import TRACKER, AsanaClient
from v2mom.connectors.paging import offset_pages
from v2mom.errors import FatalError, RetriableError, TrackerError
from v2mom.vocabulary import (
    FIELD_NAMES,
    KINDS,
    AppliedVocabulary,
    Kind,
    TrackerOption,
    TrackerVocabulary,
    VocabularyChange,
)

__all__ = ["ENUM_TYPES", "FIELD_FIELDS", "AsanaVocabulary"]

ENUM_TYPES = frozenset({"enum", "multi_enum"})
FIELD_FIELDS = "name,resource_subtype,type,enum_options,enum_options.name,enum_options.enabled"
SETTING_FIELDS = "custom_field,custom_field.name"


def at_step(step: str, error: TrackerError) -> TrackerError:
    """``error`` again, of the same type and status, with ``step`` before its message."""
    message = str(error).removeprefix(f"{error.tracker}: ")
    suffix = (f" — HTTP {error.status}" if error.status is not None else "") + (
        f" — request id {error.request_id}" if error.request_id else ""
    )
    message = f"{step}: {message.removesuffix(suffix)}"
    kw: dict[str, Any] = {"tracker": error.tracker, "status": error.status, "request_id": error.request_id}
    if isinstance(error, RetriableError):
        return RetriableError(message, retry_after=error.retry_after, **kw)
    try:
        return type(error)(message, **kw)
    except TypeError:  # a subclass with its own constructor: keep the class family
        return FatalError(message, **kw)


def _data(body: Mapping[str, Any], what: str) -> Mapping[str, Any]:
    data = body.get("data")
    if not isinstance(data, Mapping) or not isinstance(data.get("gid"), str):
        raise FatalError(f"{what}: the answer holds no record", tracker=TRACKER)
    return data


class AsanaVocabulary:
    """Reads and changes the two fields of ``workspace`` and puts them on ``projects``.

    ``retrying`` wraps each request in the connector's retry policy; ``page_size`` is the ``limit``
    of listings.
    """

    def __init__(
        self,
        client: AsanaClient,
        *,
        workspace: str,
        projects: list[str],
        retrying: Callable[[Callable[[], dict[str, Any]]], dict[str, Any]],
        page_size: int = 100,
    ) -> None:
        """Nothing is sent until :meth:`read` or :meth:`apply`."""
        self._client = client
        self._workspace = workspace
        self._projects = projects
        self._retrying = retrying
        self._page_size = min(max(page_size, 1), 100)
        self._fields: dict[Kind, str] = {}
        self._subtypes: dict[str, str] = {}  # field gid -> enum / multi_enum

    # -- reading ---------------------------------------------------------------------------------

    def _pages(self, fetch: Callable[[str | None], dict[str, Any]], what: str) -> Iterator[Mapping[str, Any]]:
        for body in offset_pages(
            lambda offset: self._retrying(partial(fetch, offset)), tracker=TRACKER, what=what
        ):
            data = body.get("data")
            if not isinstance(data, list):
                raise FatalError(f"{what}: 'data' is not a list", tracker=TRACKER)
            yield from (r for r in data if isinstance(r, Mapping))

    def _workspace_fields(self) -> Iterator[Mapping[str, Any]]:
        def fetch(offset: str | None) -> dict[str, Any]:
            return self._client.custom_fields_page(
                self._workspace, opt_fields=FIELD_FIELDS, limit=self._page_size, offset=offset
            )

        return self._pages(fetch, f"custom fields of workspace {self._workspace}")

    def read(self) -> TrackerVocabulary:
        """The two fields (None when absent) and their options, in Asana's order."""
        wanted = {FIELD_NAMES[kind].casefold(): kind for kind in KINDS}
        containers: dict[Kind, str | None] = {"value": None, "method": None}
        options: dict[Kind, tuple[TrackerOption, ...]] = {"value": (), "method": ()}
        for record in self._workspace_fields():
            name = record.get("name")
            kind = wanted.get(name.strip().casefold()) if isinstance(name, str) else None
            subtype = record.get("resource_subtype") or record.get("type")
            if kind is None or containers[kind] is not None or subtype not in ENUM_TYPES:
                continue
            containers[kind] = str(record["gid"])
            self._subtypes[str(record["gid"])] = str(subtype)
            options[kind] = tuple(
                TrackerOption(str(o["gid"]), str(o.get("name") or ""), o.get("enabled") is not False)
                for o in record.get("enum_options") or []
                if isinstance(o, Mapping) and isinstance(o.get("gid"), str)
            )
        self._fields = {kind: gid for kind, gid in containers.items() if gid is not None}
        return TrackerVocabulary(containers=containers, options=options)

    def fields(self) -> dict[Kind, tuple[str, str]]:
        """Per kind found, the field's gid and type (``enum`` / ``multi_enum``); read when not known."""
        if len(self._fields) < len(KINDS):
            self.read()
        return {kind: (gid, self._subtypes.get(gid, "enum")) for kind, gid in self._fields.items()}

    def _project_fields(self, project: str) -> set[str]:
        def fetch(offset: str | None) -> dict[str, Any]:
            return self._client.field_settings_page(
                project, opt_fields=SETTING_FIELDS, limit=self._page_size, offset=offset
            )

        gids: set[str] = set()
        for setting in self._pages(fetch, f"custom field settings of project {project}"):
            custom_field = setting.get("custom_field")
            if isinstance(custom_field, Mapping) and isinstance(custom_field.get("gid"), str):
                gids.add(custom_field["gid"])
        return gids

    # -- writing ---------------------------------------------------------------------------------

    def _step(self, step: str, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """``fn`` with retries; a failure is raised again naming ``step``."""
        try:
            return self._retrying(fn)
        except TrackerError as error:
            raise at_step(step, error) from None

    def _field(self, kind: Kind) -> str:
        """The gid of the ``kind`` field, read again when this instance has not seen it yet."""
        if kind not in self._fields:
            self.read()
        if kind not in self._fields:
            raise FatalError(f"the {kind} field '{FIELD_NAMES[kind]}' does not exist", tracker=TRACKER)
        return self._fields[kind]

    def _create_field(self, change: VocabularyChange) -> None:
        step = f"create custom field '{change.name}'"
        body = self._step(
            step,
            partial(self._client.create_custom_field, self._workspace, change.name, opt_fields=FIELD_FIELDS),
        )
        self._fields[change.kind] = str(_data(body, step)["gid"])

    def _ensure_on_projects(self) -> None:
        """Every field we know is on every configured project (read, then added where missing)."""
        if not self._fields:
            self.read()
        for project in self._projects:
            if not self._fields:
                return
            try:
                present = self._project_fields(project)
            except TrackerError as error:
                raise at_step(f"read the custom fields of project {project}", error) from None
            for kind, gid in self._fields.items():
                if gid in present:
                    continue
                self._step(
                    f"add custom field '{FIELD_NAMES[kind]}' to project {project}",
                    partial(self._client.add_field_to_project, project, gid),
                )

    def apply(self, changes: list[VocabularyChange]) -> AppliedVocabulary:
        """Make ``changes`` in order, then put the fields on every configured project.

        Returns per kind the option gid now offering each plan id a change named (created, renamed,
        enabled); disabled options are left out.
        """
        applied = AppliedVocabulary()
        for change in changes:
            kind, plan_id = change.kind, change.plan_id
            if change.action == "create_container":
                self._create_field(change)
                continue
            if change.action == "create":
                field_gid = self._field(kind)
                step = f"create enum option '{change.name}'"
                body = self._step(step, partial(self._client.create_enum_option, field_gid, change.name))
                option_id = str(_data(body, step)["gid"])
            else:
                if change.option_id is None:
                    raise FatalError(f"{change.describe()}: no option id", tracker=TRACKER)
                option_id = change.option_id
                update = partial(self._client.update_enum_option, option_id)
                if change.action == "rename":
                    step = f"rename enum option '{change.old_name}' to '{change.name}'"
                    self._step(step, partial(update, name=change.name))
                else:
                    step = f"{change.action} enum option '{change.name}'"
                    self._step(step, partial(update, enabled=change.action == "enable"))
            if plan_id is not None and change.action != "disable":
                applied.options[kind][plan_id] = option_id
        self._ensure_on_projects()
        return applied
