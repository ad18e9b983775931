"""A small JQL subset, evaluated the way Jira Cloud does where it matters to a sync client.

Supported: ``project = X``, ``project in (A, B)``, ``key = K``, ``key in (…)`` (``issuekey`` too),
``id = N``,
``id in (…)``, ``updated|created`` with ``>= > <= < =`` and a date literal, ``cf[N] is [not] EMPTY``
(a custom field by its number, where the caller can tell an issue's value), ``AND`` / ``OR`` with
parentheses, then ``ORDER BY updated|created|id|key [ASC|DESC], …``. Date literals
(``"yyyy-MM-dd HH:mm"``, ``"yyyy/MM/dd HH:mm"``, or a bare date) are wall-clock minutes in the
*account's* time zone (JRACLOUD-74279), not UTC. ``id`` and ``key`` name issues: like Jira, a
query naming an issue that does not exist (deleted, never created) is refused with a 400, while one
naming an existing issue that the rest of the query excludes simply matches nothing (Data Center's
``validateQuery: false`` turns that refusal into a warning: ``missing``). A query with no
project, key or id restriction is refused like ``/search/jql`` refuses unbounded queries (Data
Center's ``/search`` takes them: ``bounded=False``). Without
ORDER BY, results come by (updated, id) ascending (documented choice; real Jira orders by key then).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from v2mom.sandbox.jira.state import Issue

Predicate = Callable[[Issue], bool]
FieldValue = Callable[[Issue, str], object]  # an issue's value of a field id (``customfield_N``)
_CUSTOM_FIELD = re.compile(r"cf\[(\d+)\]")
_TOKEN = re.compile(
    r'\s*(?:(?P<str>"[^"]*"|\'[^\']*\')|(?P<op>>=|<=|!=|=|>|<|\(|\)|,)|(?P<word>[\w\-./\[\]]+))'
)
UNBOUNDED = "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."


class JqlError(ValueError):
    """The query is outside the subset or malformed; the message is Jira-style."""


@dataclass(frozen=True)
class Query:
    """A parsed query: a predicate, the sort keys, and the lower bound on ``updated`` if any."""

    predicate: Predicate
    order: tuple[tuple[str, bool], ...]  # (field, descending)
    updated_from: datetime | None
    only_ids: frozenset[int] | None = None  # every match has one of these ids (``AND id = N``)

    @property
    def by_updated_ascending(self) -> bool:
        """True when results are ordered by (updated, id) ascending: the fast keyset path."""
        return self.order in ((), (("updated", False),), (("updated", False), ("id", False)))


def tokenize(text: str) -> list[str]:
    """Split JQL into tokens (strings keep their quotes)."""
    tokens = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise JqlError(f"Error in the JQL Query: unexpected character at position {position}.")
        tokens.append(match.group(match.lastgroup or "word"))
        position = match.end()
    return tokens


def parse_datetime(literal: str, zone: ZoneInfo) -> datetime:
    """A JQL date literal as an aware datetime, read in ``zone``."""
    text = literal.strip("\"'").replace("/", "-")
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=zone)
        except ValueError:
            continue
    raise JqlError(
        f"Date value '{text}' for field 'updated' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm'."
    )


class _Parser:
    def __init__(
        self,
        tokens: list[str],
        zone: ZoneInfo,
        exists: Callable[[str], bool] | None = None,
        missing: list[str] | None = None,
        project_exists: Callable[[str], bool] | None = None,
        key_id: Callable[[str], int | None] | None = None,
        field_value: FieldValue | None = None,
    ) -> None:
        self.tokens = tokens
        self.key_id = key_id
        self.field_value = field_value
        self.missing = missing
        self.project_exists = project_exists
        self.position = 0
        self.zone = zone
        self.exists = exists
        self.bounded = False
        self.updated_from: datetime | None = None
        self.depth_or = 0

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise JqlError("Error in the JQL Query: the query ended unexpectedly.")
        self.position += 1
        return token

    def expect(self, wanted: str) -> None:
        token = self.take()
        if token.upper() != wanted:
            raise JqlError(f"Error in the JQL Query: Expecting '{wanted}' but got '{token}'.")

    # Each rule returns its predicate and the ids every match must have (None: any id), so that a
    # query such as ``(<scope>) AND id = N`` is answered without scanning the site.

    def expression(self) -> tuple[Predicate, frozenset[int] | None]:
        left, ids = self.conjunction()
        while (self.peek() or "").upper() == "OR":
            self.take()
            self.depth_or += 1
            right, right_ids = self.conjunction()
            left = (lambda a, b: lambda i: a(i) or b(i))(left, right)
            ids = ids | right_ids if ids is not None and right_ids is not None else None
        return left, ids

    def conjunction(self) -> tuple[Predicate, frozenset[int] | None]:
        left, ids = self.term()
        while (self.peek() or "").upper() == "AND":
            self.take()
            right, right_ids = self.term()
            left = (lambda a, b: lambda i: a(i) and b(i))(left, right)
            ids = right_ids if ids is None else (ids if right_ids is None else ids & right_ids)
        return left, ids

    def term(self) -> tuple[Predicate, frozenset[int] | None]:
        if self.peek() == "(":
            self.take()
            inner = self.expression()
            self.expect(")")
            return inner
        field = self.take().lower()
        field = "key" if field == "issuekey" else field
        operator = self.take().lower()
        if operator == "is":
            return self.emptiness(field), None
        if operator == "in":
            self.expect("(")
            values = [self.take().strip("\"'")]
            while self.peek() == ",":
                self.take()
                values.append(self.take().strip("\"'"))
            self.expect(")")
        else:
            values = [self.take()]
        predicate = self.condition(field, operator, values)
        if field == "id":
            return predicate, frozenset(int(v) for v in values if v.strip("\"'").isdigit())
        if field == "key" and self.key_id is not None and operator in ("=", "in"):
            # Jira finds issues by key through its index: the ids the keys name, not a scan
            named = (self.key_id(v.strip("\"'").upper()) for v in values)
            return predicate, frozenset(i for i in named if i is not None)
        return predicate, None

    def emptiness(self, field: str) -> Predicate:
        """``<field> is [not] EMPTY`` (``IS`` taken; ``NULL`` is the same word): whether a custom
        field holds a value."""
        negated = (self.peek() or "").upper() == "NOT"
        if negated:
            self.take()
        word = self.take()
        if word.upper() not in ("EMPTY", "NULL"):
            raise JqlError(f"Error in the JQL Query: Expecting 'EMPTY' but got '{word}'.")
        number = _CUSTOM_FIELD.fullmatch(field)
        if number is None or self.field_value is None:
            raise JqlError(f"Field '{field}' does not exist or this sandbox does not support it.")
        field_id, value = f"customfield_{number.group(1)}", self.field_value
        return lambda i: (value(i, field_id) not in (None, "", [])) == negated

    def condition(self, field: str, operator: str, values: list[str]) -> Predicate:
        if field in ("project", "key", "id"):
            if operator not in ("=", "in"):
                raise JqlError(f"Error in the JQL Query: operator '{operator}' is not supported for {field}.")
            self.bounded = True
            wanted = {v.strip("\"'").upper() for v in values}
            if field == "project":
                for named in sorted(wanted):
                    if self.project_exists is not None and not self.project_exists(named):
                        problem = f"The value '{named}' does not exist for the field 'project'."
                        if self.missing is None:
                            raise JqlError(problem)
                        self.missing.append(problem)
                return lambda i: i.project.upper() in wanted
            for named in sorted(wanted):
                if self.exists is not None and not self.exists(named):
                    problem = f"An issue with key '{named}' does not exist for field '{field}'."
                    if self.missing is None:
                        raise JqlError(problem)
                    self.missing.append(problem)
            if field == "key":
                return lambda i: i.key.upper() in wanted or any(k in wanted for k in i.old_keys)
            ids = {int(v) for v in wanted if v.isdigit()}
            return lambda i: i.id in ids
        if field in ("updated", "created"):
            moment = parse_datetime(values[0], self.zone)
            if field == "updated" and operator in (">=", ">") and self.depth_or == 0:
                self.updated_from = moment
            ops: dict[str, Callable[[datetime, datetime], bool]] = {
                ">=": lambda a, b: a >= b,
                ">": lambda a, b: a > b,
                "<=": lambda a, b: a <= b,
                "<": lambda a, b: a < b,
                "=": lambda a, b: a == b,
            }
            if operator not in ops:
                raise JqlError(f"Error in the JQL Query: operator '{operator}' is not supported for {field}.")
            compare = ops[operator]
            # Jira compares at minute granularity: truncate the issue's time to the minute.
            return lambda i: compare(getattr(i, field).replace(second=0, microsecond=0), moment)
        raise JqlError(f"Field '{field}' does not exist or this sandbox does not support it.")

    def order_by(self) -> tuple[tuple[str, bool], ...]:
        if self.peek() is None:
            return ()
        self.expect("ORDER")
        self.expect("BY")
        order = []
        while True:
            field = self.take().lower()
            if field not in ("updated", "created", "id", "key"):
                raise JqlError(f"Error in the JQL Query: cannot order by '{field}'.")
            descending = False
            if (self.peek() or "").upper() in ("ASC", "DESC"):
                descending = self.take().upper() == "DESC"
            order.append((field, descending))
            if self.peek() != ",":
                break
            self.take()
        if self.peek() is not None:
            raise JqlError(f"Error in the JQL Query: unexpected '{self.peek()}'.")
        return tuple(order)


def _everything(issue: Issue) -> bool:
    """The predicate of a query without conditions (refused as unbounded)."""
    del issue
    return True


def parse(
    jql: str,
    time_zone: str,
    exists: Callable[[str], bool] | None = None,
    *,
    missing: list[str] | None = None,
    bounded: bool = True,
    project_exists: Callable[[str], bool] | None = None,
    key_id: Callable[[str], int | None] | None = None,
    field_value: FieldValue | None = None,
) -> Query:
    """Parse ``jql`` for an account in ``time_zone``; JqlError for anything outside the subset.

    ``exists`` tells whether an issue id or key (upper case) names an issue; when given, a query
    naming one that does not is refused, as Jira does — unless ``missing`` is given: then the
    refusal is appended to it as a warning. ``project_exists`` does the same for project keys (Data
    Center checks them). ``bounded`` False accepts a query without restriction. ``key_id`` (the
    issue id a key names, or None) lets a key condition narrow the query to ids, as an index would.
    ``field_value`` (an issue's value of a custom field) lets ``cf[N] is [not] EMPTY`` be asked.
    """
    tokens = tokenize(jql)
    cut = next((n for n, t in enumerate(tokens) if t.upper() == "ORDER"), len(tokens))
    parser = _Parser(tokens[:cut], ZoneInfo(time_zone), exists, missing, project_exists, key_id, field_value)
    predicate, only_ids = parser.expression() if cut else (_everything, None)
    if parser.peek() is not None:
        raise JqlError(f"Error in the JQL Query: unexpected '{parser.peek()}'.")
    if bounded and not parser.bounded:
        raise JqlError(UNBOUNDED)
    order_parser = _Parser(tokens[cut:], ZoneInfo(time_zone))
    order = order_parser.order_by()
    return Query(predicate, order, parser.updated_from, only_ids)
