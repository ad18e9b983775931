"""The Python half of the resolution engine: each distinct tag signature resolved once.

Items with the same tag signature (``mapping.signature``) get the same conventions, keyless rules
and container rules from any plan, so the engine resolves one representative per signature (plus
the few items a ``key``/``epic`` rule or a project rule names) into a small table of numbered tag
sets, and the outcome of each tag set (its allocation set, untagged, conflict, orphan) once. Memory
is bounded by the number of distinct signatures, not items.

For a plan change the same representatives are read under both plans: :func:`seed_plan_change`
finds what the change can move, :func:`new_outcomes` whether it only changes what tag sets yield.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from sqlalchemy import ColumnElement, Connection, bindparam, func, select

from v2mom.mapping.resolver import Outcome, Resolver, Share, Tags, as_shares
from v2mom.mapping.signature import tag_signature
from v2mom.models import Level, WorkItem
from v2mom.store import schema as t
from v2mom.store.items import item_from_row
from v2mom.store.resolution import tables as rm
from v2mom.store.resolution.rollup import store_allocation_sets
from v2mom.store.resolution.teams import ANY_TEAM, COMPANY

CHUNK = 5_000
TagSet = tuple[tuple[str, ...], tuple[str, ...]]  # (values, methods)


@dataclass
class _TagSets:
    """Distinct (values, methods) tag sets, numbered; 0 is the empty set."""

    ids: dict[TagSet, int]

    def id_of(self, tags: Tags) -> int:
        key = (tags.values, tags.methods)
        if key not in self.ids:
            self.ids[key] = len(self.ids)
        return self.ids[key]


def _in_scope() -> ColumnElement[bool]:
    return t.items.c.pk.in_(rm.pks_of(rm.scope))


def fill_signatures(conn: Connection, *, scoped: bool) -> None:
    """Give items stored before signatures existed (migration 0003) their tag signature (those in
    ``rm_scope`` only, when scoped)."""
    after = 0
    while True:
        query = select(t.items).where(t.items.c.tag_sig.is_(None), t.items.c.pk > after)
        rows = conn.execute(
            (query.where(_in_scope()) if scoped else query).order_by(t.items.c.pk).limit(CHUNK)
        ).all()
        if not rows:
            return
        after = rows[-1].pk
        conn.execute(
            t.items.update().where(t.items.c.pk == bindparam("row_pk")).values(tag_sig=bindparam("sig")),
            [{"row_pk": row.pk, "sig": tag_signature(item_from_row(row))} for row in rows],
        )


def _items(conn: Connection, where: ColumnElement[bool]) -> Iterator[tuple[int, int, WorkItem]]:
    """(pk, tag_sig, WorkItem) of live items matching ``where``."""
    for row in conn.execute(select(t.items).where(~t.items.c.deleted, where)):
        yield row.pk, row.tag_sig, item_from_row(row)


def _signatures(conn: Connection, scoped: bool) -> dict[int, int]:
    """Each distinct signature's representative (one live item pk, in ``rm_scope`` when scoped)
    and how many live items carry it."""
    i = t.items.c
    query = select(func.min(i.pk), func.count()).where(~i.deleted).group_by(i.tag_sig)
    return {int(pk): int(count) for pk, count in conn.execute(query.where(_in_scope()) if scoped else query)}


Read = list[tuple[int, int, WorkItem]]  # (pk, tag_sig, item) of live items


@dataclass(frozen=True)
class SignatureItems:
    """The items :func:`load_signatures` resolves: one per signature, and those a keyed or project
    rule can name (a few per project and rule key, not per item)."""

    representatives: Read
    candidates: Read


def _signature_items(
    conn: Connection, representatives: list[int], scoped: bool, *resolvers: Resolver
) -> SignatureItems:
    """Read the ``representatives`` (pks) and the items a keyed or project rule of ``resolvers``
    can name (in ``rm_scope`` when scoped)."""
    read: Read = []
    for start in range(0, len(representatives), CHUNK):
        read += _items(conn, t.items.c.pk.in_(representatives[start : start + CHUNK]))
    candidates: Read = [
        found
        for where in _specific_filters(*resolvers)
        for found in _items(conn, where & _in_scope() if scoped else where)
    ]
    return SignatureItems(read, candidates)


@dataclass(frozen=True)
class PlanChangeSeeds:
    """What :func:`seed_plan_change` found: the live items, and how many of them a plan delta starts
    from (those of a dirty signature and those a rule names)."""

    live: int
    starts: int
    read: SignatureItems  # under both plans' rules: what ``load_signatures`` would read again


@dataclass(frozen=True)
class _Yielded:
    """What one tag set yields under one plan: its outcome per ``rm_ts.team_key``, and what the
    engine stores of each (the set, untagged, conflict, orphan)."""

    outcomes: tuple[tuple[str, Outcome], ...]
    stored: tuple[tuple[str, int, bool, bool, bool], ...]


# Each resolver's tag sets and what they yield, kept as long as the resolver (one run, one plan) is.
# A plan change asks again for every signature and every named item, for the same few hundred tag
# sets; with teams, each answer is an outcome per team: 780,000 outcomes at 1M items and 50 teams,
# 34 of a rule change's 41 s, for a few thousand distinct ones.
_YIELDED: WeakKeyDictionary[Resolver, dict[TagSet, _Yielded]] = WeakKeyDictionary()


def _yielded(resolver: Resolver, tags: Tags) -> _Yielded:
    """What ``tags`` yield under ``resolver``, worked out once per resolver and tag set."""
    known = _YIELDED.get(resolver)
    if known is None:
        known = _YIELDED.setdefault(resolver, {})
    key = (tags.values, tags.methods)
    found = known.get(key)
    if found is None:
        outcomes = _team_outcomes(resolver, tags)
        stored = tuple(
            (team, outcome.key, outcome.untagged, outcome.conflict is not None, bool(outcome.method_orphans))
            for team, outcome in outcomes
        )
        found = known[key] = _Yielded(outcomes, stored)
    return found


def _team_outcomes(resolver: Resolver, tags: Tags) -> tuple[tuple[str, Outcome], ...]:
    if resolver.team_owned.isdisjoint((*tags.values, *tags.methods)):
        return ((ANY_TEAM, resolver.outcome(tags)),)
    teams = resolver.plan.teams or ()
    return (
        (COMPANY, resolver.outcome(tags)),
        *((team.id, resolver.outcome(tags, team.id)) for team in teams),
    )


def team_outcomes(resolver: Resolver, tags: Tags) -> tuple[tuple[str, Outcome], ...]:
    """What ``tags`` yield, per ``rm_ts.team_key``: one outcome for every team (``ANY_TEAM``) when
    they name no team's value or method, else one for the company and one per team."""
    return _yielded(resolver, tags).outcomes


def _yields(resolver: Resolver, tags: Tags) -> tuple[object, ...]:
    """What the engine stores of ``tags``' outcomes per team: set, untagged, conflict, orphan."""
    return _yielded(resolver, tags).stored


def _handed_down(resolver: Resolver, item: WorkItem, *, named: bool = False) -> tuple[object, ...]:
    """What an item's tags give its descendants under one plan: its own tag set (with ``named``,
    the one a keyed or project rule naming it gives) and what that set yields. A descendant without
    own tags inherits them."""
    own = resolver.signature_tags(item)
    if named and resolver.specific_tags(item).found:
        own = resolver.own_tags(item)
    return (own.values, own.methods, _yields(resolver, Tags(own.values, own.methods)))


def _kept(resolver: Resolver, item: WorkItem) -> tuple[object, ...]:
    """What only the item itself reads of its signature under one plan: whether a convention names
    something unknown, and its container tag set with what that yields (used when it has no own or
    inherited tags)."""
    container = resolver.container_tags(item)
    return (
        bool(resolver.signature_tags(item).unknown),
        container.values,
        container.methods,
        _yields(resolver, Tags(container.values, container.methods)),
    )


def _can_read_kept(before: Resolver, after: Resolver, item: WorkItem) -> bool:
    """Whether an item whose own tags read the same under both plans can move by what only it reads
    (:func:`_kept`): by a name its conventions call unknown, or by its container's tags, which it
    reads only when it has no own tags (then it may inherit none either)."""
    own = after.signature_tags(item)
    return bool(before.signature_tags(item).unknown) != bool(own.unknown) or not (own.values or own.methods)


def _container_key(before: Resolver, after: Resolver, item: WorkItem) -> int | None:
    """For an item that can move only by its container's tags (no own tags, the same unknown
    names): the set those gave under ``before``. Its stored set tells whether it inherited tags
    instead (see ``plan_delta.fill_starts``). None when its unknown names changed."""
    if bool(before.signature_tags(item).unknown) != bool(after.signature_tags(item).unknown):
        return None
    container = before.container_tags(item)
    keys = {
        outcome.key for _team, outcome in team_outcomes(before, Tags(container.values, container.methods))
    }
    return keys.pop() if len(keys) == 1 else None


def _inheritable(before: Resolver, read: SignatureItems) -> set[int]:
    """The sets an item could have under ``before`` by inheriting tags: those of every own tag set
    an item can hand down (each signature's, each named item's)."""
    own = [before.signature_tags(item) for _pk, _sig, item in read.representatives]
    own += [before.own_tags(item) for _pk, _sig, item in read.candidates if before.specific_tags(item).found]
    return {
        outcome.key
        for tags in own
        if tags.found
        for _team, outcome in team_outcomes(before, Tags(tags.values, tags.methods))
    }


def _specific_filters(*resolvers: Resolver) -> list[ColumnElement[bool]]:
    """Where the items a ``key``/``epic`` rule or a project rule of any of ``resolvers`` can name are."""
    i = t.items.c
    keys = sorted(set().union(*(r.rule_keys for r in resolvers if r.has_keyed_rules)))
    filters: list[ColumnElement[bool]] = [func.lower(i.key).in_(keys)] if keys else []
    if any(r.has_project_rules for r in resolvers):
        filters.append(i.level == int(Level.CONTAINER))
    return filters


def seed_plan_change(conn: Connection, before: Resolver, after: Resolver) -> PlanChangeSeeds:
    """Find what replacing plan ``before`` by ``after`` can move, from one representative per
    signature and the items a keyed or project rule of either plan can name.

    ``rm_dirty`` gets each signature whose items the change can move: with ``descend`` when what its
    items hand down to descendants differs (:func:`_handed_down`); without, when only what they read
    for themselves differs (:func:`_kept`) and they can read it (:func:`_can_read_kept`). ``rm_seed``
    gets each named item that reads differently. Every other item's resolution, made under
    ``before`` by this engine, is what ``after`` makes of it.
    """
    signatures = _signatures(conn, scoped=False)
    read = _signature_items(conn, list(signatures), False, before, after)
    dirty: dict[int, tuple[int, bool, int | None]] = {}
    for pk, sig, item in read.representatives:
        if _handed_down(before, item) != _handed_down(after, item):
            dirty[sig] = (pk, True, None)
        elif _kept(before, item) != _kept(after, item) and _can_read_kept(before, after, item):
            dirty[sig] = (pk, False, _container_key(before, after, item))
    rows = [
        {"sig": sig, "descend": descend, "container_key": key} for sig, (_pk, descend, key) in dirty.items()
    ]
    rm.insert_rows(conn, rm.dirty, rows)
    rm.insert_rows(conn, rm.inheritable, [{"alloc_key": key} for key in _inheritable(before, read)])
    named = {
        (item.tracker, item.id)
        for _pk, _sig, item in read.candidates
        if _handed_down(before, item, named=True) != _handed_down(after, item, named=True)
        or _kept(before, item) != _kept(after, item)
    }
    rm.insert_rows(conn, rm.seed, [{"tracker": tracker, "item_id": item_id} for tracker, item_id in named])
    carrying = sum(signatures[pk] for pk, _descend, _key in dirty.values())
    return PlanChangeSeeds(live=sum(signatures.values()), starts=carrying + len(named), read=read)


def load_signatures(
    conn: Connection, resolver: Resolver, *, scoped: bool, read: SignatureItems | None = None
) -> None:
    """Resolve each signature and each key- or project-named item; fill ``rm_sig``, ``rm_special``
    and ``rm_ts``, and store the allocation sets the tag sets yield. ``read``: those items (of the
    scope, when scoped; candidates under ``resolver``'s rules at least), when the caller has them."""
    if read is None:
        read = _signature_items(conn, list(_signatures(conn, scoped)), scoped, resolver)
    tag_sets = _TagSets({((), ()): 0})
    sig_rows: list[dict[str, object]] = []
    for _pk, sig, item in read.representatives:
        own = resolver.signature_tags(item)
        container = resolver.container_tags(item)
        sig_rows.append(
            {
                "sig": sig,
                "own_ts": tag_sets.id_of(own),
                "cont_ts": tag_sets.id_of(container),
                "unknown": bool(own.unknown),
            }
        )

    special: dict[int, int] = {}
    for pk, _sig, item in read.candidates:
        if resolver.specific_tags(item).found:
            special[pk] = tag_sets.id_of(resolver.own_tags(item))  # the signature's part and its own

    ts_rows: list[dict[str, object]] = []
    sets: dict[int, list[Share]] = {}
    for (values, methods), ts in tag_sets.ids.items():
        for team_key, outcome in team_outcomes(resolver, Tags(values, methods)):
            ts_rows.append(
                {
                    "ts": ts,
                    "team_key": team_key,
                    "alloc_key": outcome.key,
                    "untagged": outcome.untagged,
                    "conflict": outcome.conflict is not None,
                    "orphan": bool(outcome.method_orphans),
                }
            )
            sets[outcome.key] = as_shares(outcome.allocations)

    rm.insert_rows(conn, rm.sig, sig_rows)
    rm.insert_rows(conn, rm.special, [{"pk": pk, "own_ts": ts} for pk, ts in special.items()])
    rm.insert_rows(conn, rm.tag_set, ts_rows)
    store_allocation_sets(conn, conn.dialect.name, sets)
    rm.analyze(conn, rm.sig, rm.special, rm.tag_set)


@dataclass(frozen=True)
class NewOutcome:
    """A stored allocation set a plan change replaces: the set (and flags) it becomes."""

    old_key: int
    new_key: int
    untagged: bool
    conflict: bool
    shares: tuple[Share, ...]


def _tag_set(tags: Tags) -> TagSet:
    return tags.values, tags.methods


def new_outcomes(before: Resolver, after: Resolver, read: SignatureItems) -> list[NewOutcome] | None:
    """When ``after`` gives every item the tags ``before`` gave it — each signature's own and
    container tag sets and unknown names, each named item's own tags — only what some tag sets
    yield changed (a method's weights or values): each stored allocation set that changes, and the
    one it becomes. None when some item's tags change, when a stored set does not tell which new
    one an item gets (two tag sets sharing a set before and not after), or when an orphan flag
    changes (the stored flag also counts the item's missing parent and unknown names).
    ``read``: the representatives and named items :func:`seed_plan_change` read."""
    sets: set[TagSet] = set()
    for _pk, _sig, item in read.representatives:
        own, container = before.signature_tags(item), before.container_tags(item)
        own_after, container_after = after.signature_tags(item), after.container_tags(item)
        if (_tag_set(own), bool(own.unknown), _tag_set(container)) != (
            _tag_set(own_after),
            bool(own_after.unknown),
            _tag_set(container_after),
        ):
            return None
        sets |= {_tag_set(own), _tag_set(container)}
    for _pk, _sig, item in read.candidates:
        named = before.specific_tags(item).found
        if named != after.specific_tags(item).found:
            return None
        if named:
            own_set = _tag_set(before.own_tags(item))
            if own_set != _tag_set(after.own_tags(item)):
                return None
            sets.add(own_set)
    by_old: dict[int, NewOutcome] = {}
    for values, methods in sets:
        olds, news = team_outcomes(before, Tags(values, methods)), team_outcomes(after, Tags(values, methods))
        if [team for team, _ in olds] != [team for team, _ in news]:
            return None
        for (_team, old), (_same, new) in zip(olds, news, strict=True):
            if bool(old.method_orphans) != bool(new.method_orphans):
                return None
            move = NewOutcome(
                old.key, new.key, new.untagged, new.conflict is not None, tuple(as_shares(new.allocations))
            )
            if by_old.setdefault(old.key, move) != move:
                return None
    return [move for move in by_old.values() if move.new_key != move.old_key]
