"""``/api/admin/trackers/provision``: the values and methods each tracker offers as choices (admins).

``GET`` is the diff (what ``v2mom trackers provision`` prints), ``POST`` makes it (``--apply``). A
tracker that refuses is named with its reason in its entry (``ok`` false); the others still run.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from v2mom.app.auth import Admin, StoreDep
from v2mom.app.http_errors import require_configured
from v2mom.app.schemas.trackers import ProvisionDocument
from v2mom.app.services import SettingsDep
from v2mom.errors import ConfigError
from v2mom.models import TrackerName
from v2mom.settings import Settings
from v2mom.sync.provision import provision

router = APIRouter(prefix="/api/admin/trackers", responses={409: {"description": "No plan is stored yet"}})


def _provision(
    settings: Settings, store: StoreDep, *, apply: bool, tracker: TrackerName | None, actor: str
) -> ProvisionDocument:
    require_configured(settings, tracker)
    try:
        results = provision(settings, store, apply=apply, tracker=tracker, actor=actor)
    except ConfigError as exc:  # no plan stored yet: nothing to offer
        raise HTTPException(409, detail=str(exc)) from None
    return ProvisionDocument.of(results)


@router.get("/provision")
def provision_preview(
    settings: SettingsDep, store: StoreDep, admin: Admin, tracker: TrackerName | None = None
) -> ProvisionDocument:
    """What provisioning would change in each configured tracker (nothing is written)."""
    return _provision(settings, store, apply=False, tracker=tracker, actor=f"token:{admin.name}")


@router.post("/provision")
def provision_apply(
    settings: SettingsDep, store: StoreDep, admin: Admin, tracker: TrackerName | None = None
) -> ProvisionDocument:
    """Make each configured tracker offer the plan's values and methods (the run is audited)."""
    return _provision(settings, store, apply=True, tracker=tracker, actor=f"token:{admin.name}")
