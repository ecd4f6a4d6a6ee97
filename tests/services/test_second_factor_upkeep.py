"""Keeping one's second factor: new recovery codes and turning it off (each for a current code), and authenticator
secrets encrypted at rest with the configured or the SECRET_KEY-derived key."""
import logging

import pyotp
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select, text

from market import create_app
from market.accounts import twofactor
from market.accounts.models import OutboxMail, RecoveryCode, SecondFactor
from market.accounts.secret_box import build_box, derived_key
from market.errors import ValidationError
from market.extensions import db


def count(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def enrol(user) -> list[str]:
    factor = twofactor.start_enrolment(db.session, user)
    return twofactor.confirm_enrolment(db.session, user, pyotp.TOTP(factor.secret).now())


def next_code(user) -> tuple[str, float]:
    """A code of the step after the last one used, and the time it is valid at."""
    at = (user.second_factor.last_used_step + 1) * twofactor.TOTP_STEP_SECONDS
    return pyotp.TOTP(user.second_factor.secret).at(at), at


def stored_secret(user) -> str:
    """The value in the database column, read with plain SQL."""
    return db.session.execute(text("SELECT encrypted_secret FROM second_factors WHERE user_id = :id"),
                              {"id": user.id}).scalar_one()


def test_new_recovery_codes_replace_the_old_ones_for_a_current_code(app, make_user, caplog):
    broker = make_user("broker")
    old = enrol(broker)
    code, at = next_code(broker)
    with caplog.at_level(logging.INFO, logger="market.audit"):
        new = twofactor.replace_recovery_codes(db.session, broker, code, now=at)
    assert len(set(new)) == 10 and not set(new) & set(old)
    assert count(RecoveryCode, RecoveryCode.user_id == broker.id) == 10
    assert not twofactor.verify_second_factor(db.session, broker, old[0])
    assert twofactor.verify_second_factor(db.session, broker, new[0])
    assert f"recovery codes replaced user_id={broker.id}" in caplog.text


def test_a_recovery_code_also_buys_new_recovery_codes(app, make_user):
    broker = make_user("broker")
    old = enrol(broker)
    new = twofactor.replace_recovery_codes(db.session, broker, old[4])
    assert twofactor.count_unused_recovery_codes(db.session, broker) == 10 and old[4] not in new


@pytest.mark.parametrize("action", [twofactor.replace_recovery_codes, twofactor.turn_off_second_factor])
def test_a_wrong_or_spent_code_changes_nothing(app, make_user, action):
    broker = make_user("broker")
    codes = enrol(broker)
    code, at = next_code(broker)
    assert twofactor.verify_second_factor(db.session, broker, code, now=at)
    hashes = set(db.session.scalars(select(RecoveryCode.code_hash)))
    for attempt in (code, "12345x", "abcde-fghjk"):
        with pytest.raises(ValidationError) as refused:
            action(db.session, broker, attempt, now=at)
        assert set(refused.value.fields) == {"code"}
    assert broker.has_second_factor and set(db.session.scalars(select(RecoveryCode.code_hash))) == hashes
    assert twofactor.count_unused_recovery_codes(db.session, broker) == len(codes)


def test_turning_off_removes_the_authenticator_and_codes_and_mails_the_owner(app, make_user, caplog):
    admin = make_user("admin", second_factor=False)
    enrol(admin)
    code, at = next_code(admin)
    with caplog.at_level(logging.INFO, logger="market.audit"):
        twofactor.turn_off_second_factor(db.session, admin, code, now=at)
    assert not admin.has_second_factor and count(SecondFactor) == 0 and count(RecoveryCode) == 0
    mail = db.session.scalar(select(OutboxMail))
    assert (mail.recipient, mail.subject) == (admin.email, "两步验证已关闭")
    assert f"second factor turned off by its owner user_id={admin.id}" in caplog.text
    assert twofactor.start_enrolment(db.session, admin).confirmed_at is None


def test_without_a_second_factor_there_is_nothing_to_replace_or_turn_off(app, make_user):
    broker = make_user("broker")
    for action in (twofactor.replace_recovery_codes, twofactor.turn_off_second_factor):
        with pytest.raises(ValidationError, match="未启用两步验证"):
            action(db.session, broker, "123456")


def test_the_stored_secret_is_encrypted_and_a_login_code_still_works(app, make_user):
    broker = make_user("broker")
    enrol(broker)
    secret, stored = broker.second_factor.secret, stored_secret(broker)
    assert len(secret) == 32 and secret not in stored and stored.startswith("gAAAAA")
    assert Fernet(derived_key(app.config["SECRET_KEY"])).decrypt(stored.encode()).decode() == secret
    code, at = next_code(broker)
    assert twofactor.verify_second_factor(db.session, broker, code, now=at)


def test_a_configured_key_encrypts_and_older_secrets_are_resealed_with_it_at_the_next_code(app, make_user):
    broker = make_user("broker")
    enrol(broker)
    secret = broker.second_factor.secret
    key = Fernet.generate_key()
    app.extensions["market.secret_box"] = build_box({"TOTP_ENCRYPTION_KEY": key.decode(),
                                                     "SECRET_KEY": app.config["SECRET_KEY"]})
    assert broker.second_factor.secret == secret
    code, at = next_code(broker)
    assert twofactor.verify_second_factor(db.session, broker, code, now=at)
    db.session.flush()
    assert Fernet(key).decrypt(stored_secret(broker).encode()).decode() == secret


def test_a_secret_no_key_opens_is_refused_without_an_error_and_logged(app, make_user, caplog):
    broker = make_user("broker")
    enrol(broker)
    code, at = next_code(broker)
    app.extensions["market.secret_box"] = build_box({"TOTP_ENCRYPTION_KEY": "", "SECRET_KEY": "another-secret-key"})
    with caplog.at_level(logging.ERROR):
        assert not twofactor.verify_second_factor(db.session, broker, code, now=at)
    assert "cannot be decrypted" in caplog.text


def test_an_unusable_key_stops_the_start_up_with_its_name():
    with pytest.raises(RuntimeError, match="TOTP_ENCRYPTION_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x", "TOTP_ENCRYPTION_KEY": "not-a-key"})


@pytest.mark.parametrize(("settings", "warned"), [
    ({}, True),
    ({"TOTP_ENCRYPTION_KEY": Fernet.generate_key().decode()}, False),
    ({"DEMO_MODE": True}, False),
    ({"TESTING": True}, False),
])
def test_production_without_a_key_starts_with_a_warning(caplog, settings, warned):
    with caplog.at_level(logging.WARNING, logger="market.accounts.secret_box"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x", "TOTP_ENCRYPTION_KEY": "",
                    "DEMO_MODE": False, **settings})
    assert ("TOTP_ENCRYPTION_KEY is not set" in caplog.text) == warned

