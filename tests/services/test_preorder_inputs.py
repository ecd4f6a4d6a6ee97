"""One declared input per pre-order agreement write (`preorders.inputs`; a payment's is `PaymentInput`): the services
validate with it and the page forms take their required fields, limits and messages for missing values from it, so a
limit written once holds on the page and in the service with the same message."""
import pytest
from pydantic import create_model
from sqlalchemy import String

from market.awards.payment_input import PaymentInput
from market.declared import declared_limits, json_schema, text, validate_input
from market.errors import ValidationError
from market.extensions import db
from market.preorders import forms, services
from market.preorders.inputs import (
    TYPED_VALUE_MAX_LENGTH,
    AcceptanceInput,
    AgreementInput,
    AgreementTermsInput,
    DeliveryInput,
    TerminationInput,
)
from market.preorders.models import (
    AgreementStatus,
    PreorderAgreement,
    PreorderDelivery,
)
from tests.preorder_agreements import sign_agreement

WAN = 1_000_000

FORMS_AND_INPUTS = [
    (forms.AgreementForm, None, AgreementInput),
    (forms.AgreementTermsForm, None, AgreementTermsInput),
    (forms.DeliveryForm, "delivery", DeliveryInput),
    (forms.AcceptanceForm, "accept-7", AcceptanceInput),
    (forms.PaymentForm, "payment", PaymentInput),
    (forms.TerminationForm, "terminate", TerminationInput),
]


@pytest.mark.parametrize("form_class, prefix, model", FORMS_AND_INPUTS, ids=lambda item: getattr(item, "__name__", ""))
def test_each_form_takes_its_required_fields_limits_and_missing_messages_from_its_declared_input(
        app, form_class, prefix, model):
    with app.test_request_context("/", method="POST", data={}):
        form = form_class(prefix=prefix or "")
        _values, missing = validate_input(model, {})
        assert set(model.model_fields) <= set(form._fields)
        for name, limits in declared_limits(model).items():
            field = form._fields[name]
            assert bool(field.flags.required) == limits.required, name
            assert field.flags.maxlength == limits.max_length, name
        assert not form.validate()
        shown = {name: field.errors[0] for name, field in form._fields.items() if field.errors}
        assert shown == {name: message for name, message in missing.items()
                         if declared_limits(model)[name].required}


def test_typed_dates_and_quantities_declare_how_long_their_text_may_be():
    for model, names in ((AgreementTermsInput, ("quantity", "signed_on")), (DeliveryInput, ("delivered_on", "quantity")),
                         (AcceptanceInput, ("accepted_on",))):
        for name in names:
            assert json_schema(model)["properties"][name]["maxLength"] == TYPED_VALUE_MAX_LENGTH
    _values, errors = validate_input(DeliveryInput, {"delivered_on": "2025-01-10" + " " * TYPED_VALUE_MAX_LENGTH,
                                                     "quantity": "1" * (TYPED_VALUE_MAX_LENGTH + 1), "amount_fen": 1})
    too_long = f"不能超过 {TYPED_VALUE_MAX_LENGTH} 个字符。"
    assert errors == {"delivered_on": too_long, "quantity": too_long}


def test_the_inputs_text_limits_are_the_lengths_of_the_columns_that_store_them():
    columns = {column.key: column.type.length for model in (PreorderAgreement, PreorderDelivery)
               for column in model.__table__.columns if isinstance(column.type, String) and column.type.length}
    compared = {}
    for model in (AgreementInput, DeliveryInput, AcceptanceInput, TerminationInput):
        for name, limits in declared_limits(model).items():
            if name in columns and limits.max_length is not None:
                compared[name] = (limits.max_length, columns[name])
    assert set(compared) == {"number", "product", "unit"}
    assert all(declared == stored for declared, stored in compared.values())


def test_an_empty_total_is_quantity_times_unit_price_when_that_is_an_amount():
    terms = {"number": "YG-1", "product": "储氢瓶", "quantity": "3", "unit": "台", "unit_price_fen": 5 * WAN,
             "signed_on": "2024-10-15"}
    values, errors = validate_input(AgreementTermsInput, terms)
    assert (values["value_fen"], errors) == (15 * WAN, {})
    values, errors = validate_input(AgreementTermsInput, {**terms, "value_fen": 14 * WAN})
    assert (values["value_fen"], errors) == (14 * WAN, {})
    _values, errors = validate_input(AgreementTermsInput, {**terms, "unit_price_fen": 10**15})
    assert errors == {"value_fen": "数量 × 单价超出允许的上限，请检查数量和单价。"}


def test_a_broker_recording_an_agreement_is_its_broker_whatever_the_broker_field_says(preorder_parties):
    data = {"buyer_id": preorder_parties.buyer.id, "seller_id": preorder_parties.seller.id, "number": "YG-2024-001",
            "product": "储氢瓶", "quantity": "1", "unit": "台", "unit_price_fen": WAN, "signed_on": "2024-10-15"}
    for broker_id in ("abc", preorder_parties.admin.id):
        with pytest.raises(ValidationError) as refused:
            sign_agreement(preorder_parties.broker, {**data, "broker_id": broker_id})
        assert refused.value.fields == {"broker_id": "技术经理人登记的协议，经纪人即为本人。"}
    agreement = sign_agreement(preorder_parties.broker,
                                          {**data, "broker_id": str(preorder_parties.broker.id)})
    assert agreement.broker_id == preorder_parties.broker.id


def test_changing_the_declared_reason_limit_changes_the_service_and_the_form(app, preorder_parties, monkeypatch):
    short = create_model("TerminationInput", __base__=TerminationInput, reason=text(12, required=True))
    for module in (services, forms):
        monkeypatch.setattr(module, "TerminationInput", short)
    agreement = sign_agreement(preorder_parties.seller_user, {
        "buyer_id": preorder_parties.buyer.id, "seller_id": preorder_parties.seller.id, "number": "YG-2024-001",
        "product": "储氢瓶", "quantity": "1", "unit": "台", "unit_price_fen": WAN, "signed_on": "2024-10-15"})
    with pytest.raises(ValidationError) as refused:
        services.terminate_agreement(db.session, preorder_parties.buyer_user, agreement.id, "因" * 13)
    assert refused.value.fields == {"reason": "不能超过 12 个字符。"}
    assert db.session.get(PreorderAgreement, agreement.id).status == AgreementStatus.SIGNED
    with app.test_request_context("/", method="POST", data={"terminate-reason": "因" * 13}):
        form = forms.TerminationForm(prefix="terminate")
        assert form.reason.flags.maxlength == 12
        assert not form.validate() and form.reason.errors == ["不能超过 12 个字符。"]
