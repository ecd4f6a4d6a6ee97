"""payments are recorded by one side and confirmed by the other (existing ones stay unconfirmed for admins to verify)

Revision ID: 58179dbcfa45
Revises: adf3e429b163
Create Date: 2026-12-02 17:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '58179dbcfa45'
down_revision = 'adf3e429b163'
branch_labels = None
depends_on = None

TABLES = ('deal_payments', 'preorder_payments')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('status', sa.String(length=20), nullable=False, server_default='recorded'))
            batch.add_column(sa.Column('recorded_as', sa.String(length=20), nullable=True))
            batch.add_column(sa.Column('decided_at', sa.DateTime(), nullable=True))
            batch.add_column(sa.Column('decided_by_id', sa.Integer(), nullable=True))
            batch.add_column(sa.Column('dispute_reason', sa.Text(), nullable=False, server_default=''))
            batch.add_column(sa.Column('decision_note', sa.Text(), nullable=False, server_default=''))
            batch.create_foreign_key(f'fk_{table}_decided_by_id_users', 'users', ['decided_by_id'], ['id'])


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f'fk_{table}_decided_by_id_users', type_='foreignkey')
            for column in ('decision_note', 'dispute_reason', 'decided_by_id', 'decided_at', 'recorded_as', 'status'):
                batch.drop_column(column)
