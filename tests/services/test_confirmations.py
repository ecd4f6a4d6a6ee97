"""Money facts have owners: one side records a payment, the other confirms it, and nobody earns from a record alone
(the hostile cases of the confirmation table)."""
from datetime import date

import pytest
from sqlalchemy import func, select

from market.awards import services as award_services
from market.awards.models import Award, AwardStatus
from market.confirmations.models import FactStatus
from market.deals.models import Deal, DealPayment, DealStage
from market.deals.payments import (
    confirm_deal_payment,
    dispute_deal_payment,
    record_deal_payment,
    refuse_deal_payment,
    withdraw_deal_payment,
)
from market.deals.pipeline import complete_deal
from market.errors import InvalidStateError, NotFoundError, PermissionDeniedError, RuleViolationError, ValidationError
from market.extensions import db
from market.preorders import payments as preorder_payments
from market.preorders.models import PreorderAgreement
from market.timeutil import today_in_china
from tests.payments import member_of, with_evidence

WAN = 1_000_000
PAID_ON = date(2025, 4, 30)


def awards_of(deal: Deal) -> list[Award]:
    return db.session.scalars(select(Award).where(Award.deal_id == deal.id, Award.policy_event_id.is_not(None))
                              .order_by(Award.id)).all()


def payable_total(deal: Deal) -> int:
    return db.session.scalar(select(func.coalesce(func.sum(Award.granted_fen), 0)).where(
        Award.deal_id == deal.id, Award.status == AwardStatus.PAYABLE))


def record(actor, deal, amount_fen=600 * WAN, paid_on=PAID_ON) -> DealPayment:
    return record_deal_payment(db.session, actor, deal.id, amount_fen=amount_fen, paid_on=paid_on)


def test_a_payment_earns_nothing_until_the_payer_confirms_it_and_then_earns_on_its_own_date(registered_deal):
    deal, researcher, _brokers = registered_deal
    signing_awards = len(awards_of(deal))
    payment = record(researcher, deal)
    assert (payment.status, payment.recorded_as) == (FactStatus.RECORDED, "transferor")
    assert len(awards_of(deal)) == signing_awards and payable_total(deal) == 0
    assert (db.session.get(Deal, deal.id).paid_fen, deal.stage) == (0, DealStage.REGISTERED)
    _, awards = confirm_deal_payment(db.session, member_of(deal.transferee_id), payment.id)
    assert [a.granted_fen for a in awards] == [60 * WAN, 36 * WAN, 24 * WAN]
    assert {a.event_date for a in awards} == {PAID_ON}
    deal = db.session.get(Deal, deal.id)
    assert (deal.paid_fen, deal.stage, payment.status) == (600 * WAN, DealStage.PERFORMANCE, FactStatus.CONFIRMED)


def test_nobody_confirms_their_own_record_and_only_the_other_side_confirms(registered_deal, make_user, deal_world):
    deal, researcher, _brokers = registered_deal
    colleague = make_user("researcher", organisation=researcher.organisation)
    payment = record(researcher, deal)
    with pytest.raises(PermissionDeniedError, match="自己"):
        confirm_deal_payment(db.session, researcher, payment.id)
    with pytest.raises(PermissionDeniedError, match="成果受让方"):
        confirm_deal_payment(db.session, colleague, payment.id)
    with pytest.raises(NotFoundError):
        confirm_deal_payment(db.session, deal_world.outsider, payment.id)
    assert payment.status == FactStatus.RECORDED and payable_total(deal) == 0
    paid_by_buyer = record(member_of(deal.transferee_id), deal, amount_fen=100 * WAN)
    assert paid_by_buyer.recorded_as == "transferee"
    with pytest.raises(PermissionDeniedError):
        confirm_deal_payment(db.session, member_of(deal.transferee_id), paid_by_buyer.id)
    confirm_deal_payment(db.session, colleague, paid_by_buyer.id)
    assert paid_by_buyer.status == FactStatus.CONFIRMED


def test_the_broker_who_earns_the_reward_cannot_create_a_payable_award_alone(make_registered_deal, make_user):
    broker = make_user("broker")
    deal, researcher, _ = make_registered_deal(broker=broker, brokers=[broker, make_user("broker"), make_user("broker")])
    payment = record(broker, deal)
    assert payment.recorded_as == "broker"
    for someone in (broker, researcher):
        with pytest.raises(PermissionDeniedError):
            confirm_deal_payment(db.session, someone, payment.id)
    assert payable_total(deal) == 0
    confirm_deal_payment(db.session, member_of(deal.transferee_id), payment.id)
    assert payable_total(deal) == 120 * WAN


def test_an_intermediary_inside_the_paying_company_cannot_confirm_what_pays_him(make_registered_deal, make_user,
                                                                                make_organisation):
    payer = make_organisation("enterprise", region="忻州市")
    insider = make_user("broker", organisation=payer)
    deal, researcher, _ = make_registered_deal(transferee=payer, brokers=[insider, make_user("broker"),
                                                                          make_user("broker")])
    payment = record(researcher, deal)
    with pytest.raises(PermissionDeniedError, match="受益人"):
        confirm_deal_payment(db.session, insider, payment.id)
    assert payable_total(deal) == 0


def test_a_disputed_payment_is_settled_by_an_admin_with_a_reason(registered_deal, deal_world):
    deal, researcher, _ = registered_deal
    payer = member_of(deal.transferee_id)
    payment = record(researcher, deal, amount_fen=1200 * WAN)
    with pytest.raises(ValidationError):
        dispute_deal_payment(db.session, payer, payment.id, reason="  ")
    with pytest.raises(PermissionDeniedError):
        dispute_deal_payment(db.session, researcher, payment.id, reason="不对")
    dispute_deal_payment(db.session, payer, payment.id, reason="我方未付这笔款")
    assert (payment.status, payment.dispute_reason) == (FactStatus.DISPUTED, "我方未付这笔款")
    with pytest.raises(PermissionDeniedError, match="平台运营人员"):
        confirm_deal_payment(db.session, payer, payment.id)
    with pytest.raises(PermissionDeniedError):
        refuse_deal_payment(db.session, researcher, payment.id, reason="撤销")
    with pytest.raises(ValidationError):
        refuse_deal_payment(db.session, deal_world.admin, payment.id, reason="")
    refuse_deal_payment(db.session, deal_world.admin, payment.id, reason="银行回单与合同金额不符")
    assert (payment.status, payment.decision_note) == (FactStatus.REFUSED, "银行回单与合同金额不符")
    assert payable_total(deal) == 0 and db.session.get(Deal, deal.id).paid_fen == 0
    with pytest.raises(InvalidStateError):
        confirm_deal_payment(db.session, deal_world.admin, payment.id)
    assert record(researcher, deal, amount_fen=1200 * WAN).status == FactStatus.RECORDED  # a refused one counts no more


def test_an_admin_may_confirm_a_disputed_payment_against_the_evidence(registered_deal, deal_world):
    deal, researcher, _ = registered_deal
    payment = record(researcher, deal)
    dispute_deal_payment(db.session, member_of(deal.transferee_id), payment.id, reason="金额有误")
    with pytest.raises(InvalidStateError, match="回款凭证"):
        confirm_deal_payment(db.session, deal_world.admin, payment.id, note="核对银行回单无误")
    with_evidence(payment)
    _, awards = confirm_deal_payment(db.session, deal_world.admin, payment.id, note="核对银行回单无误")
    assert awards and payment.decision_note == "核对银行回单无误" and payment.decided_by_id == deal_world.admin.id


def test_only_the_recorder_withdraws_an_unconfirmed_payment(registered_deal):
    deal, researcher, _ = registered_deal
    payment = record(researcher, deal, amount_fen=1200 * WAN)
    with pytest.raises(PermissionDeniedError):
        withdraw_deal_payment(db.session, member_of(deal.transferee_id), payment.id)
    withdraw_deal_payment(db.session, researcher, payment.id)
    assert payment.status == FactStatus.WITHDRAWN
    with pytest.raises(InvalidStateError):
        confirm_deal_payment(db.session, member_of(deal.transferee_id), payment.id)
    record(researcher, deal, amount_fen=1200 * WAN)


def test_unconfirmed_payments_count_against_the_contract_value(registered_deal):
    deal, researcher, _ = registered_deal
    record(researcher, deal, amount_fen=1000 * WAN)
    with pytest.raises(ValidationError) as refused:
        record(member_of(deal.transferee_id), deal, amount_fen=200 * WAN + 1)
    assert "待确认" in refused.value.fields["amount_fen"]


def test_a_deal_cannot_be_completed_while_a_payment_waits(make_deal, deal_world):
    deal = make_deal(DealStage.PERFORMANCE)
    record(deal_world.researcher, deal, amount_fen=10 * WAN, paid_on=deal.signed_on)
    with pytest.raises(InvalidStateError, match="待确认"):
        complete_deal(db.session, deal_world.researcher, deal.id, note="提前结束")


def test_awards_of_a_payment_recorded_before_confirmations_wait_for_an_admin(registered_deal, deal_world):
    deal, researcher, _ = registered_deal
    payment = record(researcher, deal)
    _, awards = confirm_deal_payment(db.session, member_of(deal.transferee_id), payment.id)
    payment.status, payment.recorded_as, payment.decided_at, payment.decided_by_id = FactStatus.RECORDED, None, None, None
    with pytest.raises(RuleViolationError, match="尚未确认"):
        award_services.approve_award(db.session, deal_world.admin, awards[0].id)
    with pytest.raises(PermissionDeniedError):
        confirm_deal_payment(db.session, member_of(deal.transferee_id), payment.id)
    confirm_deal_payment(db.session, deal_world.admin, with_evidence(payment).id)
    assert award_services.approve_award(db.session, deal_world.admin, awards[0].id).status == AwardStatus.APPROVED


def test_an_admin_refusing_a_payment_judged_before_confirmations_reverses_its_awards(registered_deal, deal_world):
    deal, researcher, _ = registered_deal
    payment = record(researcher, deal)
    _, awards = confirm_deal_payment(db.session, member_of(deal.transferee_id), payment.id)
    payment.status, payment.recorded_as = FactStatus.RECORDED, None
    with pytest.raises(RuleViolationError):
        withdraw_deal_payment(db.session, researcher, payment.id)
    refuse_deal_payment(db.session, deal_world.admin, payment.id, reason="无回款凭证")
    assert {a.status for a in awards} == {AwardStatus.REVERSED}
    assert db.session.get(Deal, deal.id).paid_fen == 0


def test_refusing_a_legacy_payment_whose_award_was_paid_makes_the_award_receivable(registered_deal, deal_world):
    deal, researcher, _ = registered_deal
    payment = record(researcher, deal)
    _, awards = confirm_deal_payment(db.session, member_of(deal.transferee_id), payment.id)
    award_services.approve_award(db.session, deal_world.admin, awards[0].id)
    award_services.pay_award(db.session, deal_world.admin, awards[0].id, voucher_reference="PAY-9",
                             paid_on=today_in_china())
    payment.status, payment.recorded_as = FactStatus.RECORDED, None
    refuse_deal_payment(db.session, deal_world.admin, payment.id, reason="回款不存在")
    assert awards[0].status == AwardStatus.RECEIVABLE
    assert {a.status for a in awards[1:]} <= {AwardStatus.REVERSED}


# --- pre-order payments: the buyer (who pays) records, the seller (who earns R1) confirms


def test_the_seller_who_earns_the_subsidy_cannot_record_the_buyers_payment(signed_agreement):
    agreement, seller = signed_agreement
    with pytest.raises(PermissionDeniedError, match="采购方"):
        preorder_payments.record_preorder_payment(db.session, seller, agreement.id, amount_fen=100 * WAN,
                                                  paid_on=date(2025, 3, 31))


def test_a_preorder_payment_earns_the_subsidy_when_the_seller_confirms_it(signed_agreement, make_user):
    agreement, seller = signed_agreement
    buyer = member_of(agreement.buyer_id)
    payment = preorder_payments.record_preorder_payment(db.session, buyer, agreement.id, amount_fen=7000 * WAN,
                                                        paid_on=date(2025, 3, 31))
    assert db.session.scalar(select(func.count()).select_from(Award).where(Award.agreement_id == agreement.id,
                                                                           Award.rule == "R1")) == 0
    with pytest.raises(PermissionDeniedError):
        preorder_payments.confirm_preorder_payment(db.session, buyer, payment.id)
    with pytest.raises(NotFoundError):
        preorder_payments.confirm_preorder_payment(db.session, make_user("enterprise"), payment.id)
    _, awards = preorder_payments.confirm_preorder_payment(db.session, seller, payment.id)
    assert [(a.rule, a.granted_fen, a.event_date) for a in awards] == [("R1", 700 * WAN, date(2025, 3, 31))]
    assert db.session.get(PreorderAgreement, agreement.id).paid_fen == 7000 * WAN


def test_a_disputed_preorder_payment_is_refused_by_an_admin_and_earns_nothing(signed_agreement, make_user):
    agreement, seller = signed_agreement
    buyer = member_of(agreement.buyer_id)
    admin = make_user("admin")
    payment = preorder_payments.record_preorder_payment(db.session, buyer, agreement.id, amount_fen=7000 * WAN,
                                                        paid_on=date(2025, 3, 31))
    preorder_payments.dispute_preorder_payment(db.session, seller, payment.id, reason="未收到款项")
    with pytest.raises(PermissionDeniedError):
        preorder_payments.confirm_preorder_payment(db.session, seller, payment.id)
    preorder_payments.refuse_preorder_payment(db.session, admin, payment.id, reason="无付款凭证")
    assert payment.status == FactStatus.REFUSED
    assert db.session.get(PreorderAgreement, agreement.id).paid_fen == 0
