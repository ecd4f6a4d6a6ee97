"""Payouts record their voucher (reference, date, optional PDF); awards granted ¥0 are nil, never waiting for
approval, and name the cap that made them 0."""
import io
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from market.accounts.models import VerificationStatus
from market.awards import queries
from market.awards import services as award_services
from market.awards.grants import record_startup_grant
from market.awards.inputs import VOUCHER_PDF_MAX_BYTES, VOUCHER_REFERENCE_MAX_LENGTH
from market.awards.labels import award_status_label
from market.awards.ledger import LedgerTransaction, balances
from market.awards.models import Award, AwardStatus
from market.errors import NotFoundError, RuleViolationError, ValidationError
from market.extensions import db
from market.timeutil import today_in_china
from tests.payments import record_and_confirm_deal_payment

WAN = 1_000_000
PDF = b"%PDF-1.4\n% voucher\n"


@pytest.fixture
def approved(make_registered_deal, make_user):
    """A payable R2 award to a broker, approved today; with the admin, the broker and another broker."""
    deal, researcher, brokers = make_registered_deal()
    _, awards = record_and_confirm_deal_payment(researcher, deal.id, amount_fen=600 * WAN, paid_on=date(2025, 4, 30))
    admin = make_user("admin")
    award = award_services.approve_award(db.session, admin, awards[0].id)
    db.session.commit()
    return award, admin, brokers


@pytest.fixture
def granted_startup(app, make_user, make_organisation):
    """A start-up resident in a valley granted ¥800,000 (R4), with a member, an outsider and the admin."""
    admin = make_user("admin")
    startup = make_organisation("enterprise", valley_id="taiyuan", resident_since=date(2024, 3, 1),
                                verification_status=VerificationStatus.VERIFIED)
    _, awards = record_startup_grant(db.session, admin, startup.id, granted_on=date(2024, 6, 1),
                                     founders_paid_in_fen=80 * WAN, awarded_fen=100 * WAN)
    return startup, awards, admin, make_user("enterprise", organisation=startup), make_user("enterprise")


@pytest.mark.parametrize("reference, message", [
    (None, "请填写付款凭证号。"),
    ("", "请填写付款凭证号。"),
    ("   ", "请填写付款凭证号。"),
    ("X" * (VOUCHER_REFERENCE_MAX_LENGTH + 1), None),
    ("第一行\n第二行", None),
])
def test_a_payout_needs_a_voucher_reference(approved, reference, message):
    award, admin, _ = approved
    with pytest.raises(ValidationError) as refused:
        award_services.pay_award(db.session, admin, award.id, voucher_reference=reference, paid_on=today_in_china())
    assert "voucher_reference" in refused.value.fields
    if message:
        assert refused.value.fields["voucher_reference"] == message
    assert db.session.get(Award, award.id).status == AwardStatus.APPROVED


@pytest.mark.parametrize("paid_on, message", [
    (None, "请填写发放日期。"),
    ("", "请填写发放日期。"),
    ("2025-13-01", "发放日期应为不晚于今天的日期。"),
    (today_in_china() + timedelta(days=1), "发放日期应为不晚于今天的日期。"),
    (today_in_china() - timedelta(days=1), f"发放日期不能早于审批日期 {today_in_china().isoformat()}。"),
])
def test_a_payout_date_is_not_in_the_future_nor_before_the_approval(approved, paid_on, message):
    award, admin, _ = approved
    with pytest.raises(ValidationError) as refused:
        award_services.pay_award(db.session, admin, award.id, voucher_reference="BOC-1", paid_on=paid_on)
    assert refused.value.fields == {"paid_on": message}
    assert db.session.get(Award, award.id).status == AwardStatus.APPROVED
    assert balances(db.session, f"paid:{award.recipient}").get(f"paid:{award.recipient}", 0) == 0


def test_a_payout_records_its_trimmed_voucher_and_date_on_the_award_and_the_posting(approved):
    award, admin, _ = approved
    paid = award_services.pay_award(db.session, admin, award.id, voucher_reference="  BOC-2025-0001 ",
                                    paid_on=today_in_china().isoformat())
    assert (paid.status, paid.voucher_reference, paid.paid_on) == (AwardStatus.PAID, "BOC-2025-0001", today_in_china())
    assert paid.voucher_stored_name is None
    memo = db.session.scalar(select(LedgerTransaction.memo).where(LedgerTransaction.award_id == award.id,
                                                                   LedgerTransaction.kind == "payout"))
    assert memo == f"voucher BOC-2025-0001 {today_in_china().isoformat()}"
    assert balances(db.session, f"paid:{award.recipient}") == {f"paid:{award.recipient}": award.granted_fen}


def test_a_voucher_pdf_is_stored_and_readable_by_the_recipient_only(approved, make_user, app):
    award, admin, brokers = approved
    paid = award_services.pay_award(db.session, admin, award.id, voucher_reference="BOC-7", paid_on=today_in_china(),
                                    filename="付款凭证.pdf", stream=io.BytesIO(PDF),
                                    upload_folder=app.config["UPLOAD_FOLDER"])
    assert paid.voucher_original_name == "付款凭证.pdf"
    assert (Path(app.config["UPLOAD_FOLDER"]) / paid.voucher_stored_name).read_bytes() == PDF
    assert award.recipient == award_services.person_key(brokers[0].id)
    assert award_services.get_voucher(db.session, brokers[0], award.id) is paid
    assert award_services.get_voucher(db.session, admin, award.id) is paid
    for stranger in (brokers[1], make_user("enterprise"), None):
        with pytest.raises(NotFoundError):
            award_services.get_voucher(db.session, stranger, award.id)


@pytest.mark.parametrize("filename, data, message", [
    ("voucher.docx", PDF, "只能上传 PDF 文件。"),
    ("voucher.pdf", b"not a pdf", "文件内容不是 PDF。"),
    ("voucher.pdf", PDF + b"x" * VOUCHER_PDF_MAX_BYTES, "文件不能超过 10 MB。"),
])
def test_a_voucher_that_is_not_an_acceptable_pdf_is_refused(approved, app, filename, data, message):
    award, admin, _ = approved
    with pytest.raises(ValidationError) as refused:
        award_services.pay_award(db.session, admin, award.id, voucher_reference="BOC-8", paid_on=today_in_china(),
                                 filename=filename, stream=io.BytesIO(data), upload_folder=app.config["UPLOAD_FOLDER"])
    assert refused.value.fields == {"voucher": message}


def test_a_refused_payout_keeps_no_file_and_leaves_the_award_approved(approved, app):
    award, admin, _ = approved
    files_before = set(Path(app.config["UPLOAD_FOLDER"]).glob("*.pdf"))  # the deal's registration certificate
    with pytest.raises(ValidationError):
        award_services.pay_award(db.session, admin, award.id, voucher_reference="", paid_on=today_in_china(),
                                 filename="voucher.pdf", stream=io.BytesIO(PDF),
                                 upload_folder=app.config["UPLOAD_FOLDER"])
    db.session.rollback()
    assert db.session.get(Award, award.id).status == AwardStatus.APPROVED
    assert set(Path(app.config["UPLOAD_FOLDER"]).glob("*.pdf")) == files_before


def test_an_organisations_voucher_is_for_its_members(granted_startup, app):
    startup, awards, admin, member, outsider = granted_startup
    award_services.approve_award(db.session, admin, awards[0].id)
    award_services.pay_award(db.session, admin, awards[0].id, voucher_reference="ICBC 0001", paid_on=today_in_china(),
                             filename="voucher.pdf", stream=io.BytesIO(PDF), upload_folder=app.config["UPLOAD_FOLDER"])
    assert award_services.get_voucher(db.session, member, awards[0].id).recipient == f"org-{startup.id}"
    with pytest.raises(NotFoundError):
        award_services.get_voucher(db.session, outsider, awards[0].id)


def test_an_award_paid_without_a_pdf_has_no_voucher_file(approved):
    award, admin, brokers = approved
    award_services.pay_award(db.session, admin, award.id, voucher_reference="BOC-3", paid_on=today_in_china())
    with pytest.raises(NotFoundError):
        award_services.get_voucher(db.session, brokers[0], award.id)


# --- awards granted ¥0 -------------------------------------------------------------------------------------------


def test_a_second_startup_grant_is_nil_names_its_cap_and_never_reaches_the_approval_queue(granted_startup):
    startup, first, admin, _, _ = granted_startup
    postings_before = db.session.scalar(select(func.count()).select_from(LedgerTransaction))
    _, second = record_startup_grant(db.session, admin, startup.id, granted_on=date(2024, 9, 1),
                                     founders_paid_in_fen=80 * WAN, awarded_fen=50 * WAN)
    assert [(a.rule, a.granted_fen, a.status, a.capped_by) for a in second] == [
        ("R4", 0, AwardStatus.NIL, "one_time_per_startup")]
    assert db.session.scalar(select(func.count()).select_from(LedgerTransaction)) == postings_before
    catalog = queries.load_rule_catalog(db.session)
    assert queries.explain_award(catalog, second[0]) == (
        "该企业已获得过一次性注册资本支持（每家初创企业仅限一次），本次核定为 0")
    payable = queries.list_awards(db.session, queries.AwardFilters(status="payable"), catalog=catalog)
    assert [row.award.id for row in payable.rows] == [first[0].id]
    with pytest.raises(RuleViolationError):
        award_services.approve_award(db.session, admin, second[0].id)
    approved, refused = award_services.approve_awards(db.session, admin, [second[0].id, first[0].id])
    assert [a.id for a in approved] == [first[0].id] and [i for i, _ in refused] == [second[0].id]
    assert db.session.get(Award, second[0].id).status == AwardStatus.NIL


def test_an_award_capped_to_zero_is_nil_and_names_the_cap(make_registered_deal, make_organisation):
    buyer = make_organisation("enterprise", region="阳泉市", valley_id="yangquan", resident_since=date(2024, 5, 1))
    agency = make_organisation("agency")
    deal, researcher, _ = make_registered_deal(transferee=buyer, reward_rate_bp=0, shares=(), agent=agency)
    record_and_confirm_deal_payment(researcher, deal.id, amount_fen=600 * WAN, paid_on=date(2025, 4, 1))
    _, second = record_and_confirm_deal_payment(researcher, deal.id, amount_fen=600 * WAN, paid_on=date(2025, 5, 1))
    assert [(a.rule, a.granted_fen, a.status, a.capped_by) for a in second] == [("R3", 0, AwardStatus.NIL, "contract")]
    note = queries.explain_award(queries.load_rule_catalog(db.session), second[0])
    assert note.startswith("已达每份合同累计上限 ¥") and note.endswith("，本次核定为 0")
    assert "nil" not in note


def test_a_nil_award_is_labelled_as_earning_nothing():
    assert award_status_label(AwardStatus.NIL) == "核定为零"
