"""Caps and limits hold when 50 payments arrive at once (threads released together by a barrier), on SQLite and
PostgreSQL; a deliberately naive read-the-sum-then-insert variant, built only here, is caught by the same check."""
import os
import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from market.accounts.models import User
from market.awards import services as award_services
from market.awards.models import Award, AwardStatus, PolicyEvent
from market.deals.models import Deal, DealIntermediary, DealPayment, DealStage
from market.deals.payments import record_deal_payment, register_contract
from market.errors import DomainError
from market.extensions import db
from market.unit_of_work import unit_of_work
from tests.conftest import POSTGRES_URL

THREADS = 50
ROUNDS = int(os.environ.get("MARKET_RACE_ROUNDS", "20"))
WAN = 1_000_000
REWARD_CAP_FEN = 200 * WAN  # R2 in the default rule set: ¥2,000,000 per achievement
RACE_CONFIG = {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": THREADS + 5, "max_overflow": 0, "pool_timeout": 60}}


def _registered_deal(make_user, make_organisation, make_achievement, *, value_fen: int) -> tuple[Deal, object]:
    researcher = make_user("researcher")
    achievement = make_achievement(owner=researcher)
    buyer = make_organisation("enterprise", region="忻州市")
    brokers = [make_user("broker") for _ in range(3)]
    deal = Deal(title="并发测试", achievement_id=achievement.id, transferor_id=achievement.organisation_id,
                transferee_id=buyer.id, stage=DealStage.REGISTERED, agreed_amount_fen=value_fen, reward_rate_bp=2000,
                signed_on=date(2025, 1, 10), registration_number=f"RACE-{achievement.id}", registered_on=date(2025, 1, 10))
    deal.intermediaries = [DealIntermediary(user_id=b.id, share_bp=s, position=i)
                           for i, (b, s) in enumerate(zip(brokers, (5000, 3000, 2000)))]
    db.session.add(deal)
    db.session.flush()
    snapshot = award_services.lock_books(db.session)
    register_contract(db.session, snapshot, db.session.get(Deal, deal.id), researcher)
    db.session.commit()
    return deal, researcher


def _race(app, worker) -> list[str]:
    """Run `worker(index)` in THREADS threads released together; returns the outcome of each."""
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = [""] * THREADS

    def run(index: int):
        with app.app_context():
            try:
                barrier.wait(timeout=60)
                with unit_of_work():
                    worker(index)
                outcomes[index] = "ok"
            except DomainError as error:
                db.session.rollback()
                outcomes[index] = f"refused: {error.message}"
            except Exception as error:  # noqa: BLE001 - reported in the assertion
                db.session.rollback()
                outcomes[index] = f"error: {type(error).__name__}: {error}"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def _granted_for(deal_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.coalesce(func.sum(Award.granted_fen), 0)).where(Award.deal_id == deal_id))


@pytest.mark.parametrize("app", [RACE_CONFIG], indirect=True)
def test_parallel_payments_never_exceed_the_reward_cap_or_the_contract_value(app, make_user, make_organisation,
                                                                              make_achievement):
    for round_number in range(ROUNDS):
        deal, researcher = _registered_deal(make_user, make_organisation, make_achievement, value_fen=30 * 100 * WAN)

        def pay(index: int, deal_id=deal.id, researcher_id=researcher.id):
            actor = db.session.get(User, researcher_id)
            record_deal_payment(db.session, actor, deal_id, amount_fen=100 * WAN, paid_on=date(2025, 2, 1))

        outcomes = _race(app, pay)
        assert not [o for o in outcomes if o.startswith("error")], outcomes
        accepted = outcomes.count("ok")
        db.session.expire_all()
        assert accepted == 30, f"round {round_number}: {accepted} payments accepted against a value of 30 payments"
        assert db.session.scalar(select(func.sum(DealPayment.amount_fen)).where(DealPayment.deal_id == deal.id)) == 3000 * WAN
        assert db.session.get(Deal, deal.id).paid_fen == 3000 * WAN
        assert _granted_for(deal.id) == REWARD_CAP_FEN, f"round {round_number}"
    print(f"\n[race] {db.engine.dialect.name}: {ROUNDS} rounds x {THREADS} parallel payments: 30 accepted and "
          f"reward total {REWARD_CAP_FEN} fen (the cap) in every round")


def _naive_pay(deal_id: int, achievement_key_value: str, event_id: int, amount_fen: int) -> None:
    """Read the sum of rewards granted so far, then insert: the write-skew the real service's lock prevents."""
    used = db.session.scalar(select(func.coalesce(func.sum(Award.granted_fen), 0)).where(Award.deal_id == deal_id))
    granted = max(0, min(amount_fen * 2000 // 10000, REWARD_CAP_FEN - used))
    db.session.add(Award(policy_event_id=event_id, rule="R2", rule_kind="intermediary_share", rule_set="default",
                         rule_set_version="naive", recipient=achievement_key_value, payer="proceeds:naive",
                         computed_fen=amount_fen * 2000 // 10000, granted_fen=granted, status=AwardStatus.WAIVED,
                         event_date=date(2025, 2, 1), deal_id=deal_id))
    db.session.commit()


@pytest.mark.parametrize("app", [RACE_CONFIG], indirect=True)
def test_the_race_check_catches_a_naive_read_then_insert_service(app, make_user, make_organisation, make_achievement):
    exceeded_rounds, worst = 0, 0
    for _ in range(ROUNDS):
        deal, _ = _registered_deal(make_user, make_organisation, make_achievement, value_fen=30 * 100 * WAN)
        event_id = db.session.scalar(select(PolicyEvent.id).order_by(PolicyEvent.id.desc()).limit(1))
        _race(app, lambda index, deal_id=deal.id, event_id=event_id: _naive_pay(deal_id, "user-naive", event_id,
                                                                                   100 * WAN))
        total = _granted_for(deal.id)
        worst = max(worst, total)
        if total > REWARD_CAP_FEN:
            exceeded_rounds += 1
    print(f"\n[race] naive variant on {db.engine.dialect.name}: cap exceeded in {exceeded_rounds}/{ROUNDS} rounds, "
          f"worst total {worst} fen against a cap of {REWARD_CAP_FEN}")
    if POSTGRES_URL:
        assert exceeded_rounds > 0, "the naive variant never exceeded the cap: the race check would not catch write skew"
