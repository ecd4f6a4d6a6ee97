"""payments carry their evidence PDF (bank receipt or invoice); reminders of pending confirmations are dated

Revision ID: e7b3c9a4d215
Revises: d5f1a2b3c4e6
Create Date: 2026-12-02 18:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e7b3c9a4d215'
down_revision = 'd5f1a2b3c4e6'
branch_labels = None
depends_on = None

TABLES = ('deal_payments', 'preorder_payments')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('evidence_stored_name', sa.String(length=80), nullable=True))
            batch.add_column(sa.Column('evidence_original_name', sa.String(length=255), nullable=True))
            batch.add_column(sa.Column('evidence_uploaded_at', sa.DateTime(), nullable=True))
            batch.add_column(sa.Column('evidence_uploaded_by_id', sa.Integer(), nullable=True))
            batch.add_column(sa.Column('last_reminded_at', sa.DateTime(), nullable=True))
            batch.create_foreign_key(f'fk_{table}_evidence_uploaded_by_id_users', 'users', ['evidence_uploaded_by_id'],
                                     ['id'])


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f'fk_{table}_evidence_uploaded_by_id_users', type_='foreignkey')
            for column in ('last_reminded_at', 'evidence_uploaded_by_id', 'evidence_uploaded_at',
                           'evidence_original_name', 'evidence_stored_name'):
                batch.drop_column(column)
