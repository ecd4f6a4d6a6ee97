"""One declared input for the payment writes (deal proceeds and pre-order payments, `PaymentInput`) and for bid
rounds (`BidRoundInput`): the services' validation, the page form, the API's request schema and its OpenAPI component
all come from it, so a limit written once holds everywhere with the same message."""
import json

import pytest
from pydantic import create_model

from market.api import deals as deal_api
from market.api import money as money_api
from market.api import openapi_money
from market.api.openapi import openapi_document
from market.awards.payment_input import MIN_PAYMENT_FEN, PaymentInput, paid_amount
from market.deals import bids as deal_bids
from market.deals import forms as deal_forms
from market.deals import payments as deal_payments
from market.deals.bids import place_bid
from market.deals.inputs import BidRoundInput
from market.deals.limits import MAX_MESSAGE_CHARS
from market.deals.pipeline import record_payment as record_deal_payment
from market.declared import components_of, text
from market.errors import ValidationError
from market.extensions import db
from market.listings.vocabulary import TransferMode
from market.money import MAX_FEN
from market.preorders import payments as preorder_payments
from market.preorders.services import record_payment as record_preorder_payment
from tests.api_requests import bearer
from tests.payments import member_of

BAD_PAYMENTS = [({"amount_fen": 0, "date": "2025-04-30"}, "amount_fen"),
                ({"amount_fen": MAX_FEN + 1, "date": "2025-04-30"}, "amount_fen"),
                ({"amount_fen": 100, "date": "2025-13-01"}, "date"),
                ({"amount_fen": 100, "date": "1999-12-31"}, "date")]


def api_refusal(client, path: str, headers: dict, body: dict) -> dict[str, str]:
    """The messages a payment endpoint answers per body field (422)."""
    response = client.post(path, data=json.dumps(body), content_type="application/json",
                           headers={**headers, "Idempotency-Key": "declared"})
    assert response.status_code == 422, response.get_json()
    return response.get_json()["fields"]


def service_refusal(record, body: dict) -> dict[str, str]:
    """The messages a payment service gives per field, named as the API's body names them."""
    with pytest.raises(ValidationError) as refused:
        record(amount_fen=body["amount_fen"], paid_on=body["date"])
    return {money_api.SERVICE_FIELD_NAMES.get(name, name): message for name, message in refused.value.fields.items()}


def test_the_payment_input_component_is_the_json_schema_of_the_declared_model():
    schemas = openapi_document()["components"]["schemas"]
    assert schemas["PaymentInput"] == components_of(PaymentInput)["PaymentInput"]
    assert set(schemas["PaymentInput"]["properties"]) == {"amount_fen", "date"}
    assert schemas["PaymentInput"]["required"] == ["amount_fen", "date"]
    amount = schemas["PaymentInput"]["properties"]["amount_fen"]
    assert (amount["minimum"], amount["maximum"]) == (MIN_PAYMENT_FEN, MAX_FEN)
    assert "paid_on" not in schemas["PaymentInput"]["properties"]


@pytest.mark.parametrize("body, field", BAD_PAYMENTS)
def test_a_bad_deal_payment_gets_the_same_message_from_the_service_and_the_api(client, registered_deal, body, field):
    deal, researcher, _ = registered_deal
    by_service = service_refusal(lambda **payment: record_deal_payment(db.session, researcher, deal.id, **payment),
                                 body)
    by_api = api_refusal(client, f"/api/v1/deals/{deal.id}/payments", bearer(researcher), body)
    assert set(by_api) == {field}
    assert by_service == by_api


@pytest.mark.parametrize("body, field", BAD_PAYMENTS)
def test_a_bad_preorder_payment_gets_the_same_message_from_the_service_and_the_api(client, signed_agreement, body,
                                                                                   field):
    agreement, _seller = signed_agreement
    buyer = member_of(agreement.buyer_id)
    by_service = service_refusal(lambda **payment: record_preorder_payment(db.session, buyer, agreement.id, **payment),
                                 body)
    by_api = api_refusal(client, f"/api/v1/preorders/{agreement.id}/payments", bearer(buyer), body)
    assert set(by_api) == {field}
    assert by_service == by_api


def test_the_payment_form_takes_its_required_fields_and_messages_from_the_declared_input(app):
    with app.test_request_context("/", method="POST", data={"amount_fen": "", "paid_on": ""}):
        form = deal_forms.PaymentForm()
        assert form.amount_fen.flags.required and form.paid_on.flags.required
        assert not form.validate()
        assert form.amount_fen.errors == ["请填写金额。"]
        assert form.paid_on.errors == ["请填写付款日期（YYYY-MM-DD）。"]


SmallPayment = create_model("PaymentInput", __base__=PaymentInput, amount_fen=paid_amount(high=500))
"""The payment input with an amount limit of 500 fen, to see that every consumer follows the one declaration."""


def test_changing_the_declared_amount_limit_changes_services_api_and_openapi(client, registered_deal,
                                                                            signed_agreement, monkeypatch):
    for module in (deal_payments, preorder_payments, money_api, openapi_money):
        monkeypatch.setattr(module, "PaymentInput", SmallPayment)
    assert openapi_document()["components"]["schemas"]["PaymentInput"]["properties"]["amount_fen"]["maximum"] == 500
    deal, researcher, _ = registered_deal
    agreement, _seller = signed_agreement
    buyer = member_of(agreement.buyer_id)
    body = {"amount_fen": 501, "date": "2025-04-30"}
    message = "金额必须是大于零的整数（分）。"
    assert service_refusal(lambda **payment: record_deal_payment(db.session, researcher, deal.id, **payment),
                           body) == {"amount_fen": message}
    assert service_refusal(lambda **payment: record_preorder_payment(db.session, buyer, agreement.id, **payment),
                           body) == {"amount_fen": message}
    assert api_refusal(client, f"/api/v1/deals/{deal.id}/payments", bearer(researcher), body) == {"amount_fen": message}
    assert api_refusal(client, f"/api/v1/preorders/{agreement.id}/payments", bearer(buyer),
                       body) == {"amount_fen": message}
    assert client.post(f"/api/v1/deals/{deal.id}/payments", data=json.dumps({**body, "amount_fen": 500}),
                       content_type="application/json",
                       headers={**bearer(researcher), "Idempotency-Key": "within"}).status_code == 201


# ---------------------------------------------------------------- bid rounds

BAD_ROUNDS = [({"amount_fen": 0, "mode": "assignment"}, "amount_fen"),
              ({"amount_fen": 100, "mode": "barter"}, "mode"),
              ({"amount_fen": 100, "mode": "assignment", "message": "留" * (MAX_MESSAGE_CHARS + 1)}, "message"),
              ({"amount_fen": 100, "mode": "assignment", "message": "留言\u202e"}, "message")]


def test_the_bid_round_component_is_the_json_schema_of_the_declared_model(app):
    schemas = openapi_document()["components"]["schemas"]
    assert schemas["BidRoundInput"] == components_of(BidRoundInput)["BidRoundInput"]
    assert schemas["BidRoundInput"]["properties"]["message"]["maxLength"] == MAX_MESSAGE_CHARS
    assert schemas["BidRoundInput"]["required"] == ["amount_fen", "mode"]
    assert schemas["TransferMode"]["enum"] == [mode.value for mode in TransferMode]
    with app.test_request_context("/"):
        form = deal_forms.BidForm(formdata=None)
    assert form.message.flags.maxlength == MAX_MESSAGE_CHARS
    assert form.amount_fen.flags.required and form.mode.flags.required and not form.message.flags.required


@pytest.mark.parametrize("body, field", BAD_ROUNDS)
def test_a_bad_bid_round_gets_the_same_message_from_the_service_and_the_api(client, deal_world, body, field):
    with pytest.raises(ValidationError) as refused:
        place_bid(db.session, deal_world.buyer, deal_world.achievement.id, **body)
    response = client.post(f"/api/v1/achievements/{deal_world.achievement.id}/bids", data=json.dumps(body),
                           content_type="application/json", headers=bearer(deal_world.buyer))
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["fields"] == refused.value.fields
    assert set(refused.value.fields) == {field}


def test_changing_the_declared_message_limit_changes_service_api_form_and_openapi(app, client, deal_world,
                                                                                 monkeypatch):
    short = create_model("BidRoundInput", __base__=BidRoundInput, message=text(12))
    for module in (deal_bids, deal_api, openapi_money, deal_forms):
        monkeypatch.setattr(module, "BidRoundInput", short)
    assert openapi_document()["components"]["schemas"]["BidRoundInput"]["properties"]["message"]["maxLength"] == 12
    body = {"amount_fen": 100, "mode": "assignment", "message": "留" * 13}
    message = "不能超过 12 个字符。"
    with pytest.raises(ValidationError) as refused:
        place_bid(db.session, deal_world.buyer, deal_world.achievement.id, **body)
    assert refused.value.fields == {"message": message}
    response = client.post(f"/api/v1/achievements/{deal_world.achievement.id}/bids", data=json.dumps(body),
                           content_type="application/json", headers=bearer(deal_world.buyer))
    assert (response.status_code, response.get_json()["fields"]) == (422, {"message": message})
    with app.test_request_context("/", method="POST", data={"amount_fen": "1", "mode": "assignment",
                                                            "message": "留" * 13}):
        form = deal_forms.BidForm()
        form.mode.choices = deal_forms.mode_choices(None)
        assert not form.validate() and form.message.errors == [message]
