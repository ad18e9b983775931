"""allocation sets instead of per-item allocation rows; the rollup sums resolutions per set

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 15:00:00

Each distinct split of effort across (value, method) is stored once in ``allocation_sets``, keyed by
its fingerprint (``mapping.resolver.shares_key``); a resolution names its set and keeps the
tracker, state and completion day the rollup counts it under. ``effort_rollup`` sums resolutions
per (tracker, state, day, orphaned, set) and replaces ``allocation_rollup``; ``allocations`` goes.
A plan change then rewrites one column of each moved resolution instead of its allocation rows.

Upgrade derives each item's set from its allocation rows: a share's weight is its effort divided
by the item's counted effort (count, else points, else hours; an equal split for items that count
nothing, whose weights change no sum). The set's key is computed from those shares, so the report
is unchanged; where a derived weight differs from the plan's in the last bit, the next
re-resolution sees a different key and rewrites that item once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op

from v2mom.mapping.resolver import shares_key

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

CHUNK = 5000
COMPLETED_ON = {
    'postgresql': "(i.completed_at AT TIME ZONE 'UTC')::date",
    'sqlite': 'substr(i.completed_at, 1, 10)',
}
ROLLUP_FROM_RESOLUTIONS = (
    'INSERT INTO effort_rollup (group_key, tracker, state, completed_on, orphaned, alloc_key, items,'
    ' points, hours, "count")'
    " SELECT tracker || '|' || state || '|' || COALESCE(CAST(completed_on AS VARCHAR), '') || '|'"
    " || CAST(orphaned AS VARCHAR) || '|' || CAST(alloc_key AS VARCHAR),"
    ' tracker, state, completed_on, orphaned, alloc_key, COUNT(*), SUM(points), SUM(hours), SUM("count")'
    " FROM resolutions WHERE state <> 'canceled'"
    ' GROUP BY tracker, state, completed_on, orphaned, alloc_key'
)


def upgrade() -> None:
    conn = op.get_bind()
    with op.batch_alter_table('resolutions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tracker', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('state', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('completed_on', sa.Date(), nullable=True))
    conn.execute(
        sa.text(
            'UPDATE resolutions SET tracker = i.tracker, state = i.state,'
            f' completed_on = {COMPLETED_ON[conn.dialect.name]}'
            ' FROM items i WHERE i.pk = resolutions.item_pk'
        )
    )
    with op.batch_alter_table('resolutions', schema=None) as batch_op:
        batch_op.alter_column('tracker', existing_type=sa.String(length=16), nullable=False)
        batch_op.alter_column('state', existing_type=sa.String(length=16), nullable=False)

    sets_table = op.create_table(
        'allocation_sets',
        sa.Column('alloc_key', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('position', sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column('value_id', sa.String(length=64), nullable=True),
        sa.Column('method_id', sa.String(length=64), nullable=True),
        sa.Column('weight', sa.Float(), nullable=False),
        sa.Column('first_of_item', sa.SmallInteger(), nullable=False),
        sa.Column('first_of_value', sa.SmallInteger(), nullable=False),
        sa.PrimaryKeyConstraint('alloc_key', 'position', name=op.f('pk_allocation_sets')),
    )
    op.create_table(
        'effort_rollup',
        sa.Column('group_key', sa.String(length=255), nullable=False),
        sa.Column('tracker', sa.String(length=16), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('completed_on', sa.Date(), nullable=True),
        sa.Column('orphaned', sa.Boolean(), nullable=False),
        sa.Column('alloc_key', sa.BigInteger(), nullable=False),
        sa.Column('items', sa.Integer(), nullable=False),
        sa.Column('points', sa.Float(), nullable=False),
        sa.Column('hours', sa.Float(), nullable=False),
        sa.Column('count', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('group_key', name=op.f('pk_effort_rollup')),
    )
    _derive_sets(conn, sets_table)
    conn.execute(sa.text(ROLLUP_FROM_RESOLUTIONS))

    op.drop_table('allocation_rollup')
    with op.batch_alter_table('allocations', schema=None) as batch_op:
        batch_op.drop_index('ix_allocations_item')
    op.drop_table('allocations')


def _items_shares(conn: sa.Connection) -> Iterator[tuple[Any, list[Any]]]:
    """(resolution row, its allocation rows in order) per item, streamed in item order."""
    rows = conn.execute(
        sa.text(
            'SELECT a.item_pk, a.value_id, a.method_id, a.points AS a_points, a.hours AS a_hours,'
            ' a."count" AS a_count, r.points, r.hours, r."count", r.conflict, r.untagged, r.alloc_key'
            ' FROM allocations a JOIN resolutions r ON r.item_pk = a.item_pk ORDER BY a.item_pk, a.id'
        ).execution_options(stream_results=True, yield_per=CHUNK)
    )
    current: list[Any] = []
    for row in rows:
        if current and current[0].item_pk != row.item_pk:
            yield current[0], current
            current = []
        current.append(row)
    if current:
        yield current[0], current


def _weights(resolution: Any, shares: list[Any]) -> list[float]:
    for effort, part in (('count', 'a_count'), ('points', 'a_points'), ('hours', 'a_hours')):
        total = getattr(resolution, effort)
        if total:
            return [getattr(share, part) / total for share in shares]
    return [1.0 / len(shares)] * len(shares)


def _derive_sets(conn: sa.Connection, sets_table: sa.Table) -> None:
    """Fill ``allocation_sets`` from the allocation rows and point each resolution at its set."""
    seen: set[int] = set()
    set_rows: list[dict[str, Any]] = []
    moved: list[dict[str, Any]] = []
    for resolution, rows in _items_shares(conn):
        shares = [(r.value_id, r.method_id, w) for r, w in zip(rows, _weights(resolution, rows), strict=True)]
        key = shares_key(shares, conflict=bool(resolution.conflict), untagged=bool(resolution.untagged))
        if key != resolution.alloc_key:
            moved.append({'row_pk': resolution.item_pk, 'key': key})
        if key not in seen:  # the rows v2mom.rollup.allocation_shares gives, as of this revision
            seen.add(key)
            values: set[Any] = set()
            for position, (value_id, method_id, weight) in enumerate(shares):
                set_rows.append(
                    {
                        'alloc_key': key,
                        'position': position,
                        'value_id': value_id,
                        'method_id': method_id,
                        'weight': weight,
                        'first_of_item': 1 if position == 0 else 0,
                        'first_of_value': 0 if value_id in values else 1,
                    }
                )
                values.add(value_id)
    if set_rows:
        conn.execute(sets_table.insert(), set_rows)
    resolutions = sa.table('resolutions', sa.column('item_pk'), sa.column('alloc_key'))
    for start in range(0, len(moved), CHUNK):
        conn.execute(
            resolutions.update()
            .where(resolutions.c.item_pk == sa.bindparam('row_pk'))
            .values(alloc_key=sa.bindparam('key')),
            moved[start : start + CHUNK],
        )


def downgrade() -> None:
    op.create_table(
        'allocation_rollup',
        sa.Column('group_key', sa.String(length=255), nullable=False),
        sa.Column('tracker', sa.String(length=16), nullable=False),
        sa.Column('value_id', sa.String(length=64), nullable=True),
        sa.Column('method_id', sa.String(length=64), nullable=True),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('completed_on', sa.Date(), nullable=True),
        sa.Column('orphaned', sa.Boolean(), nullable=False),
        sa.Column('rows', sa.Integer(), nullable=False),
        sa.Column('items', sa.Integer(), nullable=False),
        sa.Column('value_items', sa.Integer(), nullable=False),
        sa.Column('points', sa.Float(), nullable=False),
        sa.Column('hours', sa.Float(), nullable=False),
        sa.Column('count', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('group_key', name=op.f('pk_allocation_rollup')),
    )
    op.create_table(
        'allocations',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('item_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('tracker', sa.String(length=16), nullable=False),
        sa.Column('value_id', sa.String(length=64), nullable=True),
        sa.Column('method_id', sa.String(length=64), nullable=True),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('completed_on', sa.Date(), nullable=True),
        sa.Column('orphaned', sa.Boolean(), nullable=False),
        sa.Column('first_of_item', sa.SmallInteger(), nullable=False),
        sa.Column('first_of_value', sa.SmallInteger(), nullable=False),
        sa.Column('points', sa.Float(), nullable=False),
        sa.Column('hours', sa.Float(), nullable=False),
        sa.Column('count', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_allocations')),
    )
    with op.batch_alter_table('allocations', schema=None) as batch_op:
        batch_op.create_index('ix_allocations_item', ['item_pk'], unique=False)
    op.execute(
        'INSERT INTO allocations (item_pk, tracker, value_id, method_id, state, completed_on, orphaned,'
        ' first_of_item, first_of_value, points, hours, "count")'
        ' SELECT r.item_pk, r.tracker, s.value_id, s.method_id, r.state, r.completed_on, r.orphaned,'
        ' s.first_of_item, s.first_of_value, r.points * s.weight, r.hours * s.weight, r."count" * s.weight'
        " FROM resolutions r JOIN allocation_sets s ON s.alloc_key = r.alloc_key WHERE r.state <> 'canceled'"
        ' ORDER BY r.item_pk, s.position'
    )
    op.execute(
        'INSERT INTO allocation_rollup (group_key, tracker, value_id, method_id, state, completed_on,'
        ' orphaned, "rows", items, value_items, points, hours, "count")'
        " SELECT tracker || '|' || state || '|' || COALESCE(CAST(completed_on AS VARCHAR), '') || '|'"
        " || COALESCE(value_id, '') || '|' || COALESCE(method_id, '') || '|' || CAST(orphaned AS VARCHAR),"
        ' tracker, value_id, method_id, state, completed_on, orphaned, COUNT(*), SUM(first_of_item),'
        ' SUM(first_of_value), SUM(points), SUM(hours), SUM("count")'
        ' FROM allocations GROUP BY tracker, value_id, method_id, state, completed_on, orphaned'
    )
    op.drop_table('effort_rollup')
    op.drop_table('allocation_sets')
    with op.batch_alter_table('resolutions', schema=None) as batch_op:
        batch_op.drop_column('completed_on')
        batch_op.drop_column('state')
        batch_op.drop_column('tracker')
