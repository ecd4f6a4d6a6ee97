"""Who may open a listing's confidential part and attachments: the owner's grants to counterparties, each person's
confidentiality acknowledgement before the first look, and revocation."""
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from market.errors import InvalidStateError, NotFoundError, PermissionDeniedError, ValidationError
from market.listings.models import ConfidentialGrant, ConfidentialityAcknowledgement, GrantSource, listing_model
from market.notifications.services import notify
from market.security import can_manage_listing, is_member_of
from market.timeutil import utcnow

if TYPE_CHECKING:
    from market.listings.services import Actor

audit = logging.getLogger("market.audit")


class Grantee(Protocol):
    """An accounts Organisation (then its approved members) or User (that person); listings name neither class."""

    id: int


CONFIDENTIALITY_STATEMENT_VERSION = "2026-12"
"""The version of the confidentiality statement a grantee accepts; a new wording gets a new version and asks again."""


def _covers(grant: ConfidentialGrant, user) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if grant.user_id is not None:
        return grant.user_id == user.id
    return is_member_of(user, grant.organisation_id)


def _active_grants(session: Session, listing) -> list[ConfidentialGrant]:
    return list(session.scalars(select(ConfidentialGrant).where(
        ConfidentialGrant.listing_kind == listing.kind, ConfidentialGrant.listing_id == listing.id,
        ConfidentialGrant.revoked_at.is_(None)).order_by(ConfidentialGrant.id)))


def grants_for_user(session: Session, user, listing) -> list[ConfidentialGrant]:
    """The active grants on the listing that cover the user (as the person named or a member of the organisation)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    return [grant for grant in _active_grants(session, listing) if _covers(grant, user)]


def _has_acknowledged(session: Session, grant: ConfidentialGrant, user) -> bool:
    return session.scalar(select(ConfidentialityAcknowledgement.id).where(
        ConfidentialityAcknowledgement.grant_id == grant.id, ConfidentialityAcknowledgement.user_id == user.id,
        ConfidentialityAcknowledgement.statement_version == CONFIDENTIALITY_STATEMENT_VERSION)) is not None


@dataclass(frozen=True)
class ConfidentialStanding:
    """Whether a viewer may open a listing's confidential part, and the grant still waiting for their acceptance."""

    can_open: bool
    awaiting: ConfidentialGrant | None = None


def confidential_standing(session: Session, user, listing) -> ConfidentialStanding:
    """The owner's members and admins may open it; a grantee's person once they accepted the current confidentiality
    statement (until then the first grant covering them waits for the acceptance)."""
    if can_manage_listing(user, listing):
        return ConfidentialStanding(True)
    grants = grants_for_user(session, user, listing)
    if any(_has_acknowledged(session, grant, user) for grant in grants):
        return ConfidentialStanding(True)
    return ConfidentialStanding(False, grants[0] if grants else None)


def can_open_confidential(session: Session, user, listing) -> bool:
    """Whether the user may open the listing's confidential part and attachments (see confidential_standing)."""
    return confidential_standing(session, user, listing).can_open


def _is_organisation(grantee) -> bool:
    return getattr(grantee, "__tablename__", None) == "organisations"


def _grant(session: Session, granted_by: "Actor | None", listing, grantee: Grantee, *,
           source: GrantSource, deal_id: int | None, irrevocable: bool) -> ConfidentialGrant:
    if _is_organisation(grantee):
        if grantee.id == listing.organisation_id:
            raise InvalidStateError(_("本机构无需授权即可查看保密信息。"))
        match = [grant for grant in _active_grants(session, listing) if grant.organisation_id == grantee.id]
        values = {"organisation_id": grantee.id}
        members = [person.id for person in grantee.members if person.is_approved_member and person.is_active_account]
    else:
        match = [grant for grant in _active_grants(session, listing) if grant.user_id == grantee.id]
        values = {"user_id": grantee.id}
        members = [grantee.id]
    if match:
        grant = match[0]
        grant.irrevocable = grant.irrevocable or irrevocable
        session.flush()
        return grant
    grant = ConfidentialGrant(listing_kind=listing.kind, listing_id=listing.id, source=GrantSource(source),
                              deal_id=deal_id, irrevocable=irrevocable,
                              granted_by_id=granted_by.id if granted_by else None, **values)
    session.add(grant)
    session.flush()
    for user_id in members:
        notify(session, user_id, "confidential_granted", _("可查看保密信息：%(t)s", t=listing.title),
               body=_("确认保密声明后即可查看保密信息和附件。"), link=listing_path(listing))
    audit.info("confidential access to %s %s granted to %s by user_id=%s (%s)", listing.kind, listing.id,
               values, granted_by.id if granted_by else None, source)
    return grant


def grant_confidential_access(session: Session, actor: "Actor", listing, grantee: Grantee, *,
                              source: GrantSource | str, deal_id: int | None = None) -> ConfidentialGrant:
    """The listing's owner (a member, or an admin) opens the confidential part and attachments to an organisation or a
    person; granting again what is already open returns the open grant."""
    if not can_manage_listing(actor, listing):
        raise PermissionDeniedError(_("只有信息所属机构可以开放保密信息。"))
    return _grant(session, actor, listing, grantee, source=GrantSource(source), deal_id=deal_id, irrevocable=False)


def grant_access_for_deal(session: Session, listing, grantee: Grantee, *, source: GrantSource | str,
                          deal_id: int, granted_by: "Actor | None", completed: bool = False) -> ConfidentialGrant:
    """The grant a deal step makes under the owner's agreement to it (an accepted round or response, a completed deal,
    whose parties and brokers keep the access for good)."""
    return _grant(session, granted_by, listing, grantee, source=GrantSource(source), deal_id=deal_id,
                  irrevocable=completed)


def _grant_for(session: Session, grant_id: int) -> tuple[ConfidentialGrant, object]:
    grant = session.get(ConfidentialGrant, grant_id)
    listing = session.get(listing_model(grant.listing_kind), grant.listing_id) if grant is not None else None
    if grant is None or listing is None:
        raise NotFoundError(_("该授权不存在。"))
    return grant, listing


def acknowledge_confidentiality(session: Session, actor: "Actor", listing, *, accepted) -> ConfidentialityAcknowledgement:
    """A grantee's person accepts the confidentiality statement (ticked), which opens the confidential part to them."""
    standing = confidential_standing(session, actor, listing)
    grant = standing.awaiting
    if grant is None:
        if standing.can_open:
            raise InvalidStateError(_("您已确认保密声明。"))
        raise PermissionDeniedError(_("信息所属机构尚未向您开放保密信息。"))
    if accepted is not True:
        raise ValidationError(_("请先阅读并勾选保密声明。"), {"accepted": _("请勾选“我已阅读并同意保密声明”。")})
    acknowledgement = ConfidentialityAcknowledgement(grant_id=grant.id, user_id=actor.id,
                                                     statement_version=CONFIDENTIALITY_STATEMENT_VERSION,
                                                     acknowledged_at=utcnow())
    session.add(acknowledgement)
    session.flush()
    audit.info("confidentiality statement %s accepted by user_id=%s for grant %s", CONFIDENTIALITY_STATEMENT_VERSION,
               actor.id, grant.id)
    return acknowledgement


def revoke_confidential_access(session: Session, actor: "Actor", grant_id: int) -> ConfidentialGrant:
    """The owner takes a grant back (not one a completed deal made lasting; an admin may)."""
    grant, listing = _grant_for(session, grant_id)
    if not can_manage_listing(actor, listing):
        raise NotFoundError(_("该授权不存在。"))
    if not grant.is_active:
        raise InvalidStateError(_("该授权已撤销。"))
    if grant.irrevocable and not actor.is_admin:
        raise InvalidStateError(_("成交项目的双方和经纪人可长期查看保密信息，不能撤销。"))
    grant.revoked_at, grant.revoked_by_id = utcnow(), actor.id
    session.flush()
    audit.info("confidential access grant %s revoked by user_id=%s", grant.id, actor.id)
    return grant


def list_grants(session: Session, actor: "Actor", listing) -> list[ConfidentialGrant]:
    """Every grant on the listing, open ones first, for its owner and admins."""
    if not can_manage_listing(actor, listing):
        return []
    grants = session.scalars(select(ConfidentialGrant).where(
        ConfidentialGrant.listing_kind == listing.kind, ConfidentialGrant.listing_id == listing.id)
        .order_by(ConfidentialGrant.id))
    return sorted(grants, key=lambda grant: (not grant.is_active, grant.id))


def listing_path(listing) -> str:
    """The detail page of a listing."""
    return f"/{'achievements' if listing.kind == 'achievement' else 'demands'}/{listing.id}"
