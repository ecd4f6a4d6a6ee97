"""Two-factor login: authenticator enrolment (TOTP), single-use recovery codes, turning it off, admin resets and recent
authentication."""
import logging
import secrets
import time
from datetime import datetime, timedelta

import pyotp
import segno
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from market.accounts.models import RecoveryCode, Role, SecondFactor, SecondFactorReset, User, UserSession
from market.accounts.secret_box import reseal
from market.accounts.services import get_user, queue_mail, token_digest
from market.errors import PermissionDeniedError, ValidationError
from market.timeutil import utcnow

SECOND_FACTOR_ROLES = frozenset({Role.ADMIN, Role.BROKER})
"""Who may (and, to approve or pay awards, must) use an authenticator app."""


class SecondFactorRequiredError(PermissionDeniedError):
    """The action needs a confirmed second factor the actor has not set up; pages send the user to enrol."""

    code = "second_factor_required"


def is_second_factor_exempt(user: User) -> bool:
    """Demo accounts in demo mode skip the second factor."""
    return user.is_demo and current_app.config["DEMO_MODE"]


def require_second_factor(user: User) -> None:
    """Refuse an award approval or payout by someone without a confirmed second factor (pages and API alike)."""
    if not user.has_second_factor and not is_second_factor_exempt(user):
        raise SecondFactorRequiredError(_("审批和发放奖补需要先启用两步验证（身份验证器），请在个人资料中设置后再操作。"))

audit = logging.getLogger("market.audit")

ISSUER = "晋创谷"
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
TOTP_STEP_SECONDS = 30


def may_enrol(user: User) -> bool:
    """Admins and brokers may protect their login with an authenticator app."""
    return user.role in SECOND_FACTOR_ROLES


def needs_second_factor(user: User) -> bool:
    """Whether logging in asks for a code after the password."""
    return user.has_second_factor and not is_second_factor_exempt(user)


def start_enrolment(session: Session, user: User) -> SecondFactor:
    """The unconfirmed authenticator secret to scan (a new one if none is pending); refused once enrolled."""
    if not may_enrol(user):
        raise PermissionDeniedError(_("只有平台管理员和技术经理人可以启用两步验证。"))
    if user.has_second_factor:
        raise ValidationError(_("已启用两步验证。"))
    factor = user.second_factor
    if factor is None:
        factor = SecondFactor(secret=pyotp.random_base32())
        user.second_factor = factor
    elif factor.secret is None:  # sealed with a key no longer configured: nothing was confirmed, start afresh
        factor.secret = pyotp.random_base32()
    session.flush()
    return factor


def provisioning_uri(user: User, factor: SecondFactor) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(factor.secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The QR code of an address as inline SVG markup (made on the server, no script and no image service)."""
    return segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff", title=_("身份验证器二维码"))


def _clean_code(code: str | None) -> str:
    return "".join((code or "").split()).replace("-", "").lower()


def _accept_totp(factor: SecondFactor, code: str, now: float) -> bool:
    """Whether a 6-digit code fits the current step (±1) and is newer than the last one accepted."""
    secret = factor.secret
    if secret is None or not (len(code) == 6 and code.isascii() and code.isdigit()):
        return False
    totp = pyotp.TOTP(secret)
    current = int(now) // TOTP_STEP_SECONDS
    for step in (current - 1, current, current + 1):
        if step > factor.last_used_step and secrets.compare_digest(totp.at(step * TOTP_STEP_SECONDS), code):
            factor.last_used_step = step
            factor.encrypted_secret = reseal(factor.encrypted_secret)
            return True
    return False


def _new_recovery_codes(session: Session, user: User) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = ["".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10)) for _ in range(RECOVERY_CODE_COUNT)]
    session.add_all(RecoveryCode(user_id=user.id, code_hash=token_digest(code)) for code in codes)
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def confirm_enrolment(session: Session, user: User, code: str, *, now: float | None = None) -> list[str]:
    """Turn the pending secret on with a code from the app; returns 10 recovery codes, shown once, stored hashed."""
    factor = start_enrolment(session, user)
    if not _accept_totp(factor, _clean_code(code), time.time() if now is None else now):
        raise ValidationError(_("验证码不正确，请核对手机时间后重新输入。"), {"code": _("验证码不正确。")})
    factor.confirmed_at = utcnow()
    codes = _new_recovery_codes(session, user)
    session.flush()
    audit.info("second factor enrolled user_id=%s", user.id)
    return codes


def verify_second_factor(session: Session, user: User, code: str, *, now: float | None = None) -> bool:
    """Check a code from the app or an unused recovery code (then spent); logs the outcome."""
    factor, cleaned = user.second_factor, _clean_code(code)
    if factor is None or factor.confirmed_at is None:
        return False
    accepted = _accept_totp(factor, cleaned, time.time() if now is None else now)
    if not accepted and len(cleaned) == 10:
        recovery = session.scalar(select(RecoveryCode).where(RecoveryCode.user_id == user.id,
                                                             RecoveryCode.code_hash == token_digest(cleaned),
                                                             RecoveryCode.used_at.is_(None)))
        if recovery is not None:
            recovery.used_at = utcnow()
            accepted = True
            audit.info("recovery code used user_id=%s", user.id)
    audit.info("second factor %s user_id=%s", "accepted" if accepted else "refused", user.id)
    session.flush()
    return accepted


def _require_current_code(session: Session, user: User, code: str, now: float | None) -> None:
    """Refuse unless the user is enrolled and gives a fresh code from the app or an unused recovery code."""
    if not user.has_second_factor:
        raise ValidationError(_("未启用两步验证。"))
    if not verify_second_factor(session, user, code, now=now):
        message = _("验证码不正确或已用过。每个验证码只能用一次，请等身份验证器显示下一个验证码。")
        raise ValidationError(message, {"code": message})


def replace_recovery_codes(session: Session, user: User, code: str, *, now: float | None = None) -> list[str]:
    """Ten new recovery codes for a current code; the old ones stop working. Shown once, stored hashed."""
    _require_current_code(session, user, code, now)
    codes = _new_recovery_codes(session, user)
    session.flush()
    audit.info("recovery codes replaced user_id=%s", user.id)
    return codes


def turn_off_second_factor(session: Session, user: User, code: str, *, now: float | None = None) -> None:
    """Remove one's own authenticator and recovery codes for a current code; the user is told by mail."""
    _require_current_code(session, user, code, now)
    session.delete(user.second_factor)
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    queue_mail(session, user.email, _("两步验证已关闭"),
               _("您的晋创谷账号已关闭两步验证，登录时只需要密码。如非本人操作，请立即修改密码并联系平台管理员。"))
    session.flush()
    session.refresh(user, ["second_factor"])
    audit.warning("second factor turned off by its owner user_id=%s", user.id)


def count_unused_recovery_codes(session: Session, user: User) -> int:
    """How many recovery codes the user has left."""
    return len(session.scalars(select(RecoveryCode.id).where(RecoveryCode.user_id == user.id,
                                                             RecoveryCode.used_at.is_(None))).all())


def list_enrolled_users(session: Session) -> list[User]:
    """Users with a confirmed authenticator, for the admin's reset page."""
    return list(session.scalars(select(User).join(SecondFactor).where(SecondFactor.confirmed_at.is_not(None))
                                .order_by(User.id)))


def reset_second_factor(session: Session, actor: User, user_id: int) -> User:
    """An admin removes another user's lost authenticator and recovery codes; never their own."""
    if not actor.is_admin:
        raise PermissionDeniedError(_("只有平台管理员可以重置两步验证。"))
    user = get_user(session, user_id)
    if user.id == actor.id:
        raise PermissionDeniedError(_("不能重置自己的两步验证，请由另一位管理员操作。"))
    if user.second_factor is None:
        raise ValidationError(_("该用户未启用两步验证。"))
    session.delete(user.second_factor)
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    session.add(SecondFactorReset(user_id=user.id, admin_id=actor.id))
    session.flush()
    session.refresh(user, ["second_factor"])
    audit.warning("second factor reset user_id=%s by admin_id=%s", user.id, actor.id)
    return user


def _session_row(session: Session, token: str | None) -> UserSession | None:
    if not token:
        return None
    return session.scalar(select(UserSession).where(UserSession.token_hash == token_digest(token),
                                                    UserSession.revoked_at.is_(None)))


def is_recent_login(session: Session, token: str | None, max_age: timedelta | None = None) -> bool:
    """Whether the session's password (and code) check is younger than RECENT_LOGIN_MAX_AGE (10 minutes)."""
    row = _session_row(session, token)
    if row is None:
        return False
    checked: datetime = row.authenticated_at or row.created_at
    return utcnow() - checked <= (max_age or current_app.config["RECENT_LOGIN_MAX_AGE"])


def confirm_recent_login(session: Session, user: User, token: str | None) -> None:
    """Mark the session as just re-authenticated (after the password and, when enrolled, a code)."""
    row = _session_row(session, token)
    if row is None or row.user_id != user.id:
        raise PermissionDeniedError(_("登录已失效，请重新登录。"))
    row.authenticated_at = utcnow()
    session.flush()
    audit.info("re-authenticated user_id=%s", user.id)
