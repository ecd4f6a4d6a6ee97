"""Accounts in the request's unit of work: a queued mail lives and dies with what it reports, the user loader's
session touch is committed by the request, and a refused request keeps the login."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from market.accounts import services
from market.accounts.models import OutboxMail, PasswordResetToken, Role, User, UserSession
from market.extensions import db
from market.timeutil import utcnow
from market.unit_of_work import unit_of_work
from tests.conftest import PASSWORD

EMAIL = "rolled.back@example.org"


class Refused(Exception):
    """Whatever made the request fail after the service ran."""


def count(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def register(organisation_id: int) -> None:
    services.register_user(db.session, email=EMAIL, name="王研究", password=PASSWORD, role=Role.RESEARCHER,
                           organisation_id=organisation_id)


@pytest.mark.parametrize("fails", [True, False])
def test_a_registration_and_its_mail_are_kept_or_dropped_together(app, make_organisation, fails):
    organisation = make_organisation("university")
    db.session.commit()
    try:
        with unit_of_work():
            register(organisation.id)
            if fails:
                raise Refused
    except Refused:
        pass
    kept = 0 if fails else 1
    assert (count(User, User.email == EMAIL), count(OutboxMail, OutboxMail.recipient == EMAIL)) == (kept, kept)


@pytest.mark.parametrize("fails", [True, False])
def test_a_reset_token_and_its_mail_are_kept_or_dropped_together(app, make_user, fails):
    user = make_user("researcher")
    db.session.commit()
    try:
        with unit_of_work():
            services.request_password_reset(db.session, user.email, lambda token: f"/password/reset/{token}")
            if fails:
                raise Refused
    except Refused:
        pass
    kept = 0 if fails else 1
    assert (count(PasswordResetToken, PasswordResetToken.user_id == user.id),
            count(OutboxMail, OutboxMail.recipient == user.email)) == (kept, kept)


def _session_row(user: User) -> UserSession:
    return db.session.scalar(select(UserSession).where(UserSession.user_id == user.id))


def _seen_minutes_ago(user: User, minutes: int) -> None:
    _session_row(user).last_seen_at = utcnow() - timedelta(minutes=minutes)
    db.session.commit()


def test_the_user_loaders_last_seen_touch_is_committed_by_the_request(client, login, make_user):
    user = make_user("researcher")
    login(user)
    _seen_minutes_ago(user, 5)
    assert client.get("/profile").status_code == 200
    db.session.rollback()  # anything the request did not commit is gone
    assert utcnow() - _session_row(user).last_seen_at < timedelta(minutes=1)


def test_a_request_refused_after_the_loader_ran_keeps_the_login(client, login, make_user):
    user = make_user("researcher")
    login(user)
    _seen_minutes_ago(user, 5)
    assert client.post("/profile/tokens/999999/revoke").status_code == 404
    db.session.rollback()
    row = _session_row(user)
    assert row.revoked_at is None
    assert utcnow() - row.last_seen_at > timedelta(minutes=4)  # the failed request's touch was rolled back with it
    assert client.get("/profile").status_code == 200


def test_a_refused_login_leaves_the_existing_session_alone(client, login, make_user):
    user = make_user("researcher")
    login(user)
    response = client.post("/reauth", data={"password": "not-the-password"})
    assert response.status_code == 422
    db.session.rollback()
    assert _session_row(user).revoked_at is None
    assert client.get("/profile").status_code == 200
