"""POST /api/v1/preorders/<id>/<decision>: the other party confirms or refuses a proposed pre-order agreement, its
recorder withdraws it; answers match the OpenAPI document and bad requests lose nothing."""
import json

from sqlalchemy import func, select

from market.awards.models import PolicyEvent
from market.extensions import db
from market.preorders import proposals
from market.preorders.models import AgreementStatus, PreorderAgreement
from tests.api_requests import bearer, schema_validator
from tests.services.test_preorders import agreement_input

JSON = "application/json"


def decide(client, person, agreement_id: int, decision: str = "confirm", body=None):
    data = {} if body is None else {"data": json.dumps(body), "content_type": JSON}
    return client.post(f"/api/v1/preorders/{agreement_id}/{decision}", headers=bearer(person), **data)


def status_of(agreement_id: int) -> str:
    db.session.expire_all()
    return db.session.get(PreorderAgreement, agreement_id).status


def engine_events() -> int:
    return db.session.scalar(select(func.count()).select_from(PolicyEvent))


def test_a_brokers_agreement_is_confirmed_by_both_parties_through_the_api(client, preorder_parties):
    p = preorder_parties
    agreement = proposals.create_agreement(db.session, p.broker, agreement_input(p))
    db.session.commit()
    validator = schema_validator("PreorderAgreement")

    assert decide(client, p.broker, agreement.id).status_code == 403
    assert decide(client, p.admin, agreement.id).status_code == 403
    assert decide(client, p.outsider, agreement.id).status_code == 404
    first = decide(client, p.buyer_user, agreement.id, body={"reason": "已核对数量和单价"})
    assert first.status_code == 200
    body = first.get_json()
    validator.validate(body)
    assert (body["status"]["code"], body["proposal"]["awaiting"], body["proposal"]["recorded_as"]) == (
        "proposed", ["seller"], "broker")
    assert body["proposal"]["may"] == {"confirm": False, "refuse": False, "withdraw": False}
    assert decide(client, p.buyer_user, agreement.id).status_code == 409
    assert engine_events() == 0

    second = decide(client, p.seller_user, agreement.id)
    assert second.status_code == 200
    validator.validate(second.get_json())
    assert (second.get_json()["status"]["code"], second.get_json()["proposal"]["awaiting"]) == ("signed", [])
    assert status_of(agreement.id) == AgreementStatus.SIGNED and engine_events() == 1
    assert decide(client, p.seller_user, agreement.id, "refuse", {"reason": "晚了"}).status_code == 409


def test_refusal_needs_a_reason_and_withdrawal_is_the_recorders(client, preorder_parties):
    p = preorder_parties
    agreement = proposals.create_agreement(db.session, p.seller_user, agreement_input(p))
    db.session.commit()
    missing = decide(client, p.buyer_user, agreement.id, "refuse")
    assert missing.status_code == 422 and "reason" in missing.get_json()["fields"]
    assert decide(client, p.buyer_user, agreement.id, "refuse", {"reason": 5}).status_code == 422
    assert decide(client, p.buyer_user, agreement.id, "refuse", {"note": "x"}).status_code == 422
    assert decide(client, p.buyer_user, agreement.id, "withdraw").status_code == 403
    assert decide(client, p.buyer_user, agreement.id, "dispute").status_code == 404
    assert status_of(agreement.id) == AgreementStatus.PROPOSED

    withdrawn = decide(client, p.seller_user, agreement.id, "withdraw")
    assert withdrawn.status_code == 200
    schema_validator("PreorderAgreement").validate(withdrawn.get_json())
    assert withdrawn.get_json()["status"]["code"] == "withdrawn"
    assert engine_events() == 0


def test_the_buyer_refuses_with_a_reason_everyone_sees(client, preorder_parties):
    p = preorder_parties
    agreement = proposals.create_agreement(db.session, p.seller_user, agreement_input(p))
    db.session.commit()
    refused = decide(client, p.buyer_user, agreement.id, "refuse", {"reason": "交付计划与我方不符"})
    assert refused.status_code == 200
    assert (refused.get_json()["status"]["code"], refused.get_json()["proposal"]["decision_note"]) == (
        "refused", "交付计划与我方不符")
    assert decide(client, p.seller_user, agreement.id).status_code == 409
