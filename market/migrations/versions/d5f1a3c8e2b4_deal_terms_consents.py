"""deal terms carry a version that the transferor, the transferee and each named intermediary accept before the notice

Revision ID: d5f1a3c8e2b4
Revises: e7b3c9a4d215
Create Date: 2026-12-02 18:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd5f1a3c8e2b4'
down_revision = 'e7b3c9a4d215'
branch_labels = None
depends_on = None

NOT_INTERMEDIARY = "role <> 'intermediary'"


def upgrade():
    with op.batch_alter_table('deals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('terms_version', sa.Integer(), nullable=False, server_default='1'))
        batch_op.create_check_constraint(op.f('ck_deals_terms_version_positive'), 'terms_version >= 1')
    op.create_table(
        'deal_terms_consents',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('deal_id', sa.Integer(), nullable=False),
        sa.Column('terms_version', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("role IN ('transferor', 'transferee', 'intermediary')",
                           name=op.f('ck_deal_terms_consents_role_known')),
        sa.CheckConstraint('terms_version >= 1', name=op.f('ck_deal_terms_consents_version_positive')),
        sa.ForeignKeyConstraint(['deal_id'], ['deals.id'], name=op.f('fk_deal_terms_consents_deal_id_deals')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_deal_terms_consents_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_deal_terms_consents')),
        sa.UniqueConstraint('deal_id', 'terms_version', 'role', 'user_id', name='one_acceptance_per_person'),
    )
    op.create_index(op.f('ix_deal_terms_consents_deal_id'), 'deal_terms_consents', ['deal_id'], unique=False)
    op.create_index('one_acceptance_per_party', 'deal_terms_consents', ['deal_id', 'terms_version', 'role'],
                    unique=True, sqlite_where=sa.text(NOT_INTERMEDIARY), postgresql_where=sa.text(NOT_INTERMEDIARY))


def downgrade():
    op.drop_index('one_acceptance_per_party', table_name='deal_terms_consents')
    op.drop_index(op.f('ix_deal_terms_consents_deal_id'), table_name='deal_terms_consents')
    op.drop_table('deal_terms_consents')
    with op.batch_alter_table('deals', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_deals_terms_version_positive'), type_='check')
        batch_op.drop_column('terms_version')
