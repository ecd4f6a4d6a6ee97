"""deals record the inventors' share of net income (universities and research institutes)

Revision ID: c4e8a1f27d90
Revises: c4e8a1f2b9d7
Create Date: 2026-12-02 17:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c4e8a1f27d90'
down_revision = 'c4e8a1f2b9d7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('deals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('inventor_share_bp', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_deals_inventor_share_range'), 'inventor_share_bp IS NULL OR inventor_share_bp BETWEEN 0 AND 10000')


def downgrade():
    with op.batch_alter_table('deals', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_deals_inventor_share_range'), type_='check')
        batch_op.drop_column('inventor_share_bp')
