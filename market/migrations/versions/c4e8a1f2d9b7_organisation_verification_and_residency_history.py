"""organisation verification (credit code, business licence, admin decision) and valley residency as history

Revision ID: c4e8a1f2d9b7
Revises: 58179dbcfa45
Create Date: 2026-12-20 10:00:00

Existing organisations start unverified; each current residency (a valley and an entry day) becomes the first row of
its organisation's history.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c4e8a1f2d9b7'
down_revision = '58179dbcfa45'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('verification_status', sa.String(length=20), server_default='unverified',
                                      nullable=False))
        batch_op.add_column(sa.Column('credit_code', sa.String(length=18), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_organisations_credit_code'), ['credit_code'])
        batch_op.create_check_constraint(
            batch_op.f('ck_organisations_verification_status_known'), "verification_status IN ('unverified', 'submitted', 'verified', 'refused')")

    op.create_table('organisation_verifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('credit_code', sa.String(length=18), nullable=False),
    sa.Column('licence_stored_name', sa.String(length=80), nullable=False),
    sa.Column('licence_original_name', sa.String(length=255), nullable=False),
    sa.Column('licence_size_bytes', sa.Integer(), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('refusal_reason', sa.Text(), nullable=False),
    sa.CheckConstraint("status IN ('submitted', 'verified', 'refused')",
                       name=op.f('ck_organisation_verifications_status_known')),
    sa.CheckConstraint("status <> 'refused' OR refusal_reason <> ''",
                       name=op.f('ck_organisation_verifications_refusal_has_reason')),
    sa.CheckConstraint('licence_size_bytes > 0', name=op.f('ck_organisation_verifications_licence_size_positive')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'],
                            name=op.f('fk_organisation_verifications_decided_by_id_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'],
                            name=op.f('fk_organisation_verifications_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'],
                            name=op.f('fk_organisation_verifications_submitted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation_verifications')),
    sa.UniqueConstraint('licence_stored_name', name=op.f('uq_organisation_verifications_licence_stored_name'))
    )
    with op.batch_alter_table('organisation_verifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_verifications_organisation_id'), ['organisation_id'],
                              unique=False)
        batch_op.create_index('ix_organisation_verifications_status', ['status', 'submitted_at'], unique=False)

    op.create_table('residencies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('valley_id', sa.String(length=20), nullable=False),
    sa.Column('since', sa.Date(), nullable=False),
    sa.Column('until', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('evidence_stored_name', sa.String(length=80), nullable=True),
    sa.Column('evidence_original_name', sa.String(length=255), nullable=False),
    sa.Column('evidence_size_bytes', sa.Integer(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('ended_by_id', sa.Integer(), nullable=True),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('until IS NULL OR until >= since', name=op.f('ck_residencies_until_not_before_since')),
    sa.CheckConstraint('(evidence_stored_name IS NULL) = (evidence_size_bytes IS NULL)',
                       name=op.f('ck_residencies_evidence_complete')),
    sa.ForeignKeyConstraint(['ended_by_id'], ['users.id'], name=op.f('fk_residencies_ended_by_id_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'],
                            name=op.f('fk_residencies_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_residencies_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['valley_id'], ['valleys.id'], name=op.f('fk_residencies_valley_id_valleys')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_residencies')),
    sa.UniqueConstraint('evidence_stored_name', name=op.f('uq_residencies_evidence_stored_name'))
    )
    with op.batch_alter_table('residencies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_residencies_organisation_id'), ['organisation_id'], unique=False)

    op.execute(sa.text(
        "INSERT INTO residencies (organisation_id, valley_id, since, note, evidence_original_name, recorded_at) "
        "SELECT id, valley_id, resident_since, '迁移前已登记的入驻信息', '', CURRENT_TIMESTAMP FROM organisations "
        "WHERE valley_id IS NOT NULL AND resident_since IS NOT NULL ORDER BY id"))


def downgrade():
    with op.batch_alter_table('residencies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_residencies_organisation_id'))
    op.drop_table('residencies')
    with op.batch_alter_table('organisation_verifications', schema=None) as batch_op:
        batch_op.drop_index('ix_organisation_verifications_status')
        batch_op.drop_index(batch_op.f('ix_organisation_verifications_organisation_id'))
    op.drop_table('organisation_verifications')
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_organisations_verification_status_known'), type_='check')
        batch_op.drop_constraint(batch_op.f('uq_organisations_credit_code'), type_='unique')
        batch_op.drop_column('credit_code')
        batch_op.drop_column('verification_status')
