"""The choices each tracker offers for the plan (``Database.vocabulary``): per kind, the tracker's
option id behind each plan id, as ``v2mom trackers provision`` recorded them.

Write-back selects options by these ids, and the items repository reads provisioned options back by
them: a tracker reading names an option, and its name may have changed (a renamed value) or may
equal another value's id or a person's own label; its id does not. Kept in the ``tracker_state``
table under ``<tracker>:vocab``, apart from the tracker's sync state.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from v2mom.clock import utcnow
from v2mom.store import schema as t
from v2mom.store.transactions import Repository
from v2mom.vocabulary import KINDS, Kind

Offered = dict[Kind, dict[str, str]]  # kind -> plan id -> the tracker's option id


def _key(tracker: str) -> str:
    return f"{tracker}:vocab"  # tracker_state.tracker holds 16 characters


def read_offered(conn: Connection, tracker: str) -> Offered:
    """What ``tracker`` offers, on ``conn`` (empty for a tracker never provisioned)."""
    data: Any = conn.execute(
        select(t.tracker_state.c.data).where(t.tracker_state.c.tracker == _key(tracker))
    ).scalar_one_or_none()
    data = data if isinstance(data, Mapping) else {}
    return {kind: {str(p): str(o) for p, o in (data.get(kind) or {}).items()} for kind in KINDS}


class VocabularyRepository(Repository):
    """The option ids each tracker offers for the plan's values and methods."""

    def offered(self, tracker: str) -> Offered:
        """Per kind, the option id offering each plan id in ``tracker``."""
        with self._tx.read() as conn:
            return read_offered(conn, tracker)

    def record(self, tracker: str, offered: Mapping[Kind, Mapping[str, str]]) -> None:
        """Replace what ``tracker`` offers (after provisioning applied its changes)."""
        data = {kind: dict(offered.get(kind, {})) for kind in KINDS}
        with self._tx.write() as conn:
            conn.execute(delete(t.tracker_state).where(t.tracker_state.c.tracker == _key(tracker)))
            conn.execute(
                insert(t.tracker_state).values(tracker=_key(tracker), data=data, updated_at=utcnow())
            )
