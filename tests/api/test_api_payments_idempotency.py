"""POST /api/v1/deals/<id>/payments and /api/v1/preorders/<id>/payments record a payment behind a required
Idempotency-Key (replay, reuse with another body, concurrent duplicates, failures; bad input refused with nothing
recorded); the other side's POST /api/v1/deal-payments/<id>/confirm (or /preorder-payments/…) earns the exact awards,
once."""
import json
import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from market.api import money as money_api
from market.api.models import IdempotencyRecord, IdempotencyState
from market.api.openapi import openapi_document
from market.awards import services as award_services
from market.awards.ledger import LedgerTransaction
from market.awards.models import Award, PolicyEvent
from market.deals.models import Deal, DealPayment, DealStage
from market.extensions import db
from market.money import MAX_FEN
from market.preorders.models import PreorderAgreement, PreorderPayment
from tests.api_requests import bearer, schema_validator
from tests.payments import member_of

YUAN = 100
WAN = 10_000 * YUAN
JSON = "application/json"
RACE_THREADS = 10
RACE_CONFIG = {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": RACE_THREADS + 5, "max_overflow": 0, "pool_timeout": 60}}


def send(client, path: str, headers: dict, body=None, *, raw: bytes | None = None, key: str | None = "key-1",
         content_type: str = JSON):
    """POST a payment body (or raw bytes) with an Idempotency-Key unless key is None."""
    if key is not None:
        headers = {**headers, "Idempotency-Key": key}
    data = raw if raw is not None else json.dumps(body)
    return client.post(path, data=data, headers={**headers, "Content-Type": content_type})


def recorded() -> dict[str, int]:
    """Row counts of everything a payment writes."""
    models = {"payments": DealPayment, "preorder_payments": PreorderPayment, "awards": Award,
              "policy_events": PolicyEvent, "ledger": LedgerTransaction, "idempotency": IdempotencyRecord}
    db.session.expire_all()
    return {name: db.session.scalar(select(func.count()).select_from(model)) for name, model in models.items()}


def deal_path(deal) -> str:
    return f"/api/v1/deals/{deal.id}/payments"


def decide(client, person, payment_id: int, decision: str = "confirm", *, kind: str = "deal", body=None):
    """POST a decision on a recorded payment (no Idempotency-Key: a decision is made once, a repeat is a 409)."""
    data = {} if body is None else {"data": json.dumps(body), "content_type": JSON}
    return client.post(f"/api/v1/{kind}-payments/{payment_id}/{decision}", headers=bearer(person), **data)


def transferee_of(deal):
    """A member of the deal's transferee (who confirms what the transferor records)."""
    return member_of(db.session.get(Deal, deal.id).transferee_id)


def payment_statuses() -> list[str]:
    db.session.expire_all()
    return [str(status) for status in db.session.scalars(select(DealPayment.status).order_by(DealPayment.id))]


PROCEEDS = {"amount_fen": 600 * WAN, "date": "2025-04-30"}


# ---------------------------------------------------------------- awards in exact fen


def test_two_proceeds_payments_earn_worked_example_two_in_exact_fen_when_confirmed(client, registered_deal):
    deal, researcher, brokers = registered_deal
    headers = bearer(researcher)
    awards_before = recorded()["awards"]
    first_record = send(client, deal_path(deal), headers, PROCEEDS, key="proceeds-1")
    second_record = send(client, deal_path(deal), headers, {"amount_fen": 600 * WAN, "date": "2025-05-30"},
                         key="proceeds-2")
    assert (first_record.status_code, second_record.status_code) == (201, 201), second_record.get_json()
    for response in (first_record, second_record):
        schema_validator("Payment").validate(response.get_json())
        assert (response.get_json()["status"]["code"], response.get_json()["recorded_as"]) == ("recorded", "transferor")
        assert response.get_json()["awards"] == [] and response.get_json()["decided_by"] is None
    assert recorded()["awards"] == awards_before and db.session.get(Deal, deal.id).paid_fen == 0
    transferee = transferee_of(deal)
    first = decide(client, transferee, first_record.get_json()["id"])
    second = decide(client, transferee, second_record.get_json()["id"])
    assert (first.status_code, second.status_code) == (200, 200), (first.get_json(), second.get_json())
    assert first.get_json()["status"]["code"] == "confirmed"
    assert first.get_json()["decided_by"] == {"id": transferee.id, "name": transferee.name}
    recipients = [f"user-{broker.id}" for broker in brokers]
    first_awards = [(a["recipient"], a["computed_fen"], a["granted_fen"], a["capped_by"])
                    for a in first.get_json()["awards"]]
    assert first_awards == [(recipients[0], 600_000 * YUAN, 600_000 * YUAN, None),
                            (recipients[1], 360_000 * YUAN, 360_000 * YUAN, None),
                            (recipients[2], 240_000 * YUAN, 240_000 * YUAN, None)]
    second_awards = [(a["recipient"], a["granted_fen"], a["capped_by"]) for a in second.get_json()["awards"]]
    assert second_awards == [(recipients[0], 400_000 * YUAN, "achievement"),
                             (recipients[1], 240_000 * YUAN, "achievement"),
                             (recipients[2], 160_000 * YUAN, "achievement")]
    assert all(type(a["granted_fen"]) is int for a in first.get_json()["awards"] + second.get_json()["awards"])
    for response in (first, second):
        schema_validator("Payment").validate(response.get_json())
    assert first.get_json()["amount_fen"] == 600 * WAN and first.get_json()["deal_id"] == deal.id
    stored = db.session.get(Deal, deal.id)
    assert (stored.paid_fen, stored.stage) == (1200 * WAN, DealStage.COMPLETED)
    assert db.session.scalar(select(func.sum(Award.granted_fen)).where(Award.deal_id == deal.id)) == 2_000_000 * YUAN


def test_the_first_confirmed_payment_moves_a_registered_deal_into_performance(client, registered_deal):
    deal, researcher, _ = registered_deal
    response = send(client, deal_path(deal), bearer(researcher), {"amount_fen": 100 * WAN, "date": "2025-04-01"})
    assert response.status_code == 201
    db.session.expire_all()
    assert db.session.get(Deal, deal.id).stage == DealStage.REGISTERED
    assert decide(client, transferee_of(deal), response.get_json()["id"]).status_code == 200
    db.session.expire_all()
    assert db.session.get(Deal, deal.id).stage == DealStage.PERFORMANCE


# ---------------------------------------------------------------- idempotency


def test_replay_returns_the_identical_response_and_records_one_payment(client, registered_deal):
    deal, researcher, _ = registered_deal
    headers = bearer(researcher)
    first = send(client, deal_path(deal), headers, PROCEEDS, key="pay-2025-04-30")
    after_first = recorded()
    again = send(client, deal_path(deal), headers, PROCEEDS, key="pay-2025-04-30")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_data() == first.get_data()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert recorded() == after_first
    assert after_first["payments"] == 1 and after_first["awards"] == 0 and after_first["idempotency"] == 1
    record = db.session.scalar(select(IdempotencyRecord))
    assert (record.state, record.response_status, record.method, record.path) == (
        IdempotencyState.DONE, 201, "POST", deal_path(deal))
    assert decide(client, transferee_of(deal), first.get_json()["id"]).status_code == 200
    after_confirmation = recorded()
    late = send(client, deal_path(deal), headers, PROCEEDS, key="pay-2025-04-30")
    assert (late.status_code, late.get_data()) == (201, first.get_data()), "a replay answers what was stored"
    assert recorded() == after_confirmation and after_confirmation["awards"] == 3


def test_the_same_body_with_its_keys_in_another_order_is_the_same_request(client, registered_deal):
    deal, researcher, _ = registered_deal
    headers = bearer(researcher)
    first = send(client, deal_path(deal), headers, raw=b'{"amount_fen": 60000000, "date": "2025-04-30"}')
    again = send(client, deal_path(deal), headers, raw=b'{"date":"2025-04-30","amount_fen":60000000}')
    assert again.get_data() == first.get_data()
    assert recorded()["payments"] == 1


def test_the_same_key_with_another_body_is_refused_and_pays_nothing_more(client, registered_deal):
    deal, researcher, _ = registered_deal
    headers = bearer(researcher)
    assert send(client, deal_path(deal), headers, PROCEEDS).status_code == 201
    before = recorded()
    other = send(client, deal_path(deal), headers, {**PROCEEDS, "amount_fen": 600 * WAN + 1})
    assert other.status_code == 422
    assert other.get_json()["error"] == "idempotency_key_reused"
    assert "Idempotency-Key" in other.get_json()["fields"]
    assert recorded() == before


def test_the_same_key_on_another_deal_is_another_request_and_refused(client, registered_deal, make_registered_deal,
                                                                     make_achievement):
    deal, researcher, _ = registered_deal
    headers = bearer(researcher)
    other, _, _ = make_registered_deal(achievement=make_achievement(owner=researcher), value_fen=100 * WAN,
                                       reward_rate_bp=0, shares=(), signed_on=date(2025, 3, 1))
    assert send(client, deal_path(deal), headers, PROCEEDS).status_code == 201
    response = send(client, deal_path(other), headers, PROCEEDS)
    assert (response.status_code, response.get_json()["error"]) == (422, "idempotency_key_reused")
    assert db.session.scalar(select(func.count()).select_from(DealPayment).where(DealPayment.deal_id == other.id)) == 0


def test_keys_belong_to_the_user_who_sent_them(client, registered_deal, make_user):
    deal, researcher, _ = registered_deal
    colleague = make_user("researcher", organisation=researcher.organisation)
    first = send(client, deal_path(deal), bearer(researcher), PROCEEDS, key="shared-key")
    second = send(client, deal_path(deal), bearer(colleague), {"amount_fen": 600 * WAN, "date": "2025-05-30"},
                  key="shared-key")
    assert (first.status_code, second.status_code) == (201, 201)
    assert recorded()["payments"] == 2


@pytest.mark.parametrize("case, headers", [
    ("missing", {}),
    ("empty", {"Idempotency-Key": ""}),
    ("with a space", {"Idempotency-Key": "pay 1"}),
    ("101 characters", {"Idempotency-Key": "k" * 101}),
    ("not ASCII", {"Idempotency-Key": "clé-1"}),
    ("control character", {"Idempotency-Key": "key\x7f"}),
], ids=lambda value: value if isinstance(value, str) else "")
def test_a_missing_or_malformed_key_is_refused_with_400_and_nothing_recorded(client, registered_deal, case, headers):
    deal, researcher, _ = registered_deal
    before = recorded()
    response = client.post(deal_path(deal), data=json.dumps(PROCEEDS), content_type=JSON,
                           headers={**bearer(researcher), **headers})
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "idempotency_key_required"
    assert "Idempotency-Key" in body["message"]
    assert recorded() == before


def test_a_key_of_100_visible_characters_is_accepted(client, registered_deal):
    deal, researcher, _ = registered_deal
    key = "".join(chr(code) for code in range(0x21, 0x7F))[:100]
    assert send(client, deal_path(deal), bearer(researcher), PROCEEDS, key=key).status_code == 201


def test_the_key_is_required_on_preorder_payments_too(client, signed_agreement):
    agreement, _ = signed_agreement
    response = send(client, f"/api/v1/preorders/{agreement.id}/payments", bearer(member_of(agreement.buyer_id)),
                    {"amount_fen": 100 * WAN, "date": "2025-03-31"}, key=None)
    assert (response.status_code, response.get_json()["error"]) == (400, "idempotency_key_required")


def test_a_refusal_by_the_payment_rules_is_stored_and_replayed(client, registered_deal):
    deal, researcher, _ = registered_deal
    headers = bearer(researcher)
    too_much = {"amount_fen": 1200 * WAN + 1, "date": "2025-04-30"}
    first = send(client, deal_path(deal), headers, too_much, key="too-much")
    again = send(client, deal_path(deal), headers, too_much, key="too-much")
    assert first.status_code == 422
    assert first.get_json()["error"] == "validation_failed" and "amount_fen" in first.get_json()["fields"]
    assert (again.status_code, again.get_data()) == (422, first.get_data())
    assert again.headers["Idempotent-Replayed"] == "true"
    counts = recorded()
    assert (counts["payments"], counts["idempotency"]) == (0, 1)
    assert send(client, deal_path(deal), headers, PROCEEDS, key="corrected").status_code == 201


def test_a_payment_dated_before_signing_names_the_date_field_of_the_body(client, registered_deal):
    deal, researcher, _ = registered_deal
    response = send(client, deal_path(deal), bearer(researcher), {"amount_fen": 100, "date": "2025-03-09"})
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"date"}


def test_a_server_failure_releases_the_key_so_that_the_retry_records_exactly_once(client, registered_deal,
                                                                                monkeypatch):
    from market.deals import pipeline

    deal, researcher, _ = registered_deal
    headers = bearer(researcher)
    original = pipeline.payments.record_deal_payment
    failures = iter([RuntimeError("connection lost")])

    def failing_once_after_the_row(*args, **kwargs):
        payment = original(*args, **kwargs)
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return payment

    monkeypatch.setattr(pipeline.payments, "record_deal_payment", failing_once_after_the_row)
    before = recorded()
    failed = send(client, deal_path(deal), headers, PROCEEDS, key="retry-me")
    assert failed.status_code == 500
    assert failed.get_json()["error"] == "server_error"
    assert recorded() == before
    retried = send(client, deal_path(deal), headers, PROCEEDS, key="retry-me")
    replayed = send(client, deal_path(deal), headers, PROCEEDS, key="retry-me")
    assert (retried.status_code, replayed.status_code) == (201, 201)
    assert replayed.get_data() == retried.get_data()
    assert recorded()["payments"] == 1 and recorded()["awards"] == 0


def test_a_server_failure_while_judging_a_confirmation_leaves_it_unconfirmed_and_the_retry_judges_once(
        client, registered_deal, monkeypatch):
    deal, researcher, _ = registered_deal
    payment_id = send(client, deal_path(deal), bearer(researcher), PROCEEDS, key="to-confirm").get_json()["id"]
    transferee = transferee_of(deal)
    original = award_services.apply_policy_event
    failures = iter([RuntimeError("connection lost")])

    def failing_once(*args, **kwargs):
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return original(*args, **kwargs)

    monkeypatch.setattr(award_services, "apply_policy_event", failing_once)
    before = recorded()
    failed = decide(client, transferee, payment_id)
    assert (failed.status_code, failed.get_json()["error"]) == (500, "server_error")
    assert recorded() == before and payment_statuses() == ["recorded"]
    assert db.session.get(Deal, deal.id).paid_fen == 0
    retried, again = decide(client, transferee, payment_id), decide(client, transferee, payment_id)
    assert retried.status_code == 200 and len(retried.get_json()["awards"]) == 3, retried.get_json()
    assert (again.status_code, again.get_json()["error"]) == (409, "invalid_state")
    assert recorded()["awards"] == before["awards"] + 3 and recorded()["policy_events"] == before["policy_events"] + 1
    assert db.session.get(Deal, deal.id).paid_fen == 600 * WAN


def test_a_failure_after_the_payment_but_before_the_commit_leaves_nothing_and_the_retry_pays_once(
        client, registered_deal, monkeypatch):
    deal, researcher, _ = registered_deal
    headers = bearer(researcher)
    before = recorded()

    def broken_answer(*args, **kwargs):
        raise RuntimeError("serialisation failed")

    monkeypatch.setattr(money_api, "payment_json", broken_answer)
    failed = send(client, deal_path(deal), headers, PROCEEDS, key="crashed")
    assert (failed.status_code, failed.get_json()["error"]) == (500, "server_error")
    assert recorded() == before
    monkeypatch.undo()
    retried = send(client, deal_path(deal), headers, PROCEEDS, key="crashed")
    replayed = send(client, deal_path(deal), headers, PROCEEDS, key="crashed")
    assert (retried.status_code, replayed.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in retried.headers and replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.get_data() == retried.get_data()
    counts = recorded()
    assert (counts["payments"], counts["awards"], counts["idempotency"]) == (1, 0, 1)
    assert payment_statuses() == ["recorded"]


def _race(app, count: int, request) -> list:
    """Send `request(client)` from `count` threads released together by a barrier; returns the responses."""
    barrier = threading.Barrier(count)
    responses: list = [None] * count

    def run(index: int) -> None:
        client = app.test_client()
        barrier.wait(timeout=60)
        try:
            responses[index] = request(client)
        except Exception as error:  # noqa: BLE001 - reported by the assertion
            responses[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return responses


@pytest.mark.parametrize("app", [RACE_CONFIG], indirect=True)
def test_concurrent_duplicates_record_exactly_one_payment(app, registered_deal):
    deal, researcher, _ = registered_deal
    headers = {**bearer(researcher), "Idempotency-Key": "burst-1", "Content-Type": JSON}
    path, body = deal_path(deal), json.dumps(PROCEEDS)
    responses = _race(app, RACE_THREADS, lambda client: client.post(path, data=body, headers=headers))
    assert all(not isinstance(response, Exception) for response in responses), responses
    statuses = sorted(response.status_code for response in responses)
    assert set(statuses) <= {201, 409}, statuses
    originals = [r for r in responses if r.status_code == 201 and "Idempotent-Replayed" not in r.headers]
    replays = [r for r in responses if r.status_code == 201 and "Idempotent-Replayed" in r.headers]
    assert len(originals) == 1, statuses
    assert all(replay.get_data() == originals[0].get_data() for replay in replays)
    for conflict in (r for r in responses if r.status_code == 409):
        assert conflict.get_json()["error"] == "request_in_progress"
    counts = recorded()
    assert (counts["payments"], counts["awards"], counts["idempotency"]) == (1, 0, 1)
    assert payment_statuses() == ["recorded"] and db.session.get(Deal, deal.id).paid_fen == 0


@pytest.mark.parametrize("app", [RACE_CONFIG], indirect=True)
def test_concurrent_confirmations_judge_the_payment_exactly_once(app, registered_deal, make_user):
    deal, researcher, _ = registered_deal
    payment_id = send(app.test_client(), deal_path(deal), bearer(researcher), PROCEEDS).get_json()["id"]
    confirmers = [bearer(transferee_of(deal)), bearer(make_user("admin"))]
    before = recorded()
    path = f"/api/v1/deal-payments/{payment_id}/confirm"
    tokens = iter(confirmers * RACE_THREADS)  # the transferee and an admin, alternately
    responses = _race(app, RACE_THREADS, lambda client: client.post(path, headers=next(tokens)))
    assert all(not isinstance(response, Exception) for response in responses), responses
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [409] * (RACE_THREADS - 1), statuses
    assert {response.get_json()["error"] for response in responses if response.status_code == 409} == {"invalid_state"}
    counts = recorded()
    assert (counts["awards"], counts["policy_events"]) == (before["awards"] + 3, before["policy_events"] + 1)
    assert payment_statuses() == ["confirmed"] and db.session.get(Deal, deal.id).paid_fen == 600 * WAN


@pytest.mark.parametrize("app, release_after, expected", [
    ({**RACE_CONFIG, "IDEMPOTENCY_WAIT_MS": 300}, 3.0, "409"),
    ({**RACE_CONFIG, "IDEMPOTENCY_WAIT_MS": 20_000}, 0.5, "replay"),
], indirect=["app"], ids=["first still running: 409 with Retry-After", "first finishes in time: replayed"])
def test_a_duplicate_while_the_first_still_runs_waits_and_replays_or_gets_409(app, registered_deal, monkeypatch,
                                                                            release_after, expected):
    deal, researcher, _ = registered_deal
    headers = {**bearer(researcher), "Idempotency-Key": "slow-1", "Content-Type": JSON}
    path, body = deal_path(deal), json.dumps(PROCEEDS)
    inside, release = threading.Event(), threading.Event()
    original = money_api.payment_json

    def slow_answer(*args, **kwargs):
        inside.set()
        release.wait(timeout=30)
        return original(*args, **kwargs)

    monkeypatch.setattr(money_api, "payment_json", slow_answer)
    first: list = []
    worker = threading.Thread(target=lambda: first.append(app.test_client().post(path, data=body, headers=headers)))
    worker.start()
    assert inside.wait(timeout=30), "the first request never reached its answer"
    threading.Timer(release_after, release.set).start()
    duplicate = app.test_client().post(path, data=body, headers=headers)
    worker.join(timeout=60)
    assert first and first[0].status_code == 201
    if expected == "409":
        assert (duplicate.status_code, duplicate.get_json()["error"]) == (409, "request_in_progress")
        assert duplicate.headers["Retry-After"] == "1"
        duplicate = app.test_client().post(path, data=body, headers=headers)
    assert duplicate.status_code == 201 and duplicate.headers["Idempotent-Replayed"] == "true"
    assert duplicate.get_data() == first[0].get_data()
    counts = recorded()
    assert (counts["payments"], counts["awards"], counts["idempotency"]) == (1, 0, 1)


@pytest.mark.parametrize("failing", ["answer", "store_response"])
def test_an_exception_between_the_operation_and_the_commit_keeps_nothing_and_the_retry_pays_once(
        client, registered_deal, monkeypatch, failing):
    from market.api import idempotency

    deal, researcher, _ = registered_deal
    headers = bearer(researcher)
    before = recorded()
    target, name = (money_api, "payment_json") if failing == "answer" else (idempotency, "store_response")
    original = getattr(target, name)
    calls = []

    def fail_after_the_operation(*args, **kwargs):
        calls.append(recorded_in_transaction())
        raise RuntimeError("crash before the commit")

    monkeypatch.setattr(target, name, fail_after_the_operation)
    assert send(client, deal_path(deal), headers, PROCEEDS, key="crash-point").status_code == 500
    assert calls == [1], "the payment was not yet written when the failure was injected"
    assert recorded() == before
    monkeypatch.setattr(target, name, original)
    retried = send(client, deal_path(deal), headers, PROCEEDS, key="crash-point")
    again = send(client, deal_path(deal), headers, PROCEEDS, key="crash-point")
    assert (retried.status_code, again.status_code) == (201, 201) and again.get_data() == retried.get_data()
    assert (recorded()["payments"], recorded()["idempotency"]) == (1, 1)


def recorded_in_transaction() -> int:
    """Payments the request's own (uncommitted) transaction holds."""
    return db.session.scalar(select(func.count()).select_from(DealPayment))


# ---------------------------------------------------------------- bad input


def with_raw(key: str, raw: str) -> bytes:
    """The proceeds body with one member written as raw JSON text."""
    rest = json.dumps({k: v for k, v in PROCEEDS.items() if k != key})
    return (rest[:-1] + f', "{key}": {raw}}}').encode()


# (case, content type, raw body, status, error code, field named in "fields" or None)
BAD_PAYMENTS = [
    ("NaN", JSON, with_raw("amount_fen", "NaN"), 422, "invalid_json", "amount_fen"),
    ("Infinity", JSON, with_raw("amount_fen", "Infinity"), 422, "invalid_json", "amount_fen"),
    ("1e400", JSON, with_raw("amount_fen", "1e400"), 422, "invalid_json", "amount_fen"),
    ("1e3", JSON, with_raw("amount_fen", "1e3"), 422, "validation_failed", "amount_fen"),
    ("a string of digits", JSON, with_raw("amount_fen", '"100"'), 422, "validation_failed", "amount_fen"),
    ("full-width digits", JSON, with_raw("amount_fen", '"１００"'), 422, "validation_failed", "amount_fen"),
    ("a fraction", JSON, with_raw("amount_fen", "1.5"), 422, "validation_failed", "amount_fen"),
    ("1.0", JSON, with_raw("amount_fen", "1.0"), 422, "validation_failed", "amount_fen"),
    ("true", JSON, with_raw("amount_fen", "true"), 422, "validation_failed", "amount_fen"),
    ("null", JSON, with_raw("amount_fen", "null"), 422, "validation_failed", "amount_fen"),
    ("negative", JSON, with_raw("amount_fen", "-1"), 422, "validation_failed", "amount_fen"),
    ("zero", JSON, with_raw("amount_fen", "0"), 422, "validation_failed", "amount_fen"),
    ("above the cap", JSON, with_raw("amount_fen", str(MAX_FEN + 1)), 422, "validation_failed", "amount_fen"),
    ("10**16", JSON, with_raw("amount_fen", str(10**16)), 422, "validation_failed", "amount_fen"),
    ("30 digits", JSON, with_raw("amount_fen", "9" * 30), 422, "invalid_json", "amount_fen"),
    ("amount missing", JSON, b'{"date": "2025-04-30"}', 422, "validation_failed", "amount_fen"),
    ("date missing", JSON, b'{"amount_fen": 100}', 422, "validation_failed", "date"),
    ("date not a date", JSON, with_raw("date", '"2025-13-01"'), 422, "validation_failed", "date"),
    ("date with slashes", JSON, with_raw("date", '"2025/04/30"'), 422, "validation_failed", "date"),
    ("date as a number", JSON, with_raw("date", "20250430"), 422, "validation_failed", "date"),
    ("date before 2000", JSON, with_raw("date", '"1999-12-31"'), 422, "validation_failed", "date"),
    ("unknown key", JSON, with_raw("note", '"x"'), 422, "validation_failed", "note"),
    ("paid_on instead of date", JSON, b'{"amount_fen": 100, "paid_on": "2025-04-30"}', 422, "validation_failed",
     "paid_on"),
    ("duplicate key", JSON, json.dumps(PROCEEDS).encode()[:-1] + b', "amount_fen": 1}', 422, "invalid_json",
     "amount_fen"),
    ("lone surrogate", JSON, with_raw("date", '"\\ud800"'), 422, "invalid_json", "date"),
    ("top-level array", JSON, b"[600000000]", 422, "invalid_json", None),
    ("truncated", JSON, json.dumps(PROCEEDS).encode()[:-1], 400, "malformed_json", None),
    ("empty", JSON, b"", 400, "malformed_json", None),
    ("plain text", "text/plain", json.dumps(PROCEEDS).encode(), 415, "unsupported_media_type", None),
    ("form encoded", "application/x-www-form-urlencoded", b"amount_fen=100&date=2025-04-30", 415,
     "unsupported_media_type", None),
    ("oversized", JSON, with_raw("note", '"' + "x" * 300_000 + '"'), 413, "request_entity_too_large", None),
]


@pytest.mark.parametrize("case, content_type, raw, status, code, field", BAD_PAYMENTS,
                         ids=[case[0] for case in BAD_PAYMENTS])
def test_bad_payment_input_is_refused_and_leaves_the_key_unused(client, registered_deal, case, content_type, raw,
                                                                status, code, field):
    deal, researcher, _ = registered_deal
    headers = bearer(researcher)
    before = recorded()
    response = send(client, deal_path(deal), headers, raw=raw, content_type=content_type, key="fix-and-retry")
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    error = response.get_json()
    assert set(error) == {"error", "message", "fields"} and error["error"] == code
    if field is not None:
        assert field in error["fields"], error["fields"]
    assert recorded() == before
    assert send(client, deal_path(deal), headers, PROCEEDS, key="fix-and-retry").status_code == 201


# ---------------------------------------------------------------- who may record and who confirms


@pytest.fixture
def deal_people(make_registered_deal, make_user):
    """Everyone who might try to record proceeds on worked example 2's registered deal, claimed by a broker."""
    deal_broker = make_user("broker")
    deal, researcher, brokers = make_registered_deal(broker=deal_broker)
    buyer = db.session.get(Deal, deal.id).transferee
    return deal, {
        "transferor": researcher, "deal_broker": deal_broker, "admin": make_user("admin"),
        "transferee": make_user("enterprise", organisation=buyer), "intermediary": brokers[0],
        "other_broker": make_user("broker"), "outsider": make_user("enterprise"), "visitor": None,
    }


@pytest.mark.parametrize("who, status, recorded_as", [
    ("transferor", 201, "transferor"), ("deal_broker", 201, "broker"), ("transferee", 201, "transferee"),
    ("admin", 403, None), ("intermediary", 403, None), ("other_broker", 403, None), ("outsider", 404, None),
    ("visitor", 401, None),
])
def test_proceeds_are_recorded_by_either_party_and_the_deal_broker_but_not_by_admins(client, deal_people, who,
                                                                                    status, recorded_as):
    deal, people = deal_people
    person = people[who]
    response = send(client, deal_path(deal), bearer(person) if person else {}, PROCEEDS)
    assert response.status_code == status, response.get_json()
    if status == 201:
        assert (response.get_json()["recorded_as"], response.get_json()["status"]["code"]) == (recorded_as, "recorded")
    counts = recorded()
    assert (counts["payments"], counts["idempotency"], counts["awards"]) == ((1, 1, 0) if status == 201 else (0, 0, 0))


def test_the_recorders_own_confirmation_is_403_and_a_second_confirmation_409(client, registered_deal):
    deal, researcher, _ = registered_deal
    payment_id = send(client, deal_path(deal), bearer(researcher), PROCEEDS).get_json()["id"]
    before = recorded()
    own = decide(client, researcher, payment_id)
    assert (own.status_code, own.get_json()["error"]) == (403, "forbidden")
    assert "另一方" in own.get_json()["message"]
    assert recorded() == before and payment_statuses() == ["recorded"]
    assert db.session.get(Deal, deal.id).paid_fen == 0
    assert decide(client, transferee_of(deal), payment_id).status_code == 200
    judged = recorded()
    second = decide(client, transferee_of(deal), payment_id)
    assert (second.status_code, second.get_json()["error"]) == (409, "invalid_state")
    assert recorded() == judged and judged["awards"] == before["awards"] + 3


def test_payment_on_an_unknown_deal_is_404_and_records_no_key(client, registered_deal):
    _, researcher, _ = registered_deal
    response = send(client, "/api/v1/deals/999999/payments", bearer(researcher), PROCEEDS)
    assert response.status_code == 404
    assert recorded()["idempotency"] == 0


# ---------------------------------------------------------------- pre-order payments


def preorder_path(agreement) -> str:
    return f"/api/v1/preorders/{agreement.id}/payments"


def test_preorder_payments_are_recorded_once_per_key_and_earn_worked_example_one_when_confirmed(
        client, signed_agreement):
    agreement, seller_user = signed_agreement
    path, headers = preorder_path(agreement), bearer(member_of(agreement.buyer_id))
    march = send(client, path, headers, {"amount_fen": 7000 * WAN, "date": "2025-03-31"}, key="march")
    replay = send(client, path, headers, {"amount_fen": 7000 * WAN, "date": "2025-03-31"}, key="march")
    september = send(client, path, headers, {"amount_fen": 5000 * WAN, "date": "2025-09-30"}, key="september")
    assert [r.status_code for r in (march, replay, september)] == [201, 201, 201]
    assert replay.get_data() == march.get_data()
    schema_validator("Payment").validate(march.get_json())
    assert march.get_json()["agreement_id"] == agreement.id and march.get_json()["deal_id"] is None
    assert (march.get_json()["recorded_as"], march.get_json()["status"]["code"]) == ("buyer", "recorded")
    assert recorded()["awards"] == 0 and db.session.get(PreorderAgreement, agreement.id).paid_fen == 0
    seller = bearer(seller_user)
    first = client.post(f"/api/v1/preorder-payments/{march.get_json()['id']}/confirm", headers=seller)
    second = client.post(f"/api/v1/preorder-payments/{september.get_json()['id']}/confirm", headers=seller)
    assert (first.status_code, second.status_code) == (200, 200), (first.get_json(), second.get_json())
    schema_validator("Payment").validate(first.get_json())
    again = client.post(f"/api/v1/preorder-payments/{march.get_json()['id']}/confirm", headers=seller)
    assert (again.status_code, again.get_json()["error"]) == (409, "invalid_state")
    granted = [(a["rule"], a["recipient"], a["granted_fen"], a["capped_by"])
               for a in first.get_json()["awards"] + second.get_json()["awards"]]
    seller = f"org-{agreement.seller_id}"
    assert granted == [("R1", seller, 7_000_000 * YUAN, None), ("R1", seller, 3_000_000 * YUAN,
                                                                 "recipient_calendar_year")]
    db.session.expire_all()
    assert db.session.get(PreorderAgreement, agreement.id).paid_fen == 12000 * WAN
    assert (recorded()["preorder_payments"], recorded()["awards"]) == (2, 2)


@pytest.mark.parametrize("who, status", [("seller", 403), ("admin", 403), ("outsider", 404)])
def test_preorder_payments_are_not_recorded_by_the_seller_or_admins(client, signed_agreement, make_user, who, status):
    agreement, seller_user = signed_agreement
    person = {"seller": seller_user, "admin": make_user("admin"), "outsider": make_user("enterprise")}[who]
    response = send(client, preorder_path(agreement), bearer(person), {"amount_fen": 100 * WAN, "date": "2025-03-31"})
    assert response.status_code == status, response.get_json()
    counts = recorded()
    assert (counts["preorder_payments"], counts["idempotency"]) == (0, 0)


def test_preorder_payment_beyond_the_accepted_deliveries_is_refused_and_replayed(client, signed_agreement):
    agreement, _ = signed_agreement
    path, headers = preorder_path(agreement), bearer(member_of(agreement.buyer_id))
    body = {"amount_fen": 15000 * WAN + 1, "date": "2025-03-31"}
    first, again = send(client, path, headers, body), send(client, path, headers, body)
    assert (first.status_code, again.status_code) == (422, 422)
    assert again.get_data() == first.get_data() and "amount_fen" in first.get_json()["fields"]
    assert recorded()["preorder_payments"] == 0


def test_another_organisation_cannot_see_or_pay_an_agreement(client, signed_agreement, make_user):
    agreement, _ = signed_agreement
    response = send(client, f"/api/v1/preorders/{agreement.id}/payments", bearer(make_user("enterprise")),
                    {"amount_fen": 100, "date": "2025-03-31"})
    assert response.status_code == 404
    assert recorded()["idempotency"] == 0


def test_the_payment_operations_document_the_required_key_and_integer_money():
    document = openapi_document()
    for path in ("/api/v1/deals/{deal_id}/payments", "/api/v1/preorders/{agreement_id}/payments"):
        operation = document["paths"][path]["post"]
        header = next(parameter for parameter in operation["parameters"] if parameter["in"] == "header")
        assert (header["name"], header["required"], header["schema"]["maxLength"]) == ("Idempotency-Key", True, 100)
        assert {"201", "400", "401", "403", "404", "409", "413", "415", "422"} <= set(operation["responses"])
    schema = document["components"]["schemas"]["PaymentInput"]
    assert schema["additionalProperties"] is False and set(schema["required"]) == {"amount_fen", "date"}
    amount = schema["properties"]["amount_fen"]
    assert (amount["type"], amount["minimum"], amount["maximum"]) == ("integer", 1, MAX_FEN)

