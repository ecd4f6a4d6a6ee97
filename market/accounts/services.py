"""Account rules: registration, approval, login sessions, password reset, profile and API tokens."""
import hashlib
import logging
import secrets
from datetime import timedelta

from blinker import Namespace
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from market.accounts.inputs import (
    ApiTokenInput,
    Joining,
    PasswordChangeInput,
    PasswordResetInput,
    PasswordResetRequestInput,
    ProfileInput,
    SignUpInput,
    check_password_strength,
    normalise_email,
)
from market.accounts.mail_jobs import SEND_OUTBOX
from market.accounts.models import (
    ROLE_ORGANISATION_KINDS,
    ApiToken,
    ApprovalStatus,
    EmailChangeLink,
    Organisation,
    OutboxMail,
    PasswordResetToken,
    Role,
    User,
    UserSession,
)
from market.accounts.passwords import hash_password, verify_password
from market.declared import validate_input
from market.errors import NotFoundError, PermissionDeniedError, ValidationError
from market.jobs.queues import enqueue_after_commit
from market.timeutil import utcnow

audit = logging.getLogger("market.audit")

RESET_TOKEN_LIFETIME = timedelta(hours=1)

membership_decided = Namespace().signal("membership-decided")
"""Sent (session, user=, approved=) when an admin approves or refuses a membership; the notifications tell the user."""


def token_digest(token: str) -> str:
    """SHA-256 of a random token: what the database keeps instead of the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def password_profile() -> str:
    """The password hashing profile of this app (tests use a fast one)."""
    return current_app.config.get("PASSWORD_HASH_PROFILE", "standard")


def queue_mail(session: Session, recipient: str, subject: str, body: str) -> OutboxMail:
    """Put an e-mail in the outbox and log it; once the caller's unit of work commits, the outbox job sends it (when
    SMTP is configured; `flask send-mail` sends whatever is left)."""
    mail = OutboxMail(recipient=recipient, subject=subject, body=body)
    session.add(mail)
    if current_app.config["MAIL_SERVER"]:
        enqueue_after_commit(session, SEND_OUTBOX)
    logging.getLogger("market.mail").info("queued mail to %s: %s", recipient, subject)
    return mail


def get_user(session: Session, user_id: int) -> User:
    """The user with this id, or NotFoundError."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError(_("用户不存在。"))
    return user


def find_user_by_email(session: Session, email: str) -> User | None:
    """The user with this e-mail, if any."""
    return session.scalar(select(User).where(User.email == normalise_email(email)))


def list_organisations_for_role(session: Session, role: Role) -> list[Organisation]:
    """Approved organisations a new user of this role may join."""
    kinds = ROLE_ORGANISATION_KINDS.get(role, set())
    return list(
        session.scalars(
            select(Organisation)
            .where(Organisation.status == ApprovalStatus.APPROVED, Organisation.kind.in_(list(kinds)))
            .order_by(Organisation.name)
        )
    )


def register_user(
    session: Session,
    *,
    email: str,
    name: str,
    password: str,
    role: Role | str,
    join: Joining | str = Joining.EXISTING,
    organisation_id: int | str | None = None,
    organisation_name: str | None = None,
    organisation_kind: str | None = None,
    organisation_region: str | None = None,
) -> User | None:
    """Create an account joining an organisation or proposing a new one; both await admin approval.

    Returns None, and mails the existing owner, when the address is already registered (no enumeration).
    """
    values, errors = validate_input(SignUpInput, {
        "email": email, "name": name, "password": password, "role": role, "join": join,
        "organisation_id": organisation_id, "organisation_name": organisation_name,
        "organisation_kind": organisation_kind, "organisation_region": organisation_region})
    organisation = None
    if values.get("join") == Joining.NEW:
        org_name = values.get("organisation_name")
        if org_name and session.scalar(select(func.count()).select_from(Organisation)
                                       .where(Organisation.name == org_name)):
            errors.add("organisation_name", _("该机构已存在，请直接选择加入。"))
    elif values.get("organisation_id") is not None:
        organisation = session.get(Organisation, values["organisation_id"])
        if (
            organisation is None
            or organisation.status != ApprovalStatus.APPROVED
            or organisation.kind not in ROLE_ORGANISATION_KINDS.get(values.get("role"), set())
        ):
            errors.add("organisation_id", _("请选择有效的机构。"))
    if errors:
        raise ValidationError(_("请修改标出的内容。"), dict(errors))

    # Both branches below do the same work: one password hash, one queued mail, one flush (no enumeration by timing).
    email, role = values["email"], values["role"]
    password_hash = hash_password(values["password"], password_profile())
    if find_user_by_email(session, email) is not None:
        queue_mail(session, email, _("注册提醒"), _("有人尝试用您的邮箱注册晋创谷成果转化平台。如是您本人，请直接登录或重置密码。"))
        session.flush()
        audit.info("registration with existing email")
        return None

    if values["join"] == Joining.NEW:
        organisation = Organisation(
            name=values["organisation_name"],
            kind=values["organisation_kind"],
            region=values["organisation_region"],
            status=ApprovalStatus.PENDING,
        )
        session.add(organisation)
    user = User(
        email=email,
        name=values["name"],
        password_hash=password_hash,
        role=role,
        organisation=organisation,
        membership_status=ApprovalStatus.PENDING,
    )
    session.add(user)
    queue_mail(session, email, _("注册申请已收到"),
               _("您好，%(name)s：您在晋创谷成果转化平台的注册申请已收到，机构审核通过后即可发布信息。如非本人操作，请忽略本邮件。",
                 name=values["name"]))
    session.flush()
    audit.info("user registered user_id=%s role=%s", user.id, role)
    return user


def authenticate(session: Session, email: str, password: str) -> User:
    """The user for these credentials, or ValidationError with one generic message."""
    user = find_user_by_email(session, email)
    valid = verify_password(user.password_hash if user else None, password, password_profile())
    demo_refused = user is not None and user.is_demo and not current_app.config["DEMO_MODE"]
    if not valid or user is None or not user.is_active_account or demo_refused:
        audit.info("login failed")
        raise ValidationError(_("邮箱或密码错误。"))
    return user


def start_session(session: Session, user: User, user_agent: str = "") -> str:
    """Open a server-side session for a user who just logged in; returns the cookie token."""
    token = secrets.token_urlsafe(32)
    session.add(UserSession(token_hash=token_digest(token), user_id=user.id, user_agent=user_agent[:200]))
    user.last_login_at = utcnow()
    session.flush()
    audit.info("login user_id=%s", user.id)
    return token


def find_session_user(session: Session, token: str | None, user_id: int, idle: timedelta, absolute: timedelta) -> User | None:
    """The user of a live session token, refreshing its last-seen time; None when revoked or timed out."""
    if not token:
        return None
    row = session.scalar(select(UserSession).options(joinedload(UserSession.user).joinedload(User.organisation))
                         .where(UserSession.token_hash == token_digest(token)))
    now = utcnow()
    if row is None or row.revoked_at is not None or row.user_id != user_id:
        return None
    if now - row.last_seen_at > idle or now - row.created_at > absolute:
        row.revoked_at = now
        return None
    if now - row.last_seen_at > timedelta(minutes=1):
        row.last_seen_at = now
    user = row.user
    return user if user.is_active_account else None


def end_session(session: Session, token: str | None) -> None:
    """Revoke the session behind a cookie token (logout)."""
    if token:
        row = session.scalar(select(UserSession).where(UserSession.token_hash == token_digest(token)))
        if row is not None and row.revoked_at is None:
            row.revoked_at = utcnow()
            audit.info("logout user_id=%s", row.user_id)
    session.flush()


def revoke_sessions(session: Session, user: User, *, except_token: str | None = None) -> None:
    """End the user's live sessions: all of them, or all but the one behind a cookie token."""
    kept = token_digest(except_token) if except_token else None
    for row in session.scalars(select(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))):
        if row.token_hash != kept:
            row.revoked_at = utcnow()


def void_mailed_links(session: Session, user: User, kinds=(PasswordResetToken, EmailChangeLink)) -> None:
    """Spend the user's unused mailed links: password resets and pending e-mail changes unless `kinds` says which."""
    now = utcnow()
    for model in kinds:
        for link in session.scalars(select(model).where(model.user_id == user.id, model.used_at.is_(None))):
            link.used_at = now


def _revoke_credentials(session: Session, user: User) -> None:
    """After a password reset or change: end every session, revoke every API token, spend every unused reset link and
    pending e-mail change (one an intruder started dies with the password they knew)."""
    revoke_sessions(session, user)
    for token in session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))):
        token.revoked_at = utcnow()
    void_mailed_links(session, user)


def request_password_reset(session: Session, email: str, reset_url_for) -> None:
    """Mail a one-hour reset link if the address belongs to an account; silent otherwise."""
    values, errors = validate_input(PasswordResetRequestInput, {"email": email})
    if errors:
        raise ValidationError(errors["email"], dict(errors))
    user = find_user_by_email(session, values["email"])
    if user is not None and user.is_active_account:
        token = secrets.token_urlsafe(32)
        session.add(PasswordResetToken(user_id=user.id, token_hash=token_digest(token),
                                       expires_at=utcnow() + RESET_TOKEN_LIFETIME))
        queue_mail(session, user.email, _("重置密码"),
                   _("请在一小时内打开以下链接重置密码：%(url)s\n如非本人操作，请忽略本邮件。", url=reset_url_for(token)))
        audit.info("password reset requested user_id=%s", user.id)
    session.flush()


def reset_password(session: Session, token: str, new_password: str) -> User:
    """Set a new password with a valid reset token; the user's sessions, API tokens and other reset links end."""
    row = session.scalar(select(PasswordResetToken).where(PasswordResetToken.token_hash == token_digest(token)))
    if row is None or row.used_at is not None or row.expires_at < utcnow():
        raise ValidationError(_("重置链接无效或已过期，请重新申请。"))
    values, errors = validate_input(PasswordResetInput, {"password": new_password})
    weak = errors.get("password") or check_password_strength(values["password"], row.user.email)
    if weak:
        raise ValidationError(weak, {"password": weak})
    row.used_at = utcnow()
    row.user.password_hash = hash_password(values["password"], password_profile())
    _revoke_credentials(session, row.user)
    session.flush()
    audit.info("password reset user_id=%s", row.user_id)
    return row.user


def change_password(session: Session, user: User, *, current_password: str, new_password: str) -> None:
    """Change a password after checking the current one; the user's sessions, API tokens and reset links end."""
    values, errors = validate_input(PasswordChangeInput, {"current_password": current_password,
                                                          "new_password": new_password})
    if "current_password" in errors or not verify_password(user.password_hash, values["current_password"],
                                                           password_profile()):
        raise ValidationError(_("当前密码不正确。"), {"current_password": _("当前密码不正确。")})
    weak = errors.get("new_password") or check_password_strength(values["new_password"], user.email)
    if weak:
        raise ValidationError(weak, {"new_password": weak})
    user.password_hash = hash_password(values["new_password"], password_profile())
    _revoke_credentials(session, user)
    session.flush()
    audit.info("password changed user_id=%s", user.id)


def update_profile(session: Session, user: User, *, name: str, phone: str, locale: str) -> None:
    """Change a user's display name, phone and language (one of the languages this site offers)."""
    values, errors = validate_input(ProfileInput, {"name": name, "phone": phone, "locale": locale})
    if "locale" in values and values["locale"] not in current_app.config["LANGUAGES"]:
        errors.add("locale", _("无效的选项。"))
    if errors:
        raise ValidationError(_("请修改标出的内容。"), dict(errors))
    user.name, user.phone, user.locale = values["name"], values["phone"], values["locale"]
    session.flush()


def create_api_token(session: Session, user: User, name: str) -> str:
    """Create a personal API token; the plain token is returned once and never stored."""
    values, errors = validate_input(ApiTokenInput, {"name": name})
    if errors:
        raise ValidationError(_("令牌名称：%(m)s", m=errors["name"]), dict(errors))
    token = "jcg_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=values["name"], prefix=token[:10], token_hash=token_digest(token)))
    session.flush()
    audit.info("api token created user_id=%s", user.id)
    return token


def revoke_api_token(session: Session, user: User, token_id: int) -> None:
    """Revoke one of the user's own tokens."""
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise NotFoundError(_("令牌不存在。"))
    row.revoked_at = row.revoked_at or utcnow()
    session.flush()
    audit.info("api token revoked user_id=%s", user.id)


def find_token_user(session: Session, token: str) -> User | None:
    """The active user behind a bearer token, or None."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token)))
    if row is None or row.revoked_at is not None or not row.user.is_active_account:
        return None
    return row.user


def list_api_tokens(session: Session, user: User) -> list[ApiToken]:
    """The user's tokens, newest first."""
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())))


def list_pending_members(session: Session) -> list[User]:
    """Users waiting for membership approval, oldest first."""
    return list(session.scalars(select(User).where(User.membership_status == ApprovalStatus.PENDING,
                                                   User.role != Role.ADMIN).order_by(User.id)))


def list_pending_organisations(session: Session) -> list[Organisation]:
    """Organisations waiting for approval, oldest first."""
    return list(session.scalars(select(Organisation).where(Organisation.status == ApprovalStatus.PENDING)
                                .order_by(Organisation.id)))


def decide_membership(session: Session, actor: User, user_id: int, approve: bool) -> User:
    """Admin approves or rejects a user's membership (approving the user also approves a proposed organisation)."""
    if not actor.is_admin:
        raise PermissionDeniedError(_("只有平台管理员可以审批。"))
    user = get_user(session, user_id)
    user.membership_status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
    if approve and user.organisation is not None and user.organisation.status == ApprovalStatus.PENDING:
        user.organisation.status = ApprovalStatus.APPROVED
    membership_decided.send(session, user=user, approved=approve)
    session.flush()
    audit.info("membership %s user_id=%s by admin_id=%s", "approved" if approve else "rejected", user.id, actor.id)
    return user


def decide_organisation(session: Session, actor: User, organisation_id: int, approve: bool) -> Organisation:
    """Admin approves or rejects a proposed organisation."""
    if not actor.is_admin:
        raise PermissionDeniedError(_("只有平台管理员可以审批。"))
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFoundError(_("机构不存在。"))
    organisation.status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
    session.flush()
    audit.info("organisation %s id=%s by admin_id=%s", organisation.status, organisation.id, actor.id)
    return organisation


def create_admin(session: Session, *, email: str, name: str, password: str) -> User:
    """Make a platform admin account (used by `flask create-admin`)."""
    weak = check_password_strength(password, email)
    if weak:
        raise ValidationError(weak)
    if find_user_by_email(session, email) is not None:
        raise ValidationError(_("该邮箱已注册。"))
    user = User(email=normalise_email(email), name=name, role=Role.ADMIN,
                password_hash=hash_password(password, password_profile()),
                membership_status=ApprovalStatus.APPROVED)
    session.add(user)
    session.flush()
    return user


def get_organisation(session: Session, organisation_id: int) -> Organisation:
    """An approved organisation (public page), or NotFoundError."""
    organisation = session.get(Organisation, organisation_id)
    if organisation is None or organisation.status != ApprovalStatus.APPROVED:
        raise NotFoundError(_("机构不存在。"))
    return organisation


