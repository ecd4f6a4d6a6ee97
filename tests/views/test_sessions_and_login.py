"""Login and sessions: server-side and revocable, rotated, timed out, rate limited, no enumeration, safe redirects,
CSRF, demo accounts and password reset."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from market.accounts.models import OutboxMail, PasswordResetToken, User, UserSession
from market.extensions import db
from market.timeutil import utcnow
from tests.conftest import PASSWORD

NEW_PASSWORD = "a-fresh-long-passphrase"


def session_cookie(client) -> str | None:
    """The value of the client's session cookie."""
    cookie = client.get_cookie("session")
    return cookie.value if cookie else None


def session_data(app, client) -> dict:
    """What the signed session cookie holds."""
    return dict(app.session_interface.get_signing_serializer(app).loads(session_cookie(client)))


def log_in(client, user, password: str = PASSWORD, **extra):
    """Post the login form."""
    return client.post("/login", data={"email": user.email, "password": password, **extra})


def signed_in(client) -> bool:
    """Whether the client's cookie still opens a page behind login."""
    return client.get("/profile").status_code == 200


def count(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def test_logging_in_opens_a_server_side_session_and_the_cookie_holds_only_its_token(app, client, make_user):
    user = make_user("researcher")
    response = log_in(client, user)
    assert (response.status_code, response.headers["Location"]) == (302, "/workspace")
    row = db.session.scalar(select(UserSession).where(UserSession.user_id == user.id))
    data = session_data(app, client)
    assert set(data) <= {"_user_id", "_fresh", "_id", "sid", "lang", "csrf_token", "_permanent"}
    assert row.token_hash != data["sid"] and len(data["sid"]) >= 40
    assert user.email not in str(data) and user.password_hash not in str(data)


def test_after_logout_a_replayed_cookie_does_not_authenticate(app, client, make_user):
    user = make_user("researcher")
    log_in(client, user)
    stolen = session_cookie(client)
    response = client.post("/logout")
    assert (response.status_code, response.headers["Location"]) == (302, "/")
    assert "您已退出登录。" in client.get("/").get_data(as_text=True)
    assert db.session.scalar(select(UserSession.revoked_at)) is not None
    for replay in (client, app.test_client()):
        replay.set_cookie("session", stolen)
        response = replay.get("/profile")
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_login_rotates_the_session(app, client, make_user):
    user = make_user("researcher")
    client.post("/language", data={"lang": "en"})
    before = session_cookie(client)
    assert session_data(app, client).get("lang") == "en"
    log_in(client, user)
    first = session_data(app, client)
    assert session_cookie(client) != before
    assert first.get("lang") == "zh_CN"
    log_in(client, user)
    second = session_data(app, client)
    assert second["sid"] != first["sid"]
    assert count(UserSession, UserSession.user_id == user.id) == 2


def test_changing_the_password_ends_every_session_of_the_user(app, client, make_user):
    user = make_user("researcher")
    other_device = app.test_client()
    log_in(client, user)
    log_in(other_device, user)
    assert signed_in(other_device)
    response = client.post("/profile/password", data={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert (response.status_code, response.headers["Location"]) == (302, "/login")
    assert "密码已修改，请重新登录。" in client.get("/login").get_data(as_text=True)
    assert not signed_in(client)
    assert not signed_in(other_device)
    assert count(UserSession, UserSession.revoked_at.is_(None)) == 0
    assert log_in(app.test_client(), user).status_code == 200
    assert log_in(app.test_client(), user, NEW_PASSWORD).status_code == 302


def _age_session(user, *, idle: timedelta, age: timedelta) -> None:
    row = db.session.scalar(select(UserSession).where(UserSession.user_id == user.id))
    now = utcnow()
    row.last_seen_at, row.created_at = now - idle, now - age
    db.session.commit()


@pytest.mark.parametrize("app", [{"SESSION_IDLE_TIMEOUT": timedelta(minutes=30)}], indirect=True)
@pytest.mark.parametrize(("idle_minutes", "still_in"), [(29, True), (31, False)])
def test_an_idle_session_times_out(client, make_user, idle_minutes, still_in):
    user = make_user("researcher")
    log_in(client, user)
    _age_session(user, idle=timedelta(minutes=idle_minutes), age=timedelta(minutes=idle_minutes))
    assert signed_in(client) is still_in
    db.session.expire_all()
    assert (db.session.scalar(select(UserSession.revoked_at)) is None) is still_in


@pytest.mark.parametrize("app", [{"SESSION_ABSOLUTE_TIMEOUT": timedelta(hours=1)}], indirect=True)
@pytest.mark.parametrize(("age_minutes", "still_in"), [(59, True), (61, False)])
def test_a_busy_session_still_ends_at_the_absolute_timeout(client, make_user, age_minutes, still_in):
    user = make_user("researcher")
    log_in(client, user)
    _age_session(user, idle=timedelta(seconds=5), age=timedelta(minutes=age_minutes))
    assert signed_in(client) is still_in


RATE_LIMITED = {"RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "3 per minute"}


@pytest.mark.parametrize("app", [RATE_LIMITED], indirect=True)
def test_login_attempts_are_rate_limited_with_retry_after(client, make_user):
    user = make_user("researcher")
    for _attempt in range(3):
        assert log_in(client, user, "wrong-password-1").status_code == 200
    response = log_in(client, user)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "操作过于频繁，请稍后再试。" in response.get_data(as_text=True)
    assert count(UserSession) == 0
    assert client.get("/login").status_code == 200


@pytest.mark.parametrize("app", [RATE_LIMITED], indirect=True)
def test_password_reset_requests_are_rate_limited(client):
    for _attempt in range(3):
        assert client.post("/password/forgot", data={"email": "someone@example.org"}).status_code == 302
    response = client.post("/password/forgot", data={"email": "someone@example.org"})
    assert response.status_code == 429
    assert "Retry-After" in response.headers


def _form_messages(response) -> list[str]:
    return re.findall(r'class="alert alert-danger" role="alert"><div>([^<]*)</div>', response.get_data(as_text=True))


def test_a_wrong_password_and_an_unknown_address_get_the_same_answer(client, make_user):
    user = make_user("researcher")
    wrong_password = log_in(client, user, "wrong-password-1")
    unknown = client.post("/login", data={"email": "nobody@example.org", "password": PASSWORD})
    assert wrong_password.status_code == unknown.status_code == 200
    assert _form_messages(wrong_password) == _form_messages(unknown) == ["邮箱或密码错误。"]


def test_registering_a_taken_address_looks_like_success_and_mails_the_owner(client, make_user, make_organisation):
    owner = make_user("researcher")
    university = make_organisation("university")
    form = {"name": "新用户", "password": PASSWORD, "role": "researcher", "join": "existing",
            "organisation_id": str(university.id)}
    users = count(User)
    fresh = client.post("/register", data={**form, "email": "fresh@example.org"})
    taken = client.post("/register", data={**form, "email": owner.email.upper()})
    assert fresh.status_code == taken.status_code == 302
    assert fresh.headers["Location"] == taken.headers["Location"] == "/login"
    page = client.get("/login").get_data(as_text=True)
    assert page.count("注册申请已提交。机构管理员审核通过后即可发布信息；现在可以登录。") == 2
    assert count(User) == users + 1
    notice = db.session.scalar(select(OutboxMail).where(OutboxMail.recipient == owner.email))
    assert notice.subject == "注册提醒"
    assert sorted(db.session.scalars(select(OutboxMail.recipient))) == sorted([owner.email, "fresh@example.org"])


def test_a_reset_request_answers_the_same_for_known_and_unknown_addresses(client, make_user):
    user = make_user("researcher")
    known = client.post("/password/forgot", data={"email": user.email})
    unknown = client.post("/password/forgot", data={"email": "nobody@example.org"})
    assert (known.status_code, known.headers["Location"]) == (unknown.status_code, unknown.headers["Location"])
    assert client.get("/login").get_data(as_text=True).count("如果该邮箱已注册，重置链接已发送，请在一小时内使用。") == 2
    assert [mail.recipient for mail in db.session.scalars(select(OutboxMail))] == [user.email]


@pytest.mark.parametrize("target", ["//evil.com", "https://evil.com", "/\\evil.com", "\\\\evil.com", "http:evil.com",
                                    "/\t/evil.com", "javascript:alert(1)", "//evil.com/%2F..", " //evil.com"])
def test_login_never_redirects_off_site(client, make_user, target):
    response = log_in(client, make_user("researcher"), next=target)
    assert (response.status_code, response.headers["Location"]) == (302, "/workspace")


def test_login_returns_to_the_local_page_asked_for(client, make_user):
    page = client.get("/profile")
    assert page.headers["Location"] == "/login?next=%2Fprofile"
    form = client.get(page.headers["Location"]).get_data(as_text=True)
    assert 'name="next" type="hidden" value="/profile"' in form
    response = log_in(client, make_user("researcher"), next="/profile")
    assert response.headers["Location"] == "/profile"


@pytest.mark.parametrize("target", ["//evil.com", "https://evil.com", "/\\evil.com"])
def test_the_language_switch_never_redirects_off_site(client, target):
    response = client.post("/language", data={"lang": "en", "next": target})
    assert response.headers["Location"] == "/"


def csrf_token(client, path: str) -> str:
    """The CSRF token a page hands out to this client."""
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


CSRF_ON = {"WTF_CSRF_ENABLED": True}


@pytest.mark.parametrize("app", [CSRF_ON], indirect=True)
def test_login_needs_the_csrf_token(client, make_user):
    user = make_user("researcher")
    refused = log_in(client, user)
    assert refused.status_code == 400
    assert "安全校验失败：浏览器没有发送会话 Cookie。" in refused.get_data(as_text=True)
    assert count(UserSession) == 0
    assert log_in(client, user, csrf_token=csrf_token(client, "/login")).status_code == 302


@pytest.fixture
def signed_in_with_csrf(app, client, make_user):
    """A researcher logged in through the CSRF-protected form; returns the user."""
    user = make_user("researcher", name="原来的名字")
    assert log_in(client, user, csrf_token=csrf_token(client, "/login")).status_code == 302
    return user


@pytest.mark.parametrize("app", [CSRF_ON], indirect=True)
def test_state_changes_without_the_csrf_token_are_refused_and_change_nothing(client, signed_in_with_csrf,
                                                                             make_achievement):
    user = signed_in_with_csrf
    listing = make_achievement(owner=user)
    attempts = [
        ("/profile", {"name": "攻击者改的名字", "phone": "", "locale": "zh_CN"}),
        ("/profile/tokens", {"name": "攻击者的令牌"}),
        (f"/listings/achievement/{listing.id}/withdraw", {}),
        ("/logout", {}),
        ("/profile/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
    ]
    for path, data in attempts:
        assert client.post(path, data=data).status_code == 400, path
    db.session.expire_all()
    assert db.session.get(User, user.id).name == "原来的名字"
    assert db.session.get(type(listing), listing.id).status == "published"
    assert signed_in(client)
    assert count(UserSession, UserSession.revoked_at.is_(None)) == 1


@pytest.mark.parametrize("app", [CSRF_ON], indirect=True)
def test_a_state_change_with_the_csrf_token_goes_through(client, signed_in_with_csrf):
    token = csrf_token(client, "/profile")
    response = client.post("/profile", data={"name": "新名字", "phone": "", "locale": "zh_CN", "csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, signed_in_with_csrf.id).name == "新名字"


@pytest.mark.parametrize("app", [CSRF_ON], indirect=True)
def test_a_csrf_token_from_before_login_is_useless_after_it(client, make_user):
    user = make_user("researcher")
    old_token = csrf_token(client, "/login")
    log_in(client, user, csrf_token=old_token)
    response = client.post("/profile", data={"name": "新名字", "phone": "", "locale": "zh_CN", "csrf_token": old_token})
    assert response.status_code == 400


def test_demo_accounts_cannot_log_in_outside_demo_mode(client, make_user):
    demo = make_user("researcher", is_demo=True)
    response = log_in(client, demo)
    assert response.status_code == 200
    assert _form_messages(response) == ["邮箱或密码错误。"]
    assert count(UserSession) == 0


@pytest.mark.parametrize("app", [{"DEMO_MODE": True}], indirect=True)
def test_demo_accounts_log_in_in_demo_mode(client, make_user):
    assert log_in(client, make_user("researcher", is_demo=True)).status_code == 302


def _reset_path() -> str:
    body = db.session.scalar(select(OutboxMail.body).order_by(OutboxMail.id.desc()))
    return re.search(r"http://127\.0\.0\.1:5000(/password/reset/[A-Za-z0-9_-]+)", body).group(1)


def test_a_password_reset_link_works_once(app, client, make_user):
    user = make_user("researcher")
    elsewhere = app.test_client()
    log_in(elsewhere, user)
    client.post("/password/forgot", data={"email": user.email})
    link = _reset_path()
    assert client.get(link).status_code == 200
    response = client.post(link, data={"password": NEW_PASSWORD})
    assert (response.status_code, response.headers["Location"]) == (302, "/login")
    assert "密码已重置，请用新密码登录。" in client.get("/login").get_data(as_text=True)
    assert not signed_in(elsewhere)
    again = client.post(link, data={"password": "yet-another-passphrase"})
    assert _form_messages(again) == ["重置链接无效或已过期，请重新申请。"]
    assert log_in(app.test_client(), user, "yet-another-passphrase").status_code == 200
    assert log_in(app.test_client(), user, NEW_PASSWORD).status_code == 302


def test_an_expired_password_reset_link_is_refused(client, make_user):
    user = make_user("researcher")
    client.post("/password/forgot", data={"email": user.email})
    link = _reset_path()
    db.session.scalar(select(PasswordResetToken)).expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    response = client.post(link, data={"password": NEW_PASSWORD})
    assert _form_messages(response) == ["重置链接无效或已过期，请重新申请。"]
    assert log_in(client, user).status_code == 302
