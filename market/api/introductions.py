"""JSON API v1 for introductions: list, propose, accept, decline and withdraw, calling the same services as the
introduction pages."""
from flask import jsonify, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from market.accounts.models import User
from market.api import money
from market.api.auth import require_token_user
from market.api.deals import decline_json
from market.api.serializers import iso
from market.api.views import bp
from market.deals import introductions as deal_introductions
from market.deals.inputs import DeclineInput, IntroductionAcceptInput, IntroductionInput
from market.deals.labels import introduction_status_label
from market.deals.models import Introduction
from market.deals.permissions import (
    PARTY_SIDES,
    awaiting_introduction,
    introduction_actions,
    introduction_sides,
    visible_introductions,
)
from market.declared import json_schema
from market.extensions import db
from market.inputs import FieldErrors

INTRODUCTION_BOXES = ("mine", "awaiting", "all")


def _side_json(introduction: Introduction, side: str) -> dict:
    return {"organisation": money.party_json(getattr(introduction, side)),
            "accepted_by": money.person_json(getattr(introduction, f"{side}_accepted_by")),
            "accepted_at": iso(getattr(introduction, f"{side}_accepted_at"))}


def introduction_json(introduction: Introduction, actor: User) -> dict:
    """An introduction: the listings, both sides' answers, the decline reason, the deal it opened and what the
    caller may do."""
    achievement, demand = introduction.achievement, introduction.demand
    actions = introduction_actions(actor, introduction)
    return {
        "id": introduction.id,
        "status": {"code": str(introduction.status),
                   "label": introduction_status_label(introduction.status, awaiting_introduction(introduction))},
        "broker": money.person_json(introduction.broker),
        "achievement": {"id": achievement.id, "title": achievement.title},
        "demand": {"id": demand.id, "title": demand.title} if demand else None,
        "note": introduction.note or "",
        **{side: _side_json(introduction, side) for side in PARTY_SIDES},
        "awaiting": sorted(awaiting_introduction(introduction)),
        "declined_side": introduction.declined_side,
        "decline": decline_json(introduction),
        "deal_id": introduction.deal_id,
        "your_sides": sorted(introduction_sides(actor, introduction)),
        "may": {"accept": actions.accept, "decline": actions.decline, "withdraw": actions.withdraw},
        "created_at": iso(introduction.created_at),
        "updated_at": iso(introduction.updated_at),
    }


def _box(errors: FieldErrors, name: str, raw: str | None) -> str:
    if raw is None:
        return "all"
    if raw not in INTRODUCTION_BOXES:
        errors.add(name, _("无效的选项。"))
        return "all"
    return raw


def _answer(introduction_id: int, actor: User, status: int = 200):
    db.session.expire_all()
    response = jsonify(introduction_json(deal_introductions.get_introduction(db.session, actor, introduction_id),
                                         actor))
    response.status_code = status
    return response


@bp.get("/introductions")
def list_introductions():
    """The introductions the caller sees (the broker's own, both sides', admins' all), most recently changed first;
    box: mine, awaiting (the caller's organisation has not answered) or all."""
    actor = require_token_user(db.session, request)
    args = money.query_arguments({"box": _box, **money.PAGING})
    if args["box"] == "awaiting":
        found = deal_introductions.list_introductions(db.session, actor, box="awaiting")
        start = (args["page"] - 1) * args["per_page"]
        items = found[start:start + args["per_page"]]
        return jsonify({"items": [introduction_json(item, actor) for item in items], "total": len(found),
                        "page": args["page"], "per_page": args["per_page"],
                        "pages": max(1, -(-len(found) // args["per_page"]))})
    statement = select(Introduction).where(visible_introductions(actor))
    if args["box"] == "mine":
        statement = statement.where(Introduction.broker_id == actor.id)
    statement = statement.order_by(Introduction.updated_at.desc(), Introduction.id.desc())
    return jsonify(money.paged(db.session, statement, page=args["page"], per_page=args["per_page"],
                               serialise=lambda rows: [introduction_json(row, actor) for row in rows]))


@bp.post("/introductions")
def propose_introduction():
    """An approved broker introduces a published achievement to a published demand or an approved enterprise."""
    actor = require_token_user(db.session, request)
    deal_introductions.require_introducer(actor)
    data = money.read_body()
    money.refuse_shape(json_schema(IntroductionInput), data)
    introduction = deal_introductions.propose_introduction(
        db.session, actor, achievement_id=data.get("achievement_id"), demand_id=data.get("demand_id"),
        organisation_id=data.get("organisation_id"), note=data.get("note"))
    response = _answer(introduction.id, actor, 201)
    response.headers["Location"] = url_for("api.get_introduction", introduction_id=introduction.id)
    return response


@bp.get("/introductions/<int:introduction_id>")
def get_introduction(introduction_id: int):
    """One introduction (its broker, both sides and admins)."""
    actor = require_token_user(db.session, request)
    money.query_arguments({})
    return _answer(introduction_id, actor)


@bp.post("/introductions/<int:introduction_id>/accept")
def accept_introduction(introduction_id: int):
    """A side accepts; once both have, a deal opens at 意向 with the broker on it."""
    actor = require_token_user(db.session, request)
    deal_introductions.get_introduction(db.session, actor, introduction_id)
    data = money.read_optional_body(IntroductionAcceptInput)
    deal_introductions.accept_introduction(db.session, actor, introduction_id,
                                           confirm_relicense=data.get("confirm_relicense", False))
    return _answer(introduction_id, actor)


@bp.post("/introductions/<int:introduction_id>/decline")
def decline_introduction(introduction_id: int):
    """A side declines with a reason from the list (and a note), shown to the broker and the other side."""
    actor = require_token_user(db.session, request)
    deal_introductions.get_introduction(db.session, actor, introduction_id)
    data = money.read_optional_body(DeclineInput)
    deal_introductions.decline_introduction(db.session, actor, introduction_id, reason=data.get("reason"),
                                            note=data.get("note"))
    return _answer(introduction_id, actor)


@bp.post("/introductions/<int:introduction_id>/withdraw")
def withdraw_introduction(introduction_id: int):
    """The broker withdraws a pending introduction."""
    actor = require_token_user(db.session, request)
    deal_introductions.get_introduction(db.session, actor, introduction_id)
    money.read_optional_body()
    deal_introductions.withdraw_introduction(db.session, actor, introduction_id)
    return _answer(introduction_id, actor)
