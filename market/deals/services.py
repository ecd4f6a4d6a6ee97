"""Bids with counter-offers, responses to demands, and the deal pipeline: who may do what, and what each step records."""
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, aliased, selectinload

from market.accounts.models import (
    ApprovalStatus,
    Organisation,
    OrganisationKind,
    Role,
    User,
)
from market.achievements.models import Achievement
from market.deals import payments
from market.deals.forms import percent_text
from market.deals.models import (
    PIPELINE,
    Bid,
    BidSide,
    BidStatus,
    BidVersion,
    Deal,
    DealEvent,
    DealIntermediary,
    DealPayment,
    DealStage,
    DemandResponse,
    ResponseStatus,
)
from market.demands.models import Demand
from market.errors import (
    InvalidStateError,
    NotFoundError,
    PermissionDeniedError,
    RuleViolationError,
    ValidationError,
)
from market.listings import services as listings
from market.listings.validation import FieldErrors, clean_date, clean_id, clean_int, clean_text
from market.listings.vocabulary import ListingStatus, TransferMode, label
from market.money import BASIS_POINTS, MAX_FEN, format_wan
from market.notifications.services import notify
from market.policy import services as policy
from market.policy.models import Award, AwardStatus
from market.security import is_member_of
from market.taxonomy.models import Field
from market.timeutil import today_in_china, utcnow
from market.unit_of_work import savepoint

audit = logging.getLogger("market.audit")

MAX_INTERMEDIARIES_PER_ACHIEVEMENT = 3
MAX_INTERMEDIARY_ROWS = 3
DEFAULT_NOTICE_DAYS = 15
MAX_NOTICE_DAYS = 90
MAX_MESSAGE_CHARS = 2000
MAX_PROPOSAL_CHARS = 5000
MAX_REASON_CHARS = 1000
EARLIEST_DATE = date(2000, 1, 1)
REGISTRATION_NUMBER = re.compile(r"[A-Z0-9][A-Z0-9-]{3,59}", re.ASCII)
EDITABLE_TERMS_STAGES = (DealStage.INTENT, DealStage.NEGOTIATION, DealStage.PRICING)
BEFORE_REGISTRATION = (DealStage.INTENT, DealStage.NEGOTIATION, DealStage.PRICING, DealStage.NOTICE, DealStage.SIGNED)
BOARD_STAGES = PIPELINE + [DealStage.TERMINATED]

STAGE_LABELS = {
    DealStage.INTENT: _l("意向"),
    DealStage.NEGOTIATION: _l("洽谈"),
    DealStage.PRICING: _l("协议定价"),
    DealStage.NOTICE: _l("公示"),
    DealStage.SIGNED: _l("签约"),
    DealStage.REGISTERED: _l("技术合同登记"),
    DealStage.PERFORMANCE: _l("履约/回款"),
    DealStage.COMPLETED: _l("完成"),
    DealStage.TERMINATED: _l("终止"),
}

EVENT_LABELS = {
    "opened": _l("项目创建"),
    "stage": _l("阶段变更"),
    "terms": _l("修改交易条件"),
    "notice": _l("开始公示"),
    "signed": _l("签约"),
    "registered": _l("技术合同登记"),
    "payment": _l("登记回款"),
    "completed": _l("项目完成"),
    "terminated": _l("项目终止"),
    "intermediaries": _l("修改中介服务信息"),
    "exception": _l("记录中介人数例外"),
    "broker": _l("经纪人变更"),
}

BID_STATUS_LABELS = {
    BidStatus.OPEN: _l("协商中"),
    BidStatus.ACCEPTED: _l("已接受"),
    BidStatus.DECLINED: _l("已拒绝"),
    BidStatus.WITHDRAWN: _l("已撤回"),
}

RESPONSE_STATUS_LABELS = {
    ResponseStatus.OPEN: _l("待处理"),
    ResponseStatus.ACCEPTED: _l("已接受"),
    ResponseStatus.DECLINED: _l("已拒绝"),
    ResponseStatus.WITHDRAWN: _l("已撤回"),
}

AWARD_STATUS_LABELS = {
    AwardStatus.PAYABLE: _l("待审批"),
    AwardStatus.HELD: _l("暂缓（规则未生效）"),
    AwardStatus.WAIVED: _l("不叠加享受"),
    AwardStatus.APPROVED: _l("已审批"),
    AwardStatus.PAID: _l("已发放"),
    AwardStatus.REVERSED: _l("已冲正"),
}

CAP_LABELS = {
    "achievement": _l("单个成果上限"),
    "contract": _l("单个合同上限"),
    "agreement": _l("单个协议上限"),
    "recipient_calendar_year": _l("年度上限"),
    "recipient_rule_set_period": _l("政策期上限"),
    "one_time_per_startup": _l("一次性"),
}
"""How the deal page names the cap that bound an award (the engine's cap scopes)."""

MOVERS = {
    DealStage.NEGOTIATION: {"party"},
    DealStage.PRICING: {"party"},
    DealStage.NOTICE: {"party", "broker"},
    DealStage.SIGNED: {"party", "broker"},
    DealStage.REGISTERED: {"transferor", "broker", "admin"},
    DealStage.COMPLETED: {"transferor", "admin"},
    DealStage.TERMINATED: {"party", "broker", "admin"},
}
"""Who may move a deal into each stage (performance is reached by the first payment only)."""

EDITORS = {"party", "broker"}
"""Who may change a deal's terms and its intermediaries before registration."""


def today() -> date:
    """The current date as the deal services count it (the same clock the payment rules use)."""
    return today_in_china()


# ---------------------------------------------------------------- roles


def deal_roles(user: User | None, deal: Deal) -> set[str]:
    """The roles the user holds in a deal: transferor, transferee, party, broker, intermediary, admin, platform_broker."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return set()
    roles = set()
    if user.is_admin:
        roles.add("admin")
    if is_member_of(user, deal.transferor_id):
        roles |= {"transferor", "party"}
    if is_member_of(user, deal.transferee_id):
        roles |= {"transferee", "party"}
    if user.role == Role.BROKER and user.is_approved_member:
        roles.add("platform_broker")
        if deal.broker_id == user.id:
            roles.add("broker")
    if any(row.user_id == user.id for row in deal.intermediaries):
        roles.add("intermediary")
    return roles


def can_view_deal(user: User | None, deal: Deal) -> bool:
    """Parties, the deal's broker and intermediaries, every approved broker (they track deals) and admins."""
    return bool(deal_roles(user, deal))


def may_move(user: User | None, deal: Deal, target: DealStage) -> bool:
    """Whether the user may move the deal into the target stage (ignoring the current stage)."""
    return bool(MOVERS.get(target, set()) & deal_roles(user, deal))


def next_stage(deal: Deal) -> DealStage | None:
    """The next pipeline stage of an open deal."""
    if not deal.is_open:
        return None
    return PIPELINE[PIPELINE.index(deal.stage) + 1]


@dataclass
class DealPermissions:
    """What the user may do on a deal page right now (the services check the same again)."""

    advance_to: DealStage | None = None
    edit_terms: bool = False
    start_notice: bool = False
    sign: bool = False
    register: bool = False
    complete: bool = False
    terminate: bool = False
    edit_intermediaries: bool = False
    record_exception: bool = False
    claim: bool = False
    assign_broker: bool = False
    record_payment: bool = False

    @property
    def offers_anything(self) -> bool:
        """Whether any action is open to the user."""
        return any(value for value in vars(self).values())


def permissions(user: User | None, deal: Deal) -> DealPermissions:
    """The actions to offer the user on the deal page."""
    roles = deal_roles(user, deal)
    allowed = DealPermissions()
    if not deal.is_open or not roles:
        return allowed
    step = next_stage(deal)
    if step in (DealStage.NEGOTIATION, DealStage.PRICING) and may_move(user, deal, step):
        allowed.advance_to = step
    allowed.edit_terms = deal.stage in EDITABLE_TERMS_STAGES and bool(EDITORS & roles)
    allowed.start_notice = step == DealStage.NOTICE and may_move(user, deal, step)
    allowed.sign = step == DealStage.SIGNED and may_move(user, deal, step)
    allowed.register = step == DealStage.REGISTERED and may_move(user, deal, step)
    allowed.complete = step == DealStage.COMPLETED and may_move(user, deal, step)
    allowed.terminate = may_move(user, deal, DealStage.TERMINATED)
    allowed.edit_intermediaries = deal.stage in BEFORE_REGISTRATION and bool(EDITORS & roles)
    allowed.record_exception = deal.stage in BEFORE_REGISTRATION and "admin" in roles
    allowed.claim = deal.broker_id is None and "platform_broker" in roles
    allowed.assign_broker = "admin" in roles
    allowed.record_payment = (deal.stage in payments.PAYABLE_STAGES and user is not None
                              and payments.may_record_payment(user, deal))
    return allowed


def _require_approved(actor: User) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_approved_member:
        raise PermissionDeniedError(_("您的机构成员身份尚未审核通过。"))


def _members(session: Session, organisation_id: int | None) -> list[int]:
    """Ids of the approved, active members of an organisation."""
    if organisation_id is None:
        return []
    return list(session.scalars(select(User.id).where(User.organisation_id == organisation_id,
                                                      User.membership_status == ApprovalStatus.APPROVED,
                                                      User.is_active_account.is_(True))))


def _notify_all(session: Session, user_ids, actor: User, kind: str, title: str, link: str, body: str = "") -> None:
    for user_id in sorted(set(user_ids) - {actor.id}):
        notify(session, user_id, kind, title, body=body, link=link)


def _raise_if(errors: FieldErrors) -> None:
    if errors:
        raise ValidationError(_("请修改标出的内容。"), dict(errors))


def _clean_amount(errors: FieldErrors, name: str, value, *, required: bool) -> int | None:
    """A positive amount in integer fen (forms convert 万元 text to fen)."""
    if value is None or value == "":
        if required:
            errors.add(name, _("请填写金额。"))
        return None
    if type(value) is not int or not 0 < value <= MAX_FEN:
        errors.add(name, _("金额必须大于零且不超过上限。"))
        return None
    return value


# ---------------------------------------------------------------- bids


def bid_link(bid: Bid) -> str:
    """The page of a bid."""
    return f"/deals/bids/{bid.id}"


def deal_link(deal: Deal) -> str:
    """The page of a deal."""
    return f"/deals/{deal.id}"


def bid_side(user: User | None, bid: Bid) -> BidSide | None:
    """Which side of the bid the user acts for (the buyer's or the achievement owner's), if any."""
    if is_member_of(user, bid.bidder_organisation_id):
        return BidSide.BUYER
    if is_member_of(user, bid.achievement.organisation_id):
        return BidSide.OWNER
    return None


def get_bid(session: Session, actor: User | None, bid_id: int) -> Bid:
    """A bid visible to the actor (both sides and admins), or NotFoundError."""
    bid = session.get(Bid, bid_id)
    if bid is None or not (bid_side(actor, bid) or (actor is not None and getattr(actor, "is_admin", False))):
        raise NotFoundError(_("报价不存在或您无权查看。"))
    return bid


def _bid_other_side_members(session: Session, bid: Bid, side: BidSide) -> list[int]:
    other = bid.achievement.organisation_id if side == BidSide.BUYER else bid.bidder_organisation_id
    return _members(session, other)


def _clean_round(errors: FieldErrors, achievement: Achievement, amount_fen, mode, message) -> tuple:
    amount = _clean_amount(errors, "amount_fen", amount_fen, required=True)
    chosen = None
    if mode in (None, ""):
        errors.add("mode", _("请选择转化方式。"))
    else:
        try:
            chosen = TransferMode(mode)
        except (ValueError, TypeError):
            errors.add("mode", _("无效的选项。"))
        else:
            if achievement.modes and chosen not in achievement.modes:
                errors.add("mode", _("该成果不提供“%(m)s”方式，可选：%(all)s。", m=label(chosen),
                                     all="、".join(label(m) for m in achievement.modes)))
                chosen = None
    text = clean_text(errors, "message", message, max_len=MAX_MESSAGE_CHARS)
    return amount, chosen, text


def place_bid(session: Session, actor: User, achievement_id: int, *, amount_fen, mode, message="") -> Bid:
    """An enterprise user offers an amount and a transfer mode for a published achievement (round 1)."""
    achievement = session.get(Achievement, achievement_id)
    if achievement is None or not achievement.is_public:
        raise NotFoundError(_("该成果不存在或尚未发布。"))
    if actor.role != Role.ENTERPRISE:
        raise PermissionDeniedError(_("只有企业用户可以对成果报价。"))
    _require_approved(actor)
    if actor.organisation_id == achievement.organisation_id:
        raise PermissionDeniedError(_("不能对本机构的成果报价。"))
    errors = FieldErrors()
    amount, chosen, text = _clean_round(errors, achievement, amount_fen, mode, message)
    _raise_if(errors)
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
    _notify_all(session, _members(session, achievement.organisation_id), actor, "bid_received",
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
    errors = FieldErrors()
    amount, chosen, text = _clean_round(errors, bid.achievement, amount_fen, mode, message)
    _raise_if(errors)
    version = BidVersion(bid_id=bid.id, number=bid.latest.number + 1, side=side, author_id=actor.id,
                         amount_fen=amount, mode=chosen, message=text)
    bid.versions.append(version)
    bid.updated_at = utcnow()
    _notify_all(session, _bid_other_side_members(session, bid, side), actor, "bid_countered",
                _("对方提出了新的报价：%(t)s", t=bid.achievement.title), bid_link(bid), body=text)
    session.flush()
    return version


def accept_bid(session: Session, actor: User, bid_id: int, *, version_number: int) -> Deal:
    """The other side accepts the latest round; this opens exactly one deal in the intent stage."""
    bid, side = _open_bid_for(session, actor, bid_id)
    latest = bid.latest
    if type(version_number) is not int or version_number != latest.number:
        raise InvalidStateError(_("报价已有新的一轮，请查看最新报价后再决定。"))
    if latest.side == side:
        raise InvalidStateError(_("不能接受您方自己提出的报价，需由对方接受。"))
    claimed = session.execute(update(Bid).where(Bid.id == bid.id, Bid.status == BidStatus.OPEN)
                              .values(status=BidStatus.ACCEPTED, updated_at=utcnow())
                              .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise InvalidStateError(_("该报价已被处理，不能重复接受。"))
    achievement = bid.achievement
    deal = Deal(title=achievement.title[:200], achievement_id=achievement.id, bid_id=bid.id,
                transferor_id=achievement.organisation_id, transferee_id=bid.bidder_organisation_id,
                stage=DealStage.INTENT, mode=latest.mode, agreed_amount_fen=latest.amount_fen)
    session.add(deal)
    session.flush()
    session.add(DealEvent(deal_id=deal.id, actor_id=actor.id, action="opened", to_stage=DealStage.INTENT,
                          note=_("接受第 %(n)s 轮报价", n=latest.number)))
    _notify_all(session, _bid_other_side_members(session, bid, side), actor, "bid_accepted",
                _("报价已被接受：%(t)s", t=achievement.title), deal_link(deal))
    session.flush()
    session.refresh(bid)
    audit.info("bid %s accepted by user_id=%s, deal %s opened", bid.id, actor.id, deal.id)
    return deal


def decline_bid(session: Session, actor: User, bid_id: int) -> Bid:
    """The achievement's owner declines an open bid."""
    bid, side = _open_bid_for(session, actor, bid_id)
    if side != BidSide.OWNER:
        raise PermissionDeniedError(_("只有成果所属机构可以拒绝报价；报价方可以撤回。"))
    bid.status, bid.updated_at = BidStatus.DECLINED, utcnow()
    _notify_all(session, _members(session, bid.bidder_organisation_id), actor, "bid_declined",
                _("报价未被接受：%(t)s", t=bid.achievement.title), bid_link(bid))
    session.flush()
    return bid


def withdraw_bid(session: Session, actor: User, bid_id: int) -> Bid:
    """The bidder withdraws an open bid."""
    bid, side = _open_bid_for(session, actor, bid_id)
    if side != BidSide.BUYER:
        raise PermissionDeniedError(_("只有报价方可以撤回报价。"))
    bid.status, bid.updated_at = BidStatus.WITHDRAWN, utcnow()
    _notify_all(session, _members(session, bid.achievement.organisation_id), actor, "bid_withdrawn",
                _("报价已撤回：%(t)s", t=bid.achievement.title), bid_link(bid))
    session.flush()
    return bid


# ---------------------------------------------------------------- responses to demands


def response_link(response: DemandResponse) -> str:
    """The page of a response."""
    return f"/deals/responses/{response.id}"


def response_side(user: User | None, response: DemandResponse) -> str | None:
    """'responder' or 'demand' for members of either organisation."""
    if is_member_of(user, response.responder_organisation_id):
        return "responder"
    if is_member_of(user, response.demand.organisation_id):
        return "demand"
    return None


def get_response(session: Session, actor: User | None, response_id: int) -> DemandResponse:
    """A response visible to the actor (both organisations and admins), or NotFoundError."""
    response = session.get(DemandResponse, response_id)
    if response is None or not (response_side(actor, response) or (actor is not None and getattr(actor, "is_admin", False))):
        raise NotFoundError(_("响应不存在或您无权查看。"))
    return response


def respondable_achievements(session: Session, actor: User) -> list[Achievement]:
    """The published achievements of the actor's organisation a response may name."""
    if actor.organisation_id is None:
        return []
    return list(session.scalars(select(Achievement).where(Achievement.organisation_id == actor.organisation_id,
                                                          Achievement.status == ListingStatus.PUBLISHED)
                                .order_by(Achievement.title)))


def respond_to_demand(session: Session, actor: User, demand_id: int, *, proposal, amount_fen=None,
                      achievement_id=None) -> DemandResponse:
    """A researcher answers (揭榜) a published demand with a proposal, optionally naming an achievement."""
    demand = session.get(Demand, demand_id)
    if demand is None or not demand.is_public:
        raise NotFoundError(_("该需求不存在或尚未发布。"))
    if actor.role != Role.RESEARCHER:
        raise PermissionDeniedError(_("只有科研人员可以响应技术需求。"))
    _require_approved(actor)
    if actor.organisation_id == demand.organisation_id:
        raise PermissionDeniedError(_("不能响应本机构的需求。"))
    errors = FieldErrors()
    text = clean_text(errors, "proposal", proposal, max_len=MAX_PROPOSAL_CHARS, required=True)
    amount = _clean_amount(errors, "amount_fen", amount_fen, required=False)
    achievement = None
    chosen_id = clean_id(errors, "achievement_id", achievement_id, message=_("请选择本机构已发布的成果。"))
    if chosen_id is not None:
        achievement = session.get(Achievement, chosen_id)
        if (achievement is None or achievement.organisation_id != actor.organisation_id
                or achievement.status != ListingStatus.PUBLISHED):
            errors.add("achievement_id", _("请选择本机构已发布的成果。"))
            achievement = None
    _raise_if(errors)
    existing = session.scalar(select(DemandResponse.id).where(
        DemandResponse.demand_id == demand.id, DemandResponse.responder_organisation_id == actor.organisation_id,
        DemandResponse.status == ResponseStatus.OPEN))
    if existing is not None:
        raise InvalidStateError(_("贵机构已响应该需求，请等待需求方处理。"))
    response = DemandResponse(demand_id=demand.id, responder_organisation_id=actor.organisation_id,
                              responder_id=actor.id, achievement_id=achievement.id if achievement else None,
                              proposal=text, amount_fen=amount)
    session.add(response)
    session.flush()
    _notify_all(session, _members(session, demand.organisation_id), actor, "response_received",
                _("收到揭榜响应：%(t)s", t=demand.title), response_link(response))
    session.flush()
    audit.info("response %s to demand %s by user_id=%s", response.id, demand.id, actor.id)
    return response


def _open_response_for(session: Session, actor: User, response_id: int, side: str) -> DemandResponse:
    response = get_response(session, actor, response_id)
    if response_side(actor, response) != side:
        message = _("只有需求方可以处理响应。") if side == "demand" else _("只有响应方可以撤回响应。")
        raise PermissionDeniedError(message)
    if response.status != ResponseStatus.OPEN:
        raise InvalidStateError(_("该响应已处理（%(s)s）。", s=RESPONSE_STATUS_LABELS[ResponseStatus(response.status)]))
    return response


def accept_response(session: Session, actor: User, response_id: int) -> Deal:
    """The demand's organisation accepts a response; this opens exactly one deal in the intent stage."""
    response = _open_response_for(session, actor, response_id, "demand")
    claimed = session.execute(update(DemandResponse)
                              .where(DemandResponse.id == response.id, DemandResponse.status == ResponseStatus.OPEN)
                              .values(status=ResponseStatus.ACCEPTED).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise InvalidStateError(_("该响应已被处理，不能重复接受。"))
    demand = response.demand
    deal = Deal(title=demand.title[:200], demand_id=demand.id, response_id=response.id,
                achievement_id=response.achievement_id, transferor_id=response.responder_organisation_id,
                transferee_id=demand.organisation_id, stage=DealStage.INTENT, agreed_amount_fen=response.amount_fen,
                mode=demand.modes[0] if len(demand.modes) == 1 else None)
    session.add(deal)
    session.flush()
    session.add(DealEvent(deal_id=deal.id, actor_id=actor.id, action="opened", to_stage=DealStage.INTENT,
                          note=_("接受揭榜响应")))
    _notify_all(session, _members(session, response.responder_organisation_id), actor, "response_accepted",
                _("揭榜响应已被接受：%(t)s", t=demand.title), deal_link(deal))
    session.flush()
    session.refresh(response)
    audit.info("response %s accepted by user_id=%s, deal %s opened", response.id, actor.id, deal.id)
    return deal


def decline_response(session: Session, actor: User, response_id: int) -> DemandResponse:
    """The demand's organisation declines a response."""
    response = _open_response_for(session, actor, response_id, "demand")
    response.status = ResponseStatus.DECLINED
    _notify_all(session, _members(session, response.responder_organisation_id), actor, "response_declined",
                _("揭榜响应未被接受：%(t)s", t=response.demand.title), response_link(response))
    session.flush()
    return response


def withdraw_response(session: Session, actor: User, response_id: int) -> DemandResponse:
    """The responder withdraws an open response."""
    response = _open_response_for(session, actor, response_id, "responder")
    response.status = ResponseStatus.WITHDRAWN
    _notify_all(session, _members(session, response.demand.organisation_id), actor, "response_withdrawn",
                _("揭榜响应已撤回：%(t)s", t=response.demand.title), response_link(response))
    session.flush()
    return response


# ---------------------------------------------------------------- the deal pipeline


def get_deal(session: Session, actor: User | None, deal_id: int) -> Deal:
    """A deal the actor may see, or NotFoundError (it looks absent to everyone else)."""
    deal = session.get(Deal, deal_id)
    if deal is None or not can_view_deal(actor, deal):
        raise NotFoundError(_("项目不存在或您无权查看。"))
    return deal


def _deal_for_move(session: Session, actor: User, deal_id: int, target: DealStage) -> Deal:
    """Load a deal and check the actor may move it into target from its current stage."""
    deal = get_deal(session, actor, deal_id)
    if not may_move(actor, deal, target):
        raise PermissionDeniedError(_("您无权将项目推进到“%(s)s”阶段。", s=STAGE_LABELS[target]))
    if not deal.is_open:
        raise InvalidStateError(_("项目已%(s)s，不能再变更。", s=STAGE_LABELS[DealStage(deal.stage)]))
    if target != DealStage.TERMINATED and next_stage(deal) != target:
        raise InvalidStateError(_("项目当前处于“%(now)s”阶段，不能进入“%(to)s”阶段。",
                                  now=STAGE_LABELS[DealStage(deal.stage)], to=STAGE_LABELS[target]))
    return deal


def _involved(session: Session, deal: Deal) -> list[int]:
    """Everyone who follows a deal: both parties' members, its broker and intermediaries."""
    people = _members(session, deal.transferor_id) + _members(session, deal.transferee_id)
    people += [row.user_id for row in deal.intermediaries]
    if deal.broker_id:
        people.append(deal.broker_id)
    return people


def _record(session: Session, deal: Deal, actor: User, action: str, previous: str | None = None, note: str = "",
            notify_title: str | None = None) -> None:
    """Append a timeline event and tell everyone involved except the actor."""
    deal.updated_at = utcnow()
    session.add(DealEvent(deal_id=deal.id, actor_id=actor.id, action=action, from_stage=previous,
                          to_stage=deal.stage, note=note))
    title = notify_title or _("项目进展：%(t)s（%(s)s）", t=deal.title, s=STAGE_LABELS[DealStage(deal.stage)])
    _notify_all(session, _involved(session, deal), actor, "deal_" + action, title, deal_link(deal), body=note)


def advance_deal(session: Session, actor: User, deal_id: int, target) -> Deal:
    """Move a deal intent → negotiation → pricing (the steps that need nothing but a party's decision)."""
    try:
        target = DealStage(target)
    except (ValueError, TypeError):
        raise InvalidStateError(_("无效的阶段。")) from None
    if target not in (DealStage.NEGOTIATION, DealStage.PRICING):
        raise InvalidStateError(_("该阶段需要填写相应信息后才能进入。"))
    deal = _deal_for_move(session, actor, deal_id, target)
    previous = deal.advance_to(target)
    _record(session, deal, actor, "stage", previous)
    session.flush()
    return deal


def _clean_mode(errors: FieldErrors, deal: Deal, mode) -> TransferMode | None:
    if mode in (None, ""):
        return None
    try:
        chosen = TransferMode(mode)
    except (ValueError, TypeError):
        errors.add("mode", _("无效的选项。"))
        return None
    if deal.achievement is not None and deal.achievement.modes and chosen not in deal.achievement.modes:
        errors.add("mode", _("该成果不提供“%(m)s”方式。", m=label(chosen)))
        return None
    return chosen


def update_terms(session: Session, actor: User, deal_id: int, *, agreed_amount_fen, mode) -> Deal:
    """The parties or the broker set the amount and mode being negotiated (until the notice starts)."""
    deal = get_deal(session, actor, deal_id)
    if not EDITORS & deal_roles(actor, deal):
        raise PermissionDeniedError(_("只有项目双方或项目经纪人可以修改交易条件。"))
    if deal.stage not in EDITABLE_TERMS_STAGES:
        raise InvalidStateError(_("公示开始后不能再修改交易条件。"))
    errors = FieldErrors()
    amount = _clean_amount(errors, "agreed_amount_fen", agreed_amount_fen, required=False)
    chosen = _clean_mode(errors, deal, mode)
    _raise_if(errors)
    deal.agreed_amount_fen, deal.mode = amount, chosen
    note = "、".join(filter(None, [_format_amount(amount), label(chosen) if chosen else ""]))
    _record(session, deal, actor, "terms", deal.stage, note=note)
    session.flush()
    return deal


def _format_amount(fen: int | None) -> str:
    return format_wan(fen, 6) if fen is not None else ""


def start_notice(session: Session, actor: User, deal_id: int, *, notice_days=DEFAULT_NOTICE_DAYS) -> Deal:
    """Publish the agreed price for public notice (公示) from today for the given number of days."""
    deal = _deal_for_move(session, actor, deal_id, DealStage.NOTICE)
    errors = FieldErrors()
    days = clean_int(errors, "notice_days", notice_days, low=DEFAULT_NOTICE_DAYS, high=MAX_NOTICE_DAYS, required=True)
    if "notice_days" in errors:
        errors["notice_days"] = _("公示期应为 %(low)s 到 %(high)s 天的整数。", low=DEFAULT_NOTICE_DAYS, high=MAX_NOTICE_DAYS)
    if not deal.agreed_amount_fen:
        errors.add("agreed_amount_fen", _("请先在交易条件中填写协议价格。"))
    if deal.mode is None:
        errors.add("mode", _("请先在交易条件中选择转化方式。"))
    _raise_if(errors)
    starts = today()
    deal.notice_days, deal.notice_starts_on = days, starts
    deal.notice_ends_on = starts + timedelta(days=days - 1)
    previous = deal.advance_to(DealStage.NOTICE)
    _record(session, deal, actor, "notice", previous,
            note=_("公示期 %(a)s 至 %(b)s", a=starts.isoformat(), b=deal.notice_ends_on.isoformat()))
    session.flush()
    return deal


def notice_is_public(deal: Deal) -> bool:
    """A notice is public from its first day on, unless the deal was terminated."""
    return (deal.notice_starts_on is not None and deal.notice_starts_on <= today()
            and deal.stage != DealStage.TERMINATED)


def get_public_notice(session: Session, deal_id: int) -> Deal:
    """A deal whose public notice anyone may read, or NotFoundError."""
    deal = session.get(Deal, deal_id)
    if deal is None or not notice_is_public(deal):
        raise NotFoundError(_("公示不存在。"))
    return deal


def list_public_notices(session: Session) -> list[Deal]:
    """Deals in their notice period now, newest first."""
    return list(session.scalars(select(Deal).where(Deal.stage == DealStage.NOTICE, Deal.notice_starts_on <= today())
                                .options(selectinload(Deal.transferor), selectinload(Deal.transferee))
                                .order_by(Deal.notice_starts_on.desc(), Deal.id.desc()).limit(200)))


def sign_deal(session: Session, actor: User, deal_id: int, *, signed_on, agreed_amount_fen) -> Deal:
    """Record the signed contract after the notice period has passed."""
    deal = _deal_for_move(session, actor, deal_id, DealStage.SIGNED)
    errors = FieldErrors()
    day = clean_date(errors, "signed_on", signed_on, low=EARLIEST_DATE, high=today())
    if "signed_on" in errors and signed_on not in (None, ""):
        errors["signed_on"] = _("签约日期格式应为 YYYY-MM-DD，且不能晚于今天。")
    if day is None and "signed_on" not in errors:
        errors.add("signed_on", _("请填写签约日期。"))
    if day is not None and deal.notice_ends_on is not None and day <= deal.notice_ends_on:
        errors.add("signed_on", _("公示期至 %(d)s 结束，签约日期须在公示期满之后。", d=deal.notice_ends_on.isoformat()))
    amount = _clean_amount(errors, "agreed_amount_fen", agreed_amount_fen, required=True)
    if amount is not None and amount != deal.agreed_amount_fen:
        errors.add("agreed_amount_fen", _("合同金额须与公示价格（%(p)s）一致；价格变更需终止本项目后重新公示。",
                                          p=_format_amount(deal.agreed_amount_fen)))
    _raise_if(errors)
    if deal.notice_ends_on is None or today() <= deal.notice_ends_on:
        raise InvalidStateError(_("公示期尚未结束，不能签约。"))
    deal.signed_on, deal.agreed_amount_fen = day, amount
    previous = deal.advance_to(DealStage.SIGNED)
    _record(session, deal, actor, "signed", previous, note=f"{day.isoformat()} {_format_amount(amount)}")
    session.flush()
    return deal


def clean_registration_number(errors: FieldErrors, value) -> str:
    """A technology-contract registration number: letters, digits and hyphens (full-width forms accepted)."""
    text = clean_text(errors, "registration_number", value, max_len=60, required=True, multiline=False)
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text).upper().replace(" ", "")
    if not REGISTRATION_NUMBER.fullmatch(text):
        errors.add("registration_number", _("登记编号只能包含字母、数字和连字符，4 到 60 位。"))
        return ""
    return text


def register_deal(session: Session, actor: User, deal_id: int, *, registration_number, registered_on) -> Deal:
    """Record the technology-contract registration (技术合同登记) and tell the policy engine, under the money lock."""
    snapshot = policy.lock_books(session)
    with savepoint(session):
        deal = _deal_for_move(session, actor, deal_id, DealStage.REGISTERED)
        errors = FieldErrors()
        number = clean_registration_number(errors, registration_number)
        day = clean_date(errors, "registered_on", registered_on, low=EARLIEST_DATE, high=today())
        if "registered_on" in errors:
            errors["registered_on"] = _("登记日期格式应为 YYYY-MM-DD，且不能晚于今天。")
        elif day is None:
            errors.add("registered_on", _("请填写登记日期。"))
        elif deal.signed_on and day < deal.signed_on:
            errors.add("registered_on", _("登记日期不能早于签约日期（%(d)s）。", d=deal.signed_on.isoformat()))
        if number and session.scalar(select(Deal.id).where(Deal.registration_number == number, Deal.id != deal.id)):
            errors.add("registration_number", _("该登记编号已被其他项目使用。"))
        _raise_if(errors)
        deal.registration_number, deal.registered_on = number, day
        previous = deal.advance_to(DealStage.REGISTERED)
        session.flush()
        payments.register_contract(session, snapshot, deal, actor)
        _record(session, deal, actor, "registered", previous, note=number)
        session.flush()
    audit.info("deal %s registered as %s by user_id=%s", deal.id, number, actor.id)
    return deal


def _mark_achievement_dealt(session: Session, deal: Deal, actor: User) -> None:
    achievement = deal.achievement
    if achievement is not None and achievement.status in (ListingStatus.PUBLISHED, ListingStatus.WITHDRAWN,
                                                          ListingStatus.EXPIRED):
        previous = achievement.mark_dealt()
        listings.record_event(session, achievement, actor, "dealt", previous, comment=_("项目 #%(id)s 完成", id=deal.id))
        listings.record_listing_change(session, achievement)


def complete_deal(session: Session, actor: User, deal_id: int, *, note="") -> Deal:
    """The transferor or an admin closes a deal in performance; a short-paid deal needs a written note."""
    deal = _deal_for_move(session, actor, deal_id, DealStage.COMPLETED)
    errors = FieldErrors()
    text = clean_text(errors, "note", note, max_len=MAX_REASON_CHARS)
    fully_paid = deal.agreed_amount_fen is not None and deal.paid_fen >= deal.agreed_amount_fen
    if not fully_paid and not text and "note" not in errors:
        errors.add("note", _("合同金额尚未全部回款，请说明完成原因。"))
    _raise_if(errors)
    _close_deal(session, deal, actor, text)
    session.flush()
    return deal


def _close_deal(session: Session, deal: Deal, actor: User, note: str) -> None:
    """Complete a deal and mark its achievement 已成交."""
    previous = deal.advance_to(DealStage.COMPLETED)
    deal.completed_at = utcnow()
    _mark_achievement_dealt(session, deal, actor)
    _record(session, deal, actor, "completed", previous, note=note)


def terminate_deal(session: Session, actor: User, deal_id: int, *, reason) -> Deal:
    """Either party, the broker or an admin ends a deal with a written reason."""
    deal = _deal_for_move(session, actor, deal_id, DealStage.TERMINATED)
    errors = FieldErrors()
    text = clean_text(errors, "reason", reason, max_len=MAX_REASON_CHARS, required=True)
    if "reason" in errors and not (reason or "").strip():
        errors["reason"] = _("请填写终止原因。")
    _raise_if(errors)
    previous = deal.advance_to(DealStage.TERMINATED)
    deal.termination_reason = text
    _record(session, deal, actor, "terminated", previous, note=text)
    session.flush()
    return deal


def record_payment(session: Session, actor: User, deal_id: int, *, amount_fen, paid_on) -> tuple[DealPayment, list[Award]]:
    """Record proceeds (awards are computed at once); a payment that completes the contract value closes the deal."""
    get_deal(session, actor, deal_id)
    errors = FieldErrors()
    day = clean_date(errors, "paid_on", paid_on, low=EARLIEST_DATE, high=date(9999, 12, 31))
    if "paid_on" in errors:
        errors["paid_on"] = _("回款日期格式应为 YYYY-MM-DD。")
    elif day is None:
        errors.add("paid_on", _("请填写回款日期。"))
    if amount_fen is None:
        errors.add("amount_fen", _("请填写金额。"))
    _raise_if(errors)
    with savepoint(session):
        payment, awards = payments.record_deal_payment(session, actor, deal_id, amount_fen=amount_fen, paid_on=day)
        deal = session.get(Deal, deal_id)
        if deal.stage == DealStage.PERFORMANCE and deal.paid_fen == deal.agreed_amount_fen:
            _close_deal(session, deal, actor, _("合同金额已全部回款"))
        else:
            _notify_all(session, _involved(session, deal), actor, "deal_payment",
                        _("项目回款：%(t)s", t=deal.title), deal_link(deal), body=_format_amount(amount_fen))
        session.flush()
    return payment, awards


# ---------------------------------------------------------------- intermediaries and brokers


def broker_users(session: Session) -> list[User]:
    """Every active broker of an approved agency or investor (who may be named or assigned)."""
    return [user for user in session.scalars(select(User).where(User.role == Role.BROKER,
                                                                User.is_active_account.is_(True))
                                             .options(selectinload(User.organisation)).order_by(User.name, User.id))
            if user.is_approved_member]


def agency_organisations(session: Session) -> list[Organisation]:
    """Approved technology-transfer agencies (the agent of the 阳泉 rule)."""
    return list(session.scalars(select(Organisation).where(Organisation.kind == OrganisationKind.AGENCY,
                                                           Organisation.status == ApprovalStatus.APPROVED)
                                .order_by(Organisation.name)))


def _clean_people(session: Session, errors: FieldErrors, rows) -> list[tuple[int, int, int]]:
    """Rows of (user id, share bp) → [(position, user id, share bp)] of named brokers with shares summing to 100%."""
    if not isinstance(rows, (list, tuple)) or len(rows) > MAX_INTERMEDIARY_ROWS:
        errors.add("intermediaries", _("最多填写 %(n)s 名中介服务人员。", n=MAX_INTERMEDIARY_ROWS))
        return []
    named = [(index, row) for index, row in enumerate(rows, start=1) if row[0] not in (None, "") or row[1] not in (None, "")]
    people = []
    seen = set()
    for index, (user_id, share_bp) in named:
        person_field, share_field = f"intermediary_{index}", f"share_{index}"
        person_id = clean_id(errors, person_field, user_id, message=_("请选择平台上已审核的技术经理人。"))
        if user_id in (None, ""):
            errors.add(person_field, _("请选择技术经理人。"))
        elif person_id is not None:
            person = session.get(User, person_id)
            if person is None or person.role != Role.BROKER or not person.is_active or not person.is_approved_member:
                errors.add(person_field, _("请选择平台上已审核的技术经理人。"))
                person_id = None
            elif person_id in seen:
                errors.add(person_field, _("同一人不能重复填写。"))
                person_id = None
        if share_bp in (None, "") and len(named) == 1:
            share_bp = BASIS_POINTS
        if share_bp in (None, ""):
            errors.add(share_field, _("请填写分成比例。"))
        elif type(share_bp) is not int or not 1 <= share_bp <= BASIS_POINTS:
            errors.add(share_field, _("分成比例应大于 0% 且不超过 100%。"))
            share_bp = None
        if person_id is not None:
            seen.add(person_id)
            if type(share_bp) is int:
                people.append((index, person_id, share_bp))
    total = sum(share for _index, _person, share in people)
    if people and len(people) == len(named) and total != BASIS_POINTS:
        errors.add(f"share_{people[-1][0]}", _("各人分成比例合计须为 100%%（当前 %(p)s%%）。", p=percent_text(total)))
    return people


def set_intermediaries(session: Session, actor: User, deal_id: int, *, people, reward_rate_bp,
                       agent_organisation_id=None) -> Deal:
    """Name up to three intermediaries with shares, the reward rate and the agent; at most three distinct people
    per achievement over all its deals unless an admin recorded an exception (checked under the money lock)."""
    policy.lock_books(session)
    with savepoint(session):
        deal = get_deal(session, actor, deal_id)
        if not EDITORS & deal_roles(actor, deal):
            raise PermissionDeniedError(_("只有项目双方或项目经纪人可以修改中介服务信息。"))
        if deal.stage not in BEFORE_REGISTRATION:
            raise InvalidStateError(_("技术合同登记后不能再修改中介服务信息。"))
        errors = FieldErrors()
        rows = _clean_people(session, errors, people)
        rate = reward_rate_bp
        if rate in (None, ""):
            rate = 0
        if type(rate) is not int or not 0 <= rate <= BASIS_POINTS:
            errors.add("reward_rate", _("奖励比例应在 0% 到 100% 之间。"))
        agent_id = clean_id(errors, "agent_organisation", agent_organisation_id, message=_("请选择已审核的技术转移机构。"))
        if agent_id is not None:
            agent = session.get(Organisation, agent_id)
            if agent is None or agent.kind != OrganisationKind.AGENCY or agent.status != ApprovalStatus.APPROVED:
                errors.add("agent_organisation", _("请选择已审核的技术转移机构。"))
            elif agent_id in (deal.transferor_id, deal.transferee_id):
                errors.add("agent_organisation", _("代理机构不能是交易一方。"))
        _raise_if(errors)
        proposed = [person_id for _index, person_id, _share in rows]
        others = payments.other_intermediaries(session, deal)
        everyone = others | set(proposed)
        newcomers = [index for index, person_id, _share in rows if person_id not in others]
        if len(everyone) > MAX_INTERMEDIARIES_PER_ACHIEVEMENT and newcomers and not deal.intermediary_exception:
            message = _("同一成果的中介服务人员合计不得超过 %(n)s 人（该成果的其他项目已有 %(k)s 人）。"
                        "确有需要的，请平台运营人员记录例外原因后再添加。",
                        n=MAX_INTERMEDIARIES_PER_ACHIEVEMENT, k=len(others))
            raise RuleViolationError(message, {f"intermediary_{newcomers[0]}": message})
        deal.intermediaries.clear()
        session.flush()
        deal.intermediaries = [DealIntermediary(user_id=person_id, share_bp=share, position=index)
                               for index, person_id, share in rows]
        deal.reward_rate_bp = rate
        deal.agent_organisation_id = agent_id
        session.flush()
        names = "、".join(f"{session.get(User, person_id).name} {percent_text(share)}%" for _index, person_id, share in rows)
        _record(session, deal, actor, "intermediaries", deal.stage,
                note=_("%(people)s；奖励比例 %(rate)s%%", people=names or _("无"), rate=percent_text(rate)))
        session.flush()
    return deal


def record_intermediary_exception(session: Session, actor: User, deal_id: int, *, reason) -> Deal:
    """An admin records the written reason that allows more than three intermediaries for the achievement."""
    deal = get_deal(session, actor, deal_id)
    if not actor.is_admin:
        raise PermissionDeniedError(_("只有平台运营人员可以记录例外。"))
    if deal.stage not in BEFORE_REGISTRATION:
        raise InvalidStateError(_("技术合同登记后不能再记录例外。"))
    errors = FieldErrors()
    text = clean_text(errors, "exception_reason", reason, max_len=MAX_REASON_CHARS, required=True)
    if "exception_reason" in errors and not (reason or "").strip():
        errors["exception_reason"] = _("请填写例外原因。")
    _raise_if(errors)
    deal.intermediary_exception = text
    _record(session, deal, actor, "exception", deal.stage, note=text)
    session.flush()
    audit.info("intermediary exception on deal %s by admin_id=%s", deal.id, actor.id)
    return deal


def claim_deal(session: Session, actor: User, deal_id: int) -> Deal:
    """A broker takes an unassigned open deal as its broker."""
    deal = get_deal(session, actor, deal_id)
    if "platform_broker" not in deal_roles(actor, deal):
        raise PermissionDeniedError(_("只有技术经理人可以认领项目。"))
    if not deal.is_open:
        raise InvalidStateError(_("项目已结束，不能认领。"))
    claimed = session.execute(update(Deal).where(Deal.id == deal.id, Deal.broker_id.is_(None))
                              .values(broker_id=actor.id, updated_at=utcnow())
                              .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise InvalidStateError(_("该项目已有经纪人。"))
    session.refresh(deal)
    _record(session, deal, actor, "broker", deal.stage, note=_("%(n)s 认领为项目经纪人", n=actor.name))
    session.flush()
    return deal


def assign_broker(session: Session, actor: User, deal_id: int, broker_id) -> Deal:
    """An admin assigns (or, with no broker, removes) a deal's broker."""
    deal = get_deal(session, actor, deal_id)
    if not actor.is_admin:
        raise PermissionDeniedError(_("只有平台运营人员可以指派经纪人。"))
    if not deal.is_open:
        raise InvalidStateError(_("项目已结束，不能指派经纪人。"))
    errors = FieldErrors()
    chosen = clean_id(errors, "broker", broker_id, message=_("请选择平台上已审核的技术经理人。"))
    broker = None
    if chosen is not None:
        broker = session.get(User, chosen)
        if broker is None or broker.role != Role.BROKER or not broker.is_active or not broker.is_approved_member:
            errors.add("broker", _("请选择平台上已审核的技术经理人。"))
    _raise_if(errors)
    deal.broker_id = broker.id if broker else None
    _record(session, deal, actor, "broker", deal.stage,
            note=_("指派 %(n)s 为项目经纪人", n=broker.name) if broker else _("取消项目经纪人"))
    if broker is not None and broker.id != actor.id:
        notify(session, broker.id, "deal_assigned", _("您被指派为项目经纪人：%(t)s", t=deal.title), link=deal_link(deal))
    session.flush()
    return deal


# ---------------------------------------------------------------- pages: lists, the board, the deal page


@dataclass
class BoardFilters:
    """The broker board's filters (already checked against what exists)."""

    valley: str | None = None
    field: str | None = None
    broker: int | str | None = None


@dataclass
class BoardColumn:
    """One stage column of the broker board."""

    stage: DealStage
    deals: list = field(default_factory=list)
    total: int = 0


BOARD_COLUMN_LIMIT = 50


def _deal_options():
    return (selectinload(Deal.transferor), selectinload(Deal.transferee), selectinload(Deal.broker),
            selectinload(Deal.achievement), selectinload(Deal.demand))


def board(session: Session, actor: User, filters: BoardFilters) -> list[BoardColumn]:
    """Every deal by stage for brokers and admins, filtered by valley, top-level field and broker."""
    if not (actor.is_admin or (actor.role == Role.BROKER and actor.is_approved_member)):
        raise PermissionDeniedError(_("项目看板仅对技术经理人和平台运营人员开放。"))
    query = (select(Deal).outerjoin(Achievement, Deal.achievement_id == Achievement.id)
             .outerjoin(Demand, Deal.demand_id == Demand.id))
    if filters.valley:
        query = query.where(or_(Achievement.valley_id == filters.valley, Demand.valley_id == filters.valley))
    if filters.field:
        achievement_field, demand_field = aliased(Field), aliased(Field)
        query = (query.outerjoin(achievement_field, Achievement.field_id == achievement_field.id)
                 .outerjoin(demand_field, Demand.field_id == demand_field.id)
                 .where(or_(achievement_field.code == filters.field,
                            achievement_field.code.startswith(filters.field + ".", autoescape=True),
                            demand_field.code == filters.field,
                            demand_field.code.startswith(filters.field + ".", autoescape=True))))
    if filters.broker == "none":
        query = query.where(Deal.broker_id.is_(None))
    elif isinstance(filters.broker, int):
        query = query.where(Deal.broker_id == filters.broker)
    deals = session.scalars(query.options(*_deal_options()).order_by(Deal.updated_at.desc(), Deal.id.desc())).all()
    columns = {stage: BoardColumn(stage) for stage in BOARD_STAGES}
    for deal in deals:
        column = columns[DealStage(deal.stage)]
        column.total += 1
        if len(column.deals) < BOARD_COLUMN_LIMIT:
            column.deals.append(deal)
    return list(columns.values())


@dataclass
class MyDeals:
    """What the deal list page shows a user: deals, bids and responses that concern them."""

    deals: list = field(default_factory=list)
    bids: list = field(default_factory=list)
    responses: list = field(default_factory=list)


def my_deals(session: Session, actor: User) -> MyDeals:
    """Deals of the actor's organisation (or that the actor brokers or intermediates), with its bids and responses."""
    mine = MyDeals()
    conditions = [Deal.broker_id == actor.id,
                  Deal.id.in_(select(DealIntermediary.deal_id).where(DealIntermediary.user_id == actor.id))]
    org = actor.organisation_id if actor.is_approved_member and not actor.is_admin else None
    if org is not None:
        conditions += [Deal.transferor_id == org, Deal.transferee_id == org]
    mine.deals = list(session.scalars(select(Deal).where(or_(*conditions)).options(*_deal_options())
                                      .order_by(Deal.updated_at.desc(), Deal.id.desc()).limit(500)))
    if org is not None:
        mine.bids = list(session.scalars(
            select(Bid).join(Achievement, Bid.achievement_id == Achievement.id)
            .where(or_(Bid.bidder_organisation_id == org, Achievement.organisation_id == org))
            .options(selectinload(Bid.versions), selectinload(Bid.achievement), selectinload(Bid.bidder_organisation))
            .order_by(Bid.updated_at.desc(), Bid.id.desc()).limit(500)))
        mine.responses = list(session.scalars(
            select(DemandResponse).join(Demand, DemandResponse.demand_id == Demand.id)
            .where(or_(DemandResponse.responder_organisation_id == org, Demand.organisation_id == org))
            .options(selectinload(DemandResponse.demand), selectinload(DemandResponse.responder_organisation))
            .order_by(DemandResponse.id.desc()).limit(500)))
    return mine


def deal_events(session: Session, deal: Deal) -> list[DealEvent]:
    """The deal's timeline, oldest first."""
    return list(session.scalars(select(DealEvent).where(DealEvent.deal_id == deal.id)
                                .options(selectinload(DealEvent.actor)).order_by(DealEvent.at, DealEvent.id)))


def deal_payments(session: Session, deal: Deal) -> list[DealPayment]:
    """Proceeds recorded on the deal, oldest first."""
    return list(session.scalars(select(DealPayment).where(DealPayment.deal_id == deal.id)
                                .order_by(DealPayment.paid_on, DealPayment.id)))


def deal_awards(session: Session, deal: Deal) -> list[Award]:
    """Awards the deal's events produced, in the order they were computed."""
    return list(session.scalars(select(Award).where(Award.deal_id == deal.id).order_by(Award.id)))


@dataclass
class ListingPanel:
    """What the bid/response panel on an achievement or demand page shows the current user."""

    can_start: bool = False
    login_to_start: bool = False
    own_open: object = None
    received: list = field(default_factory=list)
    deals: list = field(default_factory=list)


def listing_panel(session: Session, user: User | None, kind: str, listing) -> ListingPanel:
    """The current user's bids or responses on a listing, and (for its owners) those received and the deals opened."""
    panel = ListingPanel()
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    if not authenticated:
        panel.login_to_start = listing.is_public
        return panel
    owner = is_member_of(user, listing.organisation_id) or user.is_admin
    tracker = owner or (user.role == Role.BROKER and user.is_approved_member)
    if kind == "achievement":
        if owner:
            panel.received = list(session.scalars(select(Bid).where(Bid.achievement_id == listing.id)
                                                  .order_by(Bid.updated_at.desc()).limit(50)))
        elif user.role == Role.ENTERPRISE and user.is_approved_member:
            panel.own_open = session.scalar(select(Bid).where(Bid.achievement_id == listing.id,
                                                              Bid.bidder_organisation_id == user.organisation_id,
                                                              Bid.status == BidStatus.OPEN))
            panel.can_start = panel.own_open is None and listing.is_public
        if tracker:
            panel.deals = list(session.scalars(select(Deal).where(Deal.achievement_id == listing.id)
                                               .order_by(Deal.id.desc()).limit(50)))
    else:
        if owner:
            panel.received = list(session.scalars(select(DemandResponse).where(DemandResponse.demand_id == listing.id)
                                                  .order_by(DemandResponse.id.desc()).limit(50)))
        elif user.role == Role.RESEARCHER and user.is_approved_member:
            panel.own_open = session.scalar(select(DemandResponse).where(
                DemandResponse.demand_id == listing.id,
                DemandResponse.responder_organisation_id == user.organisation_id,
                DemandResponse.status == ResponseStatus.OPEN))
            panel.can_start = panel.own_open is None and listing.is_public
        if tracker:
            panel.deals = list(session.scalars(select(Deal).where(Deal.demand_id == listing.id)
                                               .order_by(Deal.id.desc()).limit(50)))
    return panel
