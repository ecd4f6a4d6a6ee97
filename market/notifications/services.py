"""In-app notifications: create, list, mark read."""
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from market.accounts.models import User
from market.notifications.models import Notification
from market.timeutil import utcnow


def notify(session: Session, user_id: int, kind: str, title: str, *, body: str = "", link: str = "") -> Notification:
    """Add a notification to the caller's transaction (the caller commits)."""
    notification = Notification(user_id=user_id, kind=kind, title=title[:200], body=body, link=link)
    session.add(notification)
    return notification


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
