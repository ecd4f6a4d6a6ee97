"""What a deal means for its achievement's rights: the counterparties who may read the confidential part, and licensing
again after an outright transfer (转让), which only the owner may confirm, warned first."""
import logging

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from market.accounts.models import User
from market.deals.models import Deal, DealIntermediary, DealStage
from market.errors import InvalidStateError
from market.listings import access
from market.listings import services as listings
from market.listings.models import GrantSource
from market.listings.vocabulary import TransferMode

audit = logging.getLogger("market.audit")

TRANSFERRED_STAGES = (DealStage.SIGNED, DealStage.REGISTERED, DealStage.PERFORMANCE, DealStage.COMPLETED)
"""From signing on, a deal in the 转让 mode has passed the rights to its transferee."""


def outright_transfer(session: Session, achievement) -> Deal | None:
    """The latest deal that transferred the achievement outright (mode 转让, signed or later), or None."""
    if achievement is None:
        return None
    return session.scalar(select(Deal).where(Deal.achievement_id == achievement.id,
                                             Deal.mode == TransferMode.ASSIGNMENT,
                                             Deal.stage.in_(TRANSFERRED_STAGES))
                          .order_by(Deal.id.desc()).limit(1))


def require_relicense_confirmation(session: Session, actor: User, achievement, *, owner_side: bool, confirmed,
                                   context: str) -> Deal | None:
    """A new deal on an achievement transferred outright needs its owner's ticked confirmation, which is recorded in
    the achievement's history; without one the step is refused with the warning. Returns the transfer confirmed
    over (None when the achievement was not transferred outright)."""
    transfer = outright_transfer(session, achievement)
    if transfer is None:
        return None
    if not owner_side:
        raise InvalidStateError(_("该成果已通过项目 #%(id)s 整体转让（%(t)s），只有成果所属机构勾选确认后才能再次许可。",
                                  id=transfer.id, t=transfer.transferee.name))
    if confirmed is not True:
        raise InvalidStateError(_("该成果已通过项目 #%(id)s 整体转让给 %(t)s。再次许可前请确认本机构仍有权处分该成果，并勾选确认。",
                                  id=transfer.id, t=transfer.transferee.name))
    listings.record_event(session, achievement, actor, "relicense", achievement.status,
                          comment=_("已确认再次许可（原转让项目 #%(id)s，%(c)s）", id=transfer.id, c=context))
    audit.info("achievement %s licensed again after transfer deal %s, confirmed by user_id=%s (%s)",
               achievement.id, transfer.id, actor.id, context)
    return transfer


def open_to_counterparty(session: Session, deal: Deal, granted_by: User | None, source: GrantSource) -> None:
    """Accepting a round or a response opens the achievement's confidential part to the transferee."""
    if deal.achievement is not None and deal.transferee_id != deal.achievement.organisation_id:
        access.grant_access_for_deal(session, deal.achievement, deal.transferee, source=source, deal_id=deal.id,
                                     granted_by=granted_by)


def open_to_completed_deal(session: Session, deal: Deal, actor: User) -> None:
    """A completed deal keeps the confidential part open for good to its transferee, its broker and intermediaries."""
    achievement = deal.achievement
    if achievement is None:
        return
    if deal.transferee_id != achievement.organisation_id:
        access.grant_access_for_deal(session, achievement, deal.transferee, source=GrantSource.DEAL, deal_id=deal.id,
                                     granted_by=actor, completed=True)
    people = {deal.broker_id} | set(session.scalars(select(DealIntermediary.user_id)
                                                    .where(DealIntermediary.deal_id == deal.id)))
    for user_id in sorted(person for person in people if person is not None):
        person = session.get(User, user_id)
        if person.organisation_id != achievement.organisation_id:
            access.grant_access_for_deal(session, achievement, person, source=GrantSource.DEAL, deal_id=deal.id,
                                         granted_by=actor, completed=True)
