"""Account services: registration, login, server-side sessions, password reset, profile, API tokens, approvals."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from market.accounts import services
from market.accounts.models import (
    ApiToken,
    ApprovalStatus,
    Organisation,
    OutboxMail,
    PasswordResetToken,
    Role,
    User,
    UserSession,
)
from market.errors import NotFoundError, PermissionDeniedError, ValidationError
from market.extensions import db
from market.timeutil import utcnow
from tests.conftest import PASSWORD

IDLE, ABSOLUTE = timedelta(hours=2), timedelta(hours=12)
GENERIC_LOGIN_ERROR = "邮箱或密码错误。"


def count(model, *conditions) -> int:
    """Rows of a model (matching the conditions)."""
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def register(**changes):
    """Register with valid defaults, overridden by `changes`."""
    values = {"email": "new.researcher@example.org", "name": "王研究", "password": PASSWORD,
              "role": Role.RESEARCHER, "organisation_id": None}
    values.update(changes)
    return services.register_user(db.session, **values)


def test_registering_to_join_an_approved_organisation_awaits_membership_approval(app, make_organisation):
    university = make_organisation("university")
    user = register(email=" New.Researcher@Example.ORG ", organisation_id=university.id)
    assert (user.email, user.organisation_id, user.membership_status) == (
        "new.researcher@example.org", university.id, ApprovalStatus.PENDING)
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert not user.is_approved_member


def test_registering_with_a_new_organisation_proposes_it_for_approval(app):
    user = register(join="new", organisation_name=" 晋中职业技术学院 ", organisation_kind="university",
                    organisation_region=" 晋中市 ")
    organisation = user.organisation
    assert (organisation.name, organisation.region, organisation.status) == (
        "晋中职业技术学院", "晋中市", ApprovalStatus.PENDING)


INVALID_REGISTRATIONS = [
    ({"password": "short"}, {"password"}),
    ({"password": "new.researcher@example.org"}, {"password"}),
    ({"password": "aaaaabbbbbaaaaabbbbb"}, {"password"}),
    ({"role": Role.ADMIN}, {"role", "organisation_id"}),
    ({"name": ""}, {"name"}),
    ({"name": "   "}, {"name"}),
    ({"name": "王\x00研究"}, {"name"}),
    ({"name": "王\ud800研究"}, {"name"}),
    ({"name": "王\n研究"}, {"name"}),
    ({"name": "长" * 61}, {"name"}),
    ({"organisation_id": 999_999}, {"organisation_id"}),
    ({"organisation_id": None}, {"organisation_id"}),
    ({"join": "new", "organisation_name": "", "organisation_kind": "university"}, {"organisation_name"}),
    ({"join": "new", "organisation_name": "   ", "organisation_kind": "university"}, {"organisation_name"}),
    ({"join": "new", "organisation_name": "学院\x07", "organisation_kind": "university"}, {"organisation_name"}),
    ({"join": "new", "organisation_name": "某企业", "organisation_kind": "enterprise"}, {"organisation_kind"}),
    ({"join": "new", "organisation_name": "新学院", "organisation_kind": "university", "organisation_region": "太原\x00市"},
     {"organisation_region"}),
    ({"password": "short", "name": ""}, {"password", "name"}),
]


def test_invalid_registrations_are_refused_field_by_field_and_save_nothing(app, make_organisation, subtests):
    university = make_organisation("university")
    users, organisations = count(User), count(Organisation)
    for changes, fields in INVALID_REGISTRATIONS:
        with subtests.test(msg=repr(changes)[:60]):
            with pytest.raises(ValidationError) as refused:
                register(**{"organisation_id": university.id, **changes})
            assert set(refused.value.fields) == fields
            assert all(refused.value.fields.values())
            assert count(User) == users
            assert count(Organisation) == organisations


def test_joining_a_pending_or_wrong_kind_organisation_is_refused(app, make_organisation):
    pending = make_organisation("university", status=ApprovalStatus.PENDING)
    company = make_organisation("enterprise")
    for organisation in (pending, company):
        with pytest.raises(ValidationError) as refused:
            register(organisation_id=organisation.id)
        assert set(refused.value.fields) == {"organisation_id"}


def test_proposing_an_organisation_that_exists_points_to_joining_it(app, make_organisation):
    existing = make_organisation("university")
    with pytest.raises(ValidationError) as refused:
        register(join="new", organisation_name=existing.name, organisation_kind="university")
    assert refused.value.fields == {"organisation_name": "该机构已存在，请直接选择加入。"}


def test_registering_an_existing_address_creates_nothing_and_mails_its_owner(app, make_user, make_organisation):
    existing = make_user("researcher")
    users = count(User)
    result = register(email=existing.email.upper(), organisation_id=make_organisation("university").id)
    assert result is None
    assert count(User) == users
    mail = db.session.scalar(select(OutboxMail))
    assert (mail.recipient, mail.subject) == (existing.email, "注册提醒")


def test_authentication_accepts_the_right_password_whatever_the_address_case(app, make_user):
    user = make_user("researcher", email="zhang@example.org")
    assert services.authenticate(db.session, " ZHANG@example.org", PASSWORD).id == user.id


@pytest.mark.parametrize("case", ["wrong password", "unknown address", "disabled account", "demo account"])
def test_every_failed_login_gets_the_same_message(app, make_user, case):
    user = make_user("researcher", email="li@example.org", is_active_account=case != "disabled account",
                     is_demo=case == "demo account")
    email = "nobody@example.org" if case == "unknown address" else user.email
    password = "wrong-password-9" if case == "wrong password" else PASSWORD
    with pytest.raises(ValidationError) as refused:
        services.authenticate(db.session, email, password)
    assert refused.value.message == GENERIC_LOGIN_ERROR
    assert refused.value.fields == {}


@pytest.mark.parametrize("app", [{"DEMO_MODE": True}], indirect=True)
def test_demo_accounts_may_log_in_in_demo_mode(app, make_user):
    user = make_user("researcher", is_demo=True)
    assert services.authenticate(db.session, user.email, PASSWORD).id == user.id


def test_a_session_token_is_stored_only_as_its_digest(app, make_user):
    user = make_user("researcher")
    token = services.start_session(db.session, user, "pytest")
    row = db.session.scalar(select(UserSession))
    assert row.token_hash == services.token_digest(token) != token
    assert services.find_session_user(db.session, token, user.id, IDLE, ABSOLUTE).id == user.id
    assert user.last_login_at is not None


def test_a_session_token_works_only_for_its_own_user(app, make_user):
    user, other = make_user("researcher"), make_user("researcher")
    token = services.start_session(db.session, user)
    assert services.find_session_user(db.session, token, other.id, IDLE, ABSOLUTE) is None
    assert services.find_session_user(db.session, "made-up", user.id, IDLE, ABSOLUTE) is None
    assert services.find_session_user(db.session, None, user.id, IDLE, ABSOLUTE) is None


def test_an_ended_session_no_longer_authenticates(app, make_user):
    user = make_user("researcher")
    token = services.start_session(db.session, user)
    services.end_session(db.session, token)
    assert services.find_session_user(db.session, token, user.id, IDLE, ABSOLUTE) is None
    assert db.session.scalar(select(UserSession.revoked_at)) is not None


@pytest.mark.parametrize(("idle_for", "age", "alive"), [
    (timedelta(minutes=119), timedelta(hours=11), True),
    (timedelta(minutes=121), timedelta(hours=3), False),
    (timedelta(minutes=5), timedelta(hours=12, minutes=1), False),
])
def test_sessions_end_after_the_idle_and_the_absolute_timeout(app, make_user, idle_for, age, alive):
    user = make_user("researcher")
    token = services.start_session(db.session, user)
    row = db.session.scalar(select(UserSession))
    now = utcnow()
    row.created_at, row.last_seen_at = now - age, now - idle_for
    db.session.commit()
    found = services.find_session_user(db.session, token, user.id, IDLE, ABSOLUTE)
    assert (found is not None) == alive
    db.session.commit()  # what the request's unit of work does after the user loader
    db.session.refresh(row)
    assert (row.revoked_at is None) == alive


def test_the_last_seen_time_moves_only_after_a_minute(app, make_user):
    user = make_user("researcher")
    token = services.start_session(db.session, user)
    row = db.session.scalar(select(UserSession))
    first_seen = row.last_seen_at
    services.find_session_user(db.session, token, user.id, IDLE, ABSOLUTE)
    assert row.last_seen_at == first_seen
    row.last_seen_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    services.find_session_user(db.session, token, user.id, IDLE, ABSOLUTE)
    assert utcnow() - row.last_seen_at < timedelta(minutes=1)


def test_a_disabled_account_loses_its_live_sessions(app, make_user):
    user = make_user("researcher")
    token = services.start_session(db.session, user)
    user.is_active_account = False
    db.session.commit()
    assert services.find_session_user(db.session, token, user.id, IDLE, ABSOLUTE) is None


def _reset_link_token() -> str:
    body = db.session.scalar(select(OutboxMail.body).order_by(OutboxMail.id.desc()))
    return re.search(r"/password/reset/([A-Za-z0-9_-]+)", body).group(1)


def request_reset(email: str) -> None:
    services.request_password_reset(db.session, email, lambda token: f"http://localhost/password/reset/{token}")


def test_a_password_reset_mails_a_one_hour_link_and_stores_only_a_digest(app, make_user):
    user = make_user("researcher")
    request_reset(user.email)
    token = _reset_link_token()
    row = db.session.scalar(select(PasswordResetToken))
    assert row.token_hash == services.token_digest(token)
    assert timedelta(minutes=59) < row.expires_at - utcnow() <= timedelta(hours=1)


def test_a_reset_for_an_unknown_address_sends_nothing(app):
    request_reset("nobody@example.org")
    assert count(OutboxMail) == count(PasswordResetToken) == 0


def test_a_reset_link_works_once_and_ends_every_session(app, make_user):
    user = make_user("researcher")
    session_token = services.start_session(db.session, user)
    request_reset(user.email)
    token = _reset_link_token()
    services.reset_password(db.session, token, "a-brand-new-passphrase")
    assert services.authenticate(db.session, user.email, "a-brand-new-passphrase").id == user.id
    assert services.find_session_user(db.session, session_token, user.id, IDLE, ABSOLUTE) is None
    with pytest.raises(ValidationError) as refused:
        services.reset_password(db.session, token, "yet-another-passphrase")
    assert refused.value.message == "重置链接无效或已过期，请重新申请。"


def test_an_expired_reset_link_is_refused_and_the_password_stays(app, make_user):
    user = make_user("researcher")
    request_reset(user.email)
    token = _reset_link_token()
    db.session.scalar(select(PasswordResetToken)).expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    with pytest.raises(ValidationError):
        services.reset_password(db.session, token, "a-brand-new-passphrase")
    assert services.authenticate(db.session, user.email, PASSWORD).id == user.id


def test_a_weak_new_password_keeps_the_reset_link_usable(app, make_user):
    user = make_user("researcher")
    request_reset(user.email)
    token = _reset_link_token()
    with pytest.raises(ValidationError) as refused:
        services.reset_password(db.session, token, "short")
    assert set(refused.value.fields) == {"password"}
    services.reset_password(db.session, token, "a-brand-new-passphrase")


def test_changing_the_password_needs_the_current_one_and_ends_every_session(app, make_user):
    user = make_user("researcher")
    session_token = services.start_session(db.session, user)
    with pytest.raises(ValidationError) as refused:
        services.change_password(db.session, user, current_password="not-it-at-all", new_password="a-new-passphrase")
    assert refused.value.fields == {"current_password": "当前密码不正确。"}
    assert services.find_session_user(db.session, session_token, user.id, IDLE, ABSOLUTE) is not None
    services.change_password(db.session, user, current_password=PASSWORD, new_password="a-new-passphrase")
    assert services.find_session_user(db.session, session_token, user.id, IDLE, ABSOLUTE) is None


def test_a_weak_new_password_is_refused_next_to_its_field(app, make_user):
    user = make_user("researcher")
    with pytest.raises(ValidationError) as refused:
        services.change_password(db.session, user, current_password=PASSWORD, new_password=user.email)
    assert refused.value.fields == {"new_password": "密码不能与邮箱相同。"}
    assert services.authenticate(db.session, user.email, PASSWORD).id == user.id


def test_the_profile_keeps_trimmed_values(app, make_user):
    user = make_user("researcher")
    services.update_profile(db.session, user, name="  赵工 ", phone=" 0351-1234567 ", locale="en")
    db.session.expire_all()
    stored = db.session.get(User, user.id)
    assert (stored.name, stored.phone, stored.locale) == ("赵工", "0351-1234567", "en")


INVALID_PROFILES = [
    ("", "", "zh_CN", {"name"}),
    ("   ", "", "zh_CN", {"name"}),
    ("赵\x00工", "", "zh_CN", {"name"}),
    ("赵\ud800工", "", "zh_CN", {"name"}),
    ("长" * 61, "", "zh_CN", {"name"}),
    ("赵工", "1" * 31, "zh_CN", {"phone"}),
    ("赵工", "0351\n123", "zh_CN", {"phone"}),
    ("赵工", "", "xx", {"locale"}),
]


def test_an_invalid_profile_is_refused_and_nothing_changes(app, make_user, subtests):
    user = make_user("researcher", name="原名")
    for name, phone, locale, fields in INVALID_PROFILES:
        with subtests.test(msg=repr((name[:8], phone, locale))):
            with pytest.raises(ValidationError) as refused:
                services.update_profile(db.session, user, name=name, phone=phone, locale=locale)
            assert set(refused.value.fields) == fields
            db.session.expire_all()
            assert db.session.get(User, user.id).name == "原名"


def test_an_api_token_is_shown_once_and_stored_as_a_digest(app, make_user):
    user = make_user("enterprise")
    token = services.create_api_token(db.session, user, " 同步脚本 ")
    row = db.session.scalar(select(ApiToken))
    assert token.startswith("jcg_") and len(token) > 40
    assert (row.name, row.prefix, row.token_hash) == ("同步脚本", token[:10], services.token_digest(token))
    assert services.find_token_user(db.session, token).id == user.id
    assert services.find_token_user(db.session, token + "x") is None


def test_a_revoked_token_no_longer_authenticates_and_others_cannot_revoke_it(app, make_user):
    user, other = make_user("enterprise"), make_user("enterprise")
    token = services.create_api_token(db.session, user, "脚本")
    token_id = db.session.scalar(select(ApiToken.id))
    with pytest.raises(NotFoundError):
        services.revoke_api_token(db.session, other, token_id)
    assert services.find_token_user(db.session, token).id == user.id
    services.revoke_api_token(db.session, user, token_id)
    assert services.find_token_user(db.session, token) is None


def test_an_api_token_needs_a_clean_name(app, make_user, subtests):
    user = make_user("enterprise")
    for name in ("", "   ", "令牌\x00", "令牌\n名", "令\ud800牌", "长" * 61):
        with subtests.test(msg=repr(name[:8])):
            with pytest.raises(ValidationError) as refused:
                services.create_api_token(db.session, user, name)
            assert set(refused.value.fields) == {"name"}
            assert count(ApiToken) == 0


def test_approving_a_member_also_approves_the_organisation_they_proposed(app, make_user):
    admin = make_user("admin")
    user = register(join="new", organisation_name="新建研究院", organisation_kind="institute")
    services.decide_membership(db.session, admin, user.id, approve=True)
    assert user.membership_status == ApprovalStatus.APPROVED
    assert user.organisation.status == ApprovalStatus.APPROVED
    assert user.is_approved_member


def test_rejecting_an_organisation_keeps_its_members_from_acting(app, make_user, make_organisation):
    admin = make_user("admin")
    organisation = make_organisation("enterprise", status=ApprovalStatus.PENDING)
    member = make_user("enterprise", organisation=organisation)
    services.decide_organisation(db.session, admin, organisation.id, approve=False)
    assert organisation.status == ApprovalStatus.REJECTED
    assert not member.is_approved_member
    with pytest.raises(NotFoundError):
        services.get_organisation(db.session, organisation.id)


@pytest.mark.parametrize("role", ["researcher", "enterprise", "broker"])
def test_only_admins_decide_approvals(app, make_user, make_organisation, role):
    actor = make_user(role)
    pending = make_organisation("university", status=ApprovalStatus.PENDING)
    with pytest.raises(PermissionDeniedError):
        services.decide_organisation(db.session, actor, pending.id, approve=True)
    with pytest.raises(PermissionDeniedError):
        services.decide_membership(db.session, actor, actor.id, approve=True)
    assert pending.status == ApprovalStatus.PENDING


def test_creating_an_admin_checks_strength_and_uniqueness(app):
    with pytest.raises(ValidationError):
        services.create_admin(db.session, email="ops@example.org", name="运营", password="short")
    admin = services.create_admin(db.session, email="Ops@Example.org", name="运营", password=PASSWORD)
    assert (admin.email, admin.role, admin.is_approved_member) == ("ops@example.org", Role.ADMIN, True)
    with pytest.raises(ValidationError):
        services.create_admin(db.session, email="ops@example.org", name="运营", password=PASSWORD)
