"""one audit of every change: audit_events, filled from the plan versions and the tag audit

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 10:00:00

``audit_events`` records every change an admin or an operator makes: plan versions and rule edits,
tokens created and revoked, tags set from the dashboard, provisioning and write-back runs; each with
who, when, a one-line summary and its details (JSON). The plan versions stored so far become its
``plan`` entries (the version, what changed, the plan before and after) and the rows of
``tag_audit`` its ``tag`` entries, in the order they happened; ``tag_audit`` is then dropped, so there
is one audit to read. Downgrading puts the tag entries back into ``tag_audit``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

import v2mom.store.types
from v2mom.mapping.plan import plan_from_data
from v2mom.mapping.plan_changes import plan_changes
from v2mom.store.audit import one_line

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

UTC_TIME = v2mom.store.types.UTCDateTime(timezone=True)
plans = sa.table(
    'plans',
    sa.column('version', sa.Integer),
    sa.column('document', sa.JSON),
    sa.column('created_at', UTC_TIME),
    sa.column('created_by', sa.String),
)
TAG_COLUMNS = ('actor', 'tracker', 'item_id', 'key', 'kind', 'plan_id')
tag_audit = sa.table(
    'tag_audit',
    sa.column('id', sa.Integer),
    sa.column('at', UTC_TIME),
    *(sa.column(name, sa.String) for name in TAG_COLUMNS),
    sa.column('before', sa.JSON),
)


def _create_tag_audit() -> None:
    op.create_table(
        'tag_audit',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('at', UTC_TIME, nullable=False),
        sa.Column('actor', sa.String(length=128), nullable=False),
        sa.Column('tracker', sa.String(length=16), nullable=False),
        sa.Column('item_id', sa.String(length=128), nullable=False),
        sa.Column('key', sa.String(length=128), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('plan_id', sa.String(length=64), nullable=False),
        sa.Column('before', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_tag_audit')),
    )


def _plan_events(conn: sa.Connection) -> list[tuple[Any, ...]]:
    """(at, order, event) of every stored plan version, each with the version before it."""
    events: list[tuple[Any, ...]] = []
    previous: dict[str, Any] | None = None
    for row in conn.execute(sa.select(plans).order_by(plans.c.version)):
        before = plan_from_data(previous, 'stored plan', stored=True) if previous is not None else None
        changes = plan_changes(before, plan_from_data(row.document, 'stored plan', stored=True))
        event = {
            'at': row.created_at,
            'actor': row.created_by,
            'kind': 'plan',
            'summary': one_line(f"plan v{row.version}: {'; '.join(changes)}"),
            'details': {'version': row.version, 'changes': changes, 'before': previous, 'after': row.document},
        }
        events.append((row.created_at, 0, row.version, event))
        previous = row.document
    return events


def _tag_events(conn: sa.Connection) -> list[tuple[Any, ...]]:
    """(at, order, event) of every tag in ``tag_audit``."""
    events: list[tuple[Any, ...]] = []
    for row in conn.execute(sa.select(tag_audit).order_by(tag_audit.c.id)):
        event = {
            'at': row.at,
            'actor': row.actor,
            'kind': 'tag',
            'summary': one_line(f"tagged {row.tracker}:{row.key} with {row.kind} {row.plan_id}"),
            'details': {
                'item': {'tracker': row.tracker, 'id': row.item_id, 'key': row.key},
                'tag': {'kind': row.kind, 'id': row.plan_id, 'name': None},
                'before': list(row.before),
            },
        }
        events.append((row.at, 1, row.id, event))
    return events


def upgrade() -> None:
    audit_events = op.create_table(
        'audit_events',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('at', UTC_TIME, nullable=False),
        sa.Column('actor', sa.String(length=255), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events')),
    )
    op.create_index('ix_audit_events_kind_id', 'audit_events', ['kind', 'id'], unique=False)
    conn = op.get_bind()
    history = sorted(_plan_events(conn) + _tag_events(conn), key=lambda entry: entry[:3])
    if history:
        op.bulk_insert(audit_events, [event for *_, event in history])
    op.drop_table('tag_audit')


def downgrade() -> None:
    _create_tag_audit()
    audit_events = sa.table(
        'audit_events',
        sa.column('id', sa.Integer),
        sa.column('at', UTC_TIME),
        sa.column('actor', sa.String),
        sa.column('kind', sa.String),
        sa.column('details', sa.JSON),
    )
    conn = op.get_bind()
    tags = conn.execute(
        sa.select(audit_events).where(audit_events.c.kind == 'tag').order_by(audit_events.c.id)
    ).all()
    rows = [
        {
            'at': row.at,
            'actor': row.actor[:128],
            'tracker': row.details['item']['tracker'],
            'item_id': row.details['item']['id'],
            'key': row.details['item']['key'],
            'kind': row.details['tag']['kind'],
            'plan_id': row.details['tag']['id'],
            'before': row.details['before'],
        }
        for row in tags
    ]
    if rows:
        op.bulk_insert(tag_audit, rows)
    op.drop_index('ix_audit_events_kind_id', table_name='audit_events')
    op.drop_table('audit_events')
