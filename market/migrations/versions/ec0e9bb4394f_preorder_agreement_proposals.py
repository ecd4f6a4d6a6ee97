"""a pre-order agreement (or an amended version) is proposed and counts only once the other party confirms it
(preorder_proposals); a refused or withdrawn proposal frees its number

Revision ID: ec0e9bb4394f
Revises: e4c7a2b9d130
Create Date: 2026-12-03 09:00:00

Agreements recorded before this stay signed (or as they are) and have no proposal rows.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'ec0e9bb4394f'
down_revision = 'e4c7a2b9d130'
branch_labels = None
depends_on = None

LIVE_NUMBER = "status NOT IN ('refused', 'withdrawn')"


def upgrade():
    op.create_table(
        'preorder_proposals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agreement_id', sa.Integer(), nullable=False),
        sa.Column('recorded_by_id', sa.Integer(), nullable=False),
        sa.Column('buyer_confirmed_by_id', sa.Integer(), nullable=True),
        sa.Column('buyer_confirmed_at', sa.DateTime(), nullable=True),
        sa.Column('seller_confirmed_by_id', sa.Integer(), nullable=True),
        sa.Column('seller_confirmed_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('status', sa.String(length=20), server_default='recorded', nullable=False),
        sa.Column('recorded_as', sa.String(length=20), nullable=True),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('dispute_reason', sa.Text(), server_default='', nullable=False),
        sa.Column('decision_note', sa.Text(), server_default='', nullable=False),
        sa.Column('last_reminded_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['agreement_id'], ['preorder_agreements.id'],
                                name=op.f('fk_preorder_proposals_agreement_id_preorder_agreements')),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_preorder_proposals_recorded_by_id_users')),
        sa.ForeignKeyConstraint(['buyer_confirmed_by_id'], ['users.id'],
                                name=op.f('fk_preorder_proposals_buyer_confirmed_by_id_users')),
        sa.ForeignKeyConstraint(['seller_confirmed_by_id'], ['users.id'],
                                name=op.f('fk_preorder_proposals_seller_confirmed_by_id_users')),
        sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_preorder_proposals_decided_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_preorder_proposals')),
        sa.UniqueConstraint('agreement_id', name=op.f('uq_preorder_proposals_agreement_id')),
    )
    with op.batch_alter_table('preorder_agreements', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('uq_preorder_agreements_number'), type_='unique')
    op.create_index('uq_preorder_agreements_live_number', 'preorder_agreements', ['number'], unique=True,
                    sqlite_where=sa.text(LIVE_NUMBER), postgresql_where=sa.text(LIVE_NUMBER))


def downgrade():
    op.drop_index('uq_preorder_agreements_live_number', table_name='preorder_agreements')
    op.execute("DELETE FROM preorder_proposals")
    op.execute("DELETE FROM preorder_agreements WHERE status IN ('refused', 'withdrawn')")
    with op.batch_alter_table('preorder_agreements', schema=None) as batch_op:
        batch_op.create_unique_constraint(op.f('uq_preorder_agreements_number'), ['number'])
    op.drop_table('preorder_proposals')
