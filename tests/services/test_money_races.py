"""Caps and limits hold when 50 payments arrive at once (threads released together by a barrier), on SQLite and
PostgreSQL; a deliberately naive read-the-sum-then-insert variant, built only here, is caught by the same check and
by the after-test book check. Deals are built through the services (`make_registered_deal` in tests/conftest.py)."""
import os
import threading
import time
from datetime import date

import pytest
from sqlalchemy import func, select

from market.accounts.models import User
from market.awards.ledger import post_transaction
from market.awards.models import Award, AwardStatus, PolicyEvent
from market.deals.models import Deal, DealPayment
from market.errors import DomainError
from market.extensions import db
from market.unit_of_work import unit_of_work
from tests.payments import record_and_confirm_deal_payment

THREADS = 50
ROUNDS = int(os.environ.get("MARKET_RACE_ROUNDS", "20"))
WAN = 1_000_000
REWARD_CAP_FEN = 200 * WAN  # R2 in the default rule set: ¥2,000,000 per achievement
NAIVE_PAUSE_SECONDS = 0.005  # the other work a request does between its read and its write
RACE_CONFIG = {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": THREADS + 5, "max_overflow": 0, "pool_timeout": 60}}


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
def test_parallel_payments_never_exceed_the_reward_cap_or_the_contract_value(app, make_registered_deal):
    for round_number in range(ROUNDS):
        deal, researcher, _ = make_registered_deal(value_fen=30 * 100 * WAN, signed_on=date(2025, 1, 10))

        def pay(index: int, deal_id=deal.id, researcher_id=researcher.id):
            actor = db.session.get(User, researcher_id)
            record_and_confirm_deal_payment(actor, deal_id, amount_fen=100 * WAN, paid_on=date(2025, 2, 1))

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


def _naive_pay(deal_id: int, event_id: int, amount_fen: int) -> None:
    """Read the sum of rewards granted so far, then insert the award and its posting: the write skew the real
    service's lock prevents. Written by hand on purpose; what it breaks is declared to the after-test book check."""
    used = db.session.scalar(select(func.coalesce(func.sum(Award.granted_fen), 0)).where(Award.deal_id == deal_id))
    time.sleep(NAIVE_PAUSE_SECONDS)
    computed = amount_fen * 2000 // 10000
    granted = max(0, min(computed, REWARD_CAP_FEN - used))
    award = Award(policy_event_id=event_id, rule="R2", rule_kind="intermediary_share", rule_set="default",
                  rule_set_version="2024.1", recipient="user-naive", payer="proceeds:naive", computed_fen=computed,
                  granted_fen=granted, status=AwardStatus.PAYABLE if granted else AwardStatus.NIL,
                  event_date=date(2025, 2, 1), deal_id=deal_id)
    db.session.add(award)
    db.session.flush()
    if granted:
        post_transaction(db.session, "award", [("proceeds:naive", -granted), ("awarded:user-naive", granted)],
                         memo="R2 naive", award_id=award.id)
    db.session.commit()


@pytest.mark.parametrize("app", [RACE_CONFIG], indirect=True)
def test_the_race_check_catches_a_naive_read_then_insert_service(app, make_registered_deal, expect_book_problems):
    expect_book_problems("the engine state says rule R2 cap achievement for achievement-")  # the naive one skips it
    exceeded_rounds, worst = 0, 0
    for _ in range(ROUNDS):
        deal, _, _ = make_registered_deal(value_fen=30 * 100 * WAN, signed_on=date(2025, 1, 10))
        event_id = db.session.scalar(select(PolicyEvent.id).order_by(PolicyEvent.id.desc()).limit(1))
        _race(app, lambda index, deal_id=deal.id, event_id=event_id: _naive_pay(deal_id, event_id, 100 * WAN))
        total = _granted_for(deal.id)
        worst = max(worst, total)
        if total > REWARD_CAP_FEN:
            exceeded_rounds += 1
            expect_book_problems(f"rule R2 cap achievement for achievement-{deal.achievement_id} is exceeded")
    print(f"\n[race] naive variant on {db.engine.dialect.name}: cap exceeded in {exceeded_rounds}/{ROUNDS} rounds, "
          f"worst total {worst} fen against a cap of {REWARD_CAP_FEN}")
    assert exceeded_rounds > 0, "the naive variant never exceeded the cap: the race check would not catch write skew"
