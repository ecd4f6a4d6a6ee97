"""An exception injected at each step of a money operation (deal and pre-order payments with an Idempotency-Key,
award approval and payout): the request answers a generic 500 with a request id, the database holds nothing of the
failed attempt, the books are sound, and the retry with the same key succeeds exactly once."""
import re
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import event

from market import unit_of_work
from market.api import idempotency
from market.api import money as money_api
from market.awards import services as award_services
from market.awards.book_checks import find_book_problems
from market.awards.models import Award, AwardStatus
from market.extensions import db
from market.policy import engine
from tests.api_requests import bearer
from tests.faults.keyed import WAN, money_rows, post_keyed


class InjectedFault(RuntimeError):
    """The failure a trial injects."""


@dataclass(frozen=True)
class Step:
    """Where a trial fails: after a function returned (module attribute), after a SQL statement ran (pattern), or
    at the database COMMIT itself."""

    name: str
    target: tuple | None = None
    statement: str | None = None
    at_commit: bool = False
    after_commit: bool = False


CLAIM = Step("claim of the key", target=(idempotency, "claim_key"))
LOCK = Step("lock_books", target=(award_services, "lock_books"))
JUDGEMENT = Step("engine judgement", target=(engine, "apply_event"))
EVENT = Step("storing the policy event", statement="INSERT INTO policy_events")
AWARDS = Step("storing the awards", statement="INSERT INTO awards")
POSTINGS = Step("ledger postings", target=(award_services, "post_transaction"))
STATE = Step("advancing the engine state", statement="UPDATE policy_state")
STORE = Step("storing the response", target=(idempotency, "store_response"))
COMMIT = Step("the commit itself", at_commit=True)
LOST_ANSWER = Step("after the commit (answer lost)", after_commit=True)


def payment_steps(table: str) -> list[Step]:
    """The steps of a keyed payment, in the order they run."""
    return [CLAIM, LOCK, JUDGEMENT, EVENT, Step(f"storing the payment row ({table})", statement=f"INSERT INTO {table}"),
            AWARDS, POSTINGS, STATE, Step("building the answer", target=(money_api, "payment_json")), STORE, COMMIT,
            LOST_ANSWER]


AWARD_STEPS = [LOCK, Step("the award's status", statement="UPDATE awards"), POSTINGS,
               Step("building the answer", target=(money_api, "awards_json")), COMMIT, LOST_ANSWER]


class Injection:
    """Fails once at a step (then stays out of the way of the retry) and counts how often it fired."""

    def __init__(self, monkeypatch, step: Step):
        self.step, self.fired = step, 0
        if step.target is not None:
            module, name = step.target
            original = getattr(module, name)

            def fail_after(*args, **kwargs):
                result = original(*args, **kwargs)
                self._fire()
                return result

            monkeypatch.setattr(module, name, fail_after)
        elif step.statement is not None:
            words = r"\s+".join(step.statement.split())
            pattern = re.compile(r'^\s*' + words + r'\b', re.IGNORECASE)
            self._listen(monkeypatch, "after_cursor_execute",
                         lambda _c, _cur, statement, *_: pattern.match(statement) and self._fire())
        elif step.at_commit:
            original, inside = unit_of_work._commit, []

            def unit_of_work_commit(session):
                inside.append(True)
                try:
                    original(session)
                finally:
                    inside.clear()

            monkeypatch.setattr(unit_of_work, "_commit", unit_of_work_commit)
            self._listen(monkeypatch, "commit", lambda _connection: inside and self._fire())
        else:
            original = unit_of_work._commit

            def commit_then_fail(session):
                original(session)
                self._fire()

            monkeypatch.setattr(unit_of_work, "_commit", commit_then_fail)

    def _listen(self, monkeypatch, name: str, listener) -> None:
        event.listen(db.engine, name, listener)
        self._remove = lambda: event.remove(db.engine, name, listener)

    def _fire(self) -> None:
        if self.fired == 0:
            self.fired += 1
            raise InjectedFault(f"injected at {self.step.name}")

    def remove(self) -> None:
        """Stop listening to the engine (monkeypatched attributes are restored by monkeypatch)."""
        remove = getattr(self, "_remove", None)
        if remove is not None:
            remove()


def assert_failed_cleanly(response, injection: Injection, before: dict) -> None:
    """The attempt failed at its step with a generic 500 and left nothing (unless the commit had happened)."""
    assert injection.fired == 1, f"the operation never reached the step {injection.step.name!r}"
    assert response.status_code == 500, response.get_data(as_text=True)
    assert response.get_json()["error"] == "server_error" and "请求编号" in response.get_json()["message"]
    if not injection.step.after_commit:
        assert money_rows() == before, "the failed attempt left rows behind"
    assert find_book_problems(db.session) == []


def assert_retries_succeed_once(send, expected_status: int, injection: Injection) -> None:
    """The retry with the same key succeeds (replayed only if the failed attempt had committed) and a second
    retry replays it byte for byte."""
    retried, again = send(), send()
    assert retried.status_code == expected_status, retried.get_data(as_text=True)
    assert ("Idempotent-Replayed" in retried.headers) == injection.step.after_commit
    assert again.status_code == expected_status and again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_data() == retried.get_data()
    assert find_book_problems(db.session) == []


def step_ids(step: Step) -> str:
    return step.name


@pytest.mark.parametrize("step", payment_steps("deal_payments"), ids=step_ids)
def test_a_deal_payment_failing_at_any_step_leaves_nothing_and_the_retry_pays_once(client, registered_deal,
                                                                                   monkeypatch, step):
    deal, researcher, _ = registered_deal
    headers, path = bearer(researcher), f"/api/v1/deals/{deal.id}/payments"
    body = {"amount_fen": 600 * WAN, "date": "2025-04-30"}
    before = money_rows()
    injection = Injection(monkeypatch, step)
    try:
        failed = post_keyed(client, path, headers, body, "fault-deal-1")
    finally:
        injection.remove()
    assert_failed_cleanly(failed, injection, before)
    assert_retries_succeed_once(lambda: post_keyed(client, path, headers, body, "fault-deal-1"), 201, injection)
    after = money_rows()
    assert (after["deal_payments"], after["idempotency"], after["awards"]) == (1, 1, 3)
    assert after["paid_fen"] == 600 * WAN


@pytest.mark.parametrize("step", payment_steps("preorder_payments"), ids=step_ids)
def test_a_preorder_payment_failing_at_any_step_leaves_nothing_and_the_retry_pays_once(client, signed_agreement,
                                                                                       monkeypatch, step):
    agreement, seller_user = signed_agreement
    headers, path = bearer(seller_user), f"/api/v1/preorders/{agreement.id}/payments"
    body = {"amount_fen": 5000 * WAN, "date": "2025-02-01"}
    before = money_rows()
    injection = Injection(monkeypatch, step)
    try:
        failed = post_keyed(client, path, headers, body, "fault-preorder-1")
    finally:
        injection.remove()
    assert_failed_cleanly(failed, injection, before)
    assert_retries_succeed_once(lambda: post_keyed(client, path, headers, body, "fault-preorder-1"), 201, injection)
    after = money_rows()
    assert (after["preorder_payments"], after["idempotency"]) == (1, 1)
    assert after["awards"] > before["awards"], "the payment earned no subsidy: the trial tested nothing"


@pytest.mark.parametrize("step", [CLAIM, *AWARD_STEPS], ids=step_ids)
def test_an_award_payout_failing_at_any_step_leaves_nothing_and_the_retry_pays_once(client, approved_award,
                                                                                   monkeypatch, step):
    award_id, admin = approved_award
    headers, path = bearer(admin), f"/api/v1/awards/{award_id}/pay"
    before = money_rows()
    injection = Injection(monkeypatch, step)
    try:
        failed = post_keyed(client, path, headers, None, "fault-payout-1")
    finally:
        injection.remove()
    assert_failed_cleanly(failed, injection, before)
    assert_retries_succeed_once(lambda: post_keyed(client, path, headers, None, "fault-payout-1"), 200, injection)
    db.session.expire_all()
    assert db.session.get(Award, award_id).status == AwardStatus.PAID
    assert money_rows()["idempotency"] == 1


@pytest.mark.parametrize("step", [s for s in AWARD_STEPS if not s.after_commit], ids=step_ids)
def test_an_award_approval_failing_at_any_step_leaves_nothing_and_the_retry_approves_once(
        client, registered_deal, make_user, monkeypatch, step):
    deal, researcher, _ = registered_deal
    admin = make_user("admin")
    _, awards = policy_payment(researcher, deal.id)
    award_id = next(award.id for award in awards if award.status == AwardStatus.PAYABLE and award.granted_fen)
    db.session.commit()
    headers, path = bearer(admin), f"/api/v1/awards/{award_id}/approve"
    before = money_rows()
    injection = Injection(monkeypatch, step)
    try:
        failed = client.post(path, headers=headers)
    finally:
        injection.remove()
    assert_failed_cleanly(failed, injection, before)
    retried, again = client.post(path, headers=headers), client.post(path, headers=headers)
    assert retried.status_code == 200, retried.get_data(as_text=True)
    assert again.status_code == 422, "an approval must not run twice"
    db.session.expire_all()
    assert db.session.get(Award, award_id).status == AwardStatus.APPROVED
    assert money_rows()["ledger_transactions"] == before["ledger_transactions"] + 1
    assert find_book_problems(db.session) == []


def policy_payment(actor, deal_id: int):
    """Proceeds recorded straight through the service (the setup of the approval trial)."""
    from tests.payments import record_and_confirm_deal_payment

    return record_and_confirm_deal_payment(actor, deal_id, amount_fen=600 * WAN, paid_on=date(2025, 4, 30))
