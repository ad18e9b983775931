"""items.member_of: the configured project an Asana task is itself a member of

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 19:00:00

An Asana subtask names its parent and no container: its rules come through the parent. One added
to a configured project as well holds that project's custom fields, so write-back can set its
V2MOM fields, which it cannot on a subtask outside every project; the store kept nothing that told
the two apart. Tasks and projects are unaffected (write-back reads their container); existing
subtasks get the column on their next reading (``v2mom sync --full`` reads them all).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('member_of', sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_column('member_of')
