"""Faults under a real gunicorn (2 workers on 127.0.0.1) during a burst of keyed payments from several clients: a
worker SIGKILLed mid-burst (SQLite file and PostgreSQL), and the server's PostgreSQL backends terminated mid-burst.
Afterwards every key is retried until it is answered without a server error: exactly one payment per key, no key
stuck at 409, `flask check-ledger` clean. Bounded: 24 payments by default (MARKET_FAULT_KEYS_PER_KIND=20 for 40),
retries end 40 s after the burst."""
import os
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import func, select, text

from market.api.models import IdempotencyRecord, IdempotencyState
from market.awards.book_checks import find_book_problems
from market.deals.models import DealPayment
from market.extensions import db
from market.preorders.models import PreorderPayment
from tests.api_requests import bearer
from tests.faults.keyed import WAN
from tests.faults.server import (
    APPLICATION_NAME,
    Outcome,
    Server,
    burst,
    check_ledger,
    replays,
    retry_until_settled,
    server_env,
)

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


@pytest.fixture
def payment_requests(server_writes_cleaned, registered_deal, signed_agreement):
    """2 × KEYS_PER_KIND keyed payments, half proceeds of one deal and half pre-order payments: (path, token, key, body)."""
    deal, researcher, _ = registered_deal
    agreement, seller_user = signed_agreement
    deal_token = bearer(researcher)["Authorization"].removeprefix("Bearer ")
    seller_token = bearer(seller_user)["Authorization"].removeprefix("Bearer ")
    requests = []
    for index in range(KEYS_PER_KIND):
        requests.append((f"/api/v1/deals/{deal.id}/payments", deal_token, f"deal-{index}",
                         {"amount_fen": 10 * WAN, "date": "2025-04-30"}))
        requests.append((f"/api/v1/preorders/{agreement.id}/payments", seller_token, f"preorder-{index}",
                         {"amount_fen": 100 * WAN, "date": "2025-02-01"}))
    db.session.commit()
    return requests


def assert_exactly_once(requests, outcome: Outcome, stuck: list[str], env) -> str:
    """One payment and one finished key record per key, every key replays its 201, the books are sound."""
    assert stuck == [], f"keys never settled: {stuck}; {outcome.summary()}"
    assert {status for status, _ in outcome.final.values()} == {201}, outcome.summary()
    replayed = replays(env["base"], outcome)
    assert replayed == Counter({(201, "true"): len(requests)}), replayed
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(DealPayment)) == KEYS_PER_KIND
    assert db.session.scalar(select(func.count()).select_from(PreorderPayment)) == KEYS_PER_KIND
    states = Counter(db.session.scalars(select(IdempotencyRecord.state)))
    assert states == Counter({IdempotencyState.DONE: len(requests)}), states
    assert find_book_problems(db.session) == []
    checked = check_ledger(env["server"])
    assert checked.returncode == 0 and checked.stdout.strip() == "ledger OK", checked.stdout + checked.stderr
    return checked.stdout.strip()


def test_a_worker_killed_mid_burst_leaves_one_payment_per_key(app, payment_requests, tmp_path):
    env = server_env(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path)
    outcome, killed, started = Outcome(), [], time.monotonic()
    with Server(env, tmp_path) as server:
        total = len(payment_requests)
        kill_at, lock = {total // 4, 2 * total // 3}, threading.Lock()

        def kill_mid_burst(sent: int) -> None:
            with lock:
                if sent in kill_at:
                    kill_at.discard(sent)
                    killed.append(server.kill_a_worker())

        burst(server.base, payment_requests, CLIENTS, outcome, kill_mid_burst)
        stuck = retry_until_settled(server.base, outcome, time.monotonic() + RETRY_SECONDS)
        ledger = assert_exactly_once(payment_requests, outcome, stuck, {"base": server.base, "server": env})
    assert len([pid for pid in killed if pid]) == 2, killed
    print(f"\n[worker kill, {app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}] {len(payment_requests)} keys, "
          f"{len(killed)} workers SIGKILLed, {outcome.summary()}, replays checked {outcome.replays_checked}, "
          f"payments {2 * KEYS_PER_KIND}, check-ledger: {ledger}, {time.monotonic() - started:.1f} s")


def test_terminated_database_connections_mid_burst_leave_one_payment_per_key(app, payment_requests, tmp_path):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("pg_terminate_backend is PostgreSQL's")
    env = server_env(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path)
    outcome, terminated, started = Outcome(), [], time.monotonic()
    with Server(env, tmp_path) as server:
        done, engine = threading.Event(), db.engine

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
        burst(server.base, payment_requests, CLIENTS, outcome)
        done.set()
        thread.join(timeout=10)
        stuck = retry_until_settled(server.base, outcome, time.monotonic() + RETRY_SECONDS)
        ledger = assert_exactly_once(payment_requests, outcome, stuck, {"base": server.base, "server": env})
    assert sum(terminated) > 0, "no backend of the server was terminated: the trial tested nothing"
    print(f"\n[pg_terminate_backend] {len(payment_requests)} keys, {len(terminated)} rounds terminated "
          f"{sum(terminated)} backends {terminated}, {outcome.summary()}, replays checked {outcome.replays_checked}, "
          f"payments {2 * KEYS_PER_KIND}, check-ledger: {ledger}, {time.monotonic() - started:.1f} s")
