"""The room left under every cap and what a payment would earn now, against hand-computed figures; trying a payment
stores nothing."""
from datetime import date

import pytest
from sqlalchemy import func, select

from market.awards import services as award_services
from market.awards.headroom import DryRunObstacle, agreement_headroom, deal_headroom
from market.awards.ledger import LedgerEntry, LedgerTransaction
from market.awards.models import Award, PolicyEvent, PolicyStateSnapshot
from market.deals.models import DealStage
from market.extensions import db
from market.policy.rules import CapScope
from market.timeutil import today_in_china
from tests.payments import record_and_confirm_deal_payment

WAN = 1_000_000
"""¥10,000 in fen."""


def rooms(headroom):
    return [(cap.rule, cap.scope, cap.limit_fen, cap.used_fen, cap.room_fen) for cap in headroom.caps]


def lines(run):
    return [(line.rule, line.recipient, line.computed_fen, line.granted_fen, line.capped_by) for line in run.lines]


def books() -> tuple:
    """Everything a judged payment would write: row counts and the stored engine state."""
    snapshot = db.session.get(PolicyStateSnapshot, award_services.SNAPSHOT_ID)
    counts = tuple(db.session.scalar(select(func.count()).select_from(model))
                   for model in (PolicyEvent, Award, LedgerTransaction, LedgerEntry))
    return counts, snapshot.last_event_id, snapshot.state


@pytest.fixture
def second_deal(make_registered_deal, make_deal, make_user, make_achievement):
    """An achievement whose first deal (¥6M, 20% to three intermediaries) is fully paid, so R2 granted ¥1.2M of its
    ¥2M cap; a second deal on it priced at ¥5M at 20% to one of them, not yet signed."""
    achievement = make_achievement()
    first, researcher, brokers = make_registered_deal(value_fen=600 * WAN, achievement=achievement)
    record_and_confirm_deal_payment(researcher, first.id, amount_fen=600 * WAN, paid_on=today_in_china())
    db.session.commit()
    second = make_deal(DealStage.PRICING, achievement=achievement, buyer=make_user("enterprise"), broker=None,
                       amount_fen=500 * WAN, intermediaries=[(brokers[0], 10_000)], reward_rate_bp=2000)
    return first, second, researcher, brokers


def test_the_first_deal_shows_the_cap_it_used_and_nothing_left_to_pay(second_deal):
    first, _, _, _ = second_deal
    headroom = deal_headroom(db.session, first)
    assert rooms(headroom) == [("R2", CapScope.ACHIEVEMENT, 200 * WAN, 120 * WAN, 80 * WAN)]
    assert headroom.remainder_fen == 0
    assert headroom.dry_run is None and headroom.obstacle == DryRunObstacle.FULLY_PAID


def test_a_second_deal_on_the_same_achievement_sees_the_room_the_first_left(second_deal):
    _, second, _, brokers = second_deal
    headroom = deal_headroom(db.session, second)
    assert rooms(headroom) == [("R2", CapScope.ACHIEVEMENT, 200 * WAN, 120 * WAN, 80 * WAN)]
    assert headroom.remainder_fen == 500 * WAN
    run = headroom.dry_run
    assert run.amount_fen == 500 * WAN and run.assumes_registration
    # 20% of ¥5M is ¥1M, but only ¥800,000 is left under the ¥2M per-achievement cap
    assert lines(run) == [("R2", award_services.person_key(brokers[0].id), 100 * WAN, 80 * WAN, "achievement")]
    assert run.granted_fen == 80 * WAN


def test_a_smaller_payment_within_the_room_is_not_capped(second_deal):
    _, second, _, brokers = second_deal
    run = deal_headroom(db.session, second, amount_fen=100 * WAN).dry_run
    assert lines(run) == [("R2", award_services.person_key(brokers[0].id), 20 * WAN, 20 * WAN, None)]


def test_a_payment_above_the_unpaid_remainder_is_not_tried(second_deal):
    _, second, _, _ = second_deal
    headroom = deal_headroom(db.session, second, amount_fen=500 * WAN + 1)
    assert headroom.dry_run is None and headroom.obstacle == DryRunObstacle.ABOVE_REMAINDER


def test_trying_a_payment_changes_no_state_and_stores_nothing(second_deal):
    first, second, _, _ = second_deal
    before = books()
    for deal in (first, second):
        for amount in (None, 1, 100 * WAN):
            deal_headroom(db.session, deal, amount_fen=amount)
    db.session.flush()
    assert books() == before
    assert not db.session.new and not db.session.dirty


def test_a_registered_deal_tries_its_unpaid_remainder_split_among_its_intermediaries(make_registered_deal):
    deal, researcher, brokers = make_registered_deal(value_fen=600 * WAN)
    record_and_confirm_deal_payment(researcher, deal.id, amount_fen=300 * WAN, paid_on=today_in_china())
    headroom = deal_headroom(db.session, deal)
    # the first ¥3M earned 20% = ¥600,000 of the ¥2M cap
    assert rooms(headroom) == [("R2", CapScope.ACHIEVEMENT, 200 * WAN, 60 * WAN, 140 * WAN)]
    run = headroom.dry_run
    assert run.amount_fen == 300 * WAN and not run.assumes_registration
    keys = [award_services.person_key(broker.id) for broker in brokers]
    assert lines(run) == [("R2", keys[0], 30 * WAN, 30 * WAN, None), ("R2", keys[1], 18 * WAN, 18 * WAN, None),
                          ("R2", keys[2], 12 * WAN, 12 * WAN, None)]


def test_a_deal_without_a_price_shows_the_caps_but_tries_nothing(make_deal):
    deal = make_deal(DealStage.INTENT, agreed_amount_fen=None)
    headroom = deal_headroom(db.session, deal)
    assert rooms(headroom) == [("R2", CapScope.ACHIEVEMENT, 200 * WAN, 0, 200 * WAN)]
    assert headroom.dry_run is None and headroom.obstacle == DryRunObstacle.NO_PRICE


def test_a_terminated_deal_tries_nothing(make_deal):
    deal = make_deal(DealStage.TERMINATED, terminated_from=DealStage.NEGOTIATION)
    assert deal_headroom(db.session, deal).obstacle == DryRunObstacle.CLOSED


def test_an_agreement_shows_the_sellers_yearly_cap_and_what_the_rest_would_earn(make_agreement):
    today = today_in_china()
    agreement = make_agreement(deliveries=[(15_000 * WAN, date(2025, 1, 10), date(2025, 1, 20))],
                               payments=[(5000 * WAN, today)])
    seller = award_services.org_key(agreement.seller_id)
    headroom = agreement_headroom(db.session, agreement)
    # R1: 10% of the ¥50M paid today is ¥5M of the seller's ¥10M for this year
    assert rooms(headroom) == [("R1", CapScope.RECIPIENT_CALENDAR_YEAR, 1000 * WAN, 500 * WAN, 500 * WAN)]
    assert headroom.caps[0].subject == seller and headroom.caps[0].year == today.year
    assert headroom.remainder_fen == 10_000 * WAN
    assert lines(headroom.dry_run) == [("R1", seller, 1000 * WAN, 500 * WAN, CapScope.RECIPIENT_CALENDAR_YEAR.value)]
    assert lines(agreement_headroom(db.session, agreement, amount_fen=2000 * WAN).dry_run) == [
        ("R1", seller, 200 * WAN, 200 * WAN, None)]


def test_an_agreement_dry_run_stores_nothing(make_agreement):
    agreement = make_agreement(deliveries=[(15_000 * WAN, date(2025, 1, 10))])
    before = books()
    run = agreement_headroom(db.session, agreement).dry_run
    assert run.granted_fen == 1000 * WAN
    db.session.flush()
    assert books() == before


def test_a_city_reward_shows_its_contract_cap_beside_the_achievement_cap(make_registered_deal, make_user,
                                                                          make_organisation):
    buyer = make_organisation("enterprise", region="阳泉市", valley_id="yangquan", resident_since=date(2024, 5, 1))
    broker, other = make_user("broker"), make_user("broker")
    deal, researcher, _ = make_registered_deal(transferee=buyer, shares=(6000, 4000), brokers=[broker, other],
                                               agent=broker.organisation)
    record_and_confirm_deal_payment(researcher, deal.id, amount_fen=600 * WAN, paid_on=date(2025, 4, 30))
    headroom = deal_headroom(db.session, deal)
    # ¥6M of ¥12M paid: R2 20% = ¥1.2M of ¥2M; R3 5% = ¥300,000, the whole of its per-contract cap
    assert rooms(headroom) == [("R2", CapScope.ACHIEVEMENT, 200 * WAN, 120 * WAN, 80 * WAN),
                               ("R3", CapScope.CONTRACT, 30 * WAN, 30 * WAN, 0)]
    assert headroom.caps[1].exhausted
    keys = [award_services.person_key(broker.id), award_services.person_key(other.id)]
    agency = award_services.org_key(broker.organisation_id)
    # the other ¥6M: R2 ¥1.2M computed, ¥800,000 left, split 60/40; R3 ¥300,000 computed, nothing left
    assert lines(headroom.dry_run) == [("R2", keys[0], 72 * WAN, 48 * WAN, "achievement"),
                                       ("R2", keys[1], 48 * WAN, 32 * WAN, "achievement"),
                                       ("R3", agency, 30 * WAN, 0, "contract")]
