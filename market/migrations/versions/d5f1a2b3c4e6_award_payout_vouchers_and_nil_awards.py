"""award payouts record their voucher (reference, date, optional PDF); awards granted ¥0 become nil

Revision ID: d5f1a2b3c4e6
Revises: c4e8a1f27d90
Create Date: 2026-12-02 18:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd5f1a2b3c4e6'
down_revision = 'c4e8a1f27d90'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('awards', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paid_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('voucher_reference', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('voucher_stored_name', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('voucher_original_name', sa.String(length=255), nullable=True))
    op.execute("UPDATE awards SET status = 'nil' WHERE granted_fen = 0 AND status IN ('payable', 'held')")


def downgrade():
    op.execute("UPDATE awards SET status = 'payable' WHERE status = 'nil'")
    with op.batch_alter_table('awards', schema=None) as batch_op:
        batch_op.drop_column('voucher_original_name')
        batch_op.drop_column('voucher_stored_name')
        batch_op.drop_column('voucher_reference')
        batch_op.drop_column('paid_on')
