"""Two-factor services: enrolment with a confirming code, one-time codes and recovery codes, the award gate, admin
resets and recent authentication."""
import logging
import time
from datetime import timedelta
from functools import partial

import pyotp
import pytest
from sqlalchemy import func, select

from market.accounts import services, twofactor
from market.accounts.models import RecoveryCode, SecondFactor, SecondFactorReset, UserSession
from market.accounts.twofactor import SecondFactorRequiredError
from market.awards.services import approve_award, pay_award
from market.errors import PermissionDeniedError, ValidationError
from market.extensions import db
from market.timeutil import today_in_china, utcnow


def count(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def enrol(user) -> list[str]:
    """Enrol a user with a code from the pending secret; returns the recovery codes."""
    factor = twofactor.start_enrolment(db.session, user)
    return twofactor.confirm_enrolment(db.session, user, pyotp.TOTP(factor.secret).now())


def test_enrolment_is_confirmed_by_a_code_and_hands_out_ten_single_use_codes_stored_hashed(app, make_user):
    broker = make_user("broker")
    factor = twofactor.start_enrolment(db.session, broker)
    assert not broker.has_second_factor
    assert twofactor.start_enrolment(db.session, broker).secret == factor.secret
    codes = twofactor.confirm_enrolment(db.session, broker, pyotp.TOTP(factor.secret).now())
    assert broker.has_second_factor
    assert len(codes) == len(set(codes)) == 10
    stored = set(db.session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == broker.id)))
    assert stored == {services.token_digest(code.replace("-", "")) for code in codes}
    assert not any(code in str(stored) for code in codes)


def test_a_wrong_code_does_not_confirm_enrolment(app, make_user):
    broker = make_user("broker")
    factor = twofactor.start_enrolment(db.session, broker)
    wrong = "000000" if pyotp.TOTP(factor.secret).now() != "000000" else "111111"
    with pytest.raises(ValidationError) as refused:
        twofactor.confirm_enrolment(db.session, broker, wrong)
    assert refused.value.fields == {"code": "验证码不正确。"}
    assert not broker.has_second_factor and count(RecoveryCode) == 0


@pytest.mark.parametrize("role", ["researcher", "enterprise"])
def test_only_admins_and_brokers_may_enrol(app, make_user, role):
    with pytest.raises(PermissionDeniedError):
        twofactor.start_enrolment(db.session, make_user(role))
    assert count(SecondFactor) == 0


def test_a_code_is_accepted_once_and_codes_from_far_off_windows_never(app, make_user):
    admin = make_user("admin", second_factor=False)
    enrol(admin)
    totp, now = pyotp.TOTP(admin.second_factor.secret), time.time()
    later = now + 60
    assert twofactor.verify_second_factor(db.session, admin, totp.at(later), now=later)
    assert not twofactor.verify_second_factor(db.session, admin, totp.at(later), now=later)
    assert not twofactor.verify_second_factor(db.session, admin, totp.at(later + 600), now=later + 30)
    assert not twofactor.verify_second_factor(db.session, admin, "12345", now=later + 30)


def test_a_recovery_code_works_once(app, make_user):
    broker = make_user("broker")
    codes = enrol(broker)
    assert twofactor.verify_second_factor(db.session, broker, codes[3].upper())
    assert not twofactor.verify_second_factor(db.session, broker, codes[3])
    assert twofactor.count_unused_recovery_codes(db.session, broker) == 9


def test_approving_and_paying_awards_need_a_second_factor(app, make_user):
    admin = make_user("admin", second_factor=False)
    payout = partial(pay_award, voucher_reference="BOC-1", paid_on=today_in_china())
    for action in (approve_award, payout):
        with pytest.raises(SecondFactorRequiredError) as refused:
            action(db.session, admin, 999_999)
        assert refused.value.message.startswith("审批和发放奖补需要先启用两步验证")


@pytest.mark.parametrize("app", [{"DEMO_MODE": True}], indirect=True)
def test_demo_accounts_skip_the_second_factor_in_demo_mode(app, make_user):
    demo_admin = make_user("admin", second_factor=True, is_demo=True)
    assert not twofactor.needs_second_factor(demo_admin)
    bare_demo_admin = make_user("admin", second_factor=False, is_demo=True)
    with pytest.raises(Exception) as refused:
        approve_award(db.session, bare_demo_admin, 999_999)
    assert not isinstance(refused.value, SecondFactorRequiredError)
    assert twofactor.needs_second_factor(make_user("admin"))


def test_demo_accounts_need_the_second_factor_outside_demo_mode(app, make_user):
    assert twofactor.needs_second_factor(make_user("admin", is_demo=True))


def test_an_admin_resets_another_users_factor_with_a_record_and_an_audit_line(app, make_user, caplog):
    admin, broker = make_user("admin"), make_user("broker")
    enrol(broker)
    with caplog.at_level(logging.INFO, logger="market.audit"):
        twofactor.reset_second_factor(db.session, admin, broker.id)
    assert not broker.has_second_factor
    assert count(RecoveryCode, RecoveryCode.user_id == broker.id) == 0
    record = db.session.scalar(select(SecondFactorReset))
    assert (record.user_id, record.admin_id) == (broker.id, admin.id)
    assert f"second factor reset user_id={broker.id} by admin_id={admin.id}" in caplog.text


def test_nobody_resets_their_own_second_factor_and_only_admins_reset_others(app, make_user):
    admin, other_admin, broker = make_user("admin"), make_user("admin"), make_user("broker", second_factor=True)
    with pytest.raises(PermissionDeniedError) as refused:
        twofactor.reset_second_factor(db.session, admin, admin.id)
    assert refused.value.message == "不能重置自己的两步验证，请由另一位管理员操作。"
    with pytest.raises(PermissionDeniedError):
        twofactor.reset_second_factor(db.session, broker, other_admin.id)
    assert admin.has_second_factor and other_admin.has_second_factor and count(SecondFactorReset) == 0


def test_a_login_is_recent_for_ten_minutes_and_a_reauthentication_renews_it(app, make_user):
    user = make_user("admin")
    token = services.start_session(db.session, user)
    assert twofactor.is_recent_login(db.session, token)
    row = db.session.scalar(select(UserSession))
    row.authenticated_at = utcnow() - timedelta(minutes=11)
    db.session.commit()
    assert not twofactor.is_recent_login(db.session, token)
    twofactor.confirm_recent_login(db.session, user, token)
    assert twofactor.is_recent_login(db.session, token)
    assert not twofactor.is_recent_login(db.session, None)
    with pytest.raises(PermissionDeniedError):
        twofactor.confirm_recent_login(db.session, make_user("admin"), token)
