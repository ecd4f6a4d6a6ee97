"""an introduction keeps when the achievement's owner confirmed licensing it again after an outright transfer

Revision ID: d5b9f3a7c1e8
Revises: c3a7e5d1b2f4
Create Date: 2026-12-03 04:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd5b9f3a7c1e8'
down_revision = 'c3a7e5d1b2f4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('introductions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('relicense_confirmed_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('introductions', schema=None) as batch_op:
        batch_op.drop_column('relicense_confirmed_at')
