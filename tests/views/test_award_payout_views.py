"""The money pages record a payout with its voucher, let the recipient download the voucher PDF, and show awards
granted ¥0 as nil with the cap that made them 0, outside the approval queue."""
import io
from datetime import date, timedelta

from market.awards import services as award_services
from market.awards.grants import record_startup_grant
from market.awards.models import Award, AwardStatus
from market.extensions import db
from market.timeutil import today_in_china
from tests.views.test_money_views import by_rule, deal_awards, status_of  # noqa: F401  (deal_awards is a fixture)

PDF = b"%PDF-1.4\n% payout voucher\n"
WAN = 1_000_000


def _download(client, award_id: int) -> tuple[int, bytes, str]:
    """GET an award's voucher: status, body and type (the file is closed again)."""
    response = client.get(f"/money/awards/{award_id}/voucher")
    try:
        return response.status_code, response.data, response.mimetype
    finally:
        response.close()


def _approved_r2(world, admin) -> Award:
    award = by_rule(world["awards"], "R2")[0]
    award_services.approve_award(db.session, admin, award.id)
    db.session.commit()
    return award


def test_the_award_list_offers_the_payout_form_for_approved_awards(client, login_as, deal_awards):  # noqa: F811
    world = deal_awards()
    admin = login_as("admin")
    award = _approved_r2(world, admin)
    page = client.get("/money/awards?status=approved").get_data(as_text=True)
    assert f'action="/money/awards/{award.id}/pay"' in page and 'enctype="multipart/form-data"' in page
    assert 'name="voucher_reference"' in page and 'name="paid_on"' in page and 'name="voucher"' in page


def test_a_payout_without_a_voucher_reference_is_refused_with_a_message(client, login_as, deal_awards):  # noqa: F811
    world = deal_awards()
    admin = login_as("admin")
    award = _approved_r2(world, admin)
    response = client.post(f"/money/awards/{award.id}/pay", data={"next": "/money/awards", "voucher_reference": " ",
                                                                  "paid_on": today_in_china().isoformat()})
    assert response.status_code == 302
    assert "未登记发放：请填写付款凭证号。" in client.get("/money/awards").get_data(as_text=True)
    assert status_of(award.id) == AwardStatus.APPROVED


def test_a_payout_dated_tomorrow_is_refused(client, login_as, deal_awards):  # noqa: F811
    world = deal_awards()
    admin = login_as("admin")
    award = _approved_r2(world, admin)
    client.post(f"/money/awards/{award.id}/pay", data={"next": "/money/awards", "voucher_reference": "BOC-1",
                                                       "paid_on": (today_in_china() + timedelta(days=1)).isoformat()})
    assert "发放日期应为不晚于今天的日期。" in client.get("/money/awards").get_data(as_text=True)
    assert status_of(award.id) == AwardStatus.APPROVED


def test_the_voucher_pdf_is_for_admins_and_the_recipient_only(app, client, login, login_as, make_user,
                                                              deal_awards):  # noqa: F811
    world = deal_awards()
    admin = login_as("admin")
    award = _approved_r2(world, admin)
    response = client.post(f"/money/awards/{award.id}/pay", content_type="multipart/form-data", data={
        "next": "/money/awards", "voucher_reference": "BOC-2025-0042", "paid_on": today_in_china().isoformat(),
        "voucher": (io.BytesIO(PDF), "付款凭证.pdf")})
    assert response.status_code == 302
    assert status_of(award.id) == AwardStatus.PAID
    listing = client.get("/money/awards?status=paid").get_data(as_text=True)
    assert "付款凭证号 BOC-2025-0042" in listing and f"/money/awards/{award.id}/voucher" in listing
    assert _download(client, award.id) == (200, PDF, "application/pdf")
    assert award.recipient == f"user-{world['broker'].id}"
    login(world["broker"])
    mine = client.get("/money/mine").get_data(as_text=True)
    assert "付款凭证号 BOC-2025-0042" in mine and f"/money/awards/{award.id}/voucher" in mine
    assert _download(client, award.id) == (200, PDF, "application/pdf")
    for stranger in (world["other"], world["researcher"], make_user("enterprise")):
        login(stranger)
        assert _download(client, award.id)[0] == 404


def test_a_voucher_that_is_not_a_pdf_is_refused_and_nothing_is_paid(app, client, login_as, deal_awards):  # noqa: F811
    world = deal_awards()
    admin = login_as("admin")
    award = _approved_r2(world, admin)
    client.post(f"/money/awards/{award.id}/pay", content_type="multipart/form-data", data={
        "next": "/money/awards", "voucher_reference": "BOC-5", "paid_on": today_in_china().isoformat(),
        "voucher": (io.BytesIO(b"<html>"), "voucher.pdf")})
    assert "未登记发放：文件内容不是 PDF。" in client.get("/money/awards").get_data(as_text=True)
    assert status_of(award.id) == AwardStatus.APPROVED


def test_a_nil_award_shows_its_cap_and_is_not_offered_for_approval(client, login_as, make_organisation):
    admin = login_as("admin")
    startup = make_organisation("enterprise", valley_id="taiyuan", resident_since=date(2024, 3, 1))
    for day in (date(2024, 6, 1), date(2024, 9, 1)):
        record_startup_grant(db.session, admin, startup.id, granted_on=day, founders_paid_in_fen=80 * WAN,
                             awarded_fen=50 * WAN)
    db.session.commit()
    nil = db.session.scalars(db.select(Award).where(Award.status == AwardStatus.NIL)).one()
    page = client.get("/money/awards").get_data(as_text=True)
    row = page[page.index(f'id="award-{nil.id}"'):]
    row = row[:row.index("</tr>")]
    assert "核定为零" in row and "每家初创企业仅限一次），本次核定为 0" in row
    assert 'name="award_ids"' not in row and "/approve" not in row
    queue = client.get("/money/awards?status=payable").get_data(as_text=True)
    assert f'id="award-{nil.id}"' not in queue


def test_a_paid_award_is_reversed_into_a_receivable_and_its_recovery_recorded(client, login_as, deal_awards):  # noqa: F811
    world = deal_awards()
    admin = login_as("admin")
    award = _approved_r2(world, admin)
    award_services.pay_award(db.session, admin, award.id, voucher_reference="BOC-2", paid_on=today_in_china())
    db.session.commit()
    page = client.get("/money/awards?status=paid").get_data(as_text=True)
    assert f'action="/money/awards/{award.id}/reverse"' in page and "冲正后金额记为应向受益方追回的款项" in page
    client.post(f"/money/awards/{award.id}/reverse", data={"next": "/money/awards", "reason": "合同解除"})
    assert status_of(award.id) == AwardStatus.RECEIVABLE
    page = client.get("/money/awards?status=receivable").get_data(as_text=True)
    assert f'action="/money/awards/{award.id}/recovery"' in page and "已冲正，待追回" in page
    client.post(f"/money/awards/{award.id}/recovery", data={"next": "/money/awards", "voucher_reference": "",
                                                             "recovered_on": today_in_china().isoformat()})
    assert "未登记追回：请填写付款凭证号。" in client.get("/money/awards").get_data(as_text=True)
    assert status_of(award.id) == AwardStatus.RECEIVABLE
    client.post(f"/money/awards/{award.id}/recovery", data={"next": "/money/awards", "voucher_reference": "BACK-3",
                                                             "recovered_on": today_in_china().isoformat()})
    assert status_of(award.id) == AwardStatus.REVERSED
    assert "BACK-3" in client.get("/money/awards?status=reversed").get_data(as_text=True)
