"""the audit log: who changed which money, confirmation, review and account fact, before and after

Revision ID: f3a9c2d17b50
Revises: a7c2e9d4f3b1
Create Date: 2026-12-02 20:50:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f3a9c2d17b50'
down_revision = 'a7c2e9d4f3b1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'audit_entries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('actor_display', sa.String(length=120), nullable=False),
        sa.Column('action', sa.String(length=60), nullable=False),
        sa.Column('object_type', sa.String(length=40), nullable=False),
        sa.Column('object_id', sa.Integer(), nullable=True),
        sa.Column('before', sa.JSON(), nullable=True),
        sa.Column('after', sa.JSON(), nullable=True),
        sa.Column('request_id', sa.String(length=40), nullable=False),
        sa.Column('ip_address', sa.String(length=45), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_entries_actor_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries')),
    )
    op.create_index(op.f('ix_audit_entries_at'), 'audit_entries', ['at'], unique=False)
    op.create_index(op.f('ix_audit_entries_actor_id'), 'audit_entries', ['actor_id'], unique=False)
    op.create_index(op.f('ix_audit_entries_action'), 'audit_entries', ['action'], unique=False)
    op.create_index(op.f('ix_audit_entries_request_id'), 'audit_entries', ['request_id'], unique=False)
    op.create_index('ix_audit_entries_object', 'audit_entries', ['object_type', 'object_id'], unique=False)


def downgrade():
    op.drop_index('ix_audit_entries_object', table_name='audit_entries')
    op.drop_index(op.f('ix_audit_entries_request_id'), table_name='audit_entries')
    op.drop_index(op.f('ix_audit_entries_action'), table_name='audit_entries')
    op.drop_index(op.f('ix_audit_entries_actor_id'), table_name='audit_entries')
    op.drop_index(op.f('ix_audit_entries_at'), table_name='audit_entries')
    op.drop_table('audit_entries')
