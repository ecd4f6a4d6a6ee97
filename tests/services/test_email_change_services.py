"""Changing the login e-mail: a password-checked request, a one-time hashed link to the new address, a notice without a
link to the old one, the same work for a taken address, and what confirming ends."""
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from market.accounts import email_change, passwords, services
from market.accounts.models import ApiToken, EmailChangeLink, OutboxMail, PasswordResetToken, UserSession
from market.errors import PermissionDeniedError, ValidationError
from market.extensions import db
from market.timeutil import utcnow
from tests.conftest import PASSWORD


def ask(user, new_email: str, password: str = PASSWORD) -> list[str]:
    """Request a change; returns the links' tokens handed to the URL builder (none for a taken address)."""
    tokens: list[str] = []
    email_change.request_email_change(db.session, user, current_password=password, new_email=new_email,
                                      confirm_url_for=lambda token: tokens.append(token) or f"https://m.example/{token}")
    return tokens


def mails() -> list[tuple[str, str, str]]:
    return [(mail.recipient, mail.subject, mail.body) for mail in db.session.scalars(select(OutboxMail).order_by(OutboxMail.id))]


def test_a_request_mails_a_link_to_the_new_address_and_a_linkless_notice_to_the_old_one(app, make_user):
    user = make_user("researcher", email="old@example.org")
    [token] = ask(user, " New.Address@Example.org ")
    link = db.session.scalar(select(EmailChangeLink))
    assert link.new_email == "new.address@example.org" and link.token_hash == services.token_digest(token)
    assert token not in link.token_hash and link.used_at is None
    assert timedelta(hours=23) < link.expires_at - utcnow() <= timedelta(hours=24)
    (new_to, new_subject, new_body), (old_to, old_subject, old_body) = mails()
    assert (new_to, new_subject) == ("new.address@example.org", "确认新的登录邮箱") and f"https://m.example/{token}" in new_body
    assert (old_to, old_subject) == ("old@example.org", "登录邮箱更改申请")
    assert "ne***@example.org" in old_body and "http" not in old_body and token not in old_body
    assert user.email == "old@example.org"


def test_the_old_address_stays_the_login_until_the_link_is_used(app, make_user):
    user = make_user("researcher", email="old@example.org")
    ask(user, "new@example.org")
    assert services.authenticate(db.session, "old@example.org", PASSWORD) == user
    with pytest.raises(ValidationError):
        services.authenticate(db.session, "new@example.org", PASSWORD)


def test_a_taken_address_gets_the_same_answer_and_work_and_its_owner_is_told(app, make_user, monkeypatch):
    user, owner = make_user("researcher"), make_user("enterprise", email="taken@example.org")
    verifies, queued = [], []
    real_verify, real_queue = passwords.verify_password, services.queue_mail
    monkeypatch.setattr(email_change, "verify_password", lambda *args: verifies.append(1) or real_verify(*args))
    monkeypatch.setattr(email_change, "queue_mail", lambda *args: queued.append(args[1]) or real_queue(*args))
    assert ask(user, "free@example.org") != []
    work_free = (len(verifies), len(queued))
    verifies.clear(), queued.clear()
    assert ask(user, "Taken@example.org") == []
    assert (len(verifies), len(queued)) == work_free == (1, 2)
    assert queued == ["taken@example.org", user.email]
    owner_mail = [body for to, subject, body in mails() if to == "taken@example.org"]
    assert owner_mail == ["有人尝试把另一个晋创谷账号的登录邮箱改为您的邮箱地址。您的账号不受影响，无需处理。"]
    assert owner.email == "taken@example.org"
    assert db.session.scalar(select(EmailChangeLink).where(EmailChangeLink.new_email == "taken@example.org")) is None


@pytest.mark.parametrize(("password", "new_email", "field", "message"), [
    ("wrong-password-1", "new@example.org", "current_password", "当前密码不正确。"),
    (PASSWORD, "not-an-address", "new_email", "请输入有效的邮箱地址。"),
    (PASSWORD, "@", "new_email", "请输入有效的邮箱地址。"),
    (PASSWORD, "a" * 250 + "@x.org", "new_email", "请输入有效的邮箱地址。"),
    (PASSWORD, "OLD@example.org", "new_email", "新邮箱与当前邮箱相同。"),
])
def test_refused_requests_name_the_field_and_mail_nothing(app, make_user, password, new_email, field, message):
    user = make_user("researcher", email="old@example.org")
    with pytest.raises(ValidationError) as refused:
        ask(user, new_email, password)
    assert refused.value.fields == {field: message}
    assert mails() == [] and db.session.scalar(select(EmailChangeLink)) is None


def test_demo_accounts_cannot_change_their_address(app, make_user):
    with pytest.raises(PermissionDeniedError):
        ask(make_user("researcher", is_demo=True), "new@example.org")


def test_confirming_moves_the_login_ends_other_sessions_and_reset_links_and_tells_the_old_address(app, make_user, caplog):
    user = make_user("researcher", email="old@example.org")
    here, elsewhere = services.start_session(db.session, user), services.start_session(db.session, user)
    services.create_api_token(db.session, user, "脚本")
    services.request_password_reset(db.session, "old@example.org", lambda token: token)
    [token] = ask(user, "new@example.org")
    with caplog.at_level(logging.INFO, logger="market.audit"):
        assert email_change.confirm_email_change(db.session, user, token, keep_session=here) == "old@example.org"
    assert user.email == "new@example.org"
    live = set(db.session.scalars(select(UserSession.token_hash).where(UserSession.revoked_at.is_(None))))
    assert live == {services.token_digest(here)} and services.token_digest(elsewhere) not in live
    assert db.session.scalar(select(PasswordResetToken)).used_at is not None
    assert db.session.scalar(select(ApiToken)).revoked_at is None
    assert mails()[-1][:2] == ("old@example.org", "登录邮箱已更改") and "ne***@example.org" in mails()[-1][2]
    assert f"email changed user_id={user.id}" in caplog.text
    assert services.authenticate(db.session, "new@example.org", PASSWORD) == user
    with pytest.raises(ValidationError, match="确认链接无效或已过期"):
        email_change.confirm_email_change(db.session, user, token, keep_session=here)


def test_a_link_works_only_for_its_own_account(app, make_user):
    user, other = make_user("researcher"), make_user("researcher")
    [token] = ask(user, "new@example.org")
    assert email_change.find_email_change(db.session, other, token) is None
    with pytest.raises(ValidationError):
        email_change.confirm_email_change(db.session, other, token, keep_session=None)
    assert other.email != "new@example.org" and user.email != "new@example.org"


def test_an_expired_link_or_an_earlier_one_no_longer_confirms(app, make_user):
    user = make_user("researcher")
    [first] = ask(user, "first@example.org")
    [second] = ask(user, "second@example.org")
    assert email_change.find_email_change(db.session, user, first) is None
    db.session.execute(update(EmailChangeLink).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert email_change.find_email_change(db.session, user, second) is None
    with pytest.raises(ValidationError):
        email_change.confirm_email_change(db.session, user, second, keep_session=None)


def test_an_address_taken_after_the_request_is_refused_at_confirmation(app, make_user):
    user = make_user("researcher")
    [token] = ask(user, "new@example.org")
    make_user("enterprise", email="new@example.org")
    with pytest.raises(ValidationError, match="该邮箱已被其他账号使用"):
        email_change.confirm_email_change(db.session, user, token, keep_session=None)


def test_a_password_change_cancels_a_pending_email_change(app, make_user):
    user = make_user("researcher")
    [token] = ask(user, "intruder@example.org")
    services.change_password(db.session, user, current_password=PASSWORD, new_password="a-brand-new-password")
    assert email_change.find_email_change(db.session, user, token) is None
