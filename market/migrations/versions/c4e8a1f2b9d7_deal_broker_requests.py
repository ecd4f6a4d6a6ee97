"""deal broker requests: invitations, requests to join and admin proposals that need consent (existing deals keep
their broker)

Revision ID: c4e8a1f2b9d7
Revises: c4e8a1f2d9b7
Create Date: 2026-12-02 17:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c4e8a1f2b9d7'
down_revision = 'c4e8a1f2d9b7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('deal_broker_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('deal_id', sa.Integer(), nullable=False),
    sa.Column('broker_id', sa.Integer(), nullable=False),
    sa.Column('initiated_by_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('transferor_accepted_by_id', sa.Integer(), nullable=True),
    sa.Column('transferor_accepted_at', sa.DateTime(), nullable=True),
    sa.Column('transferee_accepted_by_id', sa.Integer(), nullable=True),
    sa.Column('transferee_accepted_at', sa.DateTime(), nullable=True),
    sa.Column('broker_accepted_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('invite', 'ask', 'admin_proposal')", name=op.f('ck_deal_broker_requests_kind_known')),
    sa.CheckConstraint("status IN ('pending', 'accepted', 'declined', 'withdrawn', 'superseded', 'removed')",
                       name=op.f('ck_deal_broker_requests_status_known')),
    sa.ForeignKeyConstraint(['broker_id'], ['users.id'], name=op.f('fk_deal_broker_requests_broker_id_users')),
    sa.ForeignKeyConstraint(['deal_id'], ['deals.id'], name=op.f('fk_deal_broker_requests_deal_id_deals')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_deal_broker_requests_decided_by_id_users')),
    sa.ForeignKeyConstraint(['initiated_by_id'], ['users.id'],
                            name=op.f('fk_deal_broker_requests_initiated_by_id_users')),
    sa.ForeignKeyConstraint(['transferee_accepted_by_id'], ['users.id'],
                            name=op.f('fk_deal_broker_requests_transferee_accepted_by_id_users')),
    sa.ForeignKeyConstraint(['transferor_accepted_by_id'], ['users.id'],
                            name=op.f('fk_deal_broker_requests_transferor_accepted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deal_broker_requests'))
    )
    with op.batch_alter_table('deal_broker_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deal_broker_requests_broker_id'), ['broker_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_deal_broker_requests_deal_id'), ['deal_id'], unique=False)


def downgrade():
    with op.batch_alter_table('deal_broker_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deal_broker_requests_deal_id'))
        batch_op.drop_index(batch_op.f('ix_deal_broker_requests_broker_id'))

    op.drop_table('deal_broker_requests')
