"""A broker joins a deal only by consent: a party invites and the broker accepts; a broker asks and both parties
accept; an admin proposes and the broker and both parties accept. Parties and admins remove a broker with a reason."""
import logging

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from market.accounts.models import User
from market.deals.inputs import BrokerDeclineInput, BrokerInvitationInput, BrokerRemovalInput
from market.deals.intermediaries import is_approved_broker
from market.deals.models import (
    BrokerRequestKind,
    BrokerRequestStatus,
    Deal,
    DealBrokerRequest,
)
from market.deals.permissions import (
    PARTY_SIDES,
    awaiting_consent,
    broker_request_answers,
    deal_roles,
    may_withdraw_broker_request,
    pending_broker_ids,
)
from market.deals.pipeline import get_deal
from market.deals.recording import deal_link, lock_deal, raise_if_errors, record_step
from market.deals.timeline import step_note
from market.declared import validate_input
from market.errors import InvalidStateError, NotFoundError, PermissionDeniedError
from market.notifications.services import notify
from market.security import is_member_of
from market.timeutil import utcnow

audit = logging.getLogger("market.audit")


# ---------------------------------------------------------------- reads


def get_broker_request(session: Session, actor: User, deal_id: int, request_id: int) -> DealBrokerRequest:
    """A broker request of a deal the actor may see, or NotFoundError."""
    deal = get_deal(session, actor, deal_id)
    request = session.get(DealBrokerRequest, request_id)
    if request is None or request.deal_id != deal.id:
        raise NotFoundError(_("该经纪人邀请或申请不存在。"))
    return request


def pending_broker_requests(deal: Deal) -> list[DealBrokerRequest]:
    """The deal's requests still waiting for an answer, oldest first."""
    return [request for request in deal.broker_requests if request.is_pending]


# ---------------------------------------------------------------- shared steps


def _locked_deal(session: Session, actor: User, deal_id: int) -> Deal:
    """The deal, its row locked so that answers on the same deal run one after another (on SQLite a write takes the
    database's write lock, as `awards.services.lock_books` does)."""
    deal = lock_deal(session, get_deal(session, actor, deal_id))
    session.expire(deal, ["broker_requests"])
    return deal


def _require_open_without_broker(deal: Deal) -> None:
    if not deal.is_open:
        raise InvalidStateError(_("项目已结束，不能再加入经纪人。"))
    if deal.broker_id is not None:
        raise InvalidStateError(_("该项目已有经纪人；如需更换，请先移除现任经纪人。"))


def _candidate(session: Session, deal: Deal, broker_id) -> User:
    """The approved broker named by an invitation or a proposal, not a member of either party and not already
    waiting on this deal; every refusal is a message on the "broker" field."""
    values, errors = validate_input(BrokerInvitationInput, {"broker": broker_id})
    broker = session.get(User, values["broker"]) if values.get("broker") is not None else None
    if "broker" not in errors:
        if not is_approved_broker(broker):
            errors.add("broker", _("请选择平台上已审核的技术经理人。"))
        elif _is_party_member(broker, deal):
            errors.add("broker", _("交易一方的成员不能担任本项目的经纪人。"))
        elif broker.id in pending_broker_ids(deal):
            errors.add("broker", _("该技术经理人已有待确认的邀请或申请。"))
    raise_if_errors(errors)
    return broker


def _is_party_member(person: User, deal: Deal) -> bool:
    return is_member_of(person, deal.transferor_id) or is_member_of(person, deal.transferee_id)


def _tell(session: Session, request: DealBrokerRequest, actor: User, code: str, typed: str = "") -> None:
    """Record a step of a request on the deal timeline (the actor, the broker and who must still accept, worded when
    shown; a typed reason as typed); everyone involved is told, and so is the named broker (while the request is
    pending, as one who may have to answer it)."""
    deal = request.deal
    kind = "deal_broker_request" if request.is_pending else "deal_broker_request_closed"
    params = {"by": actor.id, "broker": request.broker_id,
              "waiting": [who for who in ("broker", *PARTY_SIDES) if who in awaiting_consent(request)]}
    record_step(session, deal, actor, "broker_request", deal.stage, note=typed,
                notify_title=_l("项目经纪人：%(t)s", t=deal.title), notify_kind=kind, code=code, params=params)
    if request.broker_id != actor.id and request.broker_id != deal.broker_id:
        notify(session, request.broker_id, kind, _l("项目经纪人：%(t)s", t=deal.title),
               body=step_note(session, code, params, typed), link=deal_link(deal))


def _open_request(session: Session, actor: User, deal: Deal, broker: User, kind: BrokerRequestKind) -> DealBrokerRequest:
    request = DealBrokerRequest(deal_id=deal.id, broker_id=broker.id, initiated_by_id=actor.id, kind=kind,
                                status=BrokerRequestStatus.PENDING)
    session.add(request)
    session.flush()
    session.refresh(deal, ["broker_requests"])
    return request


# ---------------------------------------------------------------- asking, inviting, proposing


def ask_to_join_deal(session: Session, actor: User, deal_id: int) -> DealBrokerRequest:
    """An approved broker who belongs to neither party asks to become the deal's broker; both parties must accept."""
    deal = _locked_deal(session, actor, deal_id)
    roles = deal_roles(actor, deal)
    if "platform_broker" not in roles:
        raise PermissionDeniedError(_("只有已审核的技术经理人可以申请担任项目经纪人。"))
    if "party" in roles:
        raise PermissionDeniedError(_("交易一方的成员不能申请担任本项目的经纪人。"))
    _require_open_without_broker(deal)
    if actor.id in pending_broker_ids(deal):
        raise InvalidStateError(_("您已有待确认的申请或邀请，请等待答复。"))
    request = _open_request(session, actor, deal, actor, BrokerRequestKind.ASK)
    request.broker_accepted_at = request.created_at
    _tell(session, request, actor, "broker_asked")
    session.flush()
    return request


def invite_broker(session: Session, actor: User, deal_id: int, *, broker_id) -> DealBrokerRequest:
    """A member of either party invites an approved broker (counting as that party's consent); the broker accepts."""
    deal = _locked_deal(session, actor, deal_id)
    roles = deal_roles(actor, deal)
    if "party" not in roles:
        raise PermissionDeniedError(_("只有交易双方可以邀请项目经纪人。"))
    _require_open_without_broker(deal)
    broker = _candidate(session, deal, broker_id)
    request = _open_request(session, actor, deal, broker, BrokerRequestKind.INVITE)
    side = "transferor" if "transferor" in roles else "transferee"
    setattr(request, f"{side}_accepted_by_id", actor.id)
    setattr(request, f"{side}_accepted_at", request.created_at)
    _tell(session, request, actor, "broker_invited")
    session.flush()
    return request


def propose_broker(session: Session, actor: User, deal_id: int, *, broker_id) -> DealBrokerRequest:
    """An admin proposes an approved broker; the broker and both parties accept before he joins."""
    deal = _locked_deal(session, actor, deal_id)
    if "admin" not in deal_roles(actor, deal):
        raise PermissionDeniedError(_("只有平台运营人员可以推荐项目经纪人。"))
    _require_open_without_broker(deal)
    broker = _candidate(session, deal, broker_id)
    request = _open_request(session, actor, deal, broker, BrokerRequestKind.ADMIN_PROPOSAL)
    _tell(session, request, actor, "broker_proposed")
    session.flush()
    return request


# ---------------------------------------------------------------- answers


def _pending_request(session: Session, actor: User, deal_id: int, request_id: int) -> DealBrokerRequest:
    """A pending request of the deal, the deal's row locked."""
    _locked_deal(session, actor, deal_id)
    request = get_broker_request(session, actor, deal_id, request_id)
    session.refresh(request)
    if not request.is_pending:
        raise InvalidStateError(_("该邀请或申请已处理。"))
    if not request.deal.is_open:
        raise InvalidStateError(_("项目已结束，不能再加入经纪人。"))
    return request


def _refuse_answer(actor: User, request: DealBrokerRequest) -> None:
    if actor.id == request.initiated_by_id:
        raise PermissionDeniedError(_("不能答复自己发起的邀请或申请。"))
    raise PermissionDeniedError(_("该邀请或申请不需要您确认。"))


def accept_broker_request(session: Session, actor: User, deal_id: int, request_id: int) -> DealBrokerRequest:
    """The named broker or a member of a party that must consent accepts; once nobody is awaited the broker joins
    the deal and every other pending request of the deal is closed."""
    request = _pending_request(session, actor, deal_id, request_id)
    deal = request.deal
    answers = broker_request_answers(actor, deal, request)
    if not answers:
        _refuse_answer(actor, request)
    _require_open_without_broker(deal)
    now = utcnow()
    if "broker" in answers:
        request.broker_accepted_at = now
    for side in answers & set(PARTY_SIDES):
        setattr(request, f"{side}_accepted_by_id", actor.id)
        setattr(request, f"{side}_accepted_at", now)
    session.flush()
    if awaiting_consent(request):
        _tell(session, request, actor, "broker_consented")
        session.flush()
        return request
    _seat_broker(session, actor, request, now)
    return request


def _seat_broker(session: Session, actor: User, request: DealBrokerRequest, now) -> None:
    """Make the accepted request's broker the deal's broker and close the deal's other pending requests."""
    deal, broker = request.deal, request.broker
    if not is_approved_broker(broker) or _is_party_member(broker, deal):
        raise InvalidStateError(_("该技术经理人目前不能担任本项目的经纪人。"))
    seated = session.execute(update(Deal).where(Deal.id == deal.id, Deal.broker_id.is_(None))
                             .values(broker_id=broker.id, updated_at=now)
                             .execution_options(synchronize_session=False))
    if seated.rowcount != 1:
        raise InvalidStateError(_("该项目已有经纪人；如需更换，请先移除现任经纪人。"))
    session.refresh(deal)
    request.status, request.decided_by_id, request.decided_at = BrokerRequestStatus.ACCEPTED, actor.id, now
    for other in pending_broker_requests(deal):
        if other.id == request.id:
            continue
        other.status, other.decided_by_id, other.decided_at = BrokerRequestStatus.SUPERSEDED, actor.id, now
        notify(session, other.broker_id, "deal_broker_request_closed", _l("项目经纪人：%(t)s", t=deal.title),
               body=_("%(b)s 已成为该项目的经纪人，您的邀请或申请已结束。", b=broker.name), link=deal_link(deal))
    record_step(session, deal, actor, "broker", deal.stage, code="broker_joined", params={"broker": broker.id})
    session.flush()
    audit.info("broker user_id=%s joined deal %s through request %s", broker.id, deal.id, request.id)


def decline_broker_request(session: Session, actor: User, deal_id: int, request_id: int, *,
                           reason=None) -> DealBrokerRequest:
    """The named broker or a party that must consent declines: the request ends and the deal stays without it."""
    values, errors = validate_input(BrokerDeclineInput, {"reason": reason})
    raise_if_errors(errors)
    request = _pending_request(session, actor, deal_id, request_id)
    if not broker_request_answers(actor, request.deal, request):
        _refuse_answer(actor, request)
    _close(request, actor, BrokerRequestStatus.DECLINED, values["reason"] or "")
    _tell(session, request, actor, "broker_declined", request.reason or "")
    _tell_initiator(session, request, actor)
    session.flush()
    return request


def withdraw_broker_request(session: Session, actor: User, deal_id: int, request_id: int, *,
                            reason=None) -> DealBrokerRequest:
    """Whoever started a pending request withdraws it."""
    values, errors = validate_input(BrokerDeclineInput, {"reason": reason})
    raise_if_errors(errors)
    request = _pending_request(session, actor, deal_id, request_id)
    if not may_withdraw_broker_request(actor, request.deal, request):
        raise PermissionDeniedError(_("只有发起人可以撤回该邀请或申请。"))
    _close(request, actor, BrokerRequestStatus.WITHDRAWN, values["reason"] or "")
    _tell(session, request, actor, "broker_withdrawn", request.reason or "")
    session.flush()
    return request


def _close(request: DealBrokerRequest, actor: User, status: BrokerRequestStatus, reason: str) -> None:
    request.status, request.decided_by_id, request.decided_at, request.reason = status, actor.id, utcnow(), reason


def _reasoned(note: str, reason: str) -> str:
    return _("%(n)s：%(r)s", n=note, r=reason) if reason else note


def _tell_initiator(session: Session, request: DealBrokerRequest, actor: User) -> None:
    """An admin who proposed a broker is not involved in the deal: tell him of the answer."""
    if request.kind == BrokerRequestKind.ADMIN_PROPOSAL and request.initiated_by_id != actor.id:
        notify(session, request.initiated_by_id, "deal_broker_request_closed",
               _l("项目经纪人：%(t)s", t=request.deal.title),
               body=_reasoned(_("%(a)s 拒绝了推荐", a=actor.name), request.reason), link=deal_link(request.deal))


# ---------------------------------------------------------------- removal


def remove_broker(session: Session, actor: User, deal_id: int, *, reason) -> Deal:
    """A member of either party or an admin removes the deal's broker with a reason; the broker is told."""
    deal = _locked_deal(session, actor, deal_id)
    if not {"party", "admin"} & deal_roles(actor, deal):
        raise PermissionDeniedError(_("只有交易双方或平台运营人员可以移除项目经纪人。"))
    if not deal.is_open:
        raise InvalidStateError(_("项目已结束，不能再移除经纪人。"))
    if deal.broker_id is None:
        raise InvalidStateError(_("该项目没有经纪人。"))
    values, errors = validate_input(BrokerRemovalInput, {"reason": reason})
    raise_if_errors(errors)
    broker, text = deal.broker, values["reason"]
    seated = session.scalar(select(DealBrokerRequest).where(DealBrokerRequest.deal_id == deal.id,
                                                            DealBrokerRequest.broker_id == broker.id,
                                                            DealBrokerRequest.status == BrokerRequestStatus.ACCEPTED))
    if seated is not None:
        _close(seated, actor, BrokerRequestStatus.REMOVED, text)
    deal.broker_id = None
    session.flush()
    session.refresh(deal, ["broker"])
    params = {"broker": broker.id}
    record_step(session, deal, actor, "broker", deal.stage, note=text, code="broker_removed", params=params)
    note = step_note(session, "broker_removed", params, text)
    if broker.id != actor.id:
        notify(session, broker.id, "deal_broker_removed", _("您已不再担任项目经纪人：%(t)s", t=deal.title),
               body=note, link=deal_link(deal))
    session.flush()
    audit.info("broker user_id=%s removed from deal %s by user_id=%s", broker.id, deal.id, actor.id)
    return deal
