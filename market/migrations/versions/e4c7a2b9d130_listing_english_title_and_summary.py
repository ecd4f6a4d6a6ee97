"""listings may carry an English title and summary (optional), which search indexes

Revision ID: e4c7a2b9d130
Revises: c4e8a1f7b2d9
Create Date: 2026-12-03 09:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e4c7a2b9d130'
down_revision = 'c4e8a1f7b2d9'
branch_labels = None
depends_on = None

TABLES = ('achievements', 'demands')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('title_en', sa.String(length=200), nullable=True))
            batch_op.add_column(sa.Column('summary_en', sa.Text(), nullable=True))


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('summary_en')
            batch_op.drop_column('title_en')
