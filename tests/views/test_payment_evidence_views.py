"""A payment's receipt or invoice on the deal page and the agreement page: attached when recording or afterwards by
the recorder, downloaded by the parties (404 for everyone else), and what an admin's confirmation needs."""
import io

from sqlalchemy import func, select

from market.deals.models import DealPayment
from market.extensions import db
from market.preorders.models import PreorderPayment
from tests.conftest import client_for
from tests.payments import RECEIPT_PDF, member_of
from tests.views.test_deal_views import flashed_after, page_of


def pdf(filename="银行回单.pdf", data=RECEIPT_PDF):
    return (io.BytesIO(data), filename)


def download(client, path: str) -> tuple[int, str, bytes]:
    """GET a file route: its status, type and bytes (the response is closed, so the file is too)."""
    response = client.get(path)
    try:
        return response.status_code, response.mimetype, response.get_data()
    finally:
        response.close()


def only(model):
    db.session.expire_all()
    return db.session.scalar(select(model))


def test_proceeds_recorded_with_their_receipt_are_downloaded_by_the_parties_only(app, registered_deal, make_user,
                                                                                 deal_world):
    deal, researcher, _ = registered_deal
    owner = client_for(app, researcher)
    response = owner.post(f"/deals/{deal.id}/payments", data={"amount_fen": "600", "paid_on": "2025-04-30",
                                                               "evidence": pdf()})
    page = flashed_after(owner, response)
    payment = only(DealPayment)
    assert payment.evidence_original_name == "银行回单.pdf"
    assert f"/deals/payments/{payment.id}/evidence" in page and "银行回单.pdf" in page
    payer = client_for(app, member_of(deal.transferee_id))
    assert download(payer, f"/deals/payments/{payment.id}/evidence") == (200, "application/pdf", RECEIPT_PDF)
    for stranger in (deal_world.outsider, make_user("broker")):  # a broker who only tracks deals sees no receipt
        assert download(client_for(app, stranger), f"/deals/payments/{payment.id}/evidence")[0] == 404
    assert download(client_for(app, deal_world.admin), f"/deals/payments/{payment.id}/evidence")[0] == 200


def test_a_file_that_is_not_a_pdf_is_refused_next_to_the_field_and_nothing_is_recorded(app, registered_deal):
    deal, researcher, _ = registered_deal
    owner = client_for(app, researcher)
    response = owner.post(f"/deals/{deal.id}/payments", data={"amount_fen": "600", "paid_on": "2025-04-30",
                                                               "evidence": pdf("回单.pdf", b"GIF89a")})
    assert response.status_code == 422 and "文件内容不是 PDF" in page_of(response)
    assert db.session.scalar(select(func.count()).select_from(DealPayment)) == 0


def test_the_recorder_attaches_the_receipt_on_the_payment_row_and_then_an_admin_may_confirm(app, registered_deal,
                                                                                           deal_world):
    deal, researcher, _ = registered_deal
    owner = client_for(app, researcher)
    flashed_after(owner, owner.post(f"/deals/{deal.id}/payments", data={"amount_fen": "600", "paid_on": "2025-04-30"}))
    payment = only(DealPayment)
    admin = client_for(app, deal_world.admin)
    page = page_of(admin.get(f"/deals/{deal.id}"))
    assert f"/deals/payments/{payment.id}/confirm" not in page and "暂无凭证" in page
    refused = admin.post(f"/deals/payments/{payment.id}/confirm", data={"reason": ""})
    assert "平台确认须有回款凭证（银行回单或发票）。" in flashed_after(admin, refused)
    payer = client_for(app, member_of(deal.transferee_id))
    assert f'action="/deals/payments/{payment.id}/evidence"' not in page_of(payer.get(f"/deals/{deal.id}"))
    assert "只有登记人" in flashed_after(payer, payer.post(f"/deals/payments/{payment.id}/evidence",
                                                         data={"evidence": pdf()}))
    assert f'action="/deals/payments/{payment.id}/evidence"' in page_of(owner.get(f"/deals/{deal.id}"))
    assert "凭证已上传" in flashed_after(owner, owner.post(f"/deals/payments/{payment.id}/evidence",
                                                         data={"evidence": pdf("发票.pdf")}))
    assert only(DealPayment).evidence_original_name == "发票.pdf"
    assert f"/deals/payments/{payment.id}/confirm" in page_of(admin.get(f"/deals/{deal.id}"))
    assert "回款已确认" in flashed_after(admin, admin.post(f"/deals/payments/{payment.id}/confirm",
                                                         data={"reason": "核对发票"}))


def test_a_preorder_payment_recorded_with_its_invoice_is_downloaded_by_the_seller_not_outsiders(
        app, signed_agreement, make_user):
    agreement, seller = signed_agreement
    buyer = client_for(app, member_of(agreement.buyer_id))
    response = buyer.post(f"/contracts/{agreement.id}/payments", data={
        "payment-amount_fen": "100", "payment-paid_on": "2025-03-31", "payment-evidence": pdf("发票.pdf")})
    page = flashed_after(buyer, response)
    payment = only(PreorderPayment)
    assert payment.evidence_original_name == "发票.pdf" and f"/contracts/payments/{payment.id}/evidence" in page
    assert download(client_for(app, seller), f"/contracts/payments/{payment.id}/evidence")[::2] == (200, RECEIPT_PDF)
    outsider = client_for(app, make_user("enterprise"))
    assert download(outsider, f"/contracts/payments/{payment.id}/evidence")[0] == 404
    assert outsider.post(f"/contracts/payments/{payment.id}/evidence", data={"evidence": pdf()}).status_code == 404


def test_a_preorder_payment_without_evidence_has_nothing_to_download(app, signed_agreement):
    agreement, _seller = signed_agreement
    buyer_user = member_of(agreement.buyer_id)
    buyer = client_for(app, buyer_user)
    flashed_after(buyer, buyer.post(f"/contracts/{agreement.id}/payments", data={
        "payment-amount_fen": "100", "payment-paid_on": "2025-03-31"}))
    payment = only(PreorderPayment)
    assert download(buyer, f"/contracts/payments/{payment.id}/evidence")[0] == 404
    assert "凭证已上传" in flashed_after(buyer, buyer.post(f"/contracts/payments/{payment.id}/evidence",
                                                         data={"evidence": pdf()}))
    assert download(buyer, f"/contracts/payments/{payment.id}/evidence")[0] == 200
