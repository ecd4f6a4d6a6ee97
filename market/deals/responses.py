"""Responses to demands (揭榜); accepting one opens a deal."""
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
from market.deals.inputs import DeclineInput, ResponseInput
from market.deals.labels import RESPONSE_STATUS_LABELS, decline_text
from market.deals.models import (
    Deal,
    DemandResponse,
    ResponseStatus,
)
from market.deals.permissions import can_view_response, response_side
from market.deals.recording import (
    deal_link,
    member_ids,
    notify_all,
    open_deal,
    raise_if_errors,
    require_approved,
)
from market.declared import validate_input
from market.demands.models import Demand
from market.errors import (
    InvalidStateError,
    NotFoundError,
    PermissionDeniedError,
)
from market.listings.models import GrantSource
from market.listings.vocabulary import ListingStatus

audit = logging.getLogger("market.audit")

# ---------------------------------------------------------------- responses to demands


def response_link(response: DemandResponse) -> str:
    """The page of a response."""
    return f"/deals/responses/{response.id}"


def get_response(session: Session, actor: User | None, response_id: int) -> DemandResponse:
    """A response visible to the actor (both organisations and admins), or NotFoundError."""
    response = session.get(DemandResponse, response_id)
    if response is None or not can_view_response(actor, response):
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
    require_approved(actor)
    if actor.organisation_id == demand.organisation_id:
        raise PermissionDeniedError(_("不能响应本机构的需求。"))
    values, errors = validate_input(ResponseInput, {"proposal": proposal, "amount_fen": amount_fen,
                                                    "achievement_id": achievement_id})
    achievement = None
    chosen_id = values.get("achievement_id")
    if chosen_id is not None:
        achievement = session.get(Achievement, chosen_id)
        if (achievement is None or achievement.organisation_id != actor.organisation_id
                or achievement.status != ListingStatus.PUBLISHED):
            errors.add("achievement_id", _("请选择本机构已发布的成果。"))
            achievement = None
    raise_if_errors(errors)
    existing = session.scalar(select(DemandResponse.id).where(
        DemandResponse.demand_id == demand.id, DemandResponse.responder_organisation_id == actor.organisation_id,
        DemandResponse.status == ResponseStatus.OPEN))
    if existing is not None:
        raise InvalidStateError(_("贵机构已响应该需求，请等待需求方处理。"))
    response = DemandResponse(demand_id=demand.id, responder_organisation_id=actor.organisation_id,
                              responder_id=actor.id, achievement_id=achievement.id if achievement else None,
                              proposal=values["proposal"], amount_fen=values["amount_fen"])
    session.add(response)
    session.flush()
    notify_all(session, member_ids(session, demand.organisation_id), actor, "response_received",
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
    """The demand's organisation accepts a response; this opens exactly one deal in the intent stage and the named
    achievement's confidential part to the demand's organisation (refused when that achievement was transferred
    outright: only its owner may license it again)."""
    response = _open_response_for(session, actor, response_id, "demand")
    achievement_rights.require_relicense_confirmation(session, actor, response.achievement, owner_side=False,
                                                      confirmed=False, context=_("揭榜响应 #%(id)s", id=response.id))
    claimed = session.execute(update(DemandResponse)
                              .where(DemandResponse.id == response.id, DemandResponse.status == ResponseStatus.OPEN)
                              .values(status=ResponseStatus.ACCEPTED).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise InvalidStateError(_("该响应已被处理，不能重复接受。"))
    demand = response.demand
    deal = open_deal(session, actor, code="response_accepted", params={}, title=demand.title[:200], demand_id=demand.id,
                     response_id=response.id, achievement_id=response.achievement_id,
                     transferor_id=response.responder_organisation_id, transferee_id=demand.organisation_id,
                     agreed_amount_fen=response.amount_fen, mode=demand.modes[0] if len(demand.modes) == 1 else None)
    achievement_rights.open_to_counterparty(session, deal, response.responder, GrantSource.RESPONSE)
    notify_all(session, member_ids(session, response.responder_organisation_id), actor, "response_accepted",
                _("揭榜响应已被接受：%(t)s", t=demand.title), deal_link(deal))
    session.flush()
    session.refresh(response)
    audit.info("response %s accepted by user_id=%s, deal %s opened", response.id, actor.id, deal.id)
    return deal


def decline_response(session: Session, actor: User, response_id: int, *, reason, note=None) -> DemandResponse:
    """The demand's organisation declines a response with a reason from the list (and a note), shown to the
    responder."""
    response = _open_response_for(session, actor, response_id, "demand")
    values, errors = validate_input(DeclineInput, {"reason": reason, "note": note})
    raise_if_errors(errors)
    response.status = ResponseStatus.DECLINED
    response.decline_reason, response.decline_note = values["reason"], values["note"] or ""
    notify_all(session, member_ids(session, response.responder_organisation_id), actor, "response_declined",
                _("揭榜响应未被接受：%(t)s", t=response.demand.title), response_link(response),
                body=decline_text(response.decline_reason, response.decline_note))
    session.flush()
    return response


def withdraw_response(session: Session, actor: User, response_id: int) -> DemandResponse:
    """The responder withdraws an open response."""
    response = _open_response_for(session, actor, response_id, "responder")
    response.status = ResponseStatus.WITHDRAWN
    notify_all(session, member_ids(session, response.demand.organisation_id), actor, "response_withdrawn",
                _("揭榜响应已撤回：%(t)s", t=response.demand.title), response_link(response))
    session.flush()
    return response
