"""The e-mail change pages: a recent login first, the same answer for a free and a taken address, confirmation by the
signed-in owner through the mailed link, other sessions ended, and a rate limit on password guesses."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from market.accounts.models import EmailChangeLink, OutboxMail, User, UserSession
from market.extensions import db
from market.timeutil import utcnow
from tests.conftest import PASSWORD


def count(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def mailed_link(recipient: str) -> str:
    """The site-relative confirmation path in the last mail to an address."""
    body = db.session.scalars(select(OutboxMail.body).where(OutboxMail.recipient == recipient)
                              .order_by(OutboxMail.id.desc())).first()
    return re.search(r"https?://[^/\s]+(/email/confirm/[\w-]+)", body).group(1)


def age_login(user, minutes: int) -> None:
    db.session.execute(update(UserSession).where(UserSession.user_id == user.id)
                       .values(authenticated_at=utcnow() - timedelta(minutes=minutes)))
    db.session.commit()


def change(client, new_email: str, password: str = PASSWORD):
    return client.post("/profile/email", data={"new_email": new_email, "current_password": password})


def test_the_profile_links_to_the_email_page_which_asks_for_the_new_address_and_the_password(client, login_as):
    login_as("researcher")
    assert 'href="/profile/email"' in client.get("/profile").get_data(as_text=True)
    page = client.get("/profile/email")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'name="new_email"' in html and 'name="current_password"' in html


def test_a_stale_login_is_sent_to_reauthenticate_and_then_back_to_the_email_page(client, login, make_user):
    user = make_user("researcher")
    login(user)
    age_login(user, 11)
    response = client.get("/profile/email")
    assert response.headers["Location"] == "/reauth?next=/profile/email?"
    assert change(client, "new@example.org").headers["Location"] == "/reauth?next=/profile"
    assert count(EmailChangeLink) == 0 and count(OutboxMail) == 0
    back = client.post("/reauth", data={"password": PASSWORD, "next": "/profile/email?"})
    assert back.headers["Location"] == "/profile/email"
    assert client.get(back.headers["Location"]).status_code == 200


def test_a_free_and_a_taken_address_get_the_same_answer(client, login, make_user):
    user, owner = make_user("researcher"), make_user("enterprise", email="taken@example.org")
    login(user)
    answers = []
    for address in ("free@example.org", "taken@example.org"):
        response = change(client, address)
        answers.append((response.status_code, response.headers["Location"],
                        re.findall(r'role="alert"[^>]*>([^<]*)<', client.get("/profile").get_data(as_text=True))))
    assert answers[0] == answers[1]
    assert answers[0][:2] == (302, "/profile")
    assert "如果该邮箱可以使用，确认链接已发送到新邮箱，请在 24 小时内打开。确认之前仍使用当前邮箱登录。" in str(answers[0][2])
    assert sorted(db.session.scalars(select(OutboxMail.recipient))) == sorted(
        ["free@example.org", "taken@example.org", user.email, user.email])
    assert db.session.get(User, owner.id).email == "taken@example.org"


def test_a_wrong_password_is_shown_next_to_its_field(client, login_as):
    login_as("researcher")
    response = change(client, "new@example.org", "wrong-password-1")
    assert response.status_code == 422 and "当前密码不正确。" in response.get_data(as_text=True)
    assert count(OutboxMail) == 0


def test_the_owner_confirms_through_the_mailed_link_and_other_sessions_end(app, client, login, make_user):
    user = make_user("researcher", email="old@example.org")
    other_device = app.test_client()
    other_device.post("/login", data={"email": "old@example.org", "password": PASSWORD})
    login(user)
    change(client, "new@example.org")
    link = mailed_link("new@example.org")
    page = client.get(link)
    assert page.status_code == 200 and "把登录邮箱从 old@example.org 改为 new@example.org？" in page.get_data(as_text=True)
    assert db.session.get(User, user.id).email == "old@example.org"
    done = client.post(link)
    assert (done.status_code, done.headers["Location"]) == (302, "/profile")
    db.session.expire_all()
    assert db.session.get(User, user.id).email == "new@example.org"
    assert "登录邮箱已更改，其他设备上的登录已退出。" in client.get("/profile").get_data(as_text=True)
    assert other_device.get("/profile").headers["Location"].startswith("/login")
    assert count(UserSession, UserSession.revoked_at.is_(None)) == 1
    assert client.get(link).status_code == 404


def test_the_link_asks_a_visitor_to_log_in_first_and_refuses_another_account(app, client, login, make_user):
    user, stranger = make_user("researcher"), make_user("researcher")
    login(user)
    change(client, "new@example.org")
    link = mailed_link("new@example.org")
    visitor = app.test_client()
    assert visitor.get(link).headers["Location"].startswith("/login?next=%2Femail%2Fconfirm%2F")
    other = app.test_client()
    other.post("/login", data={"email": stranger.email, "password": PASSWORD})
    assert other.get(link).status_code == 404 and other.post(link).status_code == 404
    db.session.expire_all()
    assert db.session.get(User, stranger.id).email != "new@example.org"
    assert db.session.get(User, user.id).email != "new@example.org"


def test_a_link_whose_address_was_taken_meanwhile_explains_the_refusal(client, login, make_user):
    user = make_user("researcher")
    login(user)
    change(client, "new@example.org")
    link = mailed_link("new@example.org")
    make_user("enterprise", email="new@example.org")
    refused = client.post(link)
    assert refused.status_code == 422 and "该邮箱已被其他账号使用，无法更改。" in refused.get_data(as_text=True)


@pytest.mark.parametrize("app", [{"RATELIMIT_ENABLED": True, "TWO_FACTOR_RATE_LIMIT": "3 per minute"}], indirect=True)
def test_password_guesses_on_the_email_page_are_rate_limited(client, login_as):
    login_as("researcher")
    for _attempt in range(3):
        assert change(client, "new@example.org", "wrong-password-1").status_code == 422
    response = change(client, "new@example.org")
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    assert count(EmailChangeLink) == 0
