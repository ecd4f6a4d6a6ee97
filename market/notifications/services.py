"""In-app notifications: create (with the notification mail when its kind is mailed), list, mark read; the mails a
user receives."""
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from market.accounts import services as accounts
from market.accounts.models import User
from market.accounts.services import membership_decided
from market.declared import validate_input
from market.errors import ValidationError
from market.links import absolute_link, external_url
from market.notifications.categories import OPTIONAL_CATEGORIES, MailCategory, mail_category
from market.notifications.inputs import MailSettingsInput
from market.notifications.models import MailOptOut, Notification
from market.timeutil import utcnow


def notify(session: Session, user_id: int, kind: str, title, *, body="", link: str = "") -> Notification:
    """Add a notification to the caller's transaction (the caller commits) and, when its kind is mailed and the user
    has not turned that mail off, its mail to the outbox in the same transaction (never to a demo account). Lazy texts (`_l`) are rendered in
    the recipient's language."""
    user = session.get(User, user_id)
    with force_locale(recipient_locale(user)):
        title, body = str(title)[:200], str(body)
        notification = Notification(user_id=user_id, kind=kind, title=title, body=body, link=link)
        session.add(notification)
        category = mail_category(kind)
        if category is not None and _mailable(user) and wants_mail(session, user, category):
            accounts.queue_mail(session, user.email, title, _mail_body(title, body, link, category))
    return notification


def _mailable(user: User | None) -> bool:
    """Active accounts are mailed; demo accounts (shared, with made-up addresses) never are."""
    return user is not None and user.is_active_account and not user.is_demo


def recipient_locale(user: User | None) -> str:
    """The language a user reads notifications in: the one in the profile, else the site's default (Chinese)."""
    if user is not None and user.locale in current_app.config["LANGUAGES"]:
        return user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _mail_body(title: str, body: str, link: str, category: MailCategory) -> str:
    parts = [title]
    if body:
        parts.append(body)
    if link:
        parts.append(_("查看详情：%(url)s", url=absolute_link(link)))
    if category in OPTIONAL_CATEGORIES:
        parts.append(_("此类邮件可在“邮件通知设置”中关闭：%(url)s", url=external_url("notifications.settings")))
    parts.append(_("晋创谷成果转化平台"))
    return "\n\n".join(parts)


def wants_mail(session: Session, user: User, category: MailCategory) -> bool:
    """Whether the user receives mail of this category (account mail always)."""
    if category not in OPTIONAL_CATEGORIES:
        return True
    return session.scalar(select(MailOptOut.id).where(MailOptOut.user_id == user.id,
                                                      MailOptOut.category == category.value)) is None


def mail_categories_on(session: Session, user: User) -> list[MailCategory]:
    """The optional categories the user receives mail for."""
    off = set(session.scalars(select(MailOptOut.category).where(MailOptOut.user_id == user.id)))
    return [category for category in OPTIONAL_CATEGORIES if category.value not in off]


def set_mail_categories(session: Session, actor: User, data: dict) -> list[MailCategory]:
    """Keep the categories the user ticked and turn the others off; turning off the mails of things awaiting the
    user's action needs the acknowledgement that they will then be shown in-app only."""
    values, errors = validate_input(MailSettingsInput, data)
    if errors:
        raise ValidationError(_("请修改标出的内容。"), dict(errors))
    chosen = set(values.get("categories") or [])
    if (MailCategory.ACTION not in chosen and MailCategory.ACTION in mail_categories_on(session, actor)
            and not values.get("action_off_understood")):
        raise ValidationError(_("请修改标出的内容。"), {
            "action_off_understood": _("关闭待处理事项的邮件前，请确认您已了解：之后只能在站内通知中看到需要您确认或答复的事项。")})
    session.execute(delete(MailOptOut).where(MailOptOut.user_id == actor.id))
    session.add_all(MailOptOut(user_id=actor.id, category=category.value)
                    for category in OPTIONAL_CATEGORIES if category not in chosen)
    session.flush()
    return [category for category in OPTIONAL_CATEGORIES if category in chosen]


def list_notifications(session: Session, user: User, limit: int = 100) -> list[Notification]:
    """The user's notifications, newest first."""
    return list(session.scalars(select(Notification).where(Notification.user_id == user.id)
                                .order_by(Notification.id.desc()).limit(limit)))


def count_unread(session: Session, user: User) -> int:
    """How many notifications the user has not read."""
    return session.scalar(select(func.count()).select_from(Notification)
                          .where(Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def mark_all_read(session: Session, user: User) -> None:
    """Mark every notification of the user as read."""
    session.execute(update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
                    .values(read_at=utcnow()))
    session.flush()


def tell_membership_decision(session: Session, *, user: User, approved: bool) -> None:
    """The applicant is told of the membership decision, in-app and by mail."""
    if approved:
        notify(session, user.id, "membership_approved", _l("您的账户已审核通过"),
               body=_l("您现在可以代表所属机构使用平台的全部功能。"), link="/profile")
    else:
        notify(session, user.id, "membership_refused", _l("您的账户审核未通过"), body=_l("如有疑问，请联系平台运营。"),
               link="/profile")


membership_decided.connect(tell_membership_decision)
