"""How the settings' ``people:`` covers the accounts the trackers' histories name
(``GET /api/admin/people``), admin tokens only.

Counts only: the admin maps people in the settings file from their own directory, so no answer
carries an account id or a name (the person dimension never leaves the store).
"""

from __future__ import annotations

from fastapi import APIRouter

from v2mom.app.auth import Admin, StoreDep
from v2mom.app.schemas.access import PeopleAccounts, TrackerAccounts
from v2mom.app.services import SettingsDep
from v2mom.store.history import AccountCounts

router = APIRouter(prefix="/api/admin/people")


@router.get("")
def people_accounts(settings: SettingsDep, store: StoreDep, _admin: Admin) -> PeopleAccounts:
    """Per tracker, the accounts seen (items' assignees and every assignee change), how many the
    settings' ``people:`` maps to a person and how many it does not; and how many people it lists."""
    mapped = settings.calendar().accounts.keys()
    counts = store.history.account_counts(mapped)
    for tracker, _account in mapped:
        counts.setdefault(tracker, AccountCounts(accounts=0, mapped=0))
    return PeopleAccounts(
        trackers={
            tracker: TrackerAccounts(accounts=c.accounts, mapped=c.mapped, unmapped=c.unmapped)
            for tracker, c in sorted(counts.items())
        },
        people=len(settings.people),
    )
