"""technology-contract registrations are verified by an admin (kept as history); held awards say why they wait

Revision ID: b8e4d2f6a913
Revises: b8e4f21c7a90
Create Date: 2026-12-02 20:45:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b8e4d2f6a913'
down_revision = 'b8e4f21c7a90'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'deal_registrations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('deal_id', sa.Integer(), nullable=False),
        sa.Column('registration_number', sa.String(length=60), nullable=False),
        sa.Column('registered_on', sa.Date(), nullable=False),
        sa.Column('certificate_stored_name', sa.String(length=80), nullable=True),
        sa.Column('certificate_original_name', sa.String(length=255), nullable=False, server_default=''),
        sa.Column('certificate_size_bytes', sa.Integer(), nullable=True),
        sa.Column('recorded_by_id', sa.Integer(), nullable=True),
        sa.Column('recorded_as', sa.String(length=20), nullable=True),
        sa.Column('recorded_at', sa.DateTime(), nullable=False),
        sa.Column('status', sa.String(length=30), nullable=False),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.Column('refusal_reason', sa.Text(), nullable=False, server_default=''),
        sa.CheckConstraint("status IN ('awaiting_verification', 'verified', 'refused')",
                           name=op.f('ck_deal_registrations_status_known')),
        sa.CheckConstraint("status <> 'refused' OR refusal_reason <> ''",
                           name=op.f('ck_deal_registrations_refusal_has_reason')),
        sa.ForeignKeyConstraint(['deal_id'], ['deals.id'], name=op.f('fk_deal_registrations_deal_id_deals')),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_deal_registrations_recorded_by_id_users')),
        sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_deal_registrations_decided_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_deal_registrations')),
        sa.UniqueConstraint('certificate_stored_name', name=op.f('uq_deal_registrations_certificate_stored_name')),
    )
    op.create_index(op.f('ix_deal_registrations_deal_id'), 'deal_registrations', ['deal_id'], unique=False)
    op.create_index('ix_deal_registrations_status', 'deal_registrations', ['status', 'recorded_at'], unique=False)
    # Registrations recorded before verification existed wait for an admin, without a recorder's role or certificate.
    op.execute("INSERT INTO deal_registrations (deal_id, registration_number, registered_on, certificate_original_name, "
               "recorded_at, status, refusal_reason) "
               "SELECT id, registration_number, registered_on, '', CURRENT_TIMESTAMP, 'awaiting_verification', '' "
               "FROM deals WHERE registration_number IS NOT NULL AND registered_on IS NOT NULL")
    with op.batch_alter_table('awards', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hold_reason', sa.String(length=30), nullable=True))
    op.execute("UPDATE awards SET hold_reason = 'draft_rule' WHERE status = 'held'")


def downgrade():
    with op.batch_alter_table('awards', schema=None) as batch_op:
        batch_op.drop_column('hold_reason')
    op.drop_index('ix_deal_registrations_status', table_name='deal_registrations')
    op.drop_index(op.f('ix_deal_registrations_deal_id'), table_name='deal_registrations')
    op.drop_table('deal_registrations')
