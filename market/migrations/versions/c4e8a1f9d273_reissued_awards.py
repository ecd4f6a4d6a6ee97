"""a reversed award's corrected amount is issued as a new award that names the one it corrects

Revision ID: c4e8a1f9d273
Revises: b8e4d2f6a913
Create Date: 2026-12-03 04:10:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c4e8a1f9d273'
down_revision = 'b8e4d2f6a913'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('awards', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reissues_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reissue_reason', sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f('ix_awards_reissues_id'), ['reissues_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_awards_reissues_id_awards'), 'awards', ['reissues_id'], ['id'])


def downgrade():
    with op.batch_alter_table('awards', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_awards_reissues_id_awards'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_awards_reissues_id'))
        batch_op.drop_column('reissue_reason')
        batch_op.drop_column('reissues_id')
