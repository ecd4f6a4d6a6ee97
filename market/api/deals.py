"""JSON API v1 for bids and deals: offers and counter-offers, the deal list and page, and stage moves, calling the
same deal services as the pages."""
from flask import jsonify, request, url_for
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from market.accounts.models import User
from market.achievements.models import Achievement
from market.api import money
from market.api.auth import require_token_user
from market.api.deal_signings import fee_json, signing_json, signings_json
from market.api.openapi_money import DEAL_STAGE_INPUT, STAGE_FIELDS
from market.api.serializers import coded, iso
from market.api.views import bp
from market.awards.payment_input import PaymentInput
from market.deals import bids as deal_bids
from market.deals import fees
from market.deals import pipeline as deal_pipeline
from market.deals import terms as deal_terms
from market.deals.board import deal_awards, deal_payments, deal_timeline
from market.deals.brokers import pending_broker_requests
from market.deals.inputs import (
    BidAcceptInput,
    BidRoundInput,
    DeclineInput,
    FeeInput,
    NoticeWithdrawalInput,
    TermsAcceptanceInput,
    TermsInput,
)
from market.deals.labels import (
    BID_STATUS_LABELS,
    BROKER_REQUEST_KIND_LABELS,
    BROKER_REQUEST_STATUS_LABELS,
    DECLINE_REASON_LABELS,
    EVENT_LABELS,
    STAGE_LABELS,
)
from market.deals.limits import DEFAULT_NOTICE_DAYS
from market.deals.models import (
    Bid,
    BidSide,
    BidStatus,
    Deal,
    DealBrokerRequest,
    DealSigning,
    DealStage,
    DeclineReason,
)
from market.deals.permissions import (
    awaiting_consent,
    bid_side,
    broker_request_actions,
    deal_roles,
    may_see_broker_request,
    permissions,
    terms_locked,
    visible_bids,
    visible_deals,
)
from market.deals.pipeline import advance_deal, complete_deal, register_deal, start_notice, terminate_deal
from market.deals.signing import record_signing
from market.declared import json_schema
from market.demands.models import Demand
from market.errors import NotFoundError, ValidationError
from market.extensions import db
from market.inputs import FieldErrors, clean_choice
from market.taxonomy.services import list_valleys

# ---------------------------------------------------------------- JSON shapes


def _bid_version_json(version) -> dict:
    return {"number": version.number, "side": str(version.side), "amount_fen": version.amount_fen,
            "mode": coded(version.mode), "message": version.message or "", "author": money.person_json(version.author),
            "created_at": iso(version.created_at)}


def bid_json(bid: Bid, actor: User, deal_id: int | None, *, with_versions: bool) -> dict:
    """A bid with its latest round, the caller's side and what the caller may answer; `with_versions` adds every
    round."""
    side = bid_side(actor, bid)
    is_open = bid.status == BidStatus.OPEN
    their_turn = is_open and side is not None and bid.latest.side != side
    achievement = bid.achievement
    data = {
        "id": bid.id,
        "status": {"code": str(bid.status), "label": str(BID_STATUS_LABELS[BidStatus(bid.status)])},
        "achievement": {"id": achievement.id, "title": achievement.title,
                        "organisation": money.party_json(achievement.organisation)},
        "bidder_organisation": money.party_json(bid.bidder_organisation),
        "side": str(side) if side else None,
        "latest": _bid_version_json(bid.latest),
        "rounds": len(bid.versions),
        "deal_id": deal_id,
        "decline": decline_json(bid),
        "may": {"counter": their_turn, "accept": their_turn, "decline": is_open and side == BidSide.OWNER,
                "withdraw": is_open and side == BidSide.BUYER},
        "created_at": iso(bid.created_at),
        "updated_at": iso(bid.updated_at),
    }
    if with_versions:
        data["versions"] = [_bid_version_json(version) for version in bid.versions]
    return data


def decline_json(record) -> dict | None:
    """The reason a bid, a response or an introduction was declined, or None."""
    if record.decline_reason is None:
        return None
    return {"reason": {"code": str(record.decline_reason),
                       "label": str(DECLINE_REASON_LABELS[DeclineReason(record.decline_reason)])},
            "note": record.decline_note or ""}


def _deal_ids_of_bids(session: Session, bid_ids: list[int]) -> dict[int, int]:
    if not bid_ids:
        return {}
    return dict(session.execute(select(Deal.bid_id, Deal.id).where(Deal.bid_id.in_(bid_ids))).all())


def _stage_json(stage) -> dict:
    return {"code": str(stage), "label": str(STAGE_LABELS[DealStage(stage)])}


def deal_json(deal: Deal, actor: User) -> dict:
    """A deal as the list shows it: parties, stage, terms, dates and the caller's roles in it."""
    return {
        "id": deal.id,
        "title": deal.title,
        "stage": _stage_json(deal.stage),
        "achievement": {"id": deal.achievement.id, "title": deal.achievement.title} if deal.achievement else None,
        "demand": {"id": deal.demand.id, "title": deal.demand.title} if deal.demand else None,
        "transferor": money.party_json(deal.transferor),
        "transferee": money.party_json(deal.transferee),
        "broker": money.person_json(deal.broker),
        "agent_organisation": money.party_json(deal.agent_organisation),
        "mode": coded(deal.mode),
        "agreed_amount_fen": deal.agreed_amount_fen,
        "paid_fen": deal.paid_fen,
        "reward_rate_bp": deal.reward_rate_bp,
        "inventor_share_bp": deal.inventor_share_bp,
        "fee": fee_json(deal),
        "notice": {"days": deal.notice_days, "starts_on": iso(deal.notice_starts_on),
                   "ends_on": iso(deal.notice_ends_on)},
        "signed_on": iso(deal.signed_on),
        "registration_number": deal.registration_number,
        "registered_on": iso(deal.registered_on),
        "termination_reason": deal.termination_reason or "",
        "intermediary_exception": deal.intermediary_exception or "",
        "your_roles": sorted(deal_roles(actor, deal)),
        "created_at": iso(deal.created_at),
        "updated_at": iso(deal.updated_at),
        "completed_at": iso(deal.completed_at),
    }


def broker_request_json(request: DealBrokerRequest, deal: Deal, actor: User) -> dict:
    """A pending broker request: who is named, who started it, who has accepted, who is awaited and what the caller
    may answer."""
    return {
        "id": request.id,
        "kind": {"code": str(request.kind), "label": str(BROKER_REQUEST_KIND_LABELS[request.kind])},
        "status": {"code": str(request.status), "label": str(BROKER_REQUEST_STATUS_LABELS[request.status])},
        "broker": money.person_json(request.broker),
        "initiated_by": money.person_json(request.initiated_by),
        "broker_accepted_at": iso(request.broker_accepted_at),
        "transferor_accepted_by": money.person_json(request.transferor_accepted_by),
        "transferee_accepted_by": money.person_json(request.transferee_accepted_by),
        "awaiting": sorted(awaiting_consent(request)),
        "may": dict(vars(broker_request_actions(actor, deal, request))),
        "created_at": iso(request.created_at),
    }


def deal_detail_json(session: Session, deal: Deal, actor: User) -> dict:
    """The deal page as data: the deal, its intermediaries, payments with their awards, other awards, the timeline
    and what the caller may do now."""
    payments, other_awards = money.payments_with_awards(session, deal_payments(session, deal),
                                                        deal_awards(session, deal))
    allowed = permissions(actor, deal)
    data = deal_json(deal, actor)
    data.update({
        "intermediaries": [{"user": money.person_json(row.user), "share_bp": row.share_bp, "position": row.position}
                           for row in deal.intermediaries],
        "payments": payments,
        "other_awards": money.awards_json(session, other_awards),
        "timeline": [{"at": iso(event.at), "action": event.action,
                      "label": str(EVENT_LABELS.get(event.action, event.action)),
                      "from_stage": event.from_stage, "to_stage": event.to_stage, "note": event.note or "",
                      "actor": money.person_json(event.actor)} for event in deal_timeline(session, deal)],
        "broker_requests": [broker_request_json(request, deal, actor) for request in pending_broker_requests(deal)
                            if may_see_broker_request(actor, deal, request)],
        "terms": terms_json(session, deal),
        "signings": signings_json(session, deal, actor),
        "may": {name: (str(value) if name == "advance_to" and value is not None else value)
                for name, value in vars(allowed).items()},
    })
    return data


def terms_json(session: Session, deal: Deal) -> dict:
    """The current version of the terms and, for each side that must accept it, who accepted and when."""
    return {"version": deal.terms_version, "locked": terms_locked(deal),
            "acceptances": [{"role": str(role), "intermediary": money.person_json(session.get(User, user_id))
                             if user_id is not None else None,
                             "accepted_by": money.person_json(consent.user) if consent else None,
                             "accepted_at": iso(consent.at) if consent else None}
                            for (role, user_id), consent in deal_terms.acceptances(deal)]}


# ---------------------------------------------------------------- reads


def _stage(errors: FieldErrors, name: str, raw: str | None) -> DealStage | None:
    return clean_choice(errors, name, raw, DealStage, required=False)


def _valley(errors: FieldErrors, name: str, raw: str | None) -> str | None:
    if raw is None:
        return None
    if raw not in {valley.id for valley in list_valleys(db.session)}:
        errors.add(name, _("无效的谷区代码。"))
        return None
    return raw


def _bid_status(errors: FieldErrors, name: str, raw: str | None) -> BidStatus | None:
    return clean_choice(errors, name, raw, BidStatus, required=False)


@bp.get("/deals")
def list_deals():
    """The deals the caller may see, most recently changed first; filters: stage, valley."""
    actor = require_token_user(db.session, request)
    args = money.query_arguments({"stage": _stage, "valley": _valley, **money.PAGING})
    statement = select(Deal).where(visible_deals(actor))
    if args["stage"] is not None:
        statement = statement.where(Deal.stage == args["stage"])
    if args["valley"] is not None:
        statement = (statement.outerjoin(Achievement, Deal.achievement_id == Achievement.id)
                     .outerjoin(Demand, Deal.demand_id == Demand.id)
                     .where(or_(Achievement.valley_id == args["valley"], Demand.valley_id == args["valley"])))
    statement = statement.options(selectinload(Deal.transferor), selectinload(Deal.transferee),
                                  selectinload(Deal.broker), selectinload(Deal.achievement),
                                  selectinload(Deal.demand), selectinload(Deal.intermediaries))
    statement = statement.order_by(Deal.updated_at.desc(), Deal.id.desc())
    return jsonify(money.paged(db.session, statement, page=args["page"], per_page=args["per_page"],
                               serialise=lambda rows: [deal_json(deal, actor) for deal in rows]))


@bp.get("/deals/<int:deal_id>")
def get_deal(deal_id: int):
    """One deal with its intermediaries, payments and awards, timeline and the caller's possible actions."""
    actor = require_token_user(db.session, request)
    money.query_arguments({})
    deal = deal_pipeline.get_deal(db.session, actor, deal_id)
    return jsonify(deal_detail_json(db.session, deal, actor))


@bp.get("/bids")
def list_bids():
    """The bids of the caller's organisation, as bidder or as the achievement's owner (admins: every bid), most
    recently changed first; filter: status."""
    actor = require_token_user(db.session, request)
    args = money.query_arguments({"status": _bid_status, **money.PAGING})
    statement = select(Bid).where(visible_bids(actor))
    if args["status"] is not None:
        statement = statement.where(Bid.status == args["status"])
    statement = (statement.options(selectinload(Bid.versions), selectinload(Bid.achievement),
                                   selectinload(Bid.bidder_organisation))
                 .order_by(Bid.updated_at.desc(), Bid.id.desc()))

    def serialise(bids) -> list[dict]:
        deal_ids = _deal_ids_of_bids(db.session, [bid.id for bid in bids])
        return [bid_json(bid, actor, deal_ids.get(bid.id), with_versions=False) for bid in bids]

    return jsonify(money.paged(db.session, statement, page=args["page"], per_page=args["per_page"],
                               serialise=serialise))


def _bid_answer(bid_id: int, actor: User, status: int = 200):
    bid = deal_bids.get_bid(db.session, actor, bid_id)
    response = jsonify(bid_json(bid, actor, _deal_ids_of_bids(db.session, [bid.id]).get(bid.id), with_versions=True))
    response.status_code = status
    return response


@bp.get("/bids/<int:bid_id>")
def get_bid(bid_id: int):
    """One bid with every round (both sides and admins)."""
    actor = require_token_user(db.session, request)
    money.query_arguments({})
    return _bid_answer(bid_id, actor)


# ---------------------------------------------------------------- bid actions


def _round(data: dict) -> dict:
    money.refuse_shape(json_schema(BidRoundInput), data)
    return {"amount_fen": data["amount_fen"], "mode": data["mode"], "message": data.get("message")}


@bp.post("/achievements/<int:achievement_id>/bids")
def place_bid(achievement_id: int):
    """An enterprise offers an amount and a transfer mode for a published achievement (round 1)."""
    actor = require_token_user(db.session, request)
    data = money.read_body()
    achievement = db.session.get(Achievement, achievement_id)
    if achievement is None or not achievement.is_public:
        raise NotFoundError(_("该成果不存在或尚未发布。"))
    bid = deal_bids.place_bid(db.session, actor, achievement_id, **_round(data))
    response = _bid_answer(bid.id, actor, 201)
    response.headers["Location"] = url_for("api.get_bid", bid_id=bid.id)
    return response


@bp.post("/bids/<int:bid_id>/counter")
def counter_bid(bid_id: int):
    """Answer the other side's latest round with a counter-offer (a new round)."""
    actor = require_token_user(db.session, request)
    data = money.read_body()
    deal_bids.get_bid(db.session, actor, bid_id)
    deal_bids.counter_bid(db.session, actor, bid_id, **_round(data))
    return _bid_answer(bid_id, actor, 201)


@bp.post("/bids/<int:bid_id>/accept")
def accept_bid(bid_id: int):
    """Accept the other side's latest round, named by its number: a deal opens in the intent stage."""
    actor = require_token_user(db.session, request)
    data = money.read_body()
    deal_bids.get_bid(db.session, actor, bid_id)
    money.refuse_shape(json_schema(BidAcceptInput), data)
    deal = deal_bids.accept_bid(db.session, actor, bid_id, version_number=data["version"],
                                confirm_relicense=data.get("confirm_relicense", False))
    response = jsonify(deal_detail_json(db.session, deal_pipeline.get_deal(db.session, actor, deal.id), actor))
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_deal", deal_id=deal.id)
    return response


@bp.post("/bids/<int:bid_id>/decline")
def decline_bid(bid_id: int):
    """The achievement's owner declines an open bid with a reason from the list (and a note), shown to the bidder."""
    actor = require_token_user(db.session, request)
    deal_bids.get_bid(db.session, actor, bid_id)
    data = money.read_optional_body(DeclineInput)
    deal_bids.decline_bid(db.session, actor, bid_id, reason=data.get("reason"), note=data.get("note"))
    return _bid_answer(bid_id, actor)


@bp.post("/bids/<int:bid_id>/withdraw")
def withdraw_bid(bid_id: int):
    """The bidder withdraws an open bid."""
    actor = require_token_user(db.session, request)
    deal_bids.get_bid(db.session, actor, bid_id)
    money.read_optional_body()
    deal_bids.withdraw_bid(db.session, actor, bid_id)
    return _bid_answer(bid_id, actor)


# ---------------------------------------------------------------- deal stages


def _move(session: Session, actor: User, deal_id: int, target: DealStage, data: dict):
    """Call the service that moves a deal into the target stage, with the fields that move takes (for signing: the
    recorded signing, which the transferee confirms)."""
    if target in (DealStage.NEGOTIATION, DealStage.PRICING):
        return advance_deal(session, actor, deal_id, target)
    if target == DealStage.NOTICE:
        return start_notice(session, actor, deal_id,
                            notice_days=data.get("notice_days", DEFAULT_NOTICE_DAYS))
    if target == DealStage.SIGNED:
        return record_signing(session, actor, deal_id, signed_on=data.get("signed_on"),
                              agreed_amount_fen=data.get("agreed_amount_fen"))
    if target == DealStage.REGISTERED:
        return register_deal(session, actor, deal_id, registration_number=data.get("registration_number"),
                             registered_on=data.get("registered_on"))
    if target == DealStage.COMPLETED:
        return complete_deal(session, actor, deal_id, note=data.get("note") or "")
    return terminate_deal(session, actor, deal_id, reason=data.get("reason"))


def _target_stage(data: dict) -> DealStage:
    """The stage named by "to", with the keys that move takes and no others."""
    money.refuse_shape(DEAL_STAGE_INPUT, data)
    target = data["to"]
    if target not in STAGE_FIELDS:
        message = (_("项目在登记第一笔回款时自动进入“履约/回款”阶段。") if target == DealStage.PERFORMANCE
                   else _("无效的阶段，可选：%(all)s。", all="、".join(STAGE_FIELDS)))
        raise ValidationError(_("请修改标出的内容。"), {"to": message})
    unused = {name: _("进入该阶段不使用此字段。") for name in data if name != "to" and name not in STAGE_FIELDS[target]}
    if unused:
        raise ValidationError(_("请修改标出的内容。"), unused)
    return DealStage(target)


@bp.post("/deals/<int:deal_id>/terms")
def update_deal_terms(deal_id: int):
    """Set the amount, mode and (universities and institutes) inventors' share under negotiation; the same rules as
    the deal page's terms form."""
    actor = require_token_user(db.session, request)
    data = money.read_body()
    deal_pipeline.get_deal(db.session, actor, deal_id)
    money.refuse_shape(json_schema(TermsInput), data)
    deal_pipeline.update_terms(db.session, actor, deal_id, agreed_amount_fen=data.get("agreed_amount_fen"),
                               mode=data.get("mode"), inventor_share_bp=data.get("inventor_share"))
    return _deal_now(actor, deal_id)


@bp.post("/deals/<int:deal_id>/terms/accept")
def accept_deal_terms(deal_id: int):
    """Accept the version of the terms the caller was shown; the same rules as the deal page."""
    actor = require_token_user(db.session, request)
    data = money.read_body()
    deal_pipeline.get_deal(db.session, actor, deal_id)
    money.refuse_shape(json_schema(TermsAcceptanceInput), data)
    deal_pipeline.accept_terms(db.session, actor, deal_id, data.get("version"))
    return _deal_now(actor, deal_id)


@bp.post("/deals/<int:deal_id>/notice/withdraw")
def withdraw_deal_notice(deal_id: int):
    """A party takes the notice down with a reason; the same rules as the deal page."""
    actor = require_token_user(db.session, request)
    data = money.read_body()
    deal_pipeline.get_deal(db.session, actor, deal_id)
    money.refuse_shape(json_schema(NoticeWithdrawalInput), data)
    deal_pipeline.withdraw_notice(db.session, actor, deal_id, reason=data.get("reason"))
    return _deal_now(actor, deal_id)


def _deal_now(actor, deal_id: int):
    """The deal as it stands after the write, as the actor may see it."""
    db.session.expire_all()
    return jsonify(deal_detail_json(db.session, deal_pipeline.get_deal(db.session, actor, deal_id), actor))


@bp.post("/deals/<int:deal_id>/stage")
def move_deal(deal_id: int):
    """Move a deal to its next stage (or terminate it) with the fields that move needs; the same rules as the
    deal page."""
    actor = require_token_user(db.session, request)
    data = money.read_body()
    deal_pipeline.get_deal(db.session, actor, deal_id)
    target = _target_stage(data)
    moved = _move(db.session, actor, deal_id, target, data)
    db.session.expire_all()
    if target == DealStage.SIGNED:
        response = jsonify(signing_json(db.session.get(DealSigning, moved.id), actor))
        response.status_code = 201
        return response
    return jsonify(deal_detail_json(db.session, deal_pipeline.get_deal(db.session, actor, deal_id), actor))


@bp.post("/deals/<int:deal_id>/fee")
def set_deal_fee(deal_id: int):
    """Set or clear the agency's fee (佣金), a term: a change is a new version of the terms for everyone to accept."""
    actor = require_token_user(db.session, request)
    data = money.read_body()
    deal_pipeline.get_deal(db.session, actor, deal_id)
    money.refuse_shape(json_schema(FeeInput), data)
    fees.set_fee(db.session, actor, deal_id, fee_rate_bp=data.get("fee_rate"), fee_fixed_fen=data.get("fee_fixed_fen"),
                 fee_payer=data.get("fee_payer"))
    return _deal_now(actor, deal_id)


def _fee_payment_refusal(error: ValidationError) -> ValidationError:
    """The fee service's field errors under the body's names (its `paid_on` is the body's `date`)."""
    return ValidationError(error.message, {money.SERVICE_FIELD_NAMES.get(name, name): message
                                           for name, message in error.fields.items()})


@bp.post("/deals/<int:deal_id>/fee/paid")
def mark_deal_fee_paid(deal_id: int):
    """A member of the paying party marks the fee paid (amount, date) once the deal is signed; the same rules as the
    deal page."""
    actor = require_token_user(db.session, request)
    data = money.read_body()
    deal_pipeline.get_deal(db.session, actor, deal_id)
    money.refuse_shape(json_schema(PaymentInput), data)
    try:
        fees.mark_fee_paid(db.session, actor, deal_id, amount_fen=data["amount_fen"], paid_on=data["date"])
    except ValidationError as error:
        raise _fee_payment_refusal(error) from error
    return _deal_now(actor, deal_id)


@bp.post("/deals/<int:deal_id>/fee/unpaid")
def mark_deal_fee_unpaid(deal_id: int):
    """A member of the paying party takes the paid mark back; the same rules as the deal page."""
    actor = require_token_user(db.session, request)
    deal_pipeline.get_deal(db.session, actor, deal_id)
    money.read_optional_body()
    fees.mark_fee_unpaid(db.session, actor, deal_id)
    return _deal_now(actor, deal_id)
