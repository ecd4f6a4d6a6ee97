"""The enrolled user's two-step page: new recovery codes shown once, turning the authenticator off with a warning about
awards, both behind a recent login and a current code, and rate limited."""
import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import func, select, update

from market.accounts.models import OutboxMail, RecoveryCode, SecondFactor, User, UserSession
from market.extensions import db
from market.timeutil import utcnow
from tests.conftest import PASSWORD

CODE = re.compile(r'<code class="user-select-all">([a-z2-9]{5}-[a-z2-9]{5})</code>')


def count(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def unused_code(user: User) -> str:
    """A code of the current step after forgetting which steps were used (the login just used this one)."""
    db.session.execute(update(SecondFactor).where(SecondFactor.user_id == user.id).values(last_used_step=0))
    db.session.commit()
    return pyotp.TOTP(db.session.get(User, user.id).second_factor.secret).now()


def age_login(user, minutes: int) -> None:
    db.session.execute(update(UserSession).where(UserSession.user_id == user.id)
                       .values(authenticated_at=utcnow() - timedelta(minutes=minutes)))
    db.session.commit()


def test_the_page_offers_both_actions_and_warns_an_admin_about_awards(client, login_as):
    login_as("admin")
    html = client.get("/profile/two-factor").get_data(as_text=True)
    assert 'action="/profile/two-factor/recovery-codes"' in html and 'action="/profile/two-factor/off"' in html
    assert "您将不能审批或发放奖补，直到重新启用；" in html and 'name="off-understood"' in html


def test_a_broker_is_not_told_about_awards_they_never_approve(client, login_as):
    login_as("broker", second_factor=True)
    html = client.get("/profile/two-factor").get_data(as_text=True)
    assert "关闭两步验证" in html and "您将不能审批或发放奖补" not in html


def test_new_recovery_codes_are_shown_once_and_the_old_ones_stop_working(client, login_as):
    broker = login_as("broker", second_factor=True)
    old_hashes = set(db.session.scalars(select(RecoveryCode.code_hash)))
    response = client.post("/profile/two-factor/recovery-codes", data={"renew-code": unused_code(broker)})
    html = response.get_data(as_text=True)
    codes = CODE.findall(html)
    assert response.status_code == 200 and len(set(codes)) == 10 and "已生成新的恢复码，原有的恢复码已失效。" in html
    assert count(RecoveryCode, RecoveryCode.user_id == broker.id) == 10
    assert not old_hashes & set(db.session.scalars(select(RecoveryCode.code_hash)))
    again = client.get("/profile/two-factor").get_data(as_text=True)
    assert not any(code in again for code in codes) and "剩余恢复码：10 个" in again


def test_a_spent_code_is_refused_next_to_the_field(client, login_as):
    broker = login_as("broker", second_factor=True)
    code = unused_code(broker)
    assert client.post("/profile/two-factor/recovery-codes", data={"renew-code": code}).status_code == 200
    refused = client.post("/profile/two-factor/recovery-codes", data={"renew-code": code})
    assert refused.status_code == 422 and "验证码不正确或已用过。" in refused.get_data(as_text=True)
    assert not CODE.findall(refused.get_data(as_text=True))


def test_turning_off_needs_the_acknowledgement_and_a_code(client, login_as):
    admin = login_as("admin")
    unticked = client.post("/profile/two-factor/off", data={"off-code": unused_code(admin)})
    assert unticked.status_code == 422 and "请确认您已了解关闭两步验证的后果。" in unticked.get_data(as_text=True)
    wrong = client.post("/profile/two-factor/off", data={"off-code": "12345x", "off-understood": "y"})
    assert wrong.status_code == 422 and count(SecondFactor) == 1
    done = client.post("/profile/two-factor/off", data={"off-code": unused_code(admin), "off-understood": "y"})
    assert (done.status_code, done.headers["Location"]) == (302, "/profile")
    assert count(SecondFactor) == 0 and count(RecoveryCode) == 0
    assert db.session.scalar(select(OutboxMail.subject).where(OutboxMail.recipient == admin.email)) == "两步验证已关闭"
    assert "两步验证已关闭，登录时只需要密码。" in client.get("/profile").get_data(as_text=True)
    client.post("/logout")
    assert client.post("/login", data={"email": admin.email, "password": PASSWORD}).headers["Location"] == "/workspace"


@pytest.mark.parametrize(("path", "data"), [
    ("/profile/two-factor/recovery-codes", {"renew-code": "000000"}),
    ("/profile/two-factor/off", {"off-code": "000000", "off-understood": "y"}),
])
def test_a_stale_login_is_sent_to_reauthenticate_and_back_to_the_two_step_page(client, login_as, path, data):
    broker = login_as("broker", second_factor=True)
    age_login(broker, 11)
    data = {key: unused_code(broker) if value == "000000" else value for key, value in data.items()}
    response = client.post(path, data=data)
    assert response.headers["Location"] == "/reauth?next=/profile/two-factor"
    assert count(SecondFactor) == 1 and db.session.get(User, broker.id).second_factor.last_used_step == 0


@pytest.mark.parametrize("role", ["researcher", "broker"])
def test_without_an_authenticator_there_is_nothing_to_replace_or_turn_off(client, login_as, role):
    login_as(role)
    assert client.post("/profile/two-factor/off", data={"off-code": "123456", "off-understood": "y"}).status_code == 403
    assert client.post("/profile/two-factor/recovery-codes", data={"renew-code": "123456"}).status_code == 403
    assert count(RecoveryCode) == 0


@pytest.mark.parametrize("app", [{"RATELIMIT_ENABLED": True, "TWO_FACTOR_RATE_LIMIT": "3 per minute"}], indirect=True)
def test_code_guesses_are_rate_limited(client, login_as):
    broker = login_as("broker", second_factor=True)
    for _attempt in range(3):
        assert client.post("/profile/two-factor/off", data={"off-code": "12345x", "off-understood": "y"}).status_code == 422
    response = client.post("/profile/two-factor/recovery-codes", data={"renew-code": unused_code(broker)})
    assert response.status_code == 429 and count(SecondFactor) == 1
