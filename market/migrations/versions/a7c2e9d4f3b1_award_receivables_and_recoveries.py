"""a paid award that is reversed is receivable from its recipient until an admin records the recovery; a held
draft line that tops up a confirmed one names it

Revision ID: a7c2e9d4f3b1
Revises: d5f1a3c8e2b4
Create Date: 2026-12-02 20:50:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a7c2e9d4f3b1'
down_revision = 'd5f1a3c8e2b4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('awards', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recovery_reference', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('recovered_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('tops_up', sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table('awards', schema=None) as batch_op:
        batch_op.drop_column('tops_up')
        batch_op.drop_column('recovered_on')
        batch_op.drop_column('recovery_reference')
