"""each listing keeps its length in the search table (the sum of its term weights), so relevance ranking reads the
lengths of the listings it ranks instead of adding up the whole table

Revision ID: a8d3f61c2e47
Revises: ec0e9bb4394f
Create Date: 2026-12-03 13:00:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a8d3f61c2e47'
down_revision = 'ec0e9bb4394f'
branch_labels = None
depends_on = None

TABLES = {"achievements": "achievement", "demands": "demand"}


def upgrade():
    for table, kind in TABLES.items():
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('search_length', sa.Integer(), nullable=False, server_default='0'))
        op.execute(f"UPDATE {table} SET search_length = COALESCE((SELECT SUM(weight) FROM search_terms "
                   f"WHERE search_terms.listing_kind = '{kind}' AND search_terms.listing_id = {table}.id), 0)")


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column('search_length')
