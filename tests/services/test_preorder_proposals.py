"""Pre-order agreements take effect only once the other party confirms them: who confirms whose record, both sides for
a broker's or an admin's, nobody their own; the engine and the ledger are untouched until the last confirmation;
refusals, withdrawals and the numbers they free; amendments; steps refused on a proposed agreement; notices and
reminders."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from market.awards.headroom import DryRunObstacle, agreement_headroom
from market.awards.ledger import LedgerTransaction
from market.awards.models import PolicyEvent
from market.confirmations.models import FactStatus
from market.confirmations.reminders import REMINDER_AFTER_DAYS
from market.errors import InvalidStateError, NotFoundError, PermissionDeniedError, ValidationError
from market.extensions import db
from market.notifications.models import Notification
from market.preorders import proposals, services
from market.preorders.models import AgreementStatus, PreorderAgreement, PreorderDelivery, PreorderProposal
from market.timeutil import utcnow
from tests.conftest import WAN
from tests.payments import record_and_confirm_preorder_payment
from tests.preorder_agreements import sign_agreement
from tests.services.test_preorders import agreement_input, amended_terms, deliver_and_accept


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def signed_events() -> list[str]:
    """The agreements the engine was told were signed."""
    return [event.payload["agreement"] for event in db.session.scalars(
        select(PolicyEvent).where(PolicyEvent.event_type == "preorder_signed").order_by(PolicyEvent.id))]


def stored(agreement) -> PreorderAgreement:
    db.session.expire_all()
    return db.session.get(PreorderAgreement, agreement.id)


def told(kind: str) -> set[int]:
    return set(db.session.scalars(select(Notification.user_id).where(Notification.kind == kind)))


@pytest.fixture
def proposed(preorder_parties):
    """The worked-example agreement as the seller recorded it."""
    return proposals.create_agreement(db.session, preorder_parties.seller_user, agreement_input(preorder_parties))


# --- who confirms -------------------------------------------------------------------------------------


def test_the_sellers_record_waits_for_the_buyer_and_leaves_the_engine_and_ledger_untouched(preorder_parties, proposed):
    p = preorder_parties
    assert (stored(proposed).status, proposals.awaiting_sides(stored(proposed).proposal)) == (
        AgreementStatus.PROPOSED, ["buyer"])
    assert signed_events() == [] and count(LedgerTransaction) == 0
    assert told(proposals.AWAITS_KIND) == {p.buyer_user.id}
    for stranger, error in ((p.seller_user, PermissionDeniedError), (p.admin, PermissionDeniedError),
                            (p.outsider, NotFoundError)):
        with pytest.raises(error):
            proposals.confirm_agreement(db.session, stranger, proposed.id)
    assert stored(proposed).status == AgreementStatus.PROPOSED and signed_events() == []

    assert agreement_headroom(db.session, stored(proposed)).obstacle == DryRunObstacle.NOT_IN_FORCE

    proposals.confirm_agreement(db.session, p.buyer_user, proposed.id, note="已核对")
    agreement = stored(proposed)
    assert agreement_headroom(db.session, agreement).obstacle == ""
    assert (agreement.status, agreement.proposal.status, agreement.proposal.buyer_confirmed_by_id) == (
        AgreementStatus.SIGNED, FactStatus.CONFIRMED, p.buyer_user.id)
    assert signed_events() == [f"preorder-{agreement.id}"]
    assert p.seller_user.id in told("preorder_agreement_confirmed")


def test_the_recorder_is_refused_with_a_clear_message_and_a_colleague_of_the_recorder_cannot_confirm(
        preorder_parties, proposed, make_user):
    colleague = make_user("enterprise", organisation=preorder_parties.seller)
    with pytest.raises(PermissionDeniedError, match="自己登记"):
        proposals.confirm_agreement(db.session, preorder_parties.seller_user, proposed.id)
    with pytest.raises(PermissionDeniedError, match="采购方"):
        proposals.confirm_agreement(db.session, colleague, proposed.id)
    assert stored(proposed).status == AgreementStatus.PROPOSED


def test_the_buyers_record_is_confirmed_by_the_seller_only(preorder_parties, make_user):
    p = preorder_parties
    agreement = proposals.create_agreement(db.session, p.buyer_user, agreement_input(p))
    colleague = make_user("enterprise", organisation=p.buyer)
    with pytest.raises(PermissionDeniedError, match="供货方"):
        proposals.confirm_agreement(db.session, colleague, agreement.id)
    proposals.confirm_agreement(db.session, p.seller_user, agreement.id)
    assert (stored(agreement).status, stored(agreement).proposal.recorded_as) == (AgreementStatus.SIGNED, "buyer")


@pytest.mark.parametrize("recorder", ["broker", "admin"])
def test_a_brokers_or_admins_record_needs_both_parties_and_neither_of_them_confirms(preorder_parties, recorder):
    p = preorder_parties
    actor = getattr(p, recorder)
    agreement = proposals.create_agreement(db.session, actor, agreement_input(p))
    assert told(proposals.AWAITS_KIND) == {p.buyer_user.id, p.seller_user.id}
    for never_confirms in {actor, p.admin}:  # the recorder, and admins (the broker named on it is its recorder)
        with pytest.raises(PermissionDeniedError):
            proposals.confirm_agreement(db.session, never_confirms, agreement.id)

    proposals.confirm_agreement(db.session, p.buyer_user, agreement.id)
    assert stored(agreement).status == AgreementStatus.PROPOSED and signed_events() == []
    assert proposals.awaiting_sides(stored(agreement).proposal) == ["seller"]
    with pytest.raises(InvalidStateError, match="已确认"):
        proposals.confirm_agreement(db.session, p.buyer_user, agreement.id)
    with pytest.raises(InvalidStateError, match="尚待对方确认"):
        services.record_delivery(db.session, p.seller_user, agreement.id,
                                 {"delivered_on": "2025-01-10", "quantity": "1", "amount_fen": WAN})

    proposals.confirm_agreement(db.session, p.seller_user, agreement.id)
    final = stored(agreement)
    assert (final.status, final.proposal.recorded_as, final.proposal.seller_confirmed_by_id) == (
        AgreementStatus.SIGNED, recorder, p.seller_user.id)
    assert signed_events() == [f"preorder-{agreement.id}"]


def test_the_page_choices_follow_the_same_rules(preorder_parties):
    p = preorder_parties
    agreement = proposals.create_agreement(db.session, p.broker, agreement_input(p))
    choices = {name: proposals.proposal_choices(getattr(p, name), stored(agreement))
               for name in ("broker", "buyer_user", "seller_user", "admin")}
    assert choices["broker"] == proposals.ProposalChoices(withdraw=True)
    assert choices["buyer_user"] == choices["seller_user"] == proposals.ProposalChoices(confirm=True, refuse=True)
    assert choices["admin"] == proposals.ProposalChoices()
    assert proposals.awaiting_text(stored(agreement)) == "采购方（太原重型机械采购中心）、供货方（晋能储氢装备有限公司）"


# --- refusing, withdrawing and the number ---------------------------------------------------------------------


def test_a_refusal_needs_a_reason_voids_the_agreement_and_frees_its_number(preorder_parties, proposed):
    p = preorder_parties
    with pytest.raises(ValidationError):
        proposals.refuse_agreement(db.session, p.buyer_user, proposed.id, reason="  ")
    with pytest.raises(PermissionDeniedError, match="撤回"):
        proposals.refuse_agreement(db.session, p.seller_user, proposed.id, reason="我方不要了")
    proposals.refuse_agreement(db.session, p.buyer_user, proposed.id, reason="数量与我方订单不符")
    refused = stored(proposed)
    assert (refused.status, refused.proposal.status, refused.proposal.decision_note) == (
        AgreementStatus.REFUSED, FactStatus.REFUSED, "数量与我方订单不符")
    assert p.seller_user.id in told("preorder_agreement_refused")
    with pytest.raises(InvalidStateError):
        proposals.confirm_agreement(db.session, p.buyer_user, proposed.id)

    again = proposals.create_agreement(db.session, p.seller_user, agreement_input(p, quantity="80"))
    assert again.number == refused.number and again.id != refused.id
    with pytest.raises(ValidationError, match="请修改"):  # a live proposal holds the number
        proposals.create_agreement(db.session, p.buyer_user, agreement_input(p))
    proposals.confirm_agreement(db.session, p.buyer_user, again.id)
    assert signed_events() == [f"preorder-{again.id}"]


def test_only_the_recorder_withdraws_and_the_number_is_free_again(preorder_parties, proposed):
    p = preorder_parties
    with pytest.raises(PermissionDeniedError):
        proposals.withdraw_agreement(db.session, p.buyer_user, proposed.id)
    proposals.withdraw_agreement(db.session, p.seller_user, proposed.id)
    assert (stored(proposed).status, stored(proposed).proposal.status) == (AgreementStatus.WITHDRAWN,
                                                                            FactStatus.WITHDRAWN)
    with pytest.raises(InvalidStateError):
        proposals.withdraw_agreement(db.session, p.seller_user, proposed.id)
    proposals.create_agreement(db.session, p.buyer_user, agreement_input(p))
    assert count(PreorderAgreement, PreorderAgreement.number == "YG-2024-001") == 2


def test_the_database_keeps_one_live_agreement_per_number(preorder_parties, proposed):
    duplicate = PreorderAgreement(number=proposed.number, buyer_id=proposed.buyer_id, seller_id=proposed.seller_id,
                                  product="x", quantity=1, unit="台", unit_price_fen=1, value_fen=1,
                                  signed_on=date(2024, 10, 15), status=AgreementStatus.PROPOSED,
                                  created_by_id=proposed.created_by_id)
    with pytest.raises(Exception, match="(?i)unique"), db.session.begin_nested():
        db.session.add(duplicate)
        db.session.flush()


def test_an_unknown_decision_is_not_found(preorder_parties, proposed):
    with pytest.raises(NotFoundError):
        proposals.decide_agreement(db.session, preorder_parties.buyer_user, proposed.id, "dispute")


# --- nothing happens on a proposed agreement ------------------------------------------------------------------


def test_deliveries_payments_and_ending_are_refused_until_confirmed(preorder_parties, proposed):
    p = preorder_parties
    with pytest.raises(InvalidStateError, match="尚待对方确认"):
        services.record_delivery(db.session, p.seller_user, proposed.id,
                                 {"delivered_on": "2025-01-10", "quantity": "1", "amount_fen": WAN})
    with pytest.raises(InvalidStateError, match="尚待对方确认"):
        services.record_payment(db.session, p.buyer_user, proposed.id, amount_fen=WAN, paid_on="2025-02-01")
    with pytest.raises(InvalidStateError, match="尚未生效"):
        services.terminate_agreement(db.session, p.buyer_user, proposed.id, "不想要了")
    with pytest.raises(InvalidStateError, match="只有履行中"):
        proposals.amend_agreement(db.session, p.seller_user, proposed.id, amended_terms())
    assert count(PreorderDelivery) == 0 and count(LedgerTransaction) == 0 and signed_events() == []


# --- amendments ----------------------------------------------------------------------------------------------


@pytest.fixture
def signed(preorder_parties, proposed):
    proposals.confirm_agreement(db.session, preorder_parties.buyer_user, proposed.id)
    return stored(proposed)


def test_an_amendment_leaves_the_signed_version_in_force_until_the_other_party_confirms_it(preorder_parties, signed):
    p = preorder_parties
    first = deliver_and_accept(p, signed.id, 3000 * WAN)
    amendment = proposals.amend_agreement(db.session, p.buyer_user, signed.id, amended_terms())
    assert (stored(signed).status, stored(amendment).status) == (AgreementStatus.SIGNED, AgreementStatus.PROPOSED)
    assert services.superseded_by(db.session, stored(signed)) is None
    assert services.pending_amendment(db.session, stored(signed)).id == amendment.id
    assert signed_events() == [f"preorder-{signed.id}"]
    with pytest.raises(InvalidStateError, match="待确认的变更"):
        proposals.amend_agreement(db.session, p.seller_user, signed.id, amended_terms(number="YG-2024-001-B"))
    second = deliver_and_accept(p, signed.id, 1000 * WAN, day=date(2025, 1, 15))  # the old version is still in force
    with pytest.raises(PermissionDeniedError, match="自己登记"):
        proposals.confirm_agreement(db.session, p.buyer_user, amendment.id)

    proposals.confirm_agreement(db.session, p.seller_user, amendment.id)
    old, new = stored(signed), stored(amendment)
    assert (old.status, new.status, new.accepted_fen) == (AgreementStatus.SUPERSEDED, AgreementStatus.SIGNED,
                                                          4000 * WAN)
    assert {db.session.get(PreorderDelivery, d.id).agreement_id for d in (first, second)} == {new.id}
    assert services.superseded_by(db.session, old).id == new.id
    assert signed_events() == [f"preorder-{old.id}", f"preorder-{new.id}"]
    _, awards = record_and_confirm_preorder_payment(p.buyer_user, new.id, amount_fen=4000 * WAN,
                                                    paid_on="2025-03-01", confirmer=p.seller_user)
    assert [(a.granted_fen, a.agreement_id) for a in awards] == [(400 * WAN, new.id)]


def test_a_refused_amendment_leaves_the_signed_version_as_it_was(preorder_parties, signed):
    p = preorder_parties
    delivery = deliver_and_accept(p, signed.id, 3000 * WAN)
    amendment = proposals.amend_agreement(db.session, p.seller_user, signed.id, amended_terms())
    proposals.refuse_agreement(db.session, p.buyer_user, amendment.id, reason="单价未谈妥")
    assert (stored(signed).status, stored(amendment).status) == (AgreementStatus.SIGNED, AgreementStatus.REFUSED)
    assert db.session.get(PreorderDelivery, delivery.id).agreement_id == signed.id
    assert services.superseded_by(db.session, stored(signed)) is None
    again = proposals.amend_agreement(db.session, p.seller_user, signed.id, amended_terms())  # its number is free
    assert again.number == amendment.number


def test_an_amendment_cannot_take_effect_once_the_old_version_was_paid_meanwhile(preorder_parties, signed):
    p = preorder_parties
    deliver_and_accept(p, signed.id, 3000 * WAN)
    amendment = proposals.amend_agreement(db.session, p.seller_user, signed.id, amended_terms())
    record_and_confirm_preorder_payment(p.buyer_user, signed.id, amount_fen=1000 * WAN, paid_on="2025-02-01",
                                        confirmer=p.seller_user)
    with pytest.raises(InvalidStateError, match="付款"):
        proposals.confirm_agreement(db.session, p.buyer_user, amendment.id)
    assert (stored(signed).status, stored(amendment).status) == (AgreementStatus.SIGNED, AgreementStatus.PROPOSED)
    assert stored(amendment).proposal.buyer_confirmed_by_id is None


def test_ending_the_agreement_withdraws_its_waiting_amendment(preorder_parties, signed):
    p = preorder_parties
    amendment = proposals.amend_agreement(db.session, p.seller_user, signed.id, amended_terms())
    services.terminate_agreement(db.session, p.buyer_user, signed.id, "双方协商解除")
    assert (stored(signed).status, stored(amendment).status) == (AgreementStatus.TERMINATED,
                                                                 AgreementStatus.WITHDRAWN)
    assert stored(amendment).proposal.decision_note == "双方协商解除"


# --- notices and reminders ------------------------------------------------------------------------------------


def test_the_daily_reminder_asks_each_side_that_must_still_confirm_once_a_day(app, preorder_parties):
    p = preorder_parties
    agreement = proposals.create_agreement(db.session, p.broker, agreement_input(p))
    proposals.confirm_agreement(db.session, p.buyer_user, agreement.id)
    assert proposals.remind_agreement_confirmations(db.session, utcnow()) == 0
    proposal = db.session.scalar(select(PreorderProposal).where(PreorderProposal.agreement_id == agreement.id))
    proposal.created_at = utcnow() - timedelta(days=REMINDER_AFTER_DAYS)
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["remind-confirmations"])
    assert "pre-order agreements 1" in result.output
    assert told(proposals.REMINDER_KIND) == {p.seller_user.id}
    again = app.test_cli_runner().invoke(args=["remind-confirmations"])
    assert "pre-order agreements 0" in again.output


def test_a_brokers_payment_is_announced_reminded_and_confirmed_on_the_buyers_side(preorder_parties):
    p = preorder_parties
    agreement = sign_agreement(p.broker, agreement_input(p))
    deliver_and_accept(p, agreement.id, 100 * WAN)
    payment = services.record_payment(db.session, p.broker, agreement.id, amount_fen=100 * WAN, paid_on="2025-02-01")
    assert told("payment_awaits_confirmation") == {p.buyer_user.id}
    payment.created_at = utcnow() - timedelta(days=REMINDER_AFTER_DAYS)
    assert services.remind_payment_confirmations(db.session, utcnow()) == 1
    assert told("payment_confirmation_reminder") == {p.buyer_user.id}
    with pytest.raises(PermissionDeniedError, match="采购方"):
        services.decide_payment(db.session, p.seller_user, payment.id, "confirm")
    confirmed, _ = services.decide_payment(db.session, p.buyer_user, payment.id, "confirm")
    assert (confirmed.status, stored(agreement).paid_fen) == (FactStatus.CONFIRMED, 100 * WAN)


def test_an_agreement_recorded_before_confirmations_has_nothing_to_decide(preorder_parties):
    p = preorder_parties
    legacy = PreorderAgreement(number="YG-2023-OLD", buyer_id=p.buyer.id, seller_id=p.seller.id, product="储氢瓶",
                               quantity=1, unit="台", unit_price_fen=WAN, value_fen=WAN, signed_on=date(2024, 10, 15),
                               status=AgreementStatus.SIGNED, created_by_id=p.seller_user.id)
    db.session.add(legacy)
    db.session.flush()
    with pytest.raises(InvalidStateError, match="确认机制启用之前"):
        proposals.confirm_agreement(db.session, p.buyer_user, legacy.id)
    assert proposals.proposal_choices(p.buyer_user, legacy) == proposals.ProposalChoices()
    assert proposals.awaiting_text(legacy) == ""
