"""Declared inputs of the pre-order agreement writes: an agreement's terms (and, for a new one, its parties), a
delivery, its acceptance and ending an agreement, with their limits and messages (rules that need the stored agreement
stay in the services; a payment is `awards.payment_input.PaymentInput`)."""
import re
import unicodedata
from datetime import date
from typing import Annotated, Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pydantic import Field

from market.declared import DeclaredInput, cleaned_by, text
from market.inputs import MAX_ID, FieldErrors, clean_date, clean_int, clean_text, parse_id
from market.money import MAX_FEN
from market.preorders.models import (
    AGREEMENT_NUMBER_MAX_LENGTH,
    DELIVERY_NOTE_MAX_LENGTH,
    DELIVERY_SCHEDULE_MAX_LENGTH,
    PRODUCT_DESCRIPTION_MAX_LENGTH,
    PRODUCT_MAX_LENGTH,
    TERMINATION_REASON_MAX_LENGTH,
    UNIT_MAX_LENGTH,
)
from market.timeutil import today_in_china

MAX_QUANTITY = 1_000_000_000
EARLIEST_DATE = date(2000, 1, 1)
TYPED_VALUE_MAX_LENGTH = 20
"""The longest text a date or a quantity may be typed as (the value is then read and its range checked)."""
TYPED_VALUE = {"maxLength": TYPED_VALUE_MAX_LENGTH}
"""The typed-text limit as the JSON schema of a date or a quantity shows it (forms take it from there)."""

_NUMBER_TEXT = re.compile(r"[0-9A-Za-z\u4e00-\u9fff〔〕【】\[\]()\-_/.#·]+")
_MARKUP = re.compile(r"<\s*[A-Za-z/!?]")


def fits_typed_length(errors: FieldErrors, name: str, value) -> bool:
    """Whether a value typed as text is at most TYPED_VALUE_MAX_LENGTH characters (records the error when not)."""
    if isinstance(value, str) and len(value) > TYPED_VALUE_MAX_LENGTH:
        errors.add(name, _("不能超过 %(n)s 个字符。", n=TYPED_VALUE_MAX_LENGTH))
        return False
    return True


def clean_line(errors: FieldErrors, name: str, value, *, max_len: int, required: bool = True) -> str:
    """One line of text without markup."""
    line = clean_text(errors, name, value, max_len=max_len, required=required, multiline=False)
    if line and _MARKUP.search(line):
        errors.add(name, _("不能包含 HTML 标签。"))
        return ""
    return line


def clean_agreement_number(errors: FieldErrors, name: str, value) -> str:
    """The agreement number: letters, digits, Chinese characters and -_/.#·()〔〕【】[] only."""
    number = clean_line(errors, name, value, max_len=AGREEMENT_NUMBER_MAX_LENGTH)
    if not number:
        return ""
    number = unicodedata.normalize("NFKC", number)
    if not _NUMBER_TEXT.fullmatch(number):
        errors.add(name, _("协议编号只能包含字母、数字、汉字和 - _ / . # · ( ) 〔 〕 【 】 等符号，不能有空格。"))
        return ""
    return number


def clean_quantity(errors: FieldErrors, name: str, value) -> int | None:
    """A whole number of units from 1 to MAX_QUANTITY (required)."""
    if not fits_typed_length(errors, name, value):
        return None
    return clean_int(errors, name, value, low=1, high=MAX_QUANTITY, required=True)


def clean_money(errors: FieldErrors, name: str, value, *, required: bool = True) -> int | None:
    """A positive amount of integer fen up to MAX_FEN."""
    if value is None or value == "":
        if required:
            errors.add(name, _("请填写金额。"))
        return None
    if type(value) is not int:
        errors.add(name, _("金额必须是以“分”为单位的整数。"))
        return None
    if value <= 0:
        errors.add(name, _("金额必须大于零。"))
        return None
    if value > MAX_FEN:
        errors.add(name, _("金额超出允许的上限。"))
        return None
    return value


def clean_past_day(errors: FieldErrors, name: str, value, *, missing: str, future: str) -> date | None:
    """A required ISO date from EARLIEST_DATE to today; `missing` and `future` are the field's own messages."""
    if not fits_typed_length(errors, name, value):
        return None
    day = clean_date(errors, name, value, low=EARLIEST_DATE, high=date.max)
    if day is None:
        if name not in errors:
            errors.add(name, str(missing))
        return None
    if day > today_in_china():
        errors.add(name, str(future))
        return None
    return day


def clean_flag(errors: FieldErrors, name: str, value) -> bool:
    """A yes/no declaration (absent means no)."""
    if value in (None, ""):
        return False
    if not isinstance(value, bool):
        errors.add(name, _("无效的选项。"))
        return False
    return value


def clean_enterprise_id(errors: FieldErrors, name: str, value) -> int | None:
    """The id of the chosen enterprise (required; whether it is an approved one is the service's check)."""
    organisation_id = parse_id(value)
    if organisation_id is None:
        errors.add(name, _("请选择企业。"))
    return organisation_id


def clean_broker_id(errors: FieldErrors, name: str, value) -> int | None:
    """The id of the chosen broker, if any (whether it is an approved broker is the service's check)."""
    if value in (None, ""):
        return None
    broker_id = parse_id(value)
    if broker_id is None:
        errors.add(name, _("请选择平台上已审核的技术经理人。"))
    return broker_id


def line(max_length: int, *, description: str) -> Any:
    """A required line of text without markup, at most `max_length` characters."""
    return Annotated[str, Field(max_length=max_length, description=description),
                     cleaned_by(clean_line, max_len=max_length)]


def amount(*, required: bool, description: str) -> Any:
    """An amount in integer fen from 1 to MAX_FEN."""
    if required:
        return Annotated[int, Field(ge=1, le=MAX_FEN, description=description), cleaned_by(clean_money)]
    return Annotated[int | None, Field(None, ge=1, le=MAX_FEN, description=description),
                     cleaned_by(clean_money, required=False)]


def past_day(*, missing: str, future: str, description: str) -> Any:
    """A required day, not after today, typed as YYYY-MM-DD."""
    return Annotated[date, Field(description=description, json_schema_extra=TYPED_VALUE),
                     cleaned_by(clean_past_day, missing=missing, future=future)]


def unit_count(description: str) -> Any:
    """A required number of units."""
    return Annotated[int, Field(ge=1, le=MAX_QUANTITY, description=description, json_schema_extra=TYPED_VALUE),
                     cleaned_by(clean_quantity)]


class AgreementTermsInput(DeclaredInput):
    """What an agreement says (also an amended version's terms; its parties stay the same)."""

    number: Annotated[str, Field(max_length=AGREEMENT_NUMBER_MAX_LENGTH, description="协议编号，平台内唯一。"),
                      cleaned_by(clean_agreement_number)]
    product: line(PRODUCT_MAX_LENGTH, description="产品名称。")
    description: text(PRODUCT_DESCRIPTION_MAX_LENGTH, description="产品说明。")
    quantity: unit_count("数量。")
    unit: line(UNIT_MAX_LENGTH, description="计量单位。")
    unit_price_fen: amount(required=True, description="单价（分）。")
    value_fen: amount(required=False, description="协议总金额（分）；不填时为 数量 × 单价。")
    delivery_schedule: text(DELIVERY_SCHEDULE_MAX_LENGTH, description="交付计划。")
    signed_on: past_day(missing=_l("请填写签订日期。"), future=_l("签订日期不能晚于今天。"),
                        description="签订日期（YYYY-MM-DD），不晚于今天。")
    is_related_party: Annotated[bool, Field(False, description="买卖双方是否存在关联关系。"), cleaned_by(clean_flag)]

    @classmethod
    def check_together(cls, values: dict, errors: FieldErrors) -> None:
        """An empty total is quantity × unit price, which must itself be an allowed amount."""
        count, price = values.get("quantity"), values.get("unit_price_fen")
        if "value_fen" in values and values["value_fen"] is None and count and price:
            if count * price > MAX_FEN:
                errors.add("value_fen", _("数量 × 单价超出允许的上限，请检查数量和单价。"))
            else:
                values["value_fen"] = count * price


class AgreementInput(AgreementTermsInput):
    """A new agreement: its terms and its parties (two different approved enterprises and an optional broker)."""

    buyer_id: Annotated[int, Field(ge=1, le=MAX_ID, description="买方企业的编号。"), cleaned_by(clean_enterprise_id)]
    seller_id: Annotated[int, Field(ge=1, le=MAX_ID, description="卖方企业的编号。"), cleaned_by(clean_enterprise_id)]
    broker_id: Annotated[int | None, Field(None, ge=1, le=MAX_ID, description="技术经理人的编号（可不填）。"),
                         cleaned_by(clean_broker_id)]


class DeliveryInput(DeclaredInput):
    """A delivery under an agreement (not before its signing; the total delivered stays within its value)."""

    delivered_on: past_day(missing=_l("请填写交付日期。"), future=_l("交付日期不能晚于今天。"),
                           description="交付日期（YYYY-MM-DD），不早于协议签订日期、不晚于今天。")
    quantity: unit_count("交付数量。")
    amount_fen: amount(required=True, description="交付金额（分，不含增值税）。")
    note: text(DELIVERY_NOTE_MAX_LENGTH, description="备注。")


class AcceptanceInput(DeclaredInput):
    """The buyer's acceptance of one delivery (not before it was delivered)."""

    accepted_on: past_day(missing=_l("请填写验收日期。"), future=_l("验收日期不能晚于今天。"),
                          description="验收日期（YYYY-MM-DD），不早于交付日期、不晚于今天。")


class TerminationInput(DeclaredInput):
    """Ending an agreement, with a reason the parties are told."""

    reason: text(TERMINATION_REASON_MAX_LENGTH, required=True, description="终止原因，必填。")
