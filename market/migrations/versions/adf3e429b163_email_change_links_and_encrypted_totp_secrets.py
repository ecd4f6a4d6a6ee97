"""e-mail change links; authenticator secrets encrypted at rest (existing ones encrypted in place)

Revision ID: adf3e429b163
Revises: b7d2f4a91c3e
Create Date: 2026-12-03 09:00:00

"""
import base64

import sqlalchemy as sa
from alembic import op
from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

# revision identifiers, used by Alembic.
revision = 'adf3e429b163'
down_revision = 'b7d2f4a91c3e'
branch_labels = None
depends_on = None

# Frozen copy of market.accounts.secret_box's key choice as it was when this revision was written (the migration must
# not follow later changes of the code): the configured TOTP_ENCRYPTION_KEY list, then a key derived from SECRET_KEY.
DERIVATION_INFO = b"market: authenticator secrets at rest"


def _box() -> MultiFernet:
    config = current_app.config
    configured = [key.strip() for key in config.get("TOTP_ENCRYPTION_KEY", "").split(",") if key.strip()]
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=DERIVATION_INFO).derive(
        config["SECRET_KEY"].encode())
    return MultiFernet([*(Fernet(key) for key in configured), Fernet(base64.urlsafe_b64encode(raw))])


def _rewrite_secrets(source: str, target: str, convert) -> None:
    """Fill the target column of every second_factors row from its source column."""
    factors = sa.table('second_factors', sa.column('id', sa.Integer()), sa.column(source, sa.String()),
                       sa.column(target, sa.String()))
    connection = op.get_bind()
    rows = connection.execute(sa.select(factors.c.id, factors.c[source])).all()
    for row_id, value in rows:
        connection.execute(factors.update().where(factors.c.id == row_id).values({target: convert(value)}))


def upgrade():
    op.create_table('email_change_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('new_email', sa.String(length=254), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_email_change_links_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_email_change_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_email_change_links_token_hash'))
    )
    with op.batch_alter_table('email_change_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_email_change_links_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('second_factors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('encrypted_secret', sa.String(length=255), nullable=True))
    box = _box()
    _rewrite_secrets('secret', 'encrypted_secret', lambda secret: box.encrypt(secret.encode()).decode())
    with op.batch_alter_table('second_factors', schema=None) as batch_op:
        batch_op.alter_column('encrypted_secret', existing_type=sa.String(length=255), nullable=False)
        batch_op.drop_column('secret')


def downgrade():
    with op.batch_alter_table('second_factors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('secret', sa.String(length=64), nullable=True))
    box = _box()
    _rewrite_secrets('encrypted_secret', 'secret', lambda sealed: box.decrypt(sealed.encode()).decode())
    with op.batch_alter_table('second_factors', schema=None) as batch_op:
        batch_op.alter_column('secret', existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_column('encrypted_secret')

    with op.batch_alter_table('email_change_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_email_change_links_user_id'))

    op.drop_table('email_change_links')
