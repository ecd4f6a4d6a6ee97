"""saved searches and the listings their owners were told of

Revision ID: c4e8a1f7b2d9
Revises: b7e2c4a9d013
Create Date: 2026-12-03 09:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c4e8a1f7b2d9'
down_revision = 'b7e2c4a9d013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'saved_searches',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('q', sa.String(length=100), nullable=False),
        sa.Column('field', sa.String(length=120), nullable=False),
        sa.Column('valley', sa.String(length=20), nullable=False),
        sa.Column('stage', sa.String(length=20), nullable=False),
        sa.Column('mode', sa.String(length=30), nullable=False),
        sa.Column('region', sa.String(length=40), nullable=False),
        sa.Column('min_fen', sa.BigInteger(), nullable=True),
        sa.Column('max_fen', sa.BigInteger(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('achievement', 'demand')", name=op.f('ck_saved_searches_kind_known')),
        sa.CheckConstraint('min_fen IS NULL OR min_fen >= 0', name=op.f('ck_saved_searches_min_fen_range')),
        sa.CheckConstraint('max_fen IS NULL OR max_fen >= 0', name=op.f('ck_saved_searches_max_fen_range')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_saved_searches_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_searches')),
    )
    op.create_index(op.f('ix_saved_searches_user_id'), 'saved_searches', ['user_id'])
    op.create_table(
        'saved_search_notices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('listing_kind', sa.String(length=20), nullable=False),
        sa.Column('listing_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_saved_search_notices_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_search_notices')),
        sa.UniqueConstraint('user_id', 'listing_kind', 'listing_id', name='one_notice_per_listing'),
    )


def downgrade():
    op.drop_table('saved_search_notices')
    op.drop_index(op.f('ix_saved_searches_user_id'), table_name='saved_searches')
    op.drop_table('saved_searches')
