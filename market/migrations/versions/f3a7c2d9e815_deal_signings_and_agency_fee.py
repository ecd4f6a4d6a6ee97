"""signing is a fact the transferee confirms (deal_signings), and the agency's service fee is a deal term

Revision ID: f3a7c2d9e815
Revises: de43f0bf2909
Create Date: 2026-12-02 21:00:00

Deals already signed or beyond keep their signing date and stage; no signing rows are made for them.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f3a7c2d9e815'
down_revision = 'de43f0bf2909'
branch_labels = None
depends_on = None

OPEN_SIGNING = "status IN ('recorded', 'disputed')"
MONEY_RANGE = "BETWEEN 0 AND 1000000000000000"
FEE_CHECKS = {
    'fee_rate_range': "fee_rate_bp IS NULL OR fee_rate_bp BETWEEN 1 AND 10000",
    'fee_fixed_range': f"fee_fixed_fen IS NULL OR (fee_fixed_fen > 0 AND fee_fixed_fen {MONEY_RANGE})",
    'fee_one_kind': "fee_rate_bp IS NULL OR fee_fixed_fen IS NULL",
    'fee_payer_known': "fee_payer IS NULL OR fee_payer IN ('transferor', 'transferee')",
    'fee_payer_named': "(fee_rate_bp IS NULL AND fee_fixed_fen IS NULL) = (fee_payer IS NULL)",
    'fee_paid_range': f"fee_paid_fen IS NULL OR (fee_paid_fen > 0 AND fee_paid_fen {MONEY_RANGE})",
    'fee_paid_dated': "(fee_paid_fen IS NULL) = (fee_paid_on IS NULL)",
}


def upgrade():
    op.create_table(
        'deal_signings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('deal_id', sa.Integer(), nullable=False),
        sa.Column('signed_on', sa.Date(), nullable=False),
        sa.Column('agreed_amount_fen', sa.BigInteger(), nullable=False),
        sa.Column('recorded_by_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('status', sa.String(length=20), server_default='recorded', nullable=False),
        sa.Column('recorded_as', sa.String(length=20), nullable=True),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('dispute_reason', sa.Text(), server_default='', nullable=False),
        sa.Column('decision_note', sa.Text(), server_default='', nullable=False),
        sa.Column('last_reminded_at', sa.DateTime(), nullable=True),
        sa.CheckConstraint(f'agreed_amount_fen > 0 AND agreed_amount_fen {MONEY_RANGE}',
                           name=op.f('ck_deal_signings_amount_range')),
        sa.ForeignKeyConstraint(['deal_id'], ['deals.id'], name=op.f('fk_deal_signings_deal_id_deals')),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_deal_signings_recorded_by_id_users')),
        sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_deal_signings_decided_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_deal_signings')),
    )
    op.create_index('ix_deal_signings_deal', 'deal_signings', ['deal_id'], unique=False)
    op.create_index('one_open_signing_per_deal', 'deal_signings', ['deal_id'], unique=True,
                    sqlite_where=sa.text(OPEN_SIGNING), postgresql_where=sa.text(OPEN_SIGNING))
    with op.batch_alter_table('deals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fee_rate_bp', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('fee_fixed_fen', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('fee_payer', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('fee_paid_fen', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('fee_paid_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('fee_paid_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f('fk_deals_fee_paid_by_id_users'), 'users', ['fee_paid_by_id'], ['id'])
        for name, condition in FEE_CHECKS.items():
            batch_op.create_check_constraint(op.f(f'ck_deals_{name}'), condition)


def downgrade():
    with op.batch_alter_table('deals', schema=None) as batch_op:
        for name in FEE_CHECKS:
            batch_op.drop_constraint(op.f(f'ck_deals_{name}'), type_='check')
        batch_op.drop_constraint(op.f('fk_deals_fee_paid_by_id_users'), type_='foreignkey')
        for column in ('fee_paid_by_id', 'fee_paid_on', 'fee_paid_fen', 'fee_payer', 'fee_fixed_fen', 'fee_rate_bp'):
            batch_op.drop_column(column)
    op.drop_index('one_open_signing_per_deal', table_name='deal_signings')
    op.drop_index('ix_deal_signings_deal', table_name='deal_signings')
    op.drop_table('deal_signings')
