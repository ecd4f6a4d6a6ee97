"""Pre-order agreement forms: shape only; each takes its required fields, limits and messages for missing values
from the declared input its service validates with (preorders.inputs, awards.payment_input)."""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField, TextAreaField

from market.awards.payment_input import PaymentInput
from market.confirmations.forms import evidence_field
from market.formtools import DeclaredForm, MoneyField
from market.preorders.inputs import (
    AcceptanceInput,
    AgreementInput,
    AgreementTermsInput,
    DeliveryInput,
    TerminationInput,
)

DATE_INPUT = {"type": "date"}


class AgreementPageForm(DeclaredForm):
    """A declared form shown with a prefix beside the others on the agreement page; a missing value shows the input's
    own message."""

    input_says_missing = True


class AgreementTermsForm(DeclaredForm):
    """What an agreement says (also the form for an amended version, whose parties stay the same)."""

    number = StringField(_l("协议编号"), description=_l("合同文本上的编号，平台内唯一，如 YG-2025-018。"))
    product = StringField(_l("产品名称"))
    description = TextAreaField(_l("产品说明"))
    quantity = StringField(_l("数量"), render_kw={"inputmode": "numeric"})
    unit = StringField(_l("计量单位"), default="台", description=_l("如 台、套、件、吨。"))
    unit_price_fen = MoneyField(_l("单价"))
    value_fen = MoneyField(_l("协议总金额"), note=_l("可不填"),
                           description=_l("不填时按 数量 × 单价 计算；协议约定的总金额与之不同时（如含批量折扣）请填写。"))
    delivery_schedule = TextAreaField(_l("交付计划"),
                                      description=_l("分批交付的时间和数量，如“2025年6月前交付40台，12月前交付60台”。"))
    signed_on = StringField(_l("签订日期"), render_kw=DATE_INPUT, description=_l("格式 YYYY-MM-DD，不能晚于今天。"))
    is_related_party = BooleanField(_l("买卖双方存在关联关系"),
                                    description=_l("如实声明。存在关联关系的协议可以登记，但不享受预约采购后补助。"))
    input_says_missing = True

    def declared_input(self):
        """The terms input the agreement services validate with."""
        return AgreementTermsInput

    def to_service_data(self) -> dict:
        """The values the agreement service validates."""
        return {name: self._fields[name].data for name in AgreementTermsInput.model_fields}

    def fill_from(self, agreement) -> None:
        """Show an existing agreement's terms (for its amended version)."""
        for name in ("product", "description", "quantity", "unit", "delivery_schedule", "is_related_party"):
            self._fields[name].data = getattr(agreement, name)
        self.quantity.data = str(agreement.quantity)
        self.unit_price_fen.data = agreement.unit_price_fen
        if agreement.value_fen != agreement.quantity * agreement.unit_price_fen:
            self.value_fen.data = agreement.value_fen
        self.signed_on.data = ""


class AgreementForm(AgreementTermsForm):
    """A new agreement: its terms and its parties."""

    buyer_id = SelectField(_l("买方企业"), validate_choice=False)
    seller_id = SelectField(_l("卖方企业（谷区入驻的科创企业）"), validate_choice=False,
                            description=_l("括号内为卖方入驻的谷区和入驻日期；签订日未入驻谷区的卖方不享受后补助。"))
    broker_id = SelectField(_l("技术经理人（可不选）"), validate_choice=False)

    def declared_input(self):
        """The new-agreement input (terms and parties) the agreement service validates with."""
        return AgreementInput

    def to_service_data(self) -> dict:
        """Terms and parties for the agreement service (no broker field when the user is the broker)."""
        data = super().to_service_data()
        data["buyer_id"] = self.buyer_id.data
        data["seller_id"] = self.seller_id.data
        if "broker_id" in self._fields:
            data["broker_id"] = self.broker_id.data or None
        return data


class DeliveryForm(AgreementPageForm):
    """A delivery under an agreement."""

    delivered_on = StringField(_l("交付日期"), render_kw=DATE_INPUT)
    quantity = StringField(_l("交付数量"), render_kw={"inputmode": "numeric"})
    amount_fen = MoneyField(_l("交付金额"), note=_l("不含增值税"))
    note = TextAreaField(_l("备注"), render_kw={"rows": 2})

    def declared_input(self):
        """The delivery input the delivery service validates with."""
        return DeliveryInput

    def to_service_data(self) -> dict:
        """The values the delivery service validates."""
        return {name: self._fields[name].data for name in DeliveryInput.model_fields}


class AcceptanceForm(AgreementPageForm):
    """The buyer's acceptance of one delivery."""

    accepted_on = StringField(_l("验收日期"), render_kw=DATE_INPUT)

    def declared_input(self):
        """The acceptance input the acceptance service validates with."""
        return AcceptanceInput


class PaymentForm(AgreementPageForm):
    """A payment by the buyer for accepted deliveries (excluding VAT)."""

    amount_fen = MoneyField(_l("付款金额"), note=_l("不含增值税"))
    paid_on = StringField(_l("付款日期"), render_kw=DATE_INPUT)
    evidence = evidence_field(optional=True)

    def declared_input(self):
        """The payment input the API and the payment services validate with."""
        return PaymentInput


class TerminationForm(AgreementPageForm):
    """Ending an agreement, with a reason."""

    reason = TextAreaField(_l("终止原因"), render_kw={"rows": 3})

    def declared_input(self):
        """The termination input the service validates with."""
        return TerminationInput
