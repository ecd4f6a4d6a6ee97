"""The 3-person intermediary limit and the R1 yearly cap hold when 50 attempts arrive at once, on SQLite and
PostgreSQL; a naive read-then-insert variant of each, built only here, does exceed its limit, so the checks can fail.

Worlds are built through the services (tests/conftest.py `make_deal`, `make_agreement`); the naive variants leave
broken books behind, and the after-test book check is told exactly which problems to find."""
import os
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from market.accounts.models import User, VerificationStatus
from market.awards import services as award_services
from market.awards.ledger import post_transaction
from market.awards.models import Award, AwardStatus, PolicyEvent
from market.deals.intermediaries import set_intermediaries
from market.deals.limits import MAX_INTERMEDIARIES_PER_ACHIEVEMENT
from market.deals.models import Deal, DealIntermediary
from market.extensions import db
from market.timeutil import today_in_china
from tests.conftest import WAN
from tests.payments import record_and_confirm_preorder_payment
from tests.services.test_money_races import NAIVE_PAUSE_SECONDS, RACE_CONFIG, THREADS, _race

ROUNDS = int(os.environ.get("MARKET_LIMIT_RACE_ROUNDS", "4"))
PEOPLE_LIMIT = MAX_INTERMEDIARIES_PER_ACHIEVEMENT
R1_YEARLY_CAP_FEN = 1000 * WAN  # R1 in the default rule set: ¥10,000,000 per seller per calendar year
AGREEMENTS = 5
PAYMENT_FEN = 400 * WAN  # 50 payments of ¥4,000,000: ¥200,000,000 paid, a 10% subsidy of ¥20,000,000 computed


def _distinct_intermediaries(achievement_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(func.distinct(DealIntermediary.user_id)))
                             .join(Deal, Deal.id == DealIntermediary.deal_id).where(Deal.achievement_id == achievement_id))


@pytest.fixture
def limit_world(make_user, make_achievement, make_deal):
    """Factory: an achievement with THREADS open deals (one per attempt) and THREADS brokers to name."""
    brokers = [make_user("broker") for _ in range(THREADS)]
    buyer = make_user("enterprise")

    def build():
        owner = make_user("researcher")
        achievement = make_achievement(owner=owner)
        deal_ids = [make_deal(achievement=achievement, buyer=buyer, broker=None).id for _ in range(THREADS)]
        return owner, achievement, deal_ids, [broker.id for broker in brokers]

    return build


@pytest.mark.parametrize("app", [RACE_CONFIG], indirect=True)
def test_parallel_attempts_never_name_more_than_three_intermediaries_per_achievement(app, limit_world):
    for round_number in range(ROUNDS):
        owner, achievement, deal_ids, broker_ids = limit_world()

        def name(index: int, owner_id=owner.id, deal_ids=deal_ids, broker_ids=broker_ids):
            actor = db.session.get(User, owner_id)
            set_intermediaries(db.session, actor, deal_ids[index], people=[(str(broker_ids[index]), None)],
                               reward_rate_bp=1000)

        outcomes = _race(app, name)
        assert not [o for o in outcomes if o.startswith("error")], outcomes
        refused = [o for o in outcomes if o.startswith("refused")]
        assert outcomes.count("ok") == PEOPLE_LIMIT, f"round {round_number}: {outcomes}"
        assert all("不得超过 3 人" in o for o in refused), refused
        assert _distinct_intermediaries(achievement.id) == PEOPLE_LIMIT
    print(f"\n[race] {db.engine.dialect.name}: {ROUNDS} rounds x {THREADS} parallel attempts to name an intermediary "
          f"on one achievement: {PEOPLE_LIMIT} accepted and {THREADS - PEOPLE_LIMIT} refused in every round")


def _naive_name(deal_id: int, achievement_id: int, broker_id: int) -> None:
    """Read the people already named for the achievement, then insert: the write skew the service's lock prevents."""
    named = set(db.session.scalars(select(DealIntermediary.user_id).join(Deal, Deal.id == DealIntermediary.deal_id)
                                   .where(Deal.achievement_id == achievement_id)))
    time.sleep(NAIVE_PAUSE_SECONDS)
    if len(named | {broker_id}) <= PEOPLE_LIMIT:
        db.session.add(DealIntermediary(deal_id=deal_id, user_id=broker_id, share_bp=10000, position=1))
        db.session.commit()


@pytest.mark.parametrize("app", [RACE_CONFIG], indirect=True)
def test_the_race_check_catches_a_naive_intermediary_limit(app, limit_world, expect_book_problems):
    exceeded_rounds, worst = 0, 0
    for _ in range(ROUNDS):
        _owner, achievement, deal_ids, broker_ids = limit_world()
        _race(app, lambda index, achievement_id=achievement.id, deal_ids=deal_ids, broker_ids=broker_ids:
              _naive_name(deal_ids[index], achievement_id, broker_ids[index]))
        named = _distinct_intermediaries(achievement.id)
        worst = max(worst, named)
        if named > PEOPLE_LIMIT:
            exceeded_rounds += 1
            expect_book_problems(f"achievement {achievement.id} has {named} distinct intermediaries without a "
                                 f"recorded exception; at most {PEOPLE_LIMIT} are allowed")
    print(f"\n[race] naive intermediary limit on {db.engine.dialect.name}: limit exceeded in {exceeded_rounds}/{ROUNDS} "
          f"rounds, worst {worst} people against a limit of {PEOPLE_LIMIT}")
    assert exceeded_rounds > 0, "the naive variant never exceeded the limit: the race check would not catch write skew"


# --- the R1 yearly cap ---------------------------------------------------------------------------------------------


@pytest.fixture
def cap_world(make_user, make_organisation, make_agreement):
    """Factory: a resident seller with AGREEMENTS agreements signed 30 days ago, each delivered and accepted today
    in full, so that THREADS payments of PAYMENT_FEN spread over them are all payable."""
    from tests.conftest import RESIDENT_SINCE

    today = today_in_china()
    value = PAYMENT_FEN * THREADS // AGREEMENTS

    def build():
        seller = make_user("enterprise", organisation=make_organisation(
            "enterprise", valley_id="taiyuan", resident_since=RESIDENT_SINCE,
            verification_status=VerificationStatus.VERIFIED))
        buyer = make_user("enterprise")
        ids = [make_agreement(seller=seller, buyer=buyer, value_fen=value, signed_on=today - timedelta(days=30),
                              deliveries=[(value, today)]).id for _ in range(AGREEMENTS)]
        return seller, buyer, ids, today

    return build


def _r1_granted(seller_key: str, year: int) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.coalesce(func.sum(Award.granted_fen), 0)).where(
        Award.rule == "R1", Award.recipient == seller_key, Award.status == AwardStatus.PAYABLE,
        func.extract("year", Award.event_date) == year))


@pytest.mark.parametrize("app", [RACE_CONFIG], indirect=True)
def test_parallel_preorder_payments_never_exceed_the_r1_yearly_cap(app, cap_world):
    for round_number in range(ROUNDS):
        seller, buyer, agreement_ids, today = cap_world()

        def pay(index: int, buyer_id=buyer.id, agreement_ids=agreement_ids, today=today):
            actor = db.session.get(User, buyer_id)
            record_and_confirm_preorder_payment(actor, agreement_ids[index % AGREEMENTS], amount_fen=PAYMENT_FEN,
                                    paid_on=today)

        outcomes = _race(app, pay)
        assert outcomes == ["ok"] * THREADS, f"round {round_number}: {outcomes}"
        granted = _r1_granted(award_services.org_key(seller.organisation_id), today.year)
        assert granted == R1_YEARLY_CAP_FEN, f"round {round_number}: R1 granted {granted} fen"
    print(f"\n[race] {db.engine.dialect.name}: {ROUNDS} rounds x {THREADS} parallel pre-order payments over "
          f"{AGREEMENTS} agreements of one seller (subsidy computed {THREADS * PAYMENT_FEN // 10} fen): all accepted "
          f"and R1 total {R1_YEARLY_CAP_FEN} fen (the yearly cap) in every round")


def _naive_subsidy(agreement_id: int, seller_key: str, event_id: int, day) -> None:
    """Read the R1 subsidy granted to the seller this year, then insert the award and its posting: no lock."""
    used = db.session.scalar(select(func.coalesce(func.sum(Award.granted_fen), 0)).where(
        Award.rule == "R1", Award.recipient == seller_key, Award.status == AwardStatus.PAYABLE))
    time.sleep(NAIVE_PAUSE_SECONDS)
    computed = PAYMENT_FEN // 10
    granted = max(0, min(computed, R1_YEARLY_CAP_FEN - used))
    award = Award(policy_event_id=event_id, rule="R1", rule_kind="preorder_subsidy", rule_set="default",
                  rule_set_version="2024.1", recipient=seller_key, payer="fiscal:province", computed_fen=computed,
                  granted_fen=granted, status=AwardStatus.PAYABLE if granted else AwardStatus.NIL, event_date=day,
                  agreement_id=agreement_id)
    db.session.add(award)
    db.session.flush()
    if granted:
        post_transaction(db.session, "award", [("fiscal:province", -granted), (f"awarded:{seller_key}", granted)],
                         memo="R1 naive", award_id=award.id)
    db.session.commit()


@pytest.mark.parametrize("app", [RACE_CONFIG], indirect=True)
def test_the_race_check_catches_a_naive_yearly_cap(app, cap_world, expect_book_problems):
    expect_book_problems("the engine state says rule R1 cap recipient_calendar_year for ")  # the naive one skips it
    exceeded_rounds, worst = 0, 0
    for _ in range(ROUNDS):
        seller, _buyer, agreement_ids, today = cap_world()
        seller_key = award_services.org_key(seller.organisation_id)
        event_id = db.session.scalar(select(func.max(PolicyEvent.id)))
        _race(app, lambda index, ids=agreement_ids, key=seller_key, event_id=event_id, today=today:
              _naive_subsidy(ids[index % AGREEMENTS], key, event_id, today))
        granted = _r1_granted(seller_key, today.year)
        worst = max(worst, granted)
        if granted > R1_YEARLY_CAP_FEN:
            exceeded_rounds += 1
            expect_book_problems(f"rule R1 cap recipient_calendar_year for {seller_key} in {today.year} is exceeded")
    print(f"\n[race] naive R1 yearly cap on {db.engine.dialect.name}: cap exceeded in {exceeded_rounds}/{ROUNDS} rounds, "
          f"worst total {worst} fen against a cap of {R1_YEARLY_CAP_FEN}")
    assert exceeded_rounds > 0, "the naive variant never exceeded the cap: the race check would not catch write skew"
