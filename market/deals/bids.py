"""Bids with counter-offer versions; accepting one opens a deal."""
import logging

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from market.accounts.models import (
    Role,
    User,
)
from market.achievements.models import Achievement
from market.deals import achievement_rights
from market.deals.inputs import BidRoundInput, DeclineInput
from market.deals.labels import BID_STATUS_LABELS, decline_text
from market.deals.models import (
    Bid,
    BidSide,
    BidStatus,
    BidVersion,
    Deal,
)
from market.deals.permissions import bid_side, can_view_bid
from market.deals.recording import (
    bid_link,
    deal_link,
    member_ids,
    notify_all,
    open_deal,
    raise_if_errors,
    require_approved,
)
from market.declared import validate_input
from market.errors import (
    InvalidStateError,
    NotFoundError,
    PermissionDeniedError,
)
from market.listings.models import GrantSource
from market.listings.vocabulary import label
from market.timeutil import utcnow

audit = logging.getLogger("market.audit")

def get_bid(session: Session, actor: User | None, bid_id: int) -> Bid:
    """A bid visible to the actor (both sides and admins), or NotFoundError."""
    bid = session.get(Bid, bid_id)
    if bid is None or not can_view_bid(actor, bid):
        raise NotFoundError(_("报价不存在或您无权查看。"))
    return bid


def _bid_other_side_members(session: Session, bid: Bid, side: BidSide) -> list[int]:
    other = bid.achievement.organisation_id if side == BidSide.BUYER else bid.bidder_organisation_id
    return member_ids(session, other)


def _clean_round(achievement: Achievement, amount_fen, mode, message) -> tuple:
    values, errors = validate_input(BidRoundInput, {"amount_fen": amount_fen, "mode": mode, "message": message})
    chosen = values.get("mode")
    if chosen is not None and achievement.modes and chosen not in achievement.modes:
        errors.add("mode", _("该成果不提供“%(m)s”方式，可选：%(all)s。", m=label(chosen),
                             all="、".join(label(m) for m in achievement.modes)))
    raise_if_errors(errors)
    return values["amount_fen"], chosen, values["message"]


def place_bid(session: Session, actor: User, achievement_id: int, *, amount_fen, mode, message="") -> Bid:
    """An enterprise user offers an amount and a transfer mode for a published achievement (round 1)."""
    achievement = session.get(Achievement, achievement_id)
    if achievement is None or not achievement.is_public:
        raise NotFoundError(_("该成果不存在或尚未发布。"))
    if actor.role != Role.ENTERPRISE:
        raise PermissionDeniedError(_("只有企业用户可以对成果报价。"))
    require_approved(actor)
    if actor.organisation_id == achievement.organisation_id:
        raise PermissionDeniedError(_("不能对本机构的成果报价。"))
    amount, chosen, text = _clean_round(achievement, amount_fen, mode, message)
    existing = session.scalar(select(Bid.id).where(Bid.achievement_id == achievement.id,
                                                   Bid.bidder_organisation_id == actor.organisation_id,
                                                   Bid.status == BidStatus.OPEN))
    if existing is not None:
        raise InvalidStateError(_("贵机构对该成果已有进行中的报价，请在原报价中继续协商。"))
    bid = Bid(achievement_id=achievement.id, bidder_organisation_id=actor.organisation_id, bidder_id=actor.id)
    bid.versions.append(BidVersion(number=1, side=BidSide.BUYER, author_id=actor.id, amount_fen=amount,
                                   mode=chosen, message=text))
    session.add(bid)
    session.flush()
    notify_all(session, member_ids(session, achievement.organisation_id), actor, "bid_received",
                _("收到报价：%(t)s", t=achievement.title), bid_link(bid), body=text)
    session.flush()
    audit.info("bid %s placed on achievement %s by user_id=%s", bid.id, achievement.id, actor.id)
    return bid


def _open_bid_for(session: Session, actor: User, bid_id: int) -> tuple[Bid, BidSide]:
    bid = get_bid(session, actor, bid_id)
    side = bid_side(actor, bid)
    if side is None:
        raise PermissionDeniedError(_("只有报价双方可以操作。"))
    if bid.status != BidStatus.OPEN:
        raise InvalidStateError(_("该报价已结束（%(s)s）。", s=BID_STATUS_LABELS[BidStatus(bid.status)]))
    return bid, side


def counter_bid(session: Session, actor: User, bid_id: int, *, amount_fen, mode, message="") -> BidVersion:
    """Answer the other side's latest round with a counter-offer (a new round)."""
    bid, side = _open_bid_for(session, actor, bid_id)
    if bid.latest.side == side:
        raise InvalidStateError(_("最新一轮是您方提出的，请等待对方答复。"))
    amount, chosen, text = _clean_round(bid.achievement, amount_fen, mode, message)
    version = BidVersion(bid_id=bid.id, number=bid.latest.number + 1, side=side, author_id=actor.id,
                         amount_fen=amount, mode=chosen, message=text)
    bid.versions.append(version)
    bid.updated_at = utcnow()
    notify_all(session, _bid_other_side_members(session, bid, side), actor, "bid_countered",
                _("对方提出了新的报价：%(t)s", t=bid.achievement.title), bid_link(bid), body=text)
    session.flush()
    return version


def accept_bid(session: Session, actor: User, bid_id: int, *, version_number: int, confirm_relicense=False) -> Deal:
    """The other side accepts the latest round; this opens exactly one deal in the intent stage and opens the
    achievement's confidential part to the bidder. On an achievement transferred outright only its owner may accept,
    confirming the new licence (`confirm_relicense`)."""
    bid, side = _open_bid_for(session, actor, bid_id)
    latest = bid.latest
    if type(version_number) is not int or version_number != latest.number:
        raise InvalidStateError(_("报价已有新的一轮，请查看最新报价后再决定。"))
    if latest.side == side:
        raise InvalidStateError(_("不能接受您方自己提出的报价，需由对方接受。"))
    achievement_rights.require_relicense_confirmation(session, actor, bid.achievement, owner_side=side == BidSide.OWNER,
                                                      confirmed=confirm_relicense, context=_("报价 #%(id)s", id=bid.id))
    claimed = session.execute(update(Bid).where(Bid.id == bid.id, Bid.status == BidStatus.OPEN)
                              .values(status=BidStatus.ACCEPTED, updated_at=utcnow())
                              .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise InvalidStateError(_("该报价已被处理，不能重复接受。"))
    achievement = bid.achievement
    deal = open_deal(session, actor, code="bid_accepted", params={"round": latest.number}, title=achievement.title[:200],
                     achievement_id=achievement.id, bid_id=bid.id, transferor_id=achievement.organisation_id,
                     transferee_id=bid.bidder_organisation_id, mode=latest.mode, agreed_amount_fen=latest.amount_fen)
    achievement_rights.open_to_counterparty(session, deal, actor if side == BidSide.OWNER else latest.author,
                                            GrantSource.BID)
    notify_all(session, _bid_other_side_members(session, bid, side), actor, "bid_accepted",
                _("报价已被接受：%(t)s", t=achievement.title), deal_link(deal))
    session.flush()
    session.refresh(bid)
    audit.info("bid %s accepted by user_id=%s, deal %s opened", bid.id, actor.id, deal.id)
    return deal


def decline_bid(session: Session, actor: User, bid_id: int, *, reason, note=None) -> Bid:
    """The achievement's owner declines an open bid with a reason from the list (and a note), shown to the bidder."""
    bid, side = _open_bid_for(session, actor, bid_id)
    if side != BidSide.OWNER:
        raise PermissionDeniedError(_("只有成果所属机构可以拒绝报价；报价方可以撤回。"))
    values, errors = validate_input(DeclineInput, {"reason": reason, "note": note})
    raise_if_errors(errors)
    bid.status, bid.updated_at = BidStatus.DECLINED, utcnow()
    bid.decline_reason, bid.decline_note = values["reason"], values["note"] or ""
    notify_all(session, member_ids(session, bid.bidder_organisation_id), actor, "bid_declined",
                _("报价未被接受：%(t)s", t=bid.achievement.title), bid_link(bid),
                body=decline_text(bid.decline_reason, bid.decline_note))
    session.flush()
    return bid


def withdraw_bid(session: Session, actor: User, bid_id: int) -> Bid:
    """The bidder withdraws an open bid."""
    bid, side = _open_bid_for(session, actor, bid_id)
    if side != BidSide.BUYER:
        raise PermissionDeniedError(_("只有报价方可以撤回报价。"))
    bid.status, bid.updated_at = BidStatus.WITHDRAWN, utcnow()
    notify_all(session, member_ids(session, bid.achievement.organisation_id), actor, "bid_withdrawn",
                _("报价已撤回：%(t)s", t=bid.achievement.title), bid_link(bid))
    session.flush()
    return bid
