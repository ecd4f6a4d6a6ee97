"""a broker introduces an achievement to a demand or an enterprise; declining a bid, a response or an introduction
records a structured reason

Revision ID: b7e2c4d9a610
Revises: f3a9c2d17b50
Create Date: 2026-12-02 21:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b7e2c4d9a610'
down_revision = 'f3a9c2d17b50'
branch_labels = None
depends_on = None

PENDING = "status = 'pending'"
DECLINED_TABLES = ('bids', 'demand_responses')


def upgrade():
    for table in DECLINED_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('decline_reason', sa.String(length=20), nullable=True))
            batch_op.add_column(sa.Column('decline_note', sa.Text(), nullable=False, server_default=''))
    op.create_table(
        'introductions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('broker_id', sa.Integer(), nullable=False),
        sa.Column('achievement_id', sa.Integer(), nullable=False),
        sa.Column('demand_id', sa.Integer(), nullable=True),
        sa.Column('transferor_id', sa.Integer(), nullable=False),
        sa.Column('transferee_id', sa.Integer(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('transferor_accepted_by_id', sa.Integer(), nullable=True),
        sa.Column('transferor_accepted_at', sa.DateTime(), nullable=True),
        sa.Column('transferee_accepted_by_id', sa.Integer(), nullable=True),
        sa.Column('transferee_accepted_at', sa.DateTime(), nullable=True),
        sa.Column('declined_side', sa.String(length=20), nullable=True),
        sa.Column('decline_reason', sa.String(length=20), nullable=True),
        sa.Column('decline_note', sa.Text(), nullable=False),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.Column('deal_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("status IN ('pending', 'accepted', 'declined', 'withdrawn')",
                           name=op.f('ck_introductions_status_known')),
        sa.CheckConstraint("declined_side IS NULL OR declined_side IN ('transferor', 'transferee')",
                           name=op.f('ck_introductions_declined_side_known')),
        sa.CheckConstraint("status <> 'accepted' OR deal_id IS NOT NULL",
                           name=op.f('ck_introductions_accepted_has_deal')),
        sa.ForeignKeyConstraint(['broker_id'], ['users.id'], name=op.f('fk_introductions_broker_id_users')),
        sa.ForeignKeyConstraint(['achievement_id'], ['achievements.id'],
                                name=op.f('fk_introductions_achievement_id_achievements')),
        sa.ForeignKeyConstraint(['demand_id'], ['demands.id'], name=op.f('fk_introductions_demand_id_demands')),
        sa.ForeignKeyConstraint(['transferor_id'], ['organisations.id'],
                                name=op.f('fk_introductions_transferor_id_organisations')),
        sa.ForeignKeyConstraint(['transferee_id'], ['organisations.id'],
                                name=op.f('fk_introductions_transferee_id_organisations')),
        sa.ForeignKeyConstraint(['transferor_accepted_by_id'], ['users.id'],
                                name=op.f('fk_introductions_transferor_accepted_by_id_users')),
        sa.ForeignKeyConstraint(['transferee_accepted_by_id'], ['users.id'],
                                name=op.f('fk_introductions_transferee_accepted_by_id_users')),
        sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_introductions_decided_by_id_users')),
        sa.ForeignKeyConstraint(['deal_id'], ['deals.id'], name=op.f('fk_introductions_deal_id_deals')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_introductions')),
        sa.UniqueConstraint('deal_id', name=op.f('uq_introductions_deal_id')),
    )
    for column in ('broker_id', 'achievement_id', 'demand_id', 'transferor_id', 'transferee_id'):
        op.create_index(op.f(f'ix_introductions_{column}'), 'introductions', [column], unique=False)
    op.create_index('one_pending_introduction_per_pair', 'introductions', ['achievement_id', 'transferee_id'],
                    unique=True, sqlite_where=sa.text(PENDING), postgresql_where=sa.text(PENDING))


def downgrade():
    op.drop_index('one_pending_introduction_per_pair', table_name='introductions')
    for column in ('broker_id', 'achievement_id', 'demand_id', 'transferor_id', 'transferee_id'):
        op.drop_index(op.f(f'ix_introductions_{column}'), table_name='introductions')
    op.drop_table('introductions')
    for table in DECLINED_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('decline_note')
            batch_op.drop_column('decline_reason')
