"""Disk full (SQLite `max_page_count`): recording a keyed payment, or confirming one (which earns its awards), that
runs out of storage partway leaves nothing, answers 503 with Retry-After and a clear message (no internals), the books
stay sound, and once there is room again the retry records (with the same Idempotency-Key) or judges exactly once."""
from datetime import date

import psycopg
import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from market.awards.commands import check_ledger
from market.deals.payments import record_deal_payment
from market.errors import STORAGE_FULL_RETRY_AFTER_SECONDS, is_storage_full
from market.extensions import db
from tests.api_requests import bearer
from tests.conftest import POSTGRES_URL
from tests.faults.keyed import money_rows, post_keyed
from tests.payments import member_of

MAX_ATTEMPTS = 200
"""Small payments made at most until the storage runs out (a few are enough: the first new page a write needs is
refused)."""
ROOMY = 1_000_000


@pytest.fixture
def storage_limit(app):
    """Caps the SQLite database at the pages it has now (every new connection is told); `limit["pages"] = …` and
    `reconnect()` move the cap."""
    if POSTGRES_URL:
        pytest.skip("disk full is simulated with SQLite's max_page_count")
    limit = {"pages": db.session.execute(text("PRAGMA page_count")).scalar_one()}

    def cap(dbapi_connection, _record):
        dbapi_connection.execute(f"PRAGMA max_page_count = {limit['pages']}")

    event.listen(db.engine, "connect", cap)
    reconnect()
    yield limit
    event.remove(db.engine, "connect", cap)
    reconnect()


def reconnect() -> None:
    """Close the pooled connections (the test's setup is committed first), so that the next ones take the cap."""
    db.session.commit()
    db.engine.dispose()


@pytest.fixture
def writes(app):
    """The write statements run (the test clears them before each attempt) and the statement the database refused
    (not a savepoint rollback that failed after it: SQLite may have dropped the savepoints with the transaction)."""
    seen = {"writes": [], "refused": None}

    def remember(_connection, _cursor, statement, *_):
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            seen["writes"].append(statement.split("(")[0].strip())

    def refused(context):
        if not context.statement.lstrip().upper().startswith(("ROLLBACK", "RELEASE")):
            seen["refused"] = context.statement

    event.listen(db.engine, "before_cursor_execute", remember)
    event.listen(db.engine, "handle_error", refused)
    yield seen
    event.remove(db.engine, "before_cursor_execute", remember)
    event.remove(db.engine, "handle_error", refused)


def check_ledger_output(runner) -> tuple[int, str]:
    result = runner.invoke(check_ledger)
    return result.exit_code, result.output.strip()


def assert_refused_for_full_storage(failed, writes, before: dict, runner) -> None:
    """A 503 with Retry-After and a clear message, refused partway (not at the first write), nothing left, books sound."""
    assert failed.status_code == 503, failed.get_data(as_text=True)
    assert failed.headers["Retry-After"] == str(STORAGE_FULL_RETRY_AFTER_SECONDS)
    answer = failed.get_json()
    assert answer["error"] == "storage_full"
    assert "存储空间已满" in answer["message"] and "请求编号" in answer["message"]
    assert not any(word in failed.get_data(as_text=True).lower() for word in ("traceback", "sqlite", "insert", "full'"))
    assert writes["refused"] is not None and writes["refused"].lstrip().upper().startswith(("INSERT", "UPDATE"))
    assert len(writes["writes"]) > 1, f"the storage ran out at the first write, not partway: {writes['writes']}"
    assert money_rows() == before, "the refused request left rows behind"
    assert check_ledger_output(runner) == (0, "ledger OK")


def test_recording_a_payment_refused_for_full_storage_leaves_nothing_and_the_retry_records_once(
        client, runner, registered_deal, storage_limit, writes):
    deal, researcher, _ = registered_deal
    headers, path = bearer(researcher), f"/api/v1/deals/{deal.id}/payments"
    for attempt in range(MAX_ATTEMPTS):
        key, body = f"fill-{attempt}", {"amount_fen": 100, "date": "2025-04-30"}
        before = money_rows()
        writes["writes"].clear()
        failed = post_keyed(client, path, headers, body, key)
        if failed.status_code != 201:
            break
    else:
        pytest.fail(f"{MAX_ATTEMPTS} payments fitted under a cap of {storage_limit['pages']} pages")
    assert_refused_for_full_storage(failed, writes, before, runner)

    storage_limit["pages"] = ROOMY
    reconnect()
    retried, again = post_keyed(client, path, headers, body, key), post_keyed(client, path, headers, body, key)
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers, retried.get_data(as_text=True)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_data() == retried.get_data()
    after = money_rows()
    assert (after["deal_payments"], after["idempotency"]) == (before["deal_payments"] + 1, before["idempotency"] + 1)
    assert after["payment_statuses"] == before["payment_statuses"] + ["recorded"]
    assert (after["paid_fen"], after["awards"]) == (before["paid_fen"], before["awards"]), "recording judged it"
    assert check_ledger_output(runner) == (0, "ledger OK")


def test_confirming_a_payment_refused_for_full_storage_leaves_it_unconfirmed_and_the_retry_judges_once(
        client, runner, registered_deal, storage_limit, writes):
    deal, researcher, _ = registered_deal
    storage_limit["pages"] = ROOMY
    reconnect()
    payment_ids = [record_deal_payment(db.session, researcher, deal.id, amount_fen=100, paid_on=date(2025, 4, 30)).id
                   for _ in range(MAX_ATTEMPTS)]
    storage_limit["pages"] = db.session.execute(text("PRAGMA page_count")).scalar_one()
    reconnect()
    headers = bearer(member_of(deal.transferee_id))
    for payment_id in payment_ids:
        path = f"/api/v1/deal-payments/{payment_id}/confirm"
        before = money_rows()
        writes["writes"].clear()
        failed = client.post(path, headers=headers)
        if failed.status_code != 200:
            break
    else:
        pytest.fail(f"{MAX_ATTEMPTS} confirmations fitted under a cap of {storage_limit['pages']} pages")
    assert_refused_for_full_storage(failed, writes, before, runner)
    assert "recorded" in before["payment_statuses"]

    storage_limit["pages"] = ROOMY
    reconnect()
    retried, again = client.post(path, headers=headers), client.post(path, headers=headers)
    assert retried.status_code == 200 and retried.get_json()["awards"], retried.get_data(as_text=True)
    assert (again.status_code, again.get_json()["error"]) == (409, "invalid_state")
    after = money_rows()
    assert after["paid_fen"] == before["paid_fen"] + 100
    assert after["policy_events"] == before["policy_events"] + 1 and after["awards"] > before["awards"]
    assert after["payment_statuses"].count("confirmed") == before["payment_statuses"].count("confirmed") + 1
    assert check_ledger_output(runner) == (0, "ledger OK")


def test_a_page_refused_for_full_storage_says_so_without_internals(client, login, registered_deal, storage_limit):
    deal, researcher, _ = registered_deal
    login(researcher)
    for attempt in range(MAX_ATTEMPTS):
        response = client.post(f"/deals/{deal.id}/payments", data={"amount_fen": "0.01", "paid_on": "2025-04-30"})
        if response.status_code != 302:
            break
    else:
        pytest.fail(f"{MAX_ATTEMPTS} payments fitted under a cap of {storage_limit['pages']} pages")
    page = response.get_data(as_text=True)
    assert response.status_code == 503 and response.headers["Retry-After"] == str(STORAGE_FULL_RETRY_AFTER_SECONDS)
    assert "存储空间已满" in page and "sqlite" not in page.lower() and "traceback" not in page.lower()


def test_postgresql_disk_full_is_storage_full_and_other_operational_errors_are_not():
    assert is_storage_full(OperationalError("INSERT …", {}, psycopg.errors.DiskFull("could not extend file")))
    assert not is_storage_full(OperationalError("SELECT 1", {}, psycopg.OperationalError("connection lost")))


def test_an_error_raised_while_handling_a_full_storage_is_still_storage_full():
    try:
        try:
            raise OperationalError("INSERT …", {}, psycopg.errors.DiskFull("could not extend file"))
        except OperationalError:
            raise OperationalError("ROLLBACK TO SAVEPOINT sa_savepoint_1", {},
                                   psycopg.OperationalError("no such savepoint")) from None
    except OperationalError as error:
        assert error.__cause__ is None and error.__context__ is not None
        assert is_storage_full(error)
