"""POST /api/v1/deal-payments/<id>/<decision> and /api/v1/preorder-payments/<id>/<decision>: who confirms a recorded
payment (the other side or an admin, never the recorder), disputes settled by an admin, decisions the API refuses,
and how the decision routes are documented."""
import pytest

from market.api.openapi import openapi_document
from market.confirmations.models import FactStatus
from tests.api.test_api_payment_evidence import upload_evidence
from tests.api.test_api_payments_idempotency import (  # noqa: F401  (deal_people is a fixture)
    PROCEEDS,
    deal_path,
    deal_people,
    decide,
    payment_statuses,
    preorder_path,
    recorded,
    send,
    transferee_of,
)
from tests.api_requests import bearer, schema_validator
from tests.payments import member_of

WAN = 1_000_000


@pytest.mark.parametrize("recorder, confirmer, status", [
    ("transferor", "transferor", 403), ("transferor", "transferor_colleague", 403), ("transferor", "deal_broker", 403),
    ("transferor", "intermediary", 403), ("transferor", "outsider", 404), ("transferor", "transferee", 200),
    ("transferor", "admin", 200), ("deal_broker", "deal_broker", 403), ("deal_broker", "transferor", 403),
    ("deal_broker", "transferee", 200), ("transferee", "transferee", 403), ("transferee", "transferor", 200),
])
def test_the_other_side_confirms_never_the_recorder_and_a_second_confirmation_is_409(
        client, deal_people, make_user, recorder, confirmer, status):  # noqa: F811
    deal, people = deal_people
    people["transferor_colleague"] = make_user("researcher", organisation=people["transferor"].organisation)
    payment_id = send(client, deal_path(deal), bearer(people[recorder]), PROCEEDS).get_json()["id"]
    if confirmer == "admin":  # an admin confirms against the evidence its recorder attached
        assert upload_evidence(client, people[recorder], payment_id).status_code == 200
    before = recorded()
    response = decide(client, people[confirmer], payment_id)
    assert response.status_code == status, response.get_json()
    if status != 200:
        assert recorded() == before and payment_statuses() == ["recorded"]
        return
    assert len(response.get_json()["awards"]) == 3 and response.get_json()["status"]["code"] == "confirmed"
    schema_validator("Payment").validate(response.get_json())
    judged = recorded()
    for again_by in (people[confirmer], people["admin"]):
        again = decide(client, again_by, payment_id)
        assert (again.status_code, again.get_json()["error"]) == (409, "invalid_state")
    assert recorded() == judged and judged["awards"] == before["awards"] + 3


@pytest.mark.parametrize("decision, body, status, field", [
    ("dispute", None, 422, "reason"),
    ("dispute", {"reason": "   "}, 422, "reason"),
    ("confirm", {"reason": "x" * 1001}, 422, "reason"),
    ("confirm", {"note": "x"}, 422, "note"),
    ("approve", None, 404, None),
])
def test_a_decision_the_api_cannot_take_is_refused_and_judges_nothing(client, registered_deal, decision, body,
                                                                      status, field):
    deal, researcher, _ = registered_deal
    payment_id = send(client, deal_path(deal), bearer(researcher), PROCEEDS).get_json()["id"]
    before = recorded()
    response = decide(client, transferee_of(deal), payment_id, decision, body=body)
    assert response.status_code == status, response.get_json()
    if field is not None:
        assert field in response.get_json()["fields"]
    assert recorded() == before and payment_statuses() == ["recorded"]


def test_a_disputed_payment_is_confirmed_only_by_an_admin(client, registered_deal, make_user):
    deal, researcher, _ = registered_deal
    payment_id = send(client, deal_path(deal), bearer(researcher), PROCEEDS).get_json()["id"]
    transferee = transferee_of(deal)
    disputed = decide(client, transferee, payment_id, "dispute", body={"reason": "尚未收到这笔款项"})
    assert disputed.status_code == 200 and disputed.get_json()["status"]["code"] == "disputed"
    assert disputed.get_json()["dispute_reason"] == "尚未收到这笔款项" and disputed.get_json()["awards"] == []
    assert decide(client, transferee, payment_id).status_code == 403
    admin = make_user("admin")
    without = decide(client, admin, payment_id, body={"reason": "已核对银行回单"})
    assert (without.status_code, without.get_json()["message"]) == (409, "平台确认须有回款凭证（银行回单或发票）。")
    assert upload_evidence(client, researcher, payment_id).status_code == 200
    confirmed = decide(client, admin, payment_id, body={"reason": "已核对银行回单"})
    assert confirmed.status_code == 200 and len(confirmed.get_json()["awards"]) == 3
    assert confirmed.get_json()["decision_note"] == "已核对银行回单"


def test_the_buyer_cannot_confirm_its_own_preorder_payment(client, signed_agreement):
    agreement, _ = signed_agreement
    buyer = member_of(agreement.buyer_id)
    payment_id = send(client, preorder_path(agreement), bearer(buyer),
                      {"amount_fen": 100 * WAN, "date": "2025-03-31"}).get_json()["id"]
    before = recorded()
    own = decide(client, buyer, payment_id, kind="preorder")
    assert own.status_code == 403
    assert recorded() == before


def test_the_decision_operations_document_their_body_and_the_payment_status():
    document = openapi_document()
    for path in ("/api/v1/deal-payments/{payment_id}/{decision}", "/api/v1/preorder-payments/{payment_id}/{decision}"):
        item = document["paths"][path]
        decision = next(parameter for parameter in item["parameters"] if parameter["name"] == "decision")
        assert decision["schema"]["enum"] == ["confirm", "dispute", "withdraw", "refuse"]
        operation = item["post"]
        assert operation["requestBody"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/DecisionInput"}
        assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Payment"}
        assert {"403", "404", "409", "422"} <= set(operation["responses"])
    assert set(document["components"]["schemas"]["DecisionInput"]["properties"]) == {"reason"}
    payment = document["components"]["schemas"]["Payment"]
    assert {"status", "recorded_as", "dispute_reason", "decision_note", "decided_by", "decided_at"} <= set(
        payment["required"])
    assert payment["properties"]["status"]["properties"]["code"]["enum"] == [str(s) for s in FactStatus]
