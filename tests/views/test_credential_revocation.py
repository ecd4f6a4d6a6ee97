"""A password reset or change revokes the user's API tokens and every other reset link; a new API token is shown once
on the response of its POST and never travels in the session cookie."""
import re

from sqlalchemy import select

from market.accounts import services
from market.accounts.models import ApiToken, OutboxMail, PasswordResetToken
from market.extensions import db
from tests.conftest import PASSWORD

NEW_PASSWORD = "a-fresh-long-passphrase"


def api_status(client, token: str) -> int:
    """The status the API answers to a bearer token."""
    return client.get("/api/v1/awards", headers={"Authorization": f"Bearer {token}"}).status_code


def reset_links(client, email: str, how_many: int) -> list[str]:
    """Ask for several reset links and return their paths, oldest first."""
    for _request in range(how_many):
        client.post("/password/forgot", data={"email": email})
    bodies = db.session.scalars(select(OutboxMail.body).where(OutboxMail.recipient == email).order_by(OutboxMail.id))
    return [re.search(r"https?://[^/\s]+(/password/reset/[A-Za-z0-9_-]+)", body).group(1) for body in bodies]


def test_a_password_reset_revokes_every_api_token_of_the_user(app, client, make_user):
    user, other = make_user("researcher"), make_user("researcher")
    tokens = [services.create_api_token(db.session, user, name) for name in ("脚本一", "脚本二")]
    others_token = services.create_api_token(db.session, other, "别人的脚本")
    assert [api_status(client, token) for token in tokens] == [200, 200]
    link = reset_links(client, user.email, 1)[0]
    assert client.post(link, data={"password": NEW_PASSWORD}).status_code == 302
    assert [api_status(client, token) for token in tokens] == [401, 401]
    assert api_status(client, others_token) == 200
    assert all(row.revoked_at is not None for row in db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)))


def test_a_password_change_revokes_every_api_token_of_the_user(app, client, login, make_user):
    user = make_user("researcher")
    token = services.create_api_token(db.session, user, "同步脚本")
    login(user)
    response = client.post("/profile/password", data={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert response.status_code == 302
    assert api_status(client, token) == 401


def test_using_one_reset_link_revokes_the_older_unused_ones(app, client, make_user):
    user = make_user("researcher")
    older, newer = reset_links(client, user.email, 2)
    assert client.post(newer, data={"password": NEW_PASSWORD}).status_code == 302
    refused = client.post(older, data={"password": "yet-another-passphrase"})
    assert refused.status_code == 200
    assert "重置链接无效或已过期，请重新申请。" in refused.get_data(as_text=True)
    assert all(row.used_at is not None for row in db.session.scalars(select(PasswordResetToken)))
    assert client.post("/login", data={"email": user.email, "password": NEW_PASSWORD}).status_code == 302


def test_a_password_change_revokes_outstanding_reset_links(app, client, login, make_user):
    user = make_user("researcher")
    link = reset_links(client, user.email, 1)[0]
    login(user)
    client.post("/profile/password", data={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    refused = client.post(link, data={"password": "yet-another-passphrase"})
    assert "重置链接无效或已过期，请重新申请。" in refused.get_data(as_text=True)
    assert client.post("/login", data={"email": user.email, "password": NEW_PASSWORD}).status_code == 302


def session_cookie_data(app, client) -> dict:
    """What the signed session cookie holds, decoded with the app's SECRET_KEY."""
    cookie = client.get_cookie("session")
    return dict(app.session_interface.get_signing_serializer(app).loads(cookie.value))


def test_a_new_api_token_is_shown_once_and_never_stored_in_the_session_cookie(app, client, login_as):
    user = login_as("researcher")
    response = client.post("/profile/tokens", data={"name": "同步脚本"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    token = re.search(r'id="new-token">(jcg_[A-Za-z0-9_-]+)<', page).group(1)
    assert "令牌已创建，请立即复制保存，它只显示这一次。" in page
    assert token not in str(session_cookie_data(app, client))
    assert token not in str(response.headers.getlist("Set-Cookie"))
    assert token not in client.get("/profile").get_data(as_text=True)
    assert token not in str(session_cookie_data(app, client))
    row = db.session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    assert row.token_hash == services.token_digest(token)
    assert api_status(client, token) == 200
