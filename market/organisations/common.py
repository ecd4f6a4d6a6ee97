"""What the verification and residency services share: finding the organisation and telling its members."""
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from market.accounts.models import ApprovalStatus, Organisation, User
from market.errors import NotFoundError
from market.notifications.services import notify


def get_organisation(session: Session, organisation_id: int) -> Organisation:
    """The organisation, or NotFoundError."""
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFoundError(_("机构不存在。"))
    return organisation


def verification_path(organisation_id: int) -> str:
    """The organisation's verification page (for notification links)."""
    return f"/organisations/{organisation_id}/verification"


def notify_members(session: Session, organisation: Organisation, kind: str, title: str, *, body: str = "") -> None:
    """Tell every approved, active member of the organisation, with a link to its verification page."""
    members = session.scalars(select(User.id).where(User.organisation_id == organisation.id,
                                                    User.membership_status == ApprovalStatus.APPROVED,
                                                    User.is_active_account.is_(True)).order_by(User.id))
    for user_id in members:
        notify(session, user_id, kind, title, body=body, link=verification_path(organisation.id))


def list_organisations(session: Session, *, name_contains: str = "") -> list[Organisation]:
    """Every organisation (for the admin's list), by name, optionally those whose name contains a text."""
    query = select(Organisation).order_by(Organisation.name)
    if name_contains:
        query = query.where(Organisation.name.contains(name_contains, autoescape=True))
    return list(session.scalars(query))
