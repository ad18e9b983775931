"""Working days and people for the people's-time measures (``person_days``, ``fte``).

A day is a date in the settings' ``timezone``: from its 00:00 to the next day's 00:00 there
(23 or 25 hours when the clocks change). Working days are the dates whose weekday is in
``work_week``. :class:`WorkCalendar` turns a window of dates into :class:`Workday` records with
their UTC bounds, which the store's computation joins work spans to; and it names the person an
account belongs to (the settings' ``people:``), each unlisted account being a person of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["DEFAULT_WINDOW_DAYS", "WEEKDAYS", "WorkCalendar", "Workday", "account_person"]

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # date.weekday() order
DEFAULT_WINDOW_DAYS = 90  # a people's-time report with neither from nor to: the last 90 days


def account_person(tracker: str, account: str) -> str:
    """The person an account no ``people:`` entry lists: a person of its own, named by both."""
    return f"{tracker}:{account}"


@dataclass(frozen=True)
class Workday:
    """One working day: its date, and when it starts and ends in UTC."""

    day: date
    starts: datetime
    ends: datetime


@dataclass(frozen=True)
class WorkCalendar:
    """The time zone and working week days are counted in, who owns which tracker account, and
    the fewest people a figure may cover.

    ``accounts`` maps (tracker, account id) to a person's name (the settings' ``people:``);
    ``min_group_size``: a team whose people's time covers fewer people is folded into its parent.
    """

    timezone: str = "UTC"
    work_week: frozenset[int] = frozenset(range(5))  # date.weekday(): Monday is 0
    accounts: Mapping[tuple[str, str], str] = field(default_factory=dict)
    min_group_size: int = 3

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's time zone."""
        return ZoneInfo(self.timezone)

    def today(self, now: datetime) -> date:
        """The date ``now`` falls on in the calendar's zone."""
        return now.astimezone(self.zone).date()

    def window(self, date_from: date | None, date_to: date | None, now: datetime) -> tuple[date, date]:
        """The dates a report covers: as given; a missing end is today (or ``DEFAULT_WINDOW_DAYS``
        after ``from``), a missing start ``DEFAULT_WINDOW_DAYS`` before the end."""
        span = timedelta(days=DEFAULT_WINDOW_DAYS - 1)
        if date_to is None:
            date_to = self.today(now) if date_from is None else date_from + span
        if date_from is None:
            date_from = date_to - span
        return date_from, date_to

    def starts(self, day: date) -> datetime:
        """When ``day`` begins, in UTC."""
        return datetime.combine(day, time(0), tzinfo=self.zone).astimezone(UTC)

    def workdays(self, first: date, last: date) -> list[Workday]:
        """The working days from ``first`` to ``last`` inclusive, in order, with their UTC bounds."""
        out: list[Workday] = []
        day = first
        while day <= last:
            following = day + timedelta(days=1)
            if day.weekday() in self.work_week:
                out.append(Workday(day, self.starts(day), self.starts(following)))
            day = following
        return out

    def person(self, tracker: str, account: str) -> str:
        """The person who owns ``account`` on ``tracker``."""
        return self.accounts.get((tracker, account)) or account_person(tracker, account)
