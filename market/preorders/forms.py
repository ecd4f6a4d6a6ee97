"""Pre-order agreement forms: shape only; contracts.services holds the rules."""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional

from market.formtools import MarketForm, WanMoneyField, max_length
from market.preorders.models import (
    AGREEMENT_NUMBER_MAX_LENGTH,
    DELIVERY_NOTE_MAX_LENGTH,
    DELIVERY_SCHEDULE_MAX_LENGTH,
    PRODUCT_DESCRIPTION_MAX_LENGTH,
    PRODUCT_MAX_LENGTH,
    TERMINATION_REASON_MAX_LENGTH,
    UNIT_MAX_LENGTH,
)

REQUIRED = _l("此项必填。")
MONEY_HELP = _l("单位：万元，如 150 或 12.5；也可写成“3500元”。")
DATE_INPUT = {"type": "date"}
TYPED_VALUE_MAX_LENGTH = 20
"""A date or a quantity as typed (the service reads the value and checks its range)."""


def _required():
    return InputRequired(message=REQUIRED)


class AgreementTermsForm(MarketForm):
    """What an agreement says (also the form for an amended version, whose parties stay the same)."""

    number = StringField(_l("协议编号"), validators=[_required(), max_length(AGREEMENT_NUMBER_MAX_LENGTH)],
                         description=_l("合同文本上的编号，平台内唯一，如 YG-2025-018。"))
    product = StringField(_l("产品名称"), validators=[_required(), max_length(PRODUCT_MAX_LENGTH)])
    description = TextAreaField(_l("产品说明"), validators=[Optional(), max_length(PRODUCT_DESCRIPTION_MAX_LENGTH)])
    quantity = StringField(_l("数量"), validators=[_required(), max_length(TYPED_VALUE_MAX_LENGTH)],
                           render_kw={"inputmode": "numeric"})
    unit = StringField(_l("计量单位"), validators=[_required(), max_length(UNIT_MAX_LENGTH)], default="台",
                       description=_l("如 台、套、件、吨。"))
    unit_price_fen = WanMoneyField(_l("单价（万元）"), validators=[_required()], description=MONEY_HELP,
                                   render_kw={"inputmode": "decimal"})
    value_fen = WanMoneyField(_l("协议总金额（万元，可不填）"),
                              description=_l("不填时按 数量 × 单价 计算；协议约定的总金额与之不同时（如含批量折扣）请填写。"),
                              render_kw={"inputmode": "decimal"})
    delivery_schedule = TextAreaField(_l("交付计划"), validators=[Optional(), max_length(DELIVERY_SCHEDULE_MAX_LENGTH)],
                                      description=_l("分批交付的时间和数量，如“2025年6月前交付40台，12月前交付60台”。"))
    signed_on = StringField(_l("签订日期"), validators=[_required(), max_length(TYPED_VALUE_MAX_LENGTH)],
                            render_kw=DATE_INPUT, description=_l("格式 YYYY-MM-DD，不能晚于今天。"))
    is_related_party = BooleanField(_l("买卖双方存在关联关系"),
                                    description=_l("如实声明。存在关联关系的协议可以登记，但不享受预约采购后补助。"))

    TERMS = ("number", "product", "description", "quantity", "unit", "unit_price_fen", "value_fen",
             "delivery_schedule", "signed_on", "is_related_party")

    def to_service_data(self) -> dict:
        """The values the agreement service validates."""
        return {name: self._fields[name].data for name in self.TERMS}

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

    buyer_id = SelectField(_l("买方企业"), validators=[_required()], validate_choice=False)
    seller_id = SelectField(_l("卖方企业（谷区入驻的科创企业）"), validators=[_required()], validate_choice=False,
                            description=_l("括号内为卖方入驻的谷区和入驻日期；签订日未入驻谷区的卖方不享受后补助。"))
    broker_id = SelectField(_l("技术经理人（可不选）"), validators=[Optional()], validate_choice=False)

    def to_service_data(self) -> dict:
        """Terms and parties for the agreement service (no broker field when the user is the broker)."""
        data = super().to_service_data()
        data["buyer_id"] = self.buyer_id.data
        data["seller_id"] = self.seller_id.data
        if "broker_id" in self._fields:
            data["broker_id"] = self.broker_id.data or None
        return data


class DeliveryForm(MarketForm):
    """A delivery under an agreement."""

    delivered_on = StringField(_l("交付日期"), validators=[_required(), max_length(TYPED_VALUE_MAX_LENGTH)],
                               render_kw=DATE_INPUT)
    quantity = StringField(_l("交付数量"), validators=[_required(), max_length(TYPED_VALUE_MAX_LENGTH)],
                           render_kw={"inputmode": "numeric"})
    amount_fen = WanMoneyField(_l("交付金额（万元，不含增值税）"), validators=[_required()], description=MONEY_HELP,
                               render_kw={"inputmode": "decimal"})
    note = TextAreaField(_l("备注"), validators=[Optional(), max_length(DELIVERY_NOTE_MAX_LENGTH)], render_kw={"rows": 2})

    def to_service_data(self) -> dict:
        """The values the delivery service validates."""
        return {name: self._fields[name].data for name in ("delivered_on", "quantity", "amount_fen", "note")}


class AcceptanceForm(MarketForm):
    """The buyer's acceptance of one delivery."""

    accepted_on = StringField(_l("验收日期"), validators=[_required(), max_length(TYPED_VALUE_MAX_LENGTH)],
                              render_kw=DATE_INPUT)


class PaymentForm(MarketForm):
    """A payment by the buyer for accepted deliveries (excluding VAT)."""

    amount_fen = WanMoneyField(_l("付款金额（万元，不含增值税）"), validators=[_required()], description=MONEY_HELP,
                               render_kw={"inputmode": "decimal"})
    paid_on = StringField(_l("付款日期"), validators=[_required(), max_length(TYPED_VALUE_MAX_LENGTH)],
                          render_kw=DATE_INPUT)


class TerminationForm(MarketForm):
    """Ending an agreement, with a reason."""

    reason = TextAreaField(_l("终止原因"), validators=[_required(), max_length(TERMINATION_REASON_MAX_LENGTH)],
                           render_kw={"rows": 3})


