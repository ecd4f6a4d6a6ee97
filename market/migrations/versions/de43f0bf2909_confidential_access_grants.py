"""an owner opens a listing's confidential part to counterparties (grants, revocable unless a completed deal made them
lasting), and each grantee's person accepts the confidentiality statement (version, when) before the first look

Revision ID: de43f0bf2909
Revises: b7d41e9c2a63
Create Date: 2026-12-02 20:38:44.157855

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'de43f0bf2909'
down_revision = 'b7d41e9c2a63'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('confidential_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('listing_kind', sa.String(length=20), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('deal_id', sa.Integer(), nullable=True),
    sa.Column('irrevocable', sa.Boolean(), nullable=False),
    sa.Column('granted_by_id', sa.Integer(), nullable=True),
    sa.Column('granted_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('(organisation_id IS NULL) <> (user_id IS NULL)', name=op.f('ck_confidential_grants_one_grantee')),
    sa.ForeignKeyConstraint(['deal_id'], ['deals.id'], name=op.f('fk_confidential_grants_deal_id_deals')),
    sa.ForeignKeyConstraint(['granted_by_id'], ['users.id'], name=op.f('fk_confidential_grants_granted_by_id_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_confidential_grants_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['users.id'], name=op.f('fk_confidential_grants_revoked_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_confidential_grants_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_confidential_grants'))
    )
    with op.batch_alter_table('confidential_grants', schema=None) as batch_op:
        batch_op.create_index('ix_confidential_grants_listing', ['listing_kind', 'listing_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_confidential_grants_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_confidential_grants_user_id'), ['user_id'], unique=False)

    op.create_table('confidentiality_acknowledgements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grant_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('statement_version', sa.String(length=20), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['grant_id'], ['confidential_grants.id'], name=op.f('fk_confidentiality_acknowledgements_grant_id_confidential_grants')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_confidentiality_acknowledgements_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_confidentiality_acknowledgements')),
    sa.UniqueConstraint('grant_id', 'user_id', 'statement_version', name='one_per_statement')
    )
    with op.batch_alter_table('confidentiality_acknowledgements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_confidentiality_acknowledgements_grant_id'), ['grant_id'], unique=False)



def downgrade():
    with op.batch_alter_table('confidentiality_acknowledgements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_confidentiality_acknowledgements_grant_id'))

    op.drop_table('confidentiality_acknowledgements')
    with op.batch_alter_table('confidential_grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_confidential_grants_user_id'))
        batch_op.drop_index(batch_op.f('ix_confidential_grants_organisation_id'))
        batch_op.drop_index('ix_confidential_grants_listing')

    op.drop_table('confidential_grants')
