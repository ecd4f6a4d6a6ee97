"""POST /api/v1/deal-payments/<id>/evidence and /api/v1/preorder-payments/<id>/evidence: the recorder uploads the
bank receipt or invoice as multipart; others are refused, non-PDFs are refused and nothing is kept."""
import io
from datetime import date

from market.deals.models import DealPayment
from market.extensions import db
from tests.api.test_api_payments_idempotency import PROCEEDS, deal_path, preorder_path, send, transferee_of
from tests.api_requests import bearer, schema_validator
from tests.payments import RECEIPT_PDF, member_of

WAN = 1_000_000


def upload_evidence(client, person, payment_id: int, *, kind: str = "deal", filename: str = "银行回单.pdf",
                    data: bytes = RECEIPT_PDF):
    """POST the evidence file as multipart/form-data with the person's token."""
    return client.post(f"/api/v1/{kind}-payments/{payment_id}/evidence", headers=bearer(person),
                       data={"evidence": (io.BytesIO(data), filename)}, content_type="multipart/form-data")


def test_the_recorder_uploads_the_receipt_and_the_payment_shows_it(client, registered_deal):
    deal, researcher, _ = registered_deal
    payment_id = send(client, deal_path(deal), bearer(researcher), PROCEEDS).get_json()["id"]
    response = upload_evidence(client, researcher, payment_id)
    assert response.status_code == 200, response.get_json()
    schema_validator("Payment").validate(response.get_json())
    assert response.get_json()["evidence"]["filename"] == "银行回单.pdf"
    assert db.session.get(DealPayment, payment_id).evidence_uploaded_by_id == researcher.id


def test_the_other_side_and_outsiders_cannot_upload(client, registered_deal, make_user):
    deal, researcher, _ = registered_deal
    payment_id = send(client, deal_path(deal), bearer(researcher), PROCEEDS).get_json()["id"]
    assert upload_evidence(client, transferee_of(deal), payment_id).status_code == 403
    assert upload_evidence(client, make_user("enterprise"), payment_id).status_code == 404
    db.session.expire_all()
    assert not db.session.get(DealPayment, payment_id).has_evidence


def test_a_file_that_is_not_a_pdf_or_a_json_body_is_refused(client, registered_deal):
    deal, researcher, _ = registered_deal
    payment_id = send(client, deal_path(deal), bearer(researcher), PROCEEDS).get_json()["id"]
    refused = upload_evidence(client, researcher, payment_id, filename="回单.pdf", data=b"GIF89a")
    assert refused.status_code == 422 and "evidence" in refused.get_json()["fields"]
    as_json = client.post(f"/api/v1/deal-payments/{payment_id}/evidence", headers=bearer(researcher), json={})
    assert as_json.status_code == 415
    db.session.expire_all()
    assert not db.session.get(DealPayment, payment_id).has_evidence


def test_the_buyer_uploads_the_evidence_of_a_preorder_payment(client, signed_agreement):
    agreement, seller = signed_agreement
    buyer = member_of(agreement.buyer_id)
    payment_id = send(client, preorder_path(agreement), bearer(buyer),
                      {"amount_fen": 100 * WAN, "date": date(2025, 3, 31).isoformat()}).get_json()["id"]
    assert upload_evidence(client, seller, payment_id, kind="preorder").status_code == 403
    response = upload_evidence(client, buyer, payment_id, kind="preorder", filename="发票.pdf")
    assert response.status_code == 200 and response.get_json()["evidence"]["filename"] == "发票.pdf"


def test_the_evidence_operations_are_documented(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for kind in ("deal", "preorder"):
        operation = paths[f"/api/v1/{kind}-payments/{{payment_id}}/evidence"]["post"]
        assert "multipart/form-data" in operation["requestBody"]["content"]
        assert {"200", "403", "404", "409", "415", "422"} <= set(operation["responses"])
