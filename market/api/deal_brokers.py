"""JSON API v1 for a deal's broker: ask to join, invite, propose, answer, withdraw and remove, calling the same broker
services as the deal page."""
from flask import jsonify, request

from market.api import deals as deal_data
from market.api import money
from market.api.auth import require_token_user
from market.api.views import bp
from market.deals import brokers
from market.deals.inputs import BrokerDeclineInput, BrokerInvitationInput, BrokerRemovalInput
from market.deals.pipeline import get_deal
from market.declared import json_schema
from market.extensions import db


def _deal_answer(deal_id: int, actor, status: int = 200):
    db.session.expire_all()
    response = jsonify(deal_data.deal_detail_json(db.session, get_deal(db.session, actor, deal_id), actor))
    response.status_code = status
    return response


def _optional_reason() -> str | None:
    """The optional {"reason": …} body of a decline or a withdrawal (no body at all is fine)."""
    if not request.content_length and "Transfer-Encoding" not in request.headers:
        return None
    data = money.read_body()
    money.refuse_shape(json_schema(BrokerDeclineInput), data)
    return data.get("reason")


@bp.post("/deals/<int:deal_id>/broker/ask")
def ask_to_join_deal(deal_id: int):
    """An approved broker asks to become the deal's broker; both parties must accept."""
    actor = require_token_user(db.session, request)
    get_deal(db.session, actor, deal_id)
    money.read_optional_body()
    brokers.ask_to_join_deal(db.session, actor, deal_id)
    return _deal_answer(deal_id, actor, 201)


@bp.post("/deals/<int:deal_id>/broker/invite")
def invite_broker(deal_id: int):
    """A party invites an approved broker; the broker must accept."""
    actor = require_token_user(db.session, request)
    data = money.read_body()
    get_deal(db.session, actor, deal_id)
    money.refuse_shape(json_schema(BrokerInvitationInput), data)
    brokers.invite_broker(db.session, actor, deal_id, broker_id=data["broker"])
    return _deal_answer(deal_id, actor, 201)


@bp.post("/deals/<int:deal_id>/broker/propose")
def propose_broker(deal_id: int):
    """An admin proposes an approved broker; the broker and both parties must accept."""
    actor = require_token_user(db.session, request)
    data = money.read_body()
    get_deal(db.session, actor, deal_id)
    money.refuse_shape(json_schema(BrokerInvitationInput), data)
    brokers.propose_broker(db.session, actor, deal_id, broker_id=data["broker"])
    return _deal_answer(deal_id, actor, 201)


@bp.post("/deals/<int:deal_id>/broker/remove")
def remove_broker(deal_id: int):
    """A party or an admin removes the deal's broker with a reason."""
    actor = require_token_user(db.session, request)
    data = money.read_body()
    get_deal(db.session, actor, deal_id)
    money.refuse_shape(json_schema(BrokerRemovalInput), data)
    brokers.remove_broker(db.session, actor, deal_id, reason=data["reason"])
    return _deal_answer(deal_id, actor)


@bp.post("/deals/<int:deal_id>/broker-requests/<int:request_id>/accept")
def accept_broker_request(deal_id: int, request_id: int):
    """The named broker or a party that must consent accepts; the broker joins once nobody is awaited."""
    actor = require_token_user(db.session, request)
    brokers.get_broker_request(db.session, actor, deal_id, request_id)
    money.read_optional_body()
    brokers.accept_broker_request(db.session, actor, deal_id, request_id)
    return _deal_answer(deal_id, actor)


@bp.post("/deals/<int:deal_id>/broker-requests/<int:request_id>/decline")
def decline_broker_request(deal_id: int, request_id: int):
    """The named broker or a party that must consent declines; the request ends."""
    actor = require_token_user(db.session, request)
    brokers.get_broker_request(db.session, actor, deal_id, request_id)
    brokers.decline_broker_request(db.session, actor, deal_id, request_id, reason=_optional_reason())
    return _deal_answer(deal_id, actor)


@bp.post("/deals/<int:deal_id>/broker-requests/<int:request_id>/withdraw")
def withdraw_broker_request(deal_id: int, request_id: int):
    """Whoever started a pending request withdraws it."""
    actor = require_token_user(db.session, request)
    brokers.get_broker_request(db.session, actor, deal_id, request_id)
    brokers.withdraw_broker_request(db.session, actor, deal_id, request_id, reason=_optional_reason())
    return _deal_answer(deal_id, actor)
