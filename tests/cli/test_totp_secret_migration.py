"""The migration that encrypts authenticator secrets: existing plain secrets are encrypted in place (SQLite and
PostgreSQL), the enrolled user still logs in with a code, and a downgrade gives the plain secrets back."""
import pyotp
import pytest
from cryptography.fernet import Fernet
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from market.accounts.passwords import hash_password
from market.extensions import db
from tests.conftest import PASSWORD
from tests.scratch_database import scratch_database_app

BEFORE = "b7d2f4a91c3e"
ENCRYPTING = "adf3e429b163"
SCHEMA = "totp_migration_check"
SECRET = pyotp.random_base32()
KEY = Fernet.generate_key().decode()


@pytest.fixture
def old_database(tmp_path):
    """An app on a fresh database migrated up to the revision before encryption, holding one enrolled broker whose
    secret is stored in plain text."""
    with scratch_database_app(tmp_path, SCHEMA, SECRET_KEY="migration-secret", TOTP_ENCRYPTION_KEY=KEY,
                              PASSWORD_HASH_PROFILE="fast", WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False,
                              SESSION_COOKIE_SECURE=False) as app:
        with app.app_context():
            upgrade(revision=BEFORE)
            with db.engine.begin() as connection:
                connection.execute(text(
                    "INSERT INTO users (email, name, phone, password_hash, role, membership_status, locale, "
                    "is_active_account, is_demo, created_at) VALUES ('broker@example.org', '经理人', '', :hash, "
                    "'broker', 'approved', 'zh_CN', TRUE, FALSE, CURRENT_TIMESTAMP)"),
                    {"hash": hash_password(PASSWORD, "fast")})
                connection.execute(text(
                    "INSERT INTO second_factors (user_id, secret, created_at, confirmed_at, last_used_step) "
                    "SELECT id, :secret, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 0 FROM users"), {"secret": SECRET})
            db.engine.dispose()
        yield app


def _stored(column: str) -> str:
    with db.engine.connect() as connection:
        return connection.execute(text(f"SELECT {column} FROM second_factors")).scalar_one()


def test_upgrading_encrypts_the_stored_secret_and_the_code_step_still_passes(old_database):
    with old_database.app_context():
        upgrade(revision=ENCRYPTING)
        stored = _stored("encrypted_secret")
        assert SECRET not in stored
        assert Fernet(KEY).decrypt(stored.encode()).decode() == SECRET
        db.engine.dispose()
    client = old_database.test_client()
    assert client.post("/login", data={"email": "broker@example.org", "password": PASSWORD}).headers["Location"] \
        == "/login/code"
    answer = client.post("/login/code", data={"code": pyotp.TOTP(SECRET).now()})
    assert (answer.status_code, answer.headers["Location"]) == (302, "/workspace")


def test_downgrading_gives_the_plain_secret_back(old_database):
    with old_database.app_context():
        upgrade(revision=ENCRYPTING)
        downgrade(revision=BEFORE)
        assert _stored("secret") == SECRET
        db.engine.dispose()
