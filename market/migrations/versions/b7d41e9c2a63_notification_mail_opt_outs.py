"""notification mails a user turned off, per category (no row: the mail is sent)

Revision ID: b7d41e9c2a63
Revises: b7e2c4d9a610
Create Date: 2026-12-02 21:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b7d41e9c2a63'
down_revision = 'b7e2c4d9a610'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'mail_opt_outs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('category', sa.String(length=20), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_mail_opt_outs_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_opt_outs')),
        sa.UniqueConstraint('user_id', 'category', name='one_opt_out_per_category'),
    )
    op.create_index(op.f('ix_mail_opt_outs_user_id'), 'mail_opt_outs', ['user_id'])


def downgrade():
    op.drop_index(op.f('ix_mail_opt_outs_user_id'), table_name='mail_opt_outs')
    op.drop_table('mail_opt_outs')
