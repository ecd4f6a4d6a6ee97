"""Bids and deals over the JSON API: who sees and answers a bid, the deal list and page per role, and stage moves
through the whole pipeline with the same rules as the pages."""
import io
import json
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from market.accounts.models import ApprovalStatus
from market.awards.models import PolicyEvent
from market.deals import recording as deal_recording
from market.deals.models import (
    Bid,
    BidVersion,
    Deal,
    DealEvent,
    DealStage,
)
from market.deals.permissions import can_view_deal
from market.extensions import db
from market.listings.vocabulary import ListingStatus
from market.money import MAX_FEN
from tests.api_requests import bearer, schema_validator
from tests.conftest import deal_clock
from tests.payments import RECEIPT_PDF

WAN = 1_000_000
JSON = "application/json"


def post(client, path: str, user, body=None, *, raw: bytes | None = None):
    """POST a JSON body (or raw bytes, or nothing) as the user."""
    if body is None and raw is None:
        return client.post(path, headers=bearer(user))
    data = raw if raw is not None else json.dumps(body)
    return client.post(path, data=data, headers={**bearer(user), "Content-Type": JSON})


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def world(make_user, make_organisation, make_achievement):
    """A university researcher (and a colleague) owning a published achievement, a company buyer (and a colleague),
    another company, a researcher of another university, a platform broker and an admin."""
    researcher = make_user("researcher")
    buyer = make_user("enterprise")
    return SimpleNamespace(
        researcher=researcher, owner_colleague=make_user("researcher", organisation=researcher.organisation),
        achievement=make_achievement(owner=researcher), buyer=buyer,
        buyer_colleague=make_user("enterprise", organisation=buyer.organisation), outsider=make_user("enterprise"),
        other_researcher=make_user("researcher"), broker=make_user("broker"), admin=make_user("admin"), visitor=None)


ROUND = {"amount_fen": 80 * WAN, "mode": "assignment", "message": "首轮报价"}


def place(client, world, body=ROUND):
    """The buyer bids on the world's achievement; returns the response."""
    return post(client, f"/api/v1/achievements/{world.achievement.id}/bids", world.buyer, body)


# ---------------------------------------------------------------- bids


def test_an_enterprise_bids_and_both_sides_see_the_bid(client, world):
    response = place(client, world)
    assert response.status_code == 201, response.get_json()
    bid = response.get_json()
    schema_validator("Bid").validate(bid)
    assert response.headers["Location"] == f"/api/v1/bids/{bid['id']}"
    assert (bid["side"], bid["status"]["code"], bid["rounds"]) == ("buyer", "open", 1)
    assert bid["latest"]["amount_fen"] == 80 * WAN and bid["latest"]["mode"]["code"] == "assignment"
    assert bid["may"] == {"counter": False, "accept": False, "decline": False, "withdraw": True}
    stored = db.session.get(Bid, bid["id"])
    assert (stored.bidder_id, stored.versions[0].amount_fen) == (world.buyer.id, 80 * WAN)
    owners_view = client.get("/api/v1/bids", headers=bearer(world.owner_colleague)).get_json()
    schema_validator("BidPage").validate(owners_view)
    assert [(item["id"], item["side"], item["may"]["accept"]) for item in owners_view["items"]] == [
        (bid["id"], "owner", True)]
    assert client.get("/api/v1/bids", headers=bearer(world.outsider)).get_json()["total"] == 0
    assert client.get("/api/v1/bids", headers=bearer(world.admin)).get_json()["total"] == 1


@pytest.mark.parametrize("who, status", [
    ("buyer", 200), ("buyer_colleague", 200), ("researcher", 200), ("owner_colleague", 200), ("admin", 200),
    ("outsider", 404), ("other_researcher", 404), ("broker", 404), ("visitor", 401),
])
def test_a_bid_is_seen_by_both_organisations_and_admins_only(client, world, who, status):
    bid_id = place(client, world).get_json()["id"]
    response = client.get(f"/api/v1/bids/{bid_id}", headers=bearer(getattr(world, who)))
    assert response.status_code == status
    if status == 200:
        schema_validator("Bid").validate(response.get_json())
        assert [version["number"] for version in response.get_json()["versions"]] == [1]
    else:
        assert set(response.get_json()) == {"error", "message", "fields"}


@pytest.mark.parametrize("who, status", [
    ("researcher", 403), ("other_researcher", 403), ("broker", 403), ("admin", 403), ("visitor", 401),
])
def test_only_an_enterprise_of_another_organisation_may_bid(client, world, who, status):
    response = post(client, f"/api/v1/achievements/{world.achievement.id}/bids", getattr(world, who), ROUND)
    assert response.status_code == status
    assert count(Bid) == 0


def test_a_member_awaiting_approval_may_not_bid(client, world, make_user):
    pending = make_user("enterprise", membership_status=ApprovalStatus.PENDING)
    response = post(client, f"/api/v1/achievements/{world.achievement.id}/bids", pending, ROUND)
    assert response.status_code == 403
    assert count(Bid) == 0


def test_a_draft_achievement_cannot_be_bid_on(client, world, make_achievement):
    draft = make_achievement(owner=world.researcher, status="draft")
    assert post(client, f"/api/v1/achievements/{draft.id}/bids", world.buyer, ROUND).status_code == 404
    assert post(client, "/api/v1/achievements/999999/bids", world.buyer, ROUND).status_code == 404
    assert count(Bid) == 0


def with_raw(key: str, raw: str) -> bytes:
    """The first round with one member written as raw JSON text."""
    rest = json.dumps({k: v for k, v in ROUND.items() if k != key}, ensure_ascii=False)
    return (rest[:-1] + f', "{key}": {raw}}}').encode()


# (case, raw body, error code, field)
BAD_ROUNDS = [
    ("amount as a string", with_raw("amount_fen", '"80000000"'), "validation_failed", "amount_fen"),
    ("amount as a fraction", with_raw("amount_fen", "1.5"), "validation_failed", "amount_fen"),
    ("amount as 1e3", with_raw("amount_fen", "1e3"), "validation_failed", "amount_fen"),
    ("amount NaN", with_raw("amount_fen", "NaN"), "invalid_json", "amount_fen"),
    ("amount zero", with_raw("amount_fen", "0"), "validation_failed", "amount_fen"),
    ("amount negative", with_raw("amount_fen", "-1"), "validation_failed", "amount_fen"),
    ("amount above the cap", with_raw("amount_fen", str(MAX_FEN + 1)), "validation_failed", "amount_fen"),
    ("amount missing", json.dumps({"mode": "assignment"}).encode(), "validation_failed", "amount_fen"),
    ("mode unknown", with_raw("mode", '"gift"'), "validation_failed", "mode"),
    ("mode the achievement does not offer", with_raw("mode", '"co_development"'), "validation_failed", "mode"),
    ("mode missing", json.dumps({"amount_fen": 100}).encode(), "validation_failed", "mode"),
    ("message as a number", with_raw("message", "5"), "validation_failed", "message"),
    ("unknown key", with_raw("price_fen", "5"), "validation_failed", "price_fen"),
]


@pytest.mark.parametrize("case, raw, code, field", BAD_ROUNDS, ids=[case[0] for case in BAD_ROUNDS])
def test_a_bad_round_is_refused_and_nothing_is_saved(client, world, case, raw, code, field):
    response = post(client, f"/api/v1/achievements/{world.achievement.id}/bids", world.buyer, raw=raw)
    assert response.status_code == 422, response.get_json()
    assert (response.get_json()["error"], field in response.get_json()["fields"]) == (code, True)
    assert (count(Bid), count(BidVersion)) == (0, 0)


def test_rounds_alternate_and_accepting_the_latest_opens_exactly_one_deal(client, world):
    bid_id = place(client, world).get_json()["id"]
    countered = post(client, f"/api/v1/bids/{bid_id}/counter", world.researcher,
                     {"amount_fen": 120 * WAN, "mode": "assignment", "message": "还价"})
    assert countered.status_code == 201
    assert (countered.get_json()["rounds"], countered.get_json()["latest"]["side"]) == (2, "owner")
    assert post(client, f"/api/v1/bids/{bid_id}/counter", world.researcher,
                {"amount_fen": 110 * WAN, "mode": "assignment"}).status_code == 409
    assert post(client, f"/api/v1/bids/{bid_id}/counter", world.buyer,
                {"amount_fen": 100 * WAN, "mode": "license_exclusive"}).status_code == 201
    assert post(client, f"/api/v1/bids/{bid_id}/accept", world.researcher, {"version": 2}).status_code == 409
    assert post(client, f"/api/v1/bids/{bid_id}/accept", world.buyer, {"version": 3}).status_code == 409
    accepted = post(client, f"/api/v1/bids/{bid_id}/accept", world.owner_colleague, {"version": 3})
    assert accepted.status_code == 201, accepted.get_json()
    deal = accepted.get_json()
    schema_validator("DealDetail").validate(deal)
    assert accepted.headers["Location"] == f"/api/v1/deals/{deal['id']}"
    assert (deal["stage"]["code"], deal["agreed_amount_fen"], deal["mode"]["code"]) == (
        "intent", 100 * WAN, "license_exclusive")
    assert (deal["transferor"]["id"], deal["transferee"]["id"]) == (world.researcher.organisation_id,
                                                                    world.buyer.organisation_id)
    assert post(client, f"/api/v1/bids/{bid_id}/accept", world.researcher, {"version": 3}).status_code == 409
    assert count(Deal) == 1
    bid = client.get(f"/api/v1/bids/{bid_id}", headers=bearer(world.buyer)).get_json()
    assert (bid["status"]["code"], bid["deal_id"], [v["amount_fen"] for v in bid["versions"]]) == (
        "accepted", deal["id"], [80 * WAN, 120 * WAN, 100 * WAN])


@pytest.mark.parametrize("body, field", [({}, "version"), ({"version": "1"}, "version"), ({"version": 1.0}, "version"),
                                         ({"version": 1, "amount_fen": 1}, "amount_fen")])
def test_accepting_needs_the_round_number_as_an_integer(client, world, body, field):
    bid_id = place(client, world).get_json()["id"]
    raw = json.dumps(body).encode()
    response = post(client, f"/api/v1/bids/{bid_id}/accept", world.researcher, raw=raw)
    assert response.status_code == 422 and field in response.get_json()["fields"]
    assert count(Deal) == 0


def test_the_owner_declines_and_the_bidder_withdraws(client, world, make_achievement):
    bid_id = place(client, world).get_json()["id"]
    assert post(client, f"/api/v1/bids/{bid_id}/decline", world.buyer).status_code == 403
    assert post(client, f"/api/v1/bids/{bid_id}/withdraw", world.researcher).status_code == 403
    assert post(client, f"/api/v1/bids/{bid_id}/decline", world.researcher, {"reason": "x"}).status_code == 422
    assert post(client, f"/api/v1/bids/{bid_id}/decline", world.researcher, {}).status_code == 422
    declined = post(client, f"/api/v1/bids/{bid_id}/decline", world.researcher, {"reason": "price", "note": "低于底价"})
    assert (declined.status_code, declined.get_json()["status"]["code"]) == (200, "declined")
    assert declined.get_json()["decline"] == {"reason": {"code": "price", "label": "价格或条件不合适"}, "note": "低于底价"}
    seen = client.get(f"/api/v1/bids/{bid_id}", headers=bearer(world.buyer)).get_json()
    assert seen["decline"]["reason"]["code"] == "price"
    assert not list(schema_validator("Bid").iter_errors(seen))
    assert post(client, f"/api/v1/bids/{bid_id}/withdraw", world.buyer).status_code == 409
    second = place(client, world).get_json()["id"]
    withdrawn = post(client, f"/api/v1/bids/{second}/withdraw", world.buyer)
    assert (withdrawn.status_code, withdrawn.get_json()["status"]["code"]) == (200, "withdrawn")
    assert post(client, f"/api/v1/bids/{second}/withdraw", world.outsider).status_code == 404


@pytest.mark.parametrize("path", ["counter", "accept", "decline", "withdraw"])
def test_bid_actions_on_an_unknown_bid_answer_404_and_without_a_token_401(client, world, path):
    assert post(client, f"/api/v1/bids/999999/{path}", world.buyer, {}).status_code == 404
    assert post(client, f"/api/v1/bids/999999/{path}", None, {}).status_code == 401


# ---------------------------------------------------------------- the deal list and page


@pytest.fixture
def deals(world, make_user, make_organisation, make_achievement, make_deal):
    """Three deals built through the deal services: `taiyuan` (the world's achievement, researcher → buyer), `ended`
    (the same parties, terminated) and `datong` (another university's achievement sold to the outsider, with a broker
    named as intermediary whose membership went back to pending afterwards)."""
    datong_researcher = make_user("researcher", organisation=make_organisation("university", region="大同市"))
    pending_broker = make_user("broker")
    found = SimpleNamespace(
        taiyuan=make_deal(achievement=world.achievement, buyer=world.buyer, broker=None),
        ended=make_deal(DealStage.TERMINATED, achievement=world.achievement, buyer=world.buyer, broker=None),
        datong=make_deal(achievement=make_achievement(owner=datong_researcher), buyer=world.outsider, broker=None,
                         intermediaries=[(pending_broker, 10_000)]),
        datong_researcher=datong_researcher, pending_broker=pending_broker)
    pending_broker.membership_status = ApprovalStatus.PENDING
    db.session.commit()
    return found


def listed(client, user, **query) -> list[int]:
    response = client.get("/api/v1/deals", query_string=query, headers=bearer(user))
    assert response.status_code == 200, response.get_json()
    schema_validator("DealPage").validate(response.get_json())
    return sorted(item["id"] for item in response.get_json()["items"])


@pytest.mark.parametrize("who, expected", [
    ("researcher", {"taiyuan", "ended"}), ("buyer_colleague", {"taiyuan", "ended"}), ("outsider", {"datong"}),
    ("datong_researcher", {"datong"}), ("pending_broker", {"datong"}), ("broker", {"taiyuan", "ended", "datong"}),
    ("admin", {"taiyuan", "ended", "datong"}), ("other_researcher", set()),
])
def test_the_deal_list_holds_exactly_the_deals_the_pages_let_the_caller_see(client, world, deals, who, expected):
    user = getattr(deals, who, None) or getattr(world, who)
    ids = listed(client, user, per_page=100)
    assert ids == sorted(getattr(deals, name).id for name in expected)
    every = db.session.scalars(select(Deal)).all()
    assert ids == sorted(deal.id for deal in every if can_view_deal(user, deal))


def test_the_deal_list_filters_by_stage_and_valley_and_pages(client, world, deals):
    assert listed(client, world.broker, stage="terminated") == [deals.ended.id]
    assert listed(client, world.broker, valley="datong") == [deals.datong.id]
    assert listed(client, world.researcher, valley="taiyuan", stage="intent") == [deals.taiyuan.id]
    page = client.get("/api/v1/deals", query_string={"per_page": 2, "page": 2}, headers=bearer(world.admin)).get_json()
    assert (page["total"], page["pages"], len(page["items"])) == (3, 2, 1)


@pytest.mark.parametrize("query, field", [({"stage": "someday"}, "stage"), ({"valley": "atlantis"}, "valley"),
                                          ({"colour": "red"}, "colour"), ({"per_page": "0"}, "per_page"),
                                          ({"page": "1e3"}, "page")])
def test_bad_deal_list_parameters_are_refused(client, world, query, field):
    response = client.get("/api/v1/deals", query_string=query, headers=bearer(world.broker))
    assert response.status_code == 422 and field in response.get_json()["fields"]


def test_the_deal_list_needs_a_token(client):
    assert client.get("/api/v1/deals").status_code == 401


@pytest.mark.parametrize("who, status", [
    ("researcher", 200), ("buyer", 200), ("broker", 200), ("admin", 200), ("outsider", 404),
    ("pending_broker", 404), ("visitor", 401),
])
def test_a_deal_page_answers_each_role_as_the_pages_do(client, world, deals, who, status):
    user = getattr(deals, who, None) or getattr(world, who)
    response = client.get(f"/api/v1/deals/{deals.taiyuan.id}", headers=bearer(user))
    assert response.status_code == status
    if status == 200:
        schema_validator("DealDetail").validate(response.get_json())


def test_the_deal_page_names_the_callers_roles_and_next_step(client, world, deals):
    page = client.get(f"/api/v1/deals/{deals.taiyuan.id}", headers=bearer(world.researcher)).get_json()
    assert page["your_roles"] == ["party", "transferor"]
    assert (page["may"]["advance_to"], page["may"]["terminate"], page["may"]["record_payment"]) == (
        "negotiation", True, False)
    broker_page = client.get(f"/api/v1/deals/{deals.taiyuan.id}", headers=bearer(world.broker)).get_json()
    assert (broker_page["your_roles"], broker_page["may"]["ask_broker"], broker_page["may"]["invite_broker"]) == (
        ["platform_broker"], True, False)
    assert (page["may"]["ask_broker"], page["may"]["invite_broker"]) == (False, True)
    assert client.get("/api/v1/deals/999999", headers=bearer(world.admin)).status_code == 404


# ---------------------------------------------------------------- the deal's broker


def test_a_broker_asks_over_the_api_and_joins_only_when_both_parties_accept(client, world, deals):
    deal_id = deals.taiyuan.id
    asked = post(client, f"/api/v1/deals/{deal_id}/broker/ask", world.broker)
    assert asked.status_code == 201, asked.get_json()
    page = asked.get_json()
    schema_validator("DealDetail").validate(page)
    (request,) = page["broker_requests"]
    assert (request["kind"]["code"], request["awaiting"], request["may"]) == (
        "ask", ["transferee", "transferor"], {"accept": False, "decline": False, "withdraw": True})
    accept = f"/api/v1/deals/{deal_id}/broker-requests/{request['id']}/accept"
    refused = post(client, accept, world.broker)
    assert (refused.status_code, refused.get_json()["error"]) == (403, "forbidden")
    assert post(client, f"/api/v1/deals/{deal_id}/broker/ask", world.broker).status_code == 409
    first = post(client, accept, world.owner_colleague)
    assert first.status_code == 200 and first.get_json()["broker"] is None
    assert first.get_json()["broker_requests"][0]["awaiting"] == ["transferee"]
    assert post(client, accept, world.researcher).status_code == 403
    joined = post(client, accept, world.buyer, {})
    assert joined.status_code == 200
    assert (joined.get_json()["broker"], joined.get_json()["broker_requests"]) == (
        {"id": world.broker.id, "name": world.broker.name}, [])
    assert db.session.get(Deal, deal_id).broker_id == world.broker.id
    removed = post(client, f"/api/v1/deals/{deal_id}/broker/remove", world.buyer, {"reason": "经纪人长期未跟进"})
    assert removed.status_code == 200 and removed.get_json()["broker"] is None


def test_an_invitation_over_the_api_is_declined_by_the_broker(client, world, deals):
    deal_id = deals.taiyuan.id
    bad = post(client, f"/api/v1/deals/{deal_id}/broker/invite", world.researcher, {"broker": str(world.broker.id)})
    assert (bad.status_code, list(bad.get_json()["fields"])) == (422, ["broker"])
    outsider = post(client, f"/api/v1/deals/{deal_id}/broker/invite", world.researcher, {"broker": world.buyer.id})
    assert outsider.get_json()["fields"] == {"broker": "请选择平台上已审核的技术经理人。"}
    invited = post(client, f"/api/v1/deals/{deal_id}/broker/invite", world.researcher, {"broker": world.broker.id})
    assert invited.status_code == 201
    (request,) = invited.get_json()["broker_requests"]
    assert request["awaiting"] == ["broker"] and request["transferor_accepted_by"]["id"] == world.researcher.id
    brokers_view = client.get(f"/api/v1/deals/{deal_id}", headers=bearer(world.broker)).get_json()
    assert brokers_view["broker_requests"][0]["may"] == {"accept": True, "decline": True, "withdraw": False}
    declined = post(client, f"/api/v1/deals/{deal_id}/broker-requests/{request['id']}/decline", world.broker,
                    {"reason": "档期已满"})
    assert declined.status_code == 200 and declined.get_json()["broker_requests"] == []
    assert db.session.get(Deal, deal_id).broker_id is None
    assert post(client, f"/api/v1/deals/{deal_id}/broker-requests/{request['id']}/accept",
                world.broker).status_code == 409
    assert post(client, f"/api/v1/deals/{deal_id}/broker/propose", world.researcher,
                {"broker": world.broker.id}).status_code == 403


# ---------------------------------------------------------------- stage moves


def move(client, user, deal_id: int, **body):
    return post(client, f"/api/v1/deals/{deal_id}/stage", user, body)


def test_a_deal_goes_through_the_whole_pipeline_over_the_api(client, world):
    bid_id = place(client, world, {"amount_fen": 100 * WAN, "mode": "assignment"}).get_json()["id"]
    deal_id = post(client, f"/api/v1/bids/{bid_id}/accept", world.researcher, {"version": 1}).get_json()["id"]
    assert move(client, world.buyer, deal_id, to="negotiation").get_json()["stage"]["code"] == "negotiation"
    assert move(client, world.researcher, deal_id, to="pricing").get_json()["stage"]["code"] == "pricing"
    unrecorded = move(client, world.buyer, deal_id, to="notice", notice_days=15)
    assert unrecorded.status_code == 422 and "inventor_share" in unrecorded.get_json()["fields"]
    terms = post(client, f"/api/v1/deals/{deal_id}/terms", world.researcher,
                 {"agreed_amount_fen": 100 * WAN, "mode": "assignment", "inventor_share": 7000})
    assert (terms.status_code, terms.get_json()["inventor_share_bp"]) == (200, 7000)
    shown = terms.get_json()["terms"]
    assert (shown["version"], shown["locked"]) == (2, False)
    assert [(row["role"], row["accepted_by"] and row["accepted_by"]["id"]) for row in shown["acceptances"]] == [
        ("transferor", world.researcher.id), ("transferee", None)]
    unaccepted = move(client, world.buyer, deal_id, to="notice", notice_days=15)
    assert unaccepted.status_code == 409 and "受让方" in unaccepted.get_json()["message"]
    accept = f"/api/v1/deals/{deal_id}/terms/accept"
    assert post(client, accept, world.buyer, {"version": 1}).status_code == 409, "a stale version is refused"
    assert post(client, accept, world.buyer, {"version": "2", "extra": 1}).status_code == 422
    assert post(client, accept, world.researcher, {"version": 2}).status_code == 409, "already accepted"
    accepted = post(client, accept, world.buyer, {"version": 2})
    assert accepted.status_code == 200 and accepted.get_json()["may"]["accept_terms"] is False
    assert all(row["accepted_at"] for row in accepted.get_json()["terms"]["acceptances"])
    today = deal_recording.today()
    notice_day = today - timedelta(days=20)
    with deal_clock(notice_day):  # the notice starts 20 days ago, so that it has run out today
        noticed = move(client, world.buyer, deal_id, to="notice", notice_days=15)
        assert noticed.status_code == 200
        assert noticed.get_json()["notice"] == {"days": 15, "starts_on": notice_day.isoformat(),
                                                "ends_on": (notice_day + timedelta(days=14)).isoformat()}
        assert noticed.get_json()["terms"]["locked"] is True
        locked = post(client, f"/api/v1/deals/{deal_id}/terms", world.researcher,
                      {"agreed_amount_fen": 90 * WAN, "mode": "assignment", "inventor_share": 7000})
        assert locked.status_code == 409 and "公示后交易条件已锁定" in locked.get_json()["message"]
        too_early = move(client, world.researcher, deal_id, to="signed", signed_on=notice_day.isoformat(),
                         agreed_amount_fen=100 * WAN)
        assert too_early.status_code == 422 and "signed_on" in too_early.get_json()["fields"]
    signing_day = (today - timedelta(days=5)).isoformat()
    by_transferee = move(client, world.buyer, deal_id, to="signed", signed_on=signing_day, agreed_amount_fen=100 * WAN)
    assert by_transferee.status_code == 403, "the transferee confirms a signing, it does not record one"
    recorded = move(client, world.researcher, deal_id, to="signed", signed_on=signing_day, agreed_amount_fen=100 * WAN)
    assert recorded.status_code == 201, recorded.get_json()
    signing = recorded.get_json()
    schema_validator("DealSigning").validate(signing)
    assert (signing["status"]["code"], signing["recorded_as"], signing["signed_on"]) == ("recorded", "transferor",
                                                                                          signing_day)
    waiting = client.get(f"/api/v1/deals/{deal_id}", headers=bearer(world.buyer)).get_json()
    assert (waiting["stage"]["code"], waiting["signed_on"]) == ("notice", None)
    assert waiting["signings"][0]["may"] == {"confirm": True, "dispute": True, "withdraw": False, "refuse": False}
    decide = f"/api/v1/deal-signings/{signing['id']}"
    assert post(client, f"{decide}/confirm", world.researcher).status_code == 403
    assert post(client, f"{decide}/approve", world.buyer).status_code == 404
    confirmed = post(client, f"{decide}/confirm", world.buyer)
    assert (confirmed.status_code, confirmed.get_json()["status"]["code"]) == (200, "confirmed")
    signed = client.get(f"/api/v1/deals/{deal_id}", headers=bearer(world.buyer)).get_json()
    assert (signed["stage"]["code"], signed["signed_on"]) == ("signed", signing_day)
    assert post(client, f"{decide}/confirm", world.buyer).status_code == 409
    registration = {"to": "registered", "registration_number": "SX2025-0001",
                    "registered_on": (today - timedelta(days=4)).isoformat()}
    without_certificate = post(client, f"/api/v1/deals/{deal_id}/stage", world.researcher, registration)
    assert without_certificate.status_code == 422 and "certificate" in without_certificate.get_json()["fields"]

    def register(user):
        form = {key: value for key, value in registration.items() if key != "to"}
        return client.post(f"/api/v1/deals/{deal_id}/registrations", headers=bearer(user),
                           data={**form, "certificate": (io.BytesIO(RECEIPT_PDF), "登记证明.pdf")})

    assert register(world.buyer).status_code == 403
    events_before = count(PolicyEvent)
    registered = register(world.researcher)
    assert (registered.status_code, registered.get_json()["registration_number"]) == (201, "SX2025-0001")
    assert count(PolicyEvent) == events_before + 1
    paid = client.post(f"/api/v1/deals/{deal_id}/payments", data=json.dumps(
        {"amount_fen": 40 * WAN, "date": (today - timedelta(days=3)).isoformat()}),
        headers={**bearer(world.researcher), "Content-Type": JSON, "Idempotency-Key": "first-proceeds"})
    assert (paid.status_code, paid.get_json()["status"]["code"], paid.get_json()["awards"]) == (201, "recorded", [])
    waiting = move(client, world.researcher, deal_id, to="completed", note="余款由双方另行结算。")
    assert waiting.status_code == 409, "a deal is not completed while a payment waits for confirmation"
    confirm_path = f"/api/v1/deal-payments/{paid.get_json()['id']}/confirm"
    assert post(client, confirm_path, world.researcher).status_code == 403
    confirmed = post(client, confirm_path, world.buyer)
    assert (confirmed.status_code, confirmed.get_json()["status"]["code"]) == (200, "confirmed")
    assert count(PolicyEvent) == events_before + 2
    assert post(client, confirm_path, world.buyer).status_code == 409
    unverified = move(client, world.researcher, deal_id, to="completed", note="余款由双方另行结算。")
    assert unverified.status_code == 409, "a deal is not completed on a registration no admin has verified"
    verified = client.post(f"/api/v1/deal-registrations/{registered.get_json()['id']}/verify",
                           headers=bearer(world.admin), json={})
    assert verified.status_code == 200
    unexplained = move(client, world.researcher, deal_id, to="completed")
    assert unexplained.status_code == 422 and "note" in unexplained.get_json()["fields"]
    completed = move(client, world.researcher, deal_id, to="completed", note="余款由双方另行结算。")
    assert completed.status_code == 200
    page = completed.get_json()
    schema_validator("DealDetail").validate(page)
    assert (page["stage"]["code"], page["paid_fen"], [p["amount_fen"] for p in page["payments"]]) == (
        "completed", 40 * WAN, [40 * WAN])
    assert [event["action"] for event in page["timeline"]] == [
        "opened", "stage", "stage", "terms", "terms_accepted", "notice", "signing_recorded", "signed", "registered",
        "payment_recorded", "payment", "registration_verified", "completed"]
    assert world.achievement.status == ListingStatus.DEALT
    assert move(client, world.researcher, deal_id, to="terminated", reason="x").status_code == 409


@pytest.mark.parametrize("body, status, field", [
    ({"to": "performance"}, 422, "to"),
    ({"to": "intent"}, 422, "to"),
    ({"to": "someday"}, 422, "to"),
    ({}, 422, "to"),
    ({"to": 3}, 422, "to"),
    ({"to": "negotiation", "notice_days": 15}, 422, "notice_days"),
    ({"to": "terminated", "note": "x"}, 422, "note"),
    ({"to": "terminated"}, 422, "reason"),
    ({"to": "terminated", "reason": "   "}, 422, "reason"),
    ({"to": "notice", "notice_days": 10}, 409, None),
    ({"to": "pricing"}, 409, None),
    ({"to": "signed", "signed_on": "2025-01-01", "agreed_amount_fen": 100}, 409, None),
])
def test_a_move_the_deal_cannot_make_is_refused_and_changes_nothing(client, world, deals, body, status, field):
    events = count(DealEvent)
    response = post(client, f"/api/v1/deals/{deals.taiyuan.id}/stage", world.researcher, body)
    assert response.status_code == status, response.get_json()
    if field:
        assert field in response.get_json()["fields"]
    assert db.session.get(Deal, deals.taiyuan.id).stage == DealStage.INTENT
    assert count(DealEvent) == events


@pytest.mark.parametrize("who, status", [("outsider", 404), ("other_researcher", 404), ("visitor", 401),
                                         ("broker", 403)])
def test_only_those_the_pipeline_names_may_move_a_deal(client, world, deals, who, status):
    response = move(client, getattr(world, who), deals.taiyuan.id, to="negotiation")
    assert response.status_code == status
    assert db.session.get(Deal, deals.taiyuan.id).stage == DealStage.INTENT


def test_either_party_terminates_a_deal_with_a_reason(client, world, deals):
    response = move(client, world.buyer_colleague, deals.taiyuan.id, to="terminated", reason="预算调整，暂停合作。")
    assert response.status_code == 200
    assert (response.get_json()["stage"]["code"], response.get_json()["termination_reason"]) == (
        "terminated", "预算调整，暂停合作。")


@pytest.mark.parametrize("body, field, message", [
    ({"inventor_share": 4900}, "inventor_share", "成果完成人（团队）所得比例 49% 低于法定下限 50%（《促进科技成果转化法》第四十五条），该分配方案不合规。"),
    ({"inventor_share": "70"}, "inventor_share", None),
    ({"inventor_share": 10001}, "inventor_share", None),
    ({"reward_rate": 1000}, "reward_rate", None),
])
def test_terms_over_the_api_are_refused_with_the_field_named(client, world, body, field, message):
    bid_id = place(client, world, {"amount_fen": 100 * WAN, "mode": "assignment"}).get_json()["id"]
    deal_id = post(client, f"/api/v1/bids/{bid_id}/accept", world.researcher, {"version": 1}).get_json()["id"]
    refused = post(client, f"/api/v1/deals/{deal_id}/terms", world.buyer,
                   {"agreed_amount_fen": 100 * WAN, "mode": "assignment", **body})
    assert refused.status_code == 422
    assert field in refused.get_json()["fields"]
    if message is not None:
        assert refused.get_json()["fields"][field] == message
    db.session.expire_all()
    assert db.session.get(Deal, deal_id).inventor_share_bp is None


def test_a_party_withdraws_the_notice_over_the_api_and_the_terms_reopen(client, world, make_deal):
    deal = make_deal(DealStage.NOTICE, achievement=world.achievement, buyer=world.buyer, broker=world.broker)
    version = deal.terms_version
    withdraw = f"/api/v1/deals/{deal.id}/notice/withdraw"
    assert post(client, withdraw, world.broker, {"reason": "价格需重新商定"}).status_code == 403
    assert post(client, withdraw, world.outsider, {"reason": "价格需重新商定"}).status_code == 404
    missing = post(client, withdraw, world.buyer, {"reason": ""})
    assert missing.status_code == 422 and missing.get_json()["fields"] == {"reason": "请填写撤回公示的原因。"}
    assert post(client, withdraw, world.buyer, {"reason": "x", "to": "pricing"}).status_code == 422
    withdrawn = post(client, withdraw, world.buyer, {"reason": "价格需重新商定"})
    assert withdrawn.status_code == 200
    body = withdrawn.get_json()
    assert (body["stage"]["code"], body["notice"]["starts_on"], body["terms"]["locked"]) == ("pricing", None, False)
    assert body["timeline"][-1]["action"] == "notice_withdrawn" and body["timeline"][-1]["note"] == "价格需重新商定"
    assert post(client, withdraw, world.buyer, {"reason": "再次撤回"}).status_code == 409
    changed = post(client, f"/api/v1/deals/{deal.id}/terms", world.buyer,
                   {"agreed_amount_fen": 90 * WAN, "mode": "assignment", "inventor_share": 7000})
    assert changed.status_code == 200 and changed.get_json()["terms"]["version"] == version + 1


def test_the_fee_is_a_term_set_over_the_api_and_shown_with_the_deal(client, world, make_deal, deal_world):
    deal = make_deal(DealStage.NEGOTIATION)
    owner = deal_world.researcher
    path = f"/api/v1/deals/{deal.id}/fee"
    assert post(client, path, owner, {"fee_rate": 500}).status_code == 422
    assert post(client, path, owner, {"fee_rate": "5%", "fee_payer": "transferee"}).status_code == 422
    assert post(client, path, deal_world.outsider, {"fee_rate": 500, "fee_payer": "transferee"}).status_code == 404
    answer = post(client, path, owner, {"fee_rate": 500, "fee_payer": "transferee"})
    assert answer.status_code == 200, answer.get_json()
    page = answer.get_json()
    schema_validator("DealDetail").validate(page)
    assert page["fee"] == {"rate_bp": 500, "fixed_fen": None, "payer": {"code": "transferee", "label": "受让方"},
                           "due_fen": 5 * WAN, "paid_fen": None, "paid_on": None, "paid_by": None}
    assert [row["accepted_by"] is None for row in page["terms"]["acceptances"]] == [False, True]
    cleared = post(client, path, owner, {})
    assert cleared.status_code == 200 and cleared.get_json()["fee"] is None
