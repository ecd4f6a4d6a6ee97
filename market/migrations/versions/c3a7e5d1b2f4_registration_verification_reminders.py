"""admins are reminded daily of registrations waiting for verification: the last reminder is kept

Revision ID: c3a7e5d1b2f4
Revises: b8e4d2f6a913
Create Date: 2026-12-03 04:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c3a7e5d1b2f4'
down_revision = 'c4e8a1f9d273'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('deal_registrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_reminded_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('deal_registrations', schema=None) as batch_op:
        batch_op.drop_column('last_reminded_at')
