"""Two-factor pages: enrolment with an inline QR code, the code step of login, recovery codes, the award gate on the
approve and pay pages, recent authentication for payouts and password changes, and the admin's reset."""
import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import func, select, update

from market.accounts.models import RecoveryCode, SecondFactor, SecondFactorReset, User, UserSession
from market.awards.models import AwardStatus
from market.extensions import db
from market.timeutil import today_in_china, utcnow
from tests.conftest import PASSWORD
from tests.views.test_money_views import by_rule, deal_awards, status_of  # noqa: F401  (deal_awards is a fixture)


def count(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def fresh_code(user: User) -> str:
    """A code from the user's authenticator for a step not used yet."""
    db.session.execute(update(SecondFactor).where(SecondFactor.user_id == user.id).values(last_used_step=0))
    db.session.commit()
    return pyotp.TOTP(user.second_factor.secret).now()


def messages(response) -> list[str]:
    return re.findall(r'class="alert alert-danger" role="alert"><div>([^<]*)</div>', response.get_data(as_text=True))


def test_a_broker_enrols_by_scanning_an_inline_qr_code_and_confirming_a_code(client, login_as):
    broker = login_as("broker")
    page = client.get("/profile/two-factor")
    html = page.get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', html).group(1)
    assert page.status_code == 200
    assert re.search(r'<figure[^>]*id="totp-qr">\s*<svg ', html)
    assert "<script" not in html.split("<main", 1)[-1].split("</main>")[0] and "<img" not in html
    assert client.get("/profile/two-factor").get_data(as_text=True).count(secret) == 1
    wrong = client.post("/profile/two-factor", data={"code": "12345x"})
    assert wrong.status_code == 422 and "验证码不正确。" in wrong.get_data(as_text=True)
    done = client.post("/profile/two-factor", data={"code": pyotp.TOTP(secret).now()})
    codes = re.findall(r'<code class="user-select-all">([a-z2-9]{5}-[a-z2-9]{5})</code>', done.get_data(as_text=True))
    assert done.status_code == 200 and len(set(codes)) == 10
    db.session.expire_all()
    assert db.session.get(User, broker.id).has_second_factor
    assert count(RecoveryCode, RecoveryCode.user_id == broker.id) == 10
    again = client.get("/profile/two-factor").get_data(as_text=True)
    assert "剩余恢复码：10 个" in again and codes[0] not in again and secret not in again


def test_researchers_cannot_open_the_enrolment_page(client, login_as):
    login_as("researcher")
    assert client.get("/profile/two-factor").status_code == 403
    assert count(SecondFactor) == 0


def test_login_asks_an_enrolled_user_for_the_code_after_the_password(client, make_user):
    broker = make_user("broker", second_factor=True)
    first = client.post("/login", data={"email": broker.email, "password": PASSWORD, "next": "/profile"})
    assert (first.status_code, first.headers["Location"]) == (302, "/login/code")
    assert count(UserSession) == 0
    assert client.get("/profile").status_code == 302
    wrong = client.post("/login/code", data={"code": "000000" if fresh_code(broker) != "000000" else "111111"})
    assert wrong.status_code == 422 and messages(wrong) == ["验证码不正确。"]
    assert count(UserSession) == 0
    right = client.post("/login/code", data={"code": fresh_code(broker)})
    assert (right.status_code, right.headers["Location"]) == (302, "/profile")
    assert count(UserSession, UserSession.user_id == broker.id) == 1
    assert client.get("/profile").status_code == 200


def test_a_wrong_password_never_reaches_the_code_step(client, make_user):
    broker = make_user("broker", second_factor=True)
    response = client.post("/login", data={"email": broker.email, "password": "wrong-password-1"})
    assert response.status_code == 200
    assert client.get("/login/code").headers["Location"] == "/login"


def test_a_recovery_code_logs_in_once(app, client, make_user):
    from market.accounts import twofactor

    broker = make_user("broker")
    factor = twofactor.start_enrolment(db.session, broker)
    codes = twofactor.confirm_enrolment(db.session, broker, pyotp.TOTP(factor.secret).now())
    for attempt, expected in ((client, 302), (app.test_client(), 422)):
        attempt.post("/login", data={"email": broker.email, "password": PASSWORD})
        assert attempt.post("/login/code", data={"code": codes[0]}).status_code == expected
    assert count(RecoveryCode, RecoveryCode.used_at.is_not(None)) == 1


def test_the_code_step_expires_after_five_minutes(client, make_user, monkeypatch):
    broker = make_user("broker", second_factor=True)
    client.post("/login", data={"email": broker.email, "password": PASSWORD})
    import market.accounts.twofactor_views as views

    monkeypatch.setattr(views, "PENDING_LOGIN_SECONDS", -1)
    response = client.post("/login/code", data={"code": fresh_code(broker)})
    assert response.headers["Location"] == "/login"
    assert count(UserSession) == 0


@pytest.mark.parametrize("app", [{"RATELIMIT_ENABLED": True, "TWO_FACTOR_RATE_LIMIT": "3 per minute"}], indirect=True)
def test_the_code_step_is_rate_limited(client, make_user):
    broker = make_user("broker", second_factor=True)
    client.post("/login", data={"email": broker.email, "password": PASSWORD})
    for _attempt in range(3):
        assert client.post("/login/code", data={"code": "999999x"}).status_code == 422
    response = client.post("/login/code", data={"code": fresh_code(broker)})
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    assert count(UserSession) == 0


@pytest.mark.parametrize("app", [{"DEMO_MODE": True}], indirect=True)
def test_demo_accounts_skip_the_code_step_in_demo_mode(client, make_user):
    demo_admin = make_user("admin", is_demo=True)
    response = client.post("/login", data={"email": demo_admin.email, "password": PASSWORD})
    assert (response.status_code, response.headers["Location"]) == (302, "/workspace")


@pytest.mark.parametrize("action", ["approve", "pay"])
def test_an_admin_without_a_second_factor_is_sent_to_enrol_instead_of_approving_or_paying(
        client, login, make_user, deal_awards, action):  # noqa: F811
    award = by_rule(deal_awards()["awards"], "R2")[0]
    login(make_user("admin", second_factor=False))
    response = client.post(f"/money/awards/{award.id}/{action}", data={"next": "/money/awards"})
    assert (response.status_code, response.headers["Location"]) == (302, "/profile/two-factor")
    page = client.get("/profile/two-factor").get_data(as_text=True)
    assert "审批和发放奖补需要先启用两步验证（身份验证器），请在个人资料中设置后再操作。" in page
    assert status_of(award.id) == AwardStatus.PAYABLE


def _bearer(user, key: str | None = None) -> dict:
    from market.accounts import services

    headers = {"Authorization": f"Bearer {services.create_api_token(db.session, user, '奖补脚本')}"}
    return {**headers, "Idempotency-Key": key} if key else headers


def test_the_api_refuses_approval_and_payout_by_an_admin_without_a_second_factor(client, make_user, deal_awards):  # noqa: F811
    award = by_rule(deal_awards()["awards"], "R2")[0]
    headers = _bearer(make_user("admin", second_factor=False), key="payout-1")
    for action, body in (("approve", None), ("pay", {"voucher_reference": "BOC-1", "paid_on": "2025-05-01"})):
        response = client.post(f"/api/v1/awards/{award.id}/{action}", headers=headers, json=body)
        assert response.status_code == 403, action
        body = response.get_json()
        assert body["error"] == "second_factor_required"
        assert body["message"] == "审批和发放奖补需要先启用两步验证（身份验证器），请在个人资料中设置后再操作。"
    assert status_of(award.id) == AwardStatus.PAYABLE


def test_the_api_lets_an_admin_with_a_second_factor_approve_and_pay_once(client, make_user, deal_awards):  # noqa: F811
    award = by_rule(deal_awards()["awards"], "R2")[0]
    admin = make_user("admin")
    approved = client.post(f"/api/v1/awards/{award.id}/approve", headers=_bearer(admin))
    assert approved.status_code == 200 and approved.get_json()["status"]["code"] == "approved"
    headers = _bearer(admin, key="payout-7")
    voucher = {"voucher_reference": "BOC-2025-0007", "paid_on": today_in_china().isoformat()}
    paid = client.post(f"/api/v1/awards/{award.id}/pay", headers=headers, json=voucher)
    again = client.post(f"/api/v1/awards/{award.id}/pay", headers=headers, json=voucher)
    assert paid.status_code == again.status_code == 200
    assert paid.get_data() == again.get_data() and again.headers["Idempotent-Replayed"] == "true"
    assert status_of(award.id) == AwardStatus.PAID


def _age_login(user, minutes: int) -> None:
    db.session.execute(update(UserSession).where(UserSession.user_id == user.id)
                       .values(authenticated_at=utcnow() - timedelta(minutes=minutes)))
    db.session.commit()


def test_a_payout_needs_a_login_younger_than_ten_minutes(client, login, make_user, deal_awards):  # noqa: F811
    award = by_rule(deal_awards()["awards"], "R2")[0]
    admin = make_user("admin")
    login(admin)
    assert client.post(f"/money/awards/{award.id}/approve", data={"next": "/money/awards"}).status_code == 302
    _age_login(admin, 11)
    voucher = {"voucher_reference": "BOC-2025-0008", "paid_on": today_in_china().isoformat()}
    response = client.post(f"/money/awards/{award.id}/pay", data={"next": "/money/awards?status=approved", **voucher})
    assert response.headers["Location"] == "/reauth?next=/money/awards?status%3Dapproved"
    assert status_of(award.id) == AwardStatus.APPROVED
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "该操作需要在 10 分钟内验证过身份，请重新输入密码后继续。" in page and 'name="code"' in page
    refused = client.post("/reauth", data={"password": PASSWORD, "code": "12345x", "next": "/money/awards"})
    assert refused.status_code == 422 and messages(refused) == ["验证码不正确。"]
    confirmed = client.post("/reauth", data={"password": PASSWORD, "code": fresh_code(admin),
                                             "next": "/money/awards?status=approved"})
    assert confirmed.headers["Location"] == "/money/awards?status=approved"
    assert client.post(f"/money/awards/{award.id}/pay", data={"next": "/money/awards", **voucher}).status_code == 302
    assert status_of(award.id) == AwardStatus.PAID


def test_a_password_change_needs_a_recent_login(client, login, make_user):
    user = make_user("researcher")
    login(user)
    _age_login(user, 11)
    response = client.post("/profile/password", data={"current_password": PASSWORD,
                                                       "new_password": "another-long-password"})
    assert response.headers["Location"] == "/reauth?next=/profile"
    db.session.expire_all()
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    refused = client.post("/reauth", data={"password": "wrong-password-1", "next": "/profile"})
    assert refused.status_code == 422 and messages(refused) == ["密码不正确。"]


def test_an_admin_resets_a_brokers_lost_second_factor_but_not_their_own(client, login, make_user, caplog):
    admin, broker = make_user("admin"), make_user("broker", second_factor=True)
    login(admin)
    listing = client.get("/admin/second-factors").get_data(as_text=True)
    assert broker.email in listing and f"/admin/second-factors/{admin.id}/reset" not in listing
    with caplog.at_level("INFO", logger="market.audit"):
        response = client.post(f"/admin/second-factors/{broker.id}/reset")
    assert (response.status_code, response.headers["Location"]) == (302, "/admin/second-factors")
    assert f"已重置 {broker.name} 的两步验证，对方下次登录后需重新设置。" in client.get("/admin/second-factors").get_data(as_text=True)
    assert count(SecondFactor, SecondFactor.user_id == broker.id) == 0
    assert count(SecondFactorReset, SecondFactorReset.user_id == broker.id, SecondFactorReset.admin_id == admin.id) == 1
    assert f"second factor reset user_id={broker.id} by admin_id={admin.id}" in caplog.text
    own = client.post(f"/admin/second-factors/{admin.id}/reset")
    assert own.status_code == 403
    assert "不能重置自己的两步验证，请由另一位管理员操作。" in own.get_data(as_text=True)
    assert count(SecondFactor, SecondFactor.user_id == admin.id) == 1


def test_brokers_cannot_reset_anyones_second_factor(client, login_as, make_user):
    admin = make_user("admin")
    login_as("broker")
    assert client.post(f"/admin/second-factors/{admin.id}/reset").status_code == 403
    assert count(SecondFactor, SecondFactor.user_id == admin.id) == 1
