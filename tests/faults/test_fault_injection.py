"""An exception injected at each step of a money operation (recording deal and pre-order payments with an
Idempotency-Key, confirming them, award approval and payout): the request answers a generic 500 with a request id,
the database holds nothing of the failed attempt, the books are sound, and the retry succeeds exactly once (a keyed
request replays its answer; a confirmation, which earns the awards, is judged once and a repeat is a 409)."""
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
from market.timeutil import today_in_china
from tests.api_requests import bearer
from tests.faults.keyed import WAN, money_rows, post_keyed
from tests.payments import member_of


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


ANSWER = Step("building the answer", target=(money_api, "payment_json"))


def recording_steps(table: str) -> list[Step]:
    """The steps of recording a payment with a key, in the order they run (the books are locked to count what was
    recorded; nothing is judged)."""
    return [CLAIM, LOCK, Step(f"storing the payment row ({table})", statement=f"INSERT INTO {table}"), ANSWER, STORE,
            COMMIT, LOST_ANSWER]


def confirmation_steps(table: str) -> list[Step]:
    """The steps of confirming a recorded payment, in the order they run: the engine judges it then."""
    return [LOCK, JUDGEMENT, EVENT, AWARDS, POSTINGS, STATE,
            Step(f"storing the confirmation ({table})", statement=f"UPDATE {table}"), ANSWER, COMMIT, LOST_ANSWER]


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


def assert_retries_succeed_once(send, expected_status: int, injection: Injection):
    """The retry with the same key succeeds (replayed only if the failed attempt had committed) and a second
    retry replays it byte for byte; returns the retry's answer."""
    retried, again = send(), send()
    assert retried.status_code == expected_status, retried.get_data(as_text=True)
    assert ("Idempotent-Replayed" in retried.headers) == injection.step.after_commit
    assert again.status_code == expected_status and again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_data() == retried.get_data()
    assert find_book_problems(db.session) == []
    return retried


def step_ids(step: Step) -> str:
    return step.name


def assert_confirmation_judged_once(send, injection: Injection) -> dict:
    """The retried confirmation is judged (unless the failed attempt had committed it) and a repeat is a 409 that
    changes nothing; returns the rows after."""
    retried = send()
    if injection.step.after_commit:
        assert retried.status_code == 409 and retried.get_json()["error"] == "invalid_state", retried.get_json()
    else:
        assert retried.status_code == 200 and retried.get_json()["awards"], retried.get_data(as_text=True)
    judged = money_rows()
    again = send()
    assert (again.status_code, again.get_json()["error"]) == (409, "invalid_state")
    assert money_rows() == judged
    assert find_book_problems(db.session) == []
    return judged


def confirm(client, kind: str, payment_id: int, person):
    return client.post(f"/api/v1/{kind}-payments/{payment_id}/confirm", headers=bearer(person))


DEAL_PROCEEDS = {"amount_fen": 600 * WAN, "date": "2025-04-30"}
PREORDER_PAYMENT = {"amount_fen": 5000 * WAN, "date": "2025-02-01"}


@pytest.mark.parametrize("step", recording_steps("deal_payments"), ids=step_ids)
def test_recording_a_deal_payment_failing_at_any_step_leaves_nothing_and_the_retry_records_once(
        client, registered_deal, monkeypatch, step):
    deal, researcher, _ = registered_deal
    headers, path = bearer(researcher), f"/api/v1/deals/{deal.id}/payments"
    before = money_rows()
    injection = Injection(monkeypatch, step)
    try:
        failed = post_keyed(client, path, headers, DEAL_PROCEEDS, "fault-deal-1")
    finally:
        injection.remove()
    assert_failed_cleanly(failed, injection, before)
    retried = assert_retries_succeed_once(lambda: post_keyed(client, path, headers, DEAL_PROCEEDS, "fault-deal-1"),
                                          201, injection)
    after = money_rows()
    assert (after["deal_payments"], after["idempotency"], after["payment_statuses"]) == (1, 1, ["recorded"])
    assert (after["awards"], after["paid_fen"]) == (before["awards"], 0), "recording judged the payment"
    confirmed = confirm(client, "deal", retried.get_json()["id"], member_of(deal.transferee_id))
    assert confirmed.status_code == 200 and len(confirmed.get_json()["awards"]) == 3, "the recorded payment earns"
    assert money_rows()["paid_fen"] == 600 * WAN


@pytest.mark.parametrize("step", confirmation_steps("deal_payments"), ids=step_ids)
def test_confirming_a_deal_payment_failing_at_any_step_leaves_it_unconfirmed_and_the_retry_judges_once(
        client, registered_deal, monkeypatch, step):
    deal, researcher, _ = registered_deal
    recorded = post_keyed(client, f"/api/v1/deals/{deal.id}/payments", bearer(researcher), DEAL_PROCEEDS, "to-confirm")
    assert recorded.status_code == 201, recorded.get_json()
    transferee, payment_id = member_of(deal.transferee_id), recorded.get_json()["id"]
    before = money_rows()
    injection = Injection(monkeypatch, step)
    try:
        failed = confirm(client, "deal", payment_id, transferee)
    finally:
        injection.remove()
    assert (before["payment_statuses"], before["paid_fen"]) == (["recorded"], 0)
    assert_failed_cleanly(failed, injection, before)
    after = assert_confirmation_judged_once(lambda: confirm(client, "deal", payment_id, transferee), injection)
    assert (after["deal_payments"], after["payment_statuses"], after["paid_fen"]) == (1, ["confirmed"], 600 * WAN)
    assert after["awards"] == before["awards"] + 3 and after["policy_events"] == before["policy_events"] + 1


@pytest.mark.parametrize("step", recording_steps("preorder_payments"), ids=step_ids)
def test_recording_a_preorder_payment_failing_at_any_step_leaves_nothing_and_the_retry_records_once(
        client, signed_agreement, monkeypatch, step):
    agreement, _ = signed_agreement
    headers, path = bearer(member_of(agreement.buyer_id)), f"/api/v1/preorders/{agreement.id}/payments"
    before = money_rows()
    injection = Injection(monkeypatch, step)
    try:
        failed = post_keyed(client, path, headers, PREORDER_PAYMENT, "fault-preorder-1")
    finally:
        injection.remove()
    assert_failed_cleanly(failed, injection, before)
    assert_retries_succeed_once(lambda: post_keyed(client, path, headers, PREORDER_PAYMENT, "fault-preorder-1"), 201,
                                injection)
    after = money_rows()
    assert (after["preorder_payments"], after["idempotency"], after["payment_statuses"]) == (1, 1, ["recorded"])
    assert (after["awards"], after["agreement_paid_fen"]) == (before["awards"], 0), "recording judged the payment"


@pytest.mark.parametrize("step", confirmation_steps("preorder_payments"), ids=step_ids)
def test_confirming_a_preorder_payment_failing_at_any_step_leaves_it_unconfirmed_and_the_retry_judges_once(
        client, signed_agreement, monkeypatch, step):
    agreement, seller_user = signed_agreement
    recorded = post_keyed(client, f"/api/v1/preorders/{agreement.id}/payments", bearer(member_of(agreement.buyer_id)),
                          PREORDER_PAYMENT, "to-confirm")
    assert recorded.status_code == 201, recorded.get_json()
    payment_id = recorded.get_json()["id"]
    before = money_rows()
    injection = Injection(monkeypatch, step)
    try:
        failed = confirm(client, "preorder", payment_id, seller_user)
    finally:
        injection.remove()
    assert (before["payment_statuses"], before["agreement_paid_fen"]) == (["recorded"], 0)
    assert_failed_cleanly(failed, injection, before)
    after = assert_confirmation_judged_once(lambda: confirm(client, "preorder", payment_id, seller_user), injection)
    assert (after["payment_statuses"], after["agreement_paid_fen"]) == (["confirmed"], 5000 * WAN)
    assert after["awards"] > before["awards"], "the payment earned no subsidy: the trial tested nothing"
    assert after["policy_events"] == before["policy_events"] + 1


PAYOUT = {"voucher_reference": "BOC-2025-0009", "paid_on": today_in_china().isoformat()}


@pytest.mark.parametrize("step", [CLAIM, *AWARD_STEPS], ids=step_ids)
def test_an_award_payout_failing_at_any_step_leaves_nothing_and_the_retry_pays_once(client, approved_award,
                                                                                   monkeypatch, step):
    award_id, admin = approved_award
    headers, path = bearer(admin), f"/api/v1/awards/{award_id}/pay"
    before = money_rows()
    injection = Injection(monkeypatch, step)
    try:
        failed = post_keyed(client, path, headers, PAYOUT, "fault-payout-1")
    finally:
        injection.remove()
    assert_failed_cleanly(failed, injection, before)
    assert_retries_succeed_once(lambda: post_keyed(client, path, headers, PAYOUT, "fault-payout-1"), 200, injection)
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
