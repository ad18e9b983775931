"""The Python half of the resolution engine: each distinct tag signature resolved once.

Items with the same tag signature (``mapping.signature``) get the same conventions, keyless rules
and container rules from any plan, so the engine resolves one representative per signature (plus
the few items a ``key``/``epic`` rule or a project rule names) into a small table of numbered tag
sets, and the outcome of each tag set (its allocation set, untagged, conflict, orphan) once. Memory
is bounded by the number of distinct signatures, not items.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, bindparam, func, select

from v2mom.mapping.resolver import Resolver, Share, Tags, as_shares
from v2mom.mapping.signature import tag_signature
from v2mom.models import Level, WorkItem
from v2mom.store import schema as t
from v2mom.store.items import item_from_row
from v2mom.store.resolution.rollup import store_allocation_sets
from v2mom.store.resolution.sql import analyze, insert_rows, pks_in

CHUNK = 5_000


@dataclass
class _TagSets:
    """Distinct (values, methods) tag sets, numbered; 0 is the empty set."""

    ids: dict[tuple[tuple[str, ...], tuple[str, ...]], int]

    def id_of(self, tags: Tags) -> int:
        key = (tags.values, tags.methods)
        if key not in self.ids:
            self.ids[key] = len(self.ids)
        return self.ids[key]


def _in_scope() -> ColumnElement[bool]:
    return t.items.c.pk.in_(pks_in("rm_scope"))


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
    """What :func:`seed_plan_change` found: live items, and those carrying a dirty signature."""

    live: int
    dirty: int
    read: SignatureItems  # under both plans' rules: what ``load_signatures`` would read again


def _facts(resolver: Resolver, item: WorkItem, *, named: bool = False) -> tuple[object, ...]:
    """Everything the engine reads of an item's signature under one plan — own and container tag
    sets, the unknown flag, what each tag set yields (allocation key, untagged, conflict, orphan) —
    and with ``named``, of the item itself: its own tags when a keyed or project rule names it."""
    own, container = resolver.signature_tags(item), resolver.container_tags(item)
    unknown = bool(own.unknown)
    if named and resolver.specific_tags(item).found:
        own = resolver.own_tags(item)
    facts: list[object] = [own.values, own.methods, unknown, container.values, container.methods]
    for tags in (own, container):
        outcome = resolver.outcome(Tags(tags.values, tags.methods))
        facts += [outcome.key, outcome.untagged, outcome.conflict is not None, bool(outcome.method_orphans)]
    return tuple(facts)


def _specific_filters(*resolvers: Resolver) -> list[ColumnElement[bool]]:
    """Where the items a ``key``/``epic`` rule or a project rule of any of ``resolvers`` can name are."""
    i = t.items.c
    keys = sorted(set().union(*(r.rule_keys for r in resolvers if r.has_keyed_rules)))
    filters: list[ColumnElement[bool]] = [func.lower(i.key).in_(keys)] if keys else []
    if any(r.has_project_rules for r in resolvers):
        filters.append(i.level == int(Level.CONTAINER))
    return filters


def seed_plan_change(conn: Connection, before: Resolver, after: Resolver) -> PlanChangeSeeds:
    """Find what replacing plan ``before`` by ``after`` can move: the signatures it reads
    differently (into ``rm_dirty``) and the items a keyed or project rule of either plan names that
    read differently themselves (into ``rm_seed``), by :func:`_facts`. They and the descendants
    inheriting from them are what ``remap_sql.find_plan_changes`` re-resolves; every other item's
    resolution, made under ``before`` by this engine, is what ``after`` makes of it.
    """
    signatures = _signatures(conn, scoped=False)
    read = _signature_items(conn, list(signatures), False, before, after)
    dirty = [
        (pk, sig) for pk, sig, item in read.representatives if _facts(before, item) != _facts(after, item)
    ]
    insert_rows(conn, "rm_dirty", [{"sig": sig} for _pk, sig in dirty])
    named = {
        (item.tracker, item.id)
        for _pk, _sig, item in read.candidates
        if _facts(before, item, named=True) != _facts(after, item, named=True)
    }
    insert_rows(conn, "rm_seed", [{"tracker": tracker, "item_id": item_id} for tracker, item_id in named])
    carrying = sum(signatures[pk] for pk, _sig in dirty)
    return PlanChangeSeeds(live=sum(signatures.values()), dirty=carrying + len(named), read=read)


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
        outcome = resolver.outcome(Tags(values, methods))
        ts_rows.append(
            {
                "ts": ts,
                "alloc_key": outcome.key,
                "untagged": outcome.untagged,
                "conflict": outcome.conflict is not None,
                "orphan": bool(outcome.method_orphans),
            }
        )
        sets[outcome.key] = as_shares(outcome.allocations)

    insert_rows(conn, "rm_sig", sig_rows)
    insert_rows(conn, "rm_special", [{"pk": pk, "own_ts": ts} for pk, ts in special.items()])
    insert_rows(conn, "rm_ts", ts_rows)
    store_allocation_sets(conn, conn.dialect.name, sets)
    analyze(conn, "rm_sig", "rm_special", "rm_ts")
