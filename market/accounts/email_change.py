"""Changing one's login e-mail: a password-checked request, a one-time link to the new address, a notice to the old."""
import logging
import secrets
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from market.accounts.inputs import EmailChangeInput
from market.accounts.models import EmailChangeLink, User
from market.accounts.passwords import verify_password
from market.accounts.services import (
    find_user_by_email,
    password_profile,
    queue_mail,
    revoke_sessions,
    token_digest,
    void_mailed_links,
)
from market.declared import validate_input
from market.errors import PermissionDeniedError, ValidationError
from market.timeutil import utcnow

audit = logging.getLogger("market.audit")

EMAIL_CHANGE_LINK_LIFETIME = timedelta(hours=24)


def masked_email(email: str) -> str:
    """An address with most of its local part hidden, for notices: ab***@example.org."""
    local, _at, domain = email.partition("@")
    return f"{local[:2]}***@{domain}"


def request_email_change(session: Session, user: User, *, current_password: str, new_email: str, confirm_url_for) -> None:
    """Check the password, then mail a one-time link to a free new address or, when it is taken, a notice to its
    owner; either way the current address is told. Both branches do the same work and answer alike (no enumeration).
    The current address stays the login until the link is used."""
    if user.is_demo:
        raise PermissionDeniedError(_("演示账号不能修改邮箱。"))
    values, errors = validate_input(EmailChangeInput, {"new_email": new_email, "current_password": current_password})
    if "current_password" in errors or not verify_password(user.password_hash, values["current_password"],
                                                           password_profile()):
        raise ValidationError(_("当前密码不正确。"), {"current_password": _("当前密码不正确。")})
    if errors:
        raise ValidationError(errors["new_email"], dict(errors))
    new_email = values["new_email"]
    if new_email == user.email:
        raise ValidationError(_("新邮箱与当前邮箱相同。"), {"new_email": _("新邮箱与当前邮箱相同。")})

    void_mailed_links(session, user, kinds=(EmailChangeLink,))
    if find_user_by_email(session, new_email) is not None:
        queue_mail(session, new_email, _("邮箱更改提醒"),
                   _("有人尝试把另一个晋创谷账号的登录邮箱改为您的邮箱地址。您的账号不受影响，无需处理。"))
        audit.info("email change to a taken address refused user_id=%s", user.id)
    else:
        token = secrets.token_urlsafe(32)
        session.add(EmailChangeLink(user_id=user.id, new_email=new_email, token_hash=token_digest(token),
                                    expires_at=utcnow() + EMAIL_CHANGE_LINK_LIFETIME))
        queue_mail(session, new_email, _("确认新的登录邮箱"),
                   _("请在 24 小时内打开以下链接并登录，确认把晋创谷账号的登录邮箱改为本邮箱：%(url)s\n"
                     "如非本人操作，请忽略本邮件。", url=confirm_url_for(token)))
        audit.info("email change requested user_id=%s", user.id)
    queue_mail(session, user.email, _("登录邮箱更改申请"),
               _("您的晋创谷账号申请把登录邮箱改为 %(new)s。确认之前仍使用本邮箱登录。\n"
                 "如非本人操作，请立即修改密码（这会取消这次更改）并联系平台管理员。", new=masked_email(new_email)))
    session.flush()


def find_email_change(session: Session, user: User, token: str) -> EmailChangeLink | None:
    """The user's own unused, unexpired link for this token, or None."""
    link = session.scalar(select(EmailChangeLink).where(EmailChangeLink.token_hash == token_digest(token)))
    if link is None or link.user_id != user.id or link.used_at is not None or link.expires_at < utcnow():
        return None
    return link


def confirm_email_change(session: Session, user: User, token: str, *, keep_session: str | None) -> str:
    """Make the link's address the login e-mail; the user's other sessions, pending links and unused password-reset
    links end, and the old address is told. Returns the old address."""
    link = find_email_change(session, user, token)
    if link is None:
        raise ValidationError(_("确认链接无效或已过期，请重新申请更改邮箱。"))
    if find_user_by_email(session, link.new_email) is not None:
        raise ValidationError(_("该邮箱已被其他账号使用，无法更改。"))
    old_email = user.email
    user.email = link.new_email
    void_mailed_links(session, user)
    revoke_sessions(session, user, except_token=keep_session)
    queue_mail(session, old_email, _("登录邮箱已更改"),
               _("您的晋创谷账号的登录邮箱已改为 %(new)s，本邮箱不再用于登录。如非本人操作，请立即联系平台管理员。",
                 new=masked_email(link.new_email)))
    session.flush()
    audit.info("email changed user_id=%s", user.id)
    return old_email
