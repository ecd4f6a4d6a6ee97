"""A payment's evidence (bank receipt or invoice PDF): an admin confirms only against it, only the recorder attaches
it while the payment is open, only a PDF is kept; and the side that must confirm is reminded of payments waiting
three days or more, once a day."""
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select

from market.confirmations.models import FactStatus
from market.confirmations.reminders import REMINDER_AFTER_DAYS, start_of_china_day
from market.deals.models import DealRegistration
from market.deals.payments import (
    attach_deal_payment_evidence,
    confirm_deal_payment,
    dispute_deal_payment,
    get_payment_evidence,
    record_deal_payment,
    remind_deal_payment_confirmations,
)
from market.errors import InvalidStateError, NotFoundError, PermissionDeniedError, ValidationError
from market.extensions import db
from market.notifications.models import Notification
from market.preorders import payments as preorder_payments
from market.preorders import services as preorder_services
from market.timeutil import utcnow
from tests.payments import member_of, receipt, with_evidence

WAN = 1_000_000
PAID_ON = date(2025, 4, 30)


def record(actor, deal, *, evidence=None):
    return record_deal_payment(db.session, actor, deal.id, amount_fen=600 * WAN, paid_on=PAID_ON, evidence=evidence)


def stored_files() -> list[str]:
    """The evidence files kept in the upload folder (the deals' registration certificates aside)."""
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    certificates = set(db.session.scalars(select(DealRegistration.certificate_stored_name)))
    return sorted(path.name for path in folder.glob("*.pdf") if path.name not in certificates) if folder.exists() else []


def reminders_to(user) -> int:
    return len(db.session.scalars(select(Notification).where(Notification.user_id == user.id,
                                                             Notification.kind == "payment_confirmation_reminder")).all())


def test_an_admin_confirms_a_payment_only_against_its_evidence(registered_deal, deal_world):
    deal, researcher, _ = registered_deal
    payment = record(researcher, deal)
    with pytest.raises(InvalidStateError, match="平台确认须有回款凭证（银行回单或发票）。"):
        confirm_deal_payment(db.session, deal_world.admin, payment.id)
    assert payment.status == FactStatus.RECORDED and payment.policy_event_id is None
    attach_deal_payment_evidence(db.session, researcher, payment.id, receipt())
    _, awards = confirm_deal_payment(db.session, deal_world.admin, payment.id)
    assert payment.status == FactStatus.CONFIRMED and len(awards) == 3


def test_the_other_party_confirms_without_evidence(registered_deal):
    deal, researcher, _ = registered_deal
    payment = record(researcher, deal)
    confirm_deal_payment(db.session, member_of(deal.transferee_id), payment.id)
    assert payment.status == FactStatus.CONFIRMED and not payment.has_evidence


def test_an_admin_confirms_a_preorder_payment_only_against_its_evidence(signed_agreement, make_user):
    agreement, seller = signed_agreement
    buyer = member_of(agreement.buyer_id)
    admin = make_user("admin")
    payment = preorder_payments.record_preorder_payment(db.session, buyer, agreement.id, amount_fen=7000 * WAN,
                                                        paid_on=date(2025, 3, 31))
    with pytest.raises(InvalidStateError, match="付款凭证"):
        preorder_payments.confirm_preorder_payment(db.session, admin, payment.id)
    with pytest.raises(PermissionDeniedError, match="登记人"):
        preorder_payments.attach_preorder_payment_evidence(db.session, seller, payment.id, receipt())
    preorder_payments.attach_preorder_payment_evidence(db.session, buyer, payment.id, receipt("发票.pdf"))
    _, awards = preorder_payments.confirm_preorder_payment(db.session, admin, payment.id)
    assert payment.evidence_original_name == "发票.pdf" and [a.rule for a in awards] == ["R1"]


def test_a_payment_recorded_with_its_receipt_keeps_the_file_and_who_gave_it(registered_deal):
    deal, researcher, _ = registered_deal
    payment = record(researcher, deal, evidence=receipt("回单 2025-04.pdf"))
    assert (payment.evidence_original_name, payment.evidence_uploaded_by_id) == ("回单 2025-04.pdf", researcher.id)
    assert payment.evidence_uploaded_at is not None and stored_files() == [payment.evidence_stored_name]


def test_only_the_recorder_attaches_evidence_and_only_while_the_payment_is_open(registered_deal, deal_world):
    deal, researcher, _ = registered_deal
    payer = member_of(deal.transferee_id)
    payment = record(researcher, deal)
    for someone in (payer, deal_world.admin):
        with pytest.raises(PermissionDeniedError, match="只有登记人"):
            attach_deal_payment_evidence(db.session, someone, payment.id, receipt())
    with pytest.raises(NotFoundError):
        attach_deal_payment_evidence(db.session, deal_world.outsider, payment.id, receipt())
    dispute_deal_payment(db.session, payer, payment.id, reason="金额不符")
    attach_deal_payment_evidence(db.session, researcher, payment.id, receipt())  # disputed is still open
    confirm_deal_payment(db.session, deal_world.admin, payment.id)
    with pytest.raises(InvalidStateError, match="已处理"):
        attach_deal_payment_evidence(db.session, researcher, payment.id, receipt("另一张.pdf"))
    assert payment.evidence_original_name == "银行回单.pdf"


@pytest.mark.parametrize("filename, data, message", [
    ("回单.txt", b"%PDF-1.4 looks like a pdf", "只能上传 PDF"),
    ("回单.pdf", b"PK\x03\x04 a zip file", "不是 PDF"),
    ("", b"%PDF-1.4", "请选择凭证文件"),
])
def test_anything_but_a_pdf_is_refused_and_nothing_is_kept(registered_deal, filename, data, message):
    deal, researcher, _ = registered_deal
    payment = record(researcher, deal)
    with pytest.raises(ValidationError) as refused:
        attach_deal_payment_evidence(db.session, researcher, payment.id, receipt(filename, data))
    assert message in refused.value.fields["evidence"]
    assert not payment.has_evidence and stored_files() == []


def test_a_payment_recorded_with_a_file_that_is_not_a_pdf_is_not_recorded(registered_deal):
    deal, researcher, _ = registered_deal
    with pytest.raises(ValidationError) as refused:
        record(researcher, deal, evidence=receipt("回单.docx", b"not a pdf"))
    assert "evidence" in refused.value.fields
    assert db.session.scalars(select(Notification).where(Notification.kind == "payment_awaits_confirmation")).all() == []


def test_evidence_is_shown_to_the_parties_the_deals_broker_and_admins_only(make_registered_deal, make_user,
                                                                            deal_world):
    broker = make_user("broker")
    other_broker = make_user("broker")
    deal, researcher, _ = make_registered_deal(broker=broker, brokers=[broker, make_user("broker"), make_user("broker")])
    payment = with_evidence(record(researcher, deal))
    for someone in (researcher, member_of(deal.transferee_id), broker, deal_world.admin):
        assert get_payment_evidence(db.session, someone, payment.id) is payment
    for someone in (other_broker, deal_world.outsider, None):
        with pytest.raises(NotFoundError):
            get_payment_evidence(db.session, someone, payment.id)


def test_no_evidence_is_no_file(registered_deal):
    deal, researcher, _ = registered_deal
    payment = record(researcher, deal)
    with pytest.raises(NotFoundError):
        get_payment_evidence(db.session, researcher, payment.id)


# --- reminders


def age(payment, days: float, now=None) -> None:
    """Date the payment's recording `days` days before `now` (by default the current time)."""
    payment.created_at = (now or utcnow()) - timedelta(days=days)
    db.session.flush()


def test_the_payer_is_reminded_of_a_payment_waiting_three_days_once_a_day(registered_deal):
    deal, researcher, _ = registered_deal
    payer = member_of(deal.transferee_id)
    payment = record(researcher, deal)
    now = start_of_china_day(utcnow()) + timedelta(hours=10)  # mid-morning in China: five minutes on is the same day
    age(payment, REMINDER_AFTER_DAYS - 0.1, now)
    assert remind_deal_payment_confirmations(db.session, now) == 0 and reminders_to(payer) == 0
    age(payment, REMINDER_AFTER_DAYS, now)
    assert remind_deal_payment_confirmations(db.session, now) == 1
    assert reminders_to(payer) == 1 and reminders_to(researcher) == 0
    assert remind_deal_payment_confirmations(db.session, now + timedelta(minutes=5)) == 0 and reminders_to(payer) == 1
    assert remind_deal_payment_confirmations(db.session, now + timedelta(days=1)) == 1 and reminders_to(payer) == 2


def test_the_recorder_side_is_reminded_when_the_payer_recorded(registered_deal):
    deal, researcher, _ = registered_deal
    payment = record(member_of(deal.transferee_id), deal)
    age(payment, REMINDER_AFTER_DAYS + 1)
    remind_deal_payment_confirmations(db.session, utcnow())
    assert reminders_to(researcher) == 1 and reminders_to(member_of(deal.transferee_id)) == 0


def test_disputed_confirmed_and_withdrawn_payments_are_not_reminded_of(registered_deal):
    deal, researcher, _ = registered_deal
    payer = member_of(deal.transferee_id)
    disputed, confirmed = record(researcher, deal), record_deal_payment(
        db.session, researcher, deal.id, amount_fen=100 * WAN, paid_on=PAID_ON)
    dispute_deal_payment(db.session, payer, disputed.id, reason="未收到")
    confirm_deal_payment(db.session, payer, confirmed.id)
    for payment in (disputed, confirmed):
        age(payment, 10)
    assert remind_deal_payment_confirmations(db.session, utcnow()) == 0 and reminders_to(payer) == 0


def test_the_seller_is_reminded_of_a_preorder_payment_waiting_three_days(signed_agreement):
    agreement, seller = signed_agreement
    buyer = member_of(agreement.buyer_id)
    payment = preorder_payments.record_preorder_payment(db.session, buyer, agreement.id, amount_fen=100 * WAN,
                                                        paid_on=date(2025, 3, 31))
    now = utcnow()
    assert preorder_services.remind_payment_confirmations(db.session, now) == 0
    age(payment, REMINDER_AFTER_DAYS, now)
    assert preorder_services.remind_payment_confirmations(db.session, now) == 1
    assert preorder_services.remind_payment_confirmations(db.session, now) == 0
    assert reminders_to(seller) == 1 and reminders_to(buyer) == 0
    preorder_payments.dispute_preorder_payment(db.session, seller, payment.id, reason="未收到")
    assert preorder_services.remind_payment_confirmations(db.session, now + timedelta(days=2)) == 0


def test_each_payment_reminder_is_written_in_its_readers_language(app, registered_deal, make_user):
    deal, researcher, _ = registered_deal
    payer = member_of(deal.transferee_id)
    colleague = make_user("enterprise", organisation=payer.organisation)
    payer.locale = "en"
    age(record(researcher, deal), REMINDER_AFTER_DAYS)
    db.session.commit()
    with force_locale("en"):  # whoever runs the command reads another language than the colleague
        assert app.test_cli_runner().invoke(args=["remind-confirmations"]).exit_code == 0
    titles = {user.id: db.session.scalar(select(Notification.title).where(
        Notification.user_id == user.id, Notification.kind == "payment_confirmation_reminder")) for user in (payer, colleague)}
    assert titles[payer.id] == (f"Proceeds recorded {REMINDER_AFTER_DAYS} or more days ago still await your "
                                f"confirmation: {deal.title}")
    assert titles[colleague.id] == f"回款已登记 {REMINDER_AFTER_DAYS} 天以上，仍待您确认：{deal.title}"


def test_the_reminder_command_reminds_and_says_how_many(app, registered_deal):
    deal, researcher, _ = registered_deal
    age(record(researcher, deal), REMINDER_AFTER_DAYS)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["remind-confirmations"])
    assert result.exit_code == 0 and "deal payments 1, pre-order payments 0" in result.output
    db.session.expire_all()
    assert reminders_to(member_of(deal.transferee_id)) == 1
    again = app.test_cli_runner().invoke(args=["remind-confirmations"])
    assert "deal payments 0" in again.output
