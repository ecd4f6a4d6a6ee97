"""A paid award that is reversed becomes receivable from its recipient (settled question 2) until an admin records the
recovery with its voucher; the books balance at every step."""
from datetime import date, timedelta

import pytest

from market.awards import queries
from market.awards import services as award_services
from market.awards.labels import award_status_label
from market.awards.ledger import balances
from market.awards.models import AwardStatus
from market.errors import PermissionDeniedError, RuleViolationError, ValidationError
from market.extensions import db
from market.timeutil import today_in_china
from tests.payments import record_and_confirm_deal_payment

WAN = 1_000_000


@pytest.fixture
def paid(make_registered_deal, make_user):
    """An R2 award to a broker, approved and paid on 2025-05-10; with the admin and the deal's transferor."""
    deal, researcher, _brokers = make_registered_deal()
    _, awards = record_and_confirm_deal_payment(researcher, deal.id, amount_fen=600 * WAN, paid_on=date(2025, 4, 30))
    admin = make_user("admin")
    award = award_services.approve_award(db.session, admin, awards[0].id)
    award_services.pay_award(db.session, admin, award.id, voucher_reference="PAY-1", paid_on=today_in_china())
    db.session.commit()
    return award, admin, researcher


def _balance(account: str) -> int:
    return balances(db.session).get(account, 0)


def test_reversing_a_paid_award_moves_it_into_a_receivable_and_keeps_the_payer_charged(paid):
    award, admin, _ = paid
    payer_before = _balance(award.payer)
    award_services.reverse_award(db.session, admin, award.id, "合同已解除，款项应退回")
    assert award.status == AwardStatus.RECEIVABLE
    assert _balance(f"paid:{award.recipient}") == 0
    assert _balance(f"receivable:{award.recipient}") == award.granted_fen
    assert _balance(award.payer) == payer_before
    assert str(award_status_label(award.status)) == "已冲正，待追回"


def test_the_recovery_returns_the_money_to_the_payer_and_ends_the_receivable(paid):
    award, admin, _ = paid
    payer_before = _balance(award.payer)
    award_services.reverse_award(db.session, admin, award.id, "合同已解除")
    award_services.record_recovery(db.session, admin, award.id, voucher_reference=" BACK-7 ",
                                   recovered_on=today_in_china().isoformat())
    assert award.status == AwardStatus.REVERSED
    assert (award.recovery_reference, award.recovered_on) == ("BACK-7", today_in_china())
    assert _balance(f"receivable:{award.recipient}") == 0
    assert _balance(award.payer) == payer_before + award.granted_fen


def test_the_list_says_why_and_when_it_was_recovered(paid):
    award, admin, _ = paid
    award_services.reverse_award(db.session, admin, award.id, "重复发放")
    award_services.record_recovery(db.session, admin, award.id, voucher_reference="BACK-8",
                                   recovered_on=today_in_china().isoformat())
    rows = queries.list_awards(db.session, queries.AwardFilters(), 1).rows
    note = next(row.note for row in rows if row.award.id == award.id)
    assert "重复发放" in note and "BACK-8" in note and today_in_china().isoformat() in note


@pytest.mark.parametrize("reference, day, field", [
    ("", None, "voucher_reference"),
    ("BACK-1", "", "recovered_on"),
    ("BACK-1", (today_in_china() + timedelta(days=1)).isoformat(), "recovered_on"),
    ("BACK-1", "2020-01-01", "recovered_on"),
])
def test_a_recovery_needs_a_voucher_and_a_day_between_the_payout_and_today(paid, reference, day, field):
    award, admin, _ = paid
    award_services.reverse_award(db.session, admin, award.id, "退回")
    with pytest.raises(ValidationError) as refused:
        award_services.record_recovery(db.session, admin, award.id, voucher_reference=reference,
                                       recovered_on=day if day is not None else today_in_china().isoformat())
    assert field in refused.value.fields
    assert award.status == AwardStatus.RECEIVABLE


def test_only_a_receivable_can_be_recovered_and_only_once(paid):
    award, admin, _ = paid
    with pytest.raises(RuleViolationError):
        award_services.record_recovery(db.session, admin, award.id, voucher_reference="X",
                                       recovered_on=today_in_china().isoformat())
    award_services.reverse_award(db.session, admin, award.id, "退回")
    award_services.record_recovery(db.session, admin, award.id, voucher_reference="X",
                                   recovered_on=today_in_china().isoformat())
    with pytest.raises(RuleViolationError):
        award_services.record_recovery(db.session, admin, award.id, voucher_reference="X",
                                       recovered_on=today_in_china().isoformat())
    with pytest.raises(RuleViolationError):
        award_services.reverse_award(db.session, admin, award.id, "再次冲正")


def test_the_recipient_cannot_record_his_own_recovery(paid):
    award, admin, researcher = paid
    award_services.reverse_award(db.session, admin, award.id, "退回")
    with pytest.raises(PermissionDeniedError):
        award_services.record_recovery(db.session, researcher, award.id, voucher_reference="X",
                                       recovered_on=today_in_china().isoformat())
    assert award.status == AwardStatus.RECEIVABLE
