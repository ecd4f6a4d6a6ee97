"""The hostile scenarios of deals, each told whole as a dishonest user would try it, through the services and the JSON
API: an unrelated broker who tries to take a deal and pay himself, a one-sided rate change, terms changed after the
notice, and a sold achievement (docs/confirmations.md, "Hostile scenarios")."""
import html
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from market.awards import services as award_services
from market.awards.ledger import balances
from market.awards.models import Award, AwardStatus, HoldReason
from market.deals.bids import accept_bid, place_bid
from market.deals.brokers import invite_broker
from market.deals.intermediaries import set_intermediaries
from market.deals.models import Deal, DealStage, RegistrationStatus, TermsRole
from market.deals.permissions import missing_terms_seats
from market.deals.pipeline import accept_terms, complete_deal, start_notice, update_terms
from market.deals.recording import today
from market.deals.registrations import refuse_registration
from market.deals.responses import respond_to_demand
from market.deals.signing import record_signing
from market.errors import (
    InvalidStateError,
    NotFoundError,
    PermissionDeniedError,
    RuleViolationError,
    ValidationError,
)
from market.extensions import db
from market.listings import access
from market.listings.models import ListingEvent
from market.listings.vocabulary import ListingStatus
from tests.api.test_api_deals import post
from tests.api.test_api_payments_idempotency import decide, send
from tests.api_requests import bearer
from tests.conftest import ACHIEVEMENT_INPUT, WAN, client_for, deal_clock
from tests.payments import RECEIPT_PDF
from tests.services.test_deal_rate_limits import FLOOR_REFUSED, RATE_REFUSED
from tests.services.test_registration_verification import achievement_cap_used

IN_2027 = date(2027, 1, 2)
"""A day under rule-set version 2027.1, whose R2 sets the 30% maximum (POLICY.md, settled question 10)."""
LOCKED = "公示后交易条件已锁定；如需修改，请由一方撤回公示，修改并经各方确认后重新公示。"
SECRET = ACHIEVEMENT_INPUT["description_confidential"]


def fresh(deal: Deal) -> Deal:
    db.session.expire_all()
    return db.session.get(Deal, deal.id)


def terms_body(amount_fen: int, inventor_share: int = 7000) -> dict:
    return {"agreed_amount_fen": amount_fen, "mode": "assignment", "inventor_share": inventor_share}


def name_only(deal: Deal, actor, rate_bp: int) -> Deal:
    """The actor sets the rate, keeping the deal's one named intermediary with the whole share."""
    return set_intermediaries(db.session, actor, deal.id, people=[(str(deal.intermediaries[0].user_id), None)],
                              reward_rate_bp=rate_bp)


def notice_refusal(client, actor, deal: Deal) -> str:
    """The notice the actor tries to start over the API is refused (409); returns the message."""
    response = post(client, f"/api/v1/deals/{deal.id}/stage", actor, {"to": "notice", "notice_days": 15})
    assert response.status_code == 409, response.get_json()
    assert fresh(deal).stage == DealStage.PRICING
    return response.get_json()["message"]


# ---------------------------------------------------------------- 1. the unrelated broker


def test_an_unrelated_broker_cannot_take_a_deal_and_pay_himself_a_reward(client, deal_world, make_deal):
    world, villain = deal_world, deal_world.other_broker
    deal = make_deal(DealStage.PRICING, broker=None)
    terms_path, stage_path = f"/api/v1/deals/{deal.id}/terms", f"/api/v1/deals/{deal.id}/stage"

    # He cannot claim the deal, name himself or move it while nobody asked him in.
    with pytest.raises(PermissionDeniedError):
        set_intermediaries(db.session, villain, deal.id, people=[(str(villain.id), None)], reward_rate_bp=10000)
    with pytest.raises(PermissionDeniedError):
        invite_broker(db.session, villain, deal.id, broker_id=villain.id)
    assert post(client, terms_path, villain, terms_body(100 * WAN)).status_code == 403
    assert post(client, stage_path, villain, {"to": "notice", "notice_days": 15}).status_code == 403
    asked = post(client, f"/api/v1/deals/{deal.id}/broker/ask", villain)
    assert asked.status_code == 201
    accept = f"/api/v1/deals/{deal.id}/broker-requests/{asked.get_json()['broker_requests'][0]['id']}/accept"
    assert post(client, accept, villain).status_code == 403
    assert post(client, accept, world.researcher).status_code == 200
    assert post(client, accept, world.researcher).status_code == 403
    assert fresh(deal).broker_id is None, "one party's consent is not enough"
    assert post(client, accept, world.buyer).status_code == 200
    assert fresh(deal).broker_id == villain.id

    # Now the deal's broker: the rate is bounded, and his terms bind nobody until both parties accept them.
    with deal_clock(IN_2027):
        with pytest.raises(ValidationError) as too_high:
            set_intermediaries(db.session, villain, deal.id, people=[(str(villain.id), None)], reward_rate_bp=10000)
        assert too_high.value.fields == {"reward_rate": RATE_REFUSED}
        assert fresh(deal).reward_rate_bp == 0 and fresh(deal).intermediaries == []
        set_intermediaries(db.session, villain, deal.id, people=[(str(villain.id), None)], reward_rate_bp=3000)
    version = fresh(deal).terms_version
    assert missing_terms_seats(fresh(deal)) == [(TermsRole.TRANSFEROR, None), (TermsRole.TRANSFEREE, None)]
    assert notice_refusal(client, villain, deal) == f"交易条件尚未经双方确认：转让方、受让方尚未确认第 {version} 版交易条件。"
    with pytest.raises(InvalidStateError):
        accept_terms(db.session, villain, deal.id, version)  # he holds only his own share, accepted by his change
    for party in (world.researcher, world.buyer):
        accept_terms(db.session, party, deal.id, version)
    with deal_clock(today() - timedelta(days=20)):
        start_notice(db.session, villain, deal.id, notice_days=15)

    # Signing: his record leaves the deal in its notice until the transferee confirms it.
    signed_on = today() - timedelta(days=5)
    recorded = post(client, stage_path, villain, {"to": "signed", "signed_on": signed_on.isoformat(),
                                                  "agreed_amount_fen": 100 * WAN})
    assert recorded.status_code == 201 and recorded.get_json()["recorded_as"] == "broker"
    assert fresh(deal).stage == DealStage.NOTICE
    confirm_signing = f"/api/v1/deal-signings/{recorded.get_json()['id']}/confirm"
    assert [post(client, confirm_signing, person).status_code for person in (villain, world.researcher)] == [403, 403]
    assert fresh(deal).stage == DealStage.NOTICE
    assert post(client, confirm_signing, world.buyer).status_code == 200
    assert fresh(deal).stage == DealStage.SIGNED

    # Registration: an invented number needs a certificate and still waits for an admin.
    registration = {"registration_number": "SX-INVENTED-0001",
                    "registered_on": (today() - timedelta(days=4)).isoformat()}
    path = f"/api/v1/deals/{deal.id}/registrations"
    bare = client.post(path, data=registration, content_type="multipart/form-data", headers=bearer(villain))
    assert bare.status_code == 422 and "certificate" in bare.get_json()["fields"]
    registered = client.post(path, headers=bearer(villain),
                             data={**registration, "certificate": (io.BytesIO(RECEIPT_PDF), "登记证明.pdf")})
    assert registered.status_code == 201 and registered.get_json()["status"]["code"] == "awaiting_verification"
    registration_id = registered.get_json()["id"]
    assert client.post(f"/api/v1/deal-registrations/{registration_id}/verify", headers=bearer(villain),
                       json={}).status_code == 403

    # Proceeds: his record earns nothing until the payer confirms it.
    paid = send(client, f"/api/v1/deals/{deal.id}/payments", bearer(villain),
                {"amount_fen": 100 * WAN, "date": (today() - timedelta(days=3)).isoformat()}, key="villain-proceeds")
    assert (paid.status_code, paid.get_json()["status"]["code"], paid.get_json()["awards"]) == (201, "recorded", [])
    payment_id = paid.get_json()["id"]
    assert [decide(client, person, payment_id).status_code for person in (villain, world.researcher)] == [403, 403]
    assert db.session.scalar(select(func.count()).select_from(Award).where(Award.deal_id == deal.id)) == 0
    confirmed = decide(client, world.buyer, payment_id)
    assert confirmed.status_code == 200
    (award,) = db.session.scalars(select(Award).where(Award.deal_id == deal.id)).all()
    key = award_services.person_key(villain.id)
    assert (award.recipient, award.granted_fen, award.status, award.hold_reason) == (
        key, 30 * WAN, AwardStatus.HELD, HoldReason.AWAITING_VERIFICATION)  # ¥300,000, held: registration unverified
    with pytest.raises(RuleViolationError):
        award_services.approve_award(db.session, world.admin, award.id)
    assert fresh(deal).stage == DealStage.PERFORMANCE, "fully paid, but not closed on an unverified registration"
    with pytest.raises(InvalidStateError, match="尚未经平台核验"):
        complete_deal(db.session, world.researcher, deal.id, note="")

    # The admin finds no such contract: the award is reversed, its headroom returned, the deal back to 签约.
    refuse_registration(db.session, world.admin, registration_id, reason="登记编号查无此合同")
    db.session.expire_all()
    assert db.session.get(Award, award.id).status == AwardStatus.REVERSED
    assert not db.session.scalars(select(Award).where(Award.recipient == key,
                                                      Award.status == AwardStatus.PAYABLE)).all()
    assert balances(db.session, f"awarded:{key}").get(f"awarded:{key}", 0) == 0
    assert balances(db.session, f"held:{key}").get(f"held:{key}", 0) == 0
    assert achievement_cap_used(deal.achievement_id) == 0
    deal = fresh(deal)
    assert (deal.stage, deal.current_registration) == (DealStage.SIGNED, None)
    assert deal.registrations[-1].status == RegistrationStatus.REFUSED
    with pytest.raises(InvalidStateError):
        complete_deal(db.session, world.researcher, deal.id, note="经纪人要求结项")
    assert deal.achievement.status == ListingStatus.PUBLISHED, "the achievement is not 已成交"


# ---------------------------------------------------------------- 3. the one-sided rate change


def test_a_one_sided_rate_change_needs_everyones_acceptance_again_within_the_limits(client, deal_world, make_deal):
    world = deal_world
    named = world.other_broker
    deal = make_deal(DealStage.PRICING, intermediaries=[(named, 10000)], reward_rate_bp=1000)
    version = fresh(deal).terms_version
    assert missing_terms_seats(fresh(deal)) == []

    name_only(fresh(deal), world.buyer, 2000)  # the transferee raises the rate alone
    deal = fresh(deal)
    assert (deal.terms_version, deal.reward_rate_bp) == (version + 1, 2000)
    assert missing_terms_seats(deal) == [(TermsRole.TRANSFEROR, None), (TermsRole.INTERMEDIARY, named.id)]
    assert notice_refusal(client, world.buyer, deal) == (
        f"交易条件尚未经双方确认：转让方、中介服务人员{named.name}尚未确认第 {version + 1} 版交易条件。")
    with pytest.raises(InvalidStateError, match="已变更"):
        accept_terms(db.session, world.researcher, deal.id, version)  # the version he saw is no longer the terms
    stale = post(client, f"/api/v1/deals/{deal.id}/terms/accept", world.researcher, {"version": version})
    assert stale.status_code == 409

    name_only(fresh(deal), world.broker, 1500)  # the broker's change counts for neither party
    assert missing_terms_seats(fresh(deal)) == [(TermsRole.TRANSFEROR, None), (TermsRole.TRANSFEREE, None),
                                                (TermsRole.INTERMEDIARY, named.id)]
    assert notice_refusal(client, world.broker, deal).startswith("交易条件尚未经双方确认：转让方、受让方")

    with deal_clock(IN_2027):
        for actor in (world.researcher, world.buyer, world.broker):
            with pytest.raises(ValidationError) as too_high:
                name_only(fresh(deal), actor, 3001)
            assert too_high.value.fields == {"reward_rate": RATE_REFUSED}
    with pytest.raises(ValidationError) as below_floor:
        update_terms(db.session, world.buyer, deal.id, agreed_amount_fen=100 * WAN, mode="assignment",
                     inventor_share_bp=4900)
    assert below_floor.value.fields == {"inventor_share": FLOOR_REFUSED}
    refused = post(client, f"/api/v1/deals/{deal.id}/terms", world.researcher, terms_body(100 * WAN, 4900))
    assert (refused.status_code, refused.get_json()["fields"]) == (422, {"inventor_share": FLOOR_REFUSED})
    deal = fresh(deal)
    assert (deal.terms_version, deal.reward_rate_bp, deal.inventor_share_bp) == (version + 2, 1500, 7000)

    for person in (world.researcher, world.buyer, named):
        accepted = post(client, f"/api/v1/deals/{deal.id}/terms/accept", person, {"version": version + 2})
        assert accepted.status_code == 200
    with deal_clock(today() - timedelta(days=1)):
        start_notice(db.session, world.buyer, deal.id)
    assert (fresh(deal).stage, fresh(deal).reward_rate_bp) == (DealStage.NOTICE, 1500)


# ---------------------------------------------------------------- 4. terms after the notice


def test_terms_are_locked_from_the_notice_and_reopen_only_when_a_party_withdraws_it(client, deal_world, make_deal):
    world = deal_world
    named = world.other_broker
    deal = make_deal(DealStage.NOTICE, notice_starts_on=today(), intermediaries=[(named, 10000)],
                     reward_rate_bp=1000)
    version = fresh(deal).terms_version
    for actor in (world.researcher, world.buyer, world.broker):
        with pytest.raises(InvalidStateError) as refused:
            update_terms(db.session, actor, deal.id, agreed_amount_fen=60 * WAN, mode="assignment",
                         inventor_share_bp=7000)
        assert str(refused.value) == LOCKED
        with pytest.raises(InvalidStateError) as refused:
            name_only(fresh(deal), actor, 3000)
        assert str(refused.value) == LOCKED
    locked = post(client, f"/api/v1/deals/{deal.id}/terms", world.buyer, terms_body(60 * WAN))
    assert locked.status_code == 409 and locked.get_json()["message"] == LOCKED
    deal = fresh(deal)
    assert (deal.terms_version, deal.agreed_amount_fen, deal.reward_rate_bp) == (version, 100 * WAN, 1000)

    withdraw = f"/api/v1/deals/{deal.id}/notice/withdraw"
    assert post(client, withdraw, world.broker, {"reason": "经纪人想改比例"}).status_code == 403
    assert post(client, withdraw, named, {"reason": "中介想改比例"}).status_code == 403
    unexplained = post(client, withdraw, world.buyer, {"reason": "  "})
    assert unexplained.status_code == 422 and "reason" in unexplained.get_json()["fields"]
    assert fresh(deal).stage == DealStage.NOTICE
    reopened = post(client, withdraw, world.buyer, {"reason": "价格需重新商定"})
    assert reopened.status_code == 200 and reopened.get_json()["terms"]["locked"] is False
    assert fresh(deal).stage == DealStage.PRICING

    update_terms(db.session, world.researcher, deal.id, agreed_amount_fen=120 * WAN, mode="assignment",
                 inventor_share_bp=7000)
    assert notice_refusal(client, world.researcher, deal) == (
        f"交易条件尚未经双方确认：受让方、中介服务人员{named.name}尚未确认第 {version + 1} 版交易条件。")
    with pytest.raises(InvalidStateError):
        record_signing(db.session, world.researcher, deal.id, signed_on=today(), agreed_amount_fen=100 * WAN)
    for person in (world.buyer, named):
        accept_terms(db.session, person, deal.id, version + 1)
    with deal_clock(today() - timedelta(days=1)):
        start_notice(db.session, world.researcher, deal.id)
    assert (fresh(deal).stage, fresh(deal).agreed_amount_fen) == (DealStage.NOTICE, 120 * WAN)
    with pytest.raises(ValidationError) as old_price:
        record_signing(db.session, world.researcher, deal.id, signed_on=today(), agreed_amount_fen=100 * WAN)
    assert "须与公示价格" in old_price.value.fields["agreed_amount_fen"]


# ---------------------------------------------------------------- 6. the sold achievement


def page(app, user, path: str) -> str:
    """The page as the user (a visitor for None) sees it."""
    client = client_for(app, user)
    response = client.get(path)
    assert response.status_code == 200, path
    return html.unescape(response.get_data(as_text=True))


def achievement_over_api(client, user, achievement) -> dict:
    response = client.get(f"/api/v1/achievements/{achievement.id}", headers=bearer(user))
    assert response.status_code == 200
    return response.get_json()


def test_a_sold_achievement_shows_its_public_part_to_all_and_the_whole_only_to_the_deal(
        app, client, deal_world, make_deal, make_user, make_achievement, make_demand):
    world = deal_world
    make_deal(DealStage.COMPLETED, mode="assignment")
    achievement = world.achievement
    assert db.session.get(type(achievement), achievement.id).status == ListingStatus.DEALT
    path = f"/achievements/{achievement.id}"
    for viewer in (None, world.outsider, world.other_broker):
        text = page(app, viewer, path)
        assert achievement.title in text and "已成交" in text and SECRET not in text
        assert "description_confidential" not in achievement_over_api(client, viewer, achievement)
    for stranger in (world.outsider, world.other_broker):
        with pytest.raises(PermissionDeniedError):
            access.acknowledge_confidentiality(db.session, stranger, achievement, accepted=True)
    for person in (world.buyer, world.broker):
        assert SECRET not in page(app, person, path)  # each person accepts the confidentiality statement first
        access.acknowledge_confidentiality(db.session, person, achievement, accepted=True)
        db.session.commit()
        assert SECRET in page(app, person, path)
        assert achievement_over_api(client, person, achievement)["description_confidential"] == SECRET

    # A sold achievement takes no new bid nor demand response; one transferred outright but not yet closed is licensed
    # again only with its owner's ticked confirmation.
    newcomer = make_user("enterprise")
    with pytest.raises(NotFoundError):
        place_bid(db.session, newcomer, achievement.id, amount_fen=30 * WAN, mode="license_exclusive")
    demand = make_demand(owner=newcomer)
    with pytest.raises(ValidationError) as named_sold:
        respond_to_demand(db.session, world.researcher, demand.id, proposal="以已转让成果揭榜", achievement_id=achievement.id)
    assert "achievement_id" in named_sold.value.fields
    other = make_achievement(owner=world.researcher, title="已整体转让待履行的成果")
    make_deal(DealStage.SIGNED, achievement=other, mode="assignment")
    bid = place_bid(db.session, newcomer, other.id, amount_fen=30 * WAN, mode="license_exclusive")
    deals_before = db.session.scalar(select(func.count()).select_from(Deal))
    with pytest.raises(InvalidStateError, match="整体转让"):
        accept_bid(db.session, world.researcher, bid.id, version_number=1)
    silent = post(client, f"/api/v1/bids/{bid.id}/accept", world.researcher, {"version": 1})
    assert silent.status_code == 409 and "整体转让" in silent.get_json()["message"]
    assert db.session.scalar(select(func.count()).select_from(Deal)) == deals_before
    confirmed = post(client, f"/api/v1/bids/{bid.id}/accept", world.researcher,
                     {"version": 1, "confirm_relicense": True})
    assert confirmed.status_code == 201
    assert db.session.scalar(select(func.count()).select_from(Deal)) == deals_before + 1
    assert db.session.scalar(select(ListingEvent.actor_id).where(ListingEvent.action == "relicense")) == \
        world.researcher.id
