"""Faults under a real gunicorn (2 workers on 127.0.0.1) during a burst of keyed payments from several clients and
then a burst of their confirmations (which earn the awards): a worker SIGKILLed mid-burst (SQLite file and
PostgreSQL), and the server's PostgreSQL backends terminated mid-burst. Afterwards every request is retried until it
is answered without a server error: exactly one payment per key, no key stuck at 409, every payment judged exactly
once, `flask check-ledger` clean. Bounded: 24 payments by default (MARKET_FAULT_KEYS_PER_KIND=20 for 40), retries end
40 s after each burst."""
import os
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import func, select, text

from market.api.models import IdempotencyRecord, IdempotencyState
from market.awards.book_checks import find_book_problems
from market.awards.models import PolicyEvent
from market.confirmations.models import FactStatus
from market.deals.models import Deal, DealPayment
from market.extensions import db
from market.preorders.models import PreorderAgreement, PreorderPayment
from tests.api_requests import bearer
from tests.faults.keyed import WAN
from tests.faults.server import (
    APPLICATION_NAME,
    Outcome,
    Server,
    burst,
    check_ledger,
    decided,
    replays,
    retry_until_settled,
    server_env,
)
from tests.payments import member_of

KEYS_PER_KIND = int(os.environ.get("MARKET_FAULT_KEYS_PER_KIND", "12"))
CLIENTS = 4
RETRY_SECONDS = 40


@pytest.fixture
def server_writes_cleaned(app):
    """The server's writes are not seen by the fixture that empties the tables a test wrote (PostgreSQL): a no-op
    DELETE of every table tells it to empty them all, and the after-test book check to run."""
    yield
    with db.engine.begin() as connection:
        for table in db.metadata.sorted_tables:
            connection.execute(text(f"DELETE FROM {table.name} WHERE 1 = 0"))


def token(user) -> str:
    """A fresh API token of the user."""
    return bearer(user)["Authorization"].removeprefix("Bearer ")


@pytest.fixture
def payment_requests(server_writes_cleaned, registered_deal, signed_agreement):
    """2 × KEYS_PER_KIND keyed payments, half proceeds of one deal recorded by its transferor and half pre-order
    payments recorded by the buyer: (path, token, key, body)."""
    deal, researcher, _ = registered_deal
    agreement, _ = signed_agreement
    deal_token, buyer_token = token(researcher), token(member_of(agreement.buyer_id))
    requests = []
    for index in range(KEYS_PER_KIND):
        requests.append((f"/api/v1/deals/{deal.id}/payments", deal_token, f"deal-{index}",
                         {"amount_fen": 10 * WAN, "date": "2025-04-30"}))
        requests.append((f"/api/v1/preorders/{agreement.id}/payments", buyer_token, f"preorder-{index}",
                         {"amount_fen": 100 * WAN, "date": "2025-02-01"}))
    db.session.commit()
    return requests


@pytest.fixture
def confirmers(registered_deal, signed_agreement) -> dict[str, str]:
    """Tokens of who confirms: the deal's transferee and the agreement's seller."""
    deal, _, _ = registered_deal
    _, seller_user = signed_agreement
    tokens = {"deal": token(member_of(deal.transferee_id)), "preorder": token(seller_user)}
    db.session.commit()
    return tokens


def confirmation_requests(confirmers: dict[str, str]) -> list[tuple[str, str, str, dict]]:
    """A confirmation of every recorded payment, deal and pre-order ones interleaved: (path, token, key, body)."""
    db.session.expire_all()
    deal_ids = db.session.scalars(select(DealPayment.id).order_by(DealPayment.id)).all()
    preorder_ids = db.session.scalars(select(PreorderPayment.id).order_by(PreorderPayment.id)).all()
    requests = []
    for deal_id, preorder_id in zip(deal_ids, preorder_ids, strict=True):
        requests.append((f"/api/v1/deal-payments/{deal_id}/confirm", confirmers["deal"], f"confirm-deal-{deal_id}", {}))
        requests.append((f"/api/v1/preorder-payments/{preorder_id}/confirm", confirmers["preorder"],
                         f"confirm-preorder-{preorder_id}", {}))
    return requests


def policy_events() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(PolicyEvent))


def assert_exactly_once(requests, outcome: Outcome, stuck: list[str], env) -> str:
    """One payment and one finished key record per key, every key replays its 201, the books are sound."""
    assert stuck == [], f"keys never settled: {stuck}; {outcome.summary()}"
    assert {status for status, _ in outcome.final.values()} == {201}, outcome.summary()
    replayed = replays(env["base"], outcome)
    assert replayed == Counter({(201, "true"): len(requests)}), replayed
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(DealPayment)) == KEYS_PER_KIND
    assert db.session.scalar(select(func.count()).select_from(PreorderPayment)) == KEYS_PER_KIND
    statuses = Counter(db.session.scalars(select(DealPayment.status))) + Counter(
        db.session.scalars(select(PreorderPayment.status)))
    assert statuses == Counter({FactStatus.RECORDED: len(requests)}), statuses
    states = Counter(db.session.scalars(select(IdempotencyRecord.state)))
    assert states == Counter({IdempotencyState.DONE: len(requests)}), states
    assert find_book_problems(db.session) == []
    checked = check_ledger(env["server"])
    assert checked.returncode == 0 and checked.stdout.strip() == "ledger OK", checked.stdout + checked.stderr
    return checked.stdout.strip()


def assert_judged_once(requests, outcome: Outcome, stuck: list[str], env, events_before: int) -> str:
    """Every payment confirmed and judged exactly once (one policy event each, the paid totals their sum), a repeated
    confirmation is a 409, the books are sound."""
    assert stuck == [], f"confirmations never answered: {stuck}; {outcome.summary()}"
    assert {status for status, _ in outcome.final.values()} <= {200, 409}, outcome.summary()
    repeated = replays(env["base"], outcome)
    assert repeated == Counter({(409, None): len(requests)}), repeated
    db.session.expire_all()
    statuses = Counter(db.session.scalars(select(DealPayment.status))) + Counter(
        db.session.scalars(select(PreorderPayment.status)))
    assert statuses == Counter({FactStatus.CONFIRMED: len(requests)}), statuses
    assert policy_events() == events_before + len(requests), "a payment was judged twice or not at all"
    assert db.session.scalar(select(func.sum(Deal.paid_fen))) == KEYS_PER_KIND * 10 * WAN
    assert db.session.scalar(select(func.sum(PreorderAgreement.paid_fen))) == KEYS_PER_KIND * 100 * WAN
    assert find_book_problems(db.session) == []
    checked = check_ledger(env["server"])
    assert checked.returncode == 0 and checked.stdout.strip() == "ledger OK", checked.stdout + checked.stderr
    return checked.stdout.strip()


def killing_burst(server: Server, requests, outcome: Outcome, killed: list) -> None:
    """The requests in a burst from several clients, a worker SIGKILLed a quarter and two thirds of the way in."""
    total = len(requests)
    kill_at, lock = {total // 4, 2 * total // 3}, threading.Lock()

    def kill_mid_burst(sent: int) -> None:
        with lock:
            if sent in kill_at:
                kill_at.discard(sent)
                killed.append(server.kill_a_worker())

    burst(server.base, requests, CLIENTS, outcome, kill_mid_burst)


def test_a_worker_killed_mid_burst_leaves_one_payment_per_key_judged_once(app, payment_requests, confirmers,
                                                                          tmp_path):
    env = server_env(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path)
    outcome, confirmed, killed, started = Outcome(), Outcome(), [], time.monotonic()
    with Server(env, tmp_path) as server:
        killing_burst(server, payment_requests, outcome, killed)
        stuck = retry_until_settled(server.base, outcome, time.monotonic() + RETRY_SECONDS)
        assert_exactly_once(payment_requests, outcome, stuck, {"base": server.base, "server": env})
        confirmations, events_before = confirmation_requests(confirmers), policy_events()
        killing_burst(server, confirmations, confirmed, killed)
        stuck = retry_until_settled(server.base, confirmed, time.monotonic() + RETRY_SECONDS, decided)
        ledger = assert_judged_once(confirmations, confirmed, stuck, {"base": server.base, "server": env},
                                    events_before)
    assert len([pid for pid in killed if pid]) == 4, killed
    print(f"\n[worker kill, {app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}] {len(payment_requests)} keys, "
          f"{len(killed)} workers SIGKILLed, recording: {outcome.summary()}, confirming: {confirmed.summary()}, "
          f"replays checked {outcome.replays_checked + confirmed.replays_checked}, payments {2 * KEYS_PER_KIND}, "
          f"check-ledger: {ledger}, {time.monotonic() - started:.1f} s")


def terminating_burst(server: Server, engine, requests, outcome: Outcome, terminated: list) -> None:
    """The requests in a burst from several clients while the server's database backends are terminated every 0.3 s
    (six rounds at most)."""
    done = threading.Event()

    def terminator() -> None:
        with engine.connect() as connection:
            for _ in range(6):
                if done.wait(0.3):
                    return
                count = connection.execute(text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND application_name = :name"),
                    {"name": APPLICATION_NAME}).scalar_one()
                connection.commit()
                terminated.append(count)

    thread = threading.Thread(target=terminator)
    thread.start()
    burst(server.base, requests, CLIENTS, outcome)
    done.set()
    thread.join(timeout=10)


def test_terminated_database_connections_mid_burst_leave_one_payment_per_key_judged_once(app, payment_requests,
                                                                                         confirmers, tmp_path):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("pg_terminate_backend is PostgreSQL's")
    env = server_env(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path)
    outcome, confirmed, terminated, started = Outcome(), Outcome(), [], time.monotonic()
    with Server(env, tmp_path) as server:
        terminating_burst(server, db.engine, payment_requests, outcome, terminated)
        stuck = retry_until_settled(server.base, outcome, time.monotonic() + RETRY_SECONDS)
        assert_exactly_once(payment_requests, outcome, stuck, {"base": server.base, "server": env})
        recording_rounds = len(terminated)
        confirmations, events_before = confirmation_requests(confirmers), policy_events()
        terminating_burst(server, db.engine, confirmations, confirmed, terminated)
        stuck = retry_until_settled(server.base, confirmed, time.monotonic() + RETRY_SECONDS, decided)
        ledger = assert_judged_once(confirmations, confirmed, stuck, {"base": server.base, "server": env},
                                    events_before)
    assert sum(terminated[:recording_rounds]) > 0, "no backend was terminated while recording: the trial tested nothing"
    assert sum(terminated[recording_rounds:]) > 0, "no backend was terminated while confirming: the trial tested nothing"
    print(f"\n[pg_terminate_backend] {len(payment_requests)} keys, {len(terminated)} rounds terminated "
          f"{sum(terminated)} backends {terminated}, recording: {outcome.summary()}, confirming: {confirmed.summary()}, "
          f"replays checked {outcome.replays_checked + confirmed.replays_checked}, payments {2 * KEYS_PER_KIND}, "
          f"check-ledger: {ledger}, {time.monotonic() - started:.1f} s")
