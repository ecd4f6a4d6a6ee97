"""The declared input of a payment (deal proceeds and pre-order payments alike): the amount and the day it was paid."""
import datetime as dt
from typing import Annotated, Any

from flask_babel import gettext as _
from pydantic import Field

from market.declared import DeclaredInput, cleaned_by
from market.inputs import FieldErrors, clean_date, clean_whole_number
from market.money import MAX_FEN

EARLIEST_PAYMENT_DATE = dt.date(2000, 1, 1)
"""The earliest day a payment may carry; the services also refuse a day after today or before the signing."""
MIN_PAYMENT_FEN = 1


def clean_payment_amount(errors: FieldErrors, name: str, value, *, high: int) -> int | None:
    """A whole number of fen from MIN_PAYMENT_FEN to `high` (an integer, never text, a float or a bool)."""
    return clean_whole_number(errors, name, value, low=MIN_PAYMENT_FEN, high=high,
                              invalid=_("金额必须是大于零的整数（分）。"), missing=_("请填写金额。"))


def clean_payment_day(errors: FieldErrors, name: str, value, *, low: dt.date) -> dt.date | None:
    """An ISO date (text or a date, never a timestamp) from `low` on."""
    if value is None or value == "":
        errors.add(name, _("请填写付款日期（YYYY-MM-DD）。"))
        return None
    if isinstance(value, dt.datetime):
        errors.add(name, _("日期格式应为 YYYY-MM-DD。"))
        return None
    found = FieldErrors()
    day = clean_date(found, name, value, low=dt.date.min, high=dt.date.max)
    if found:
        errors.add(name, _("日期格式应为 YYYY-MM-DD。"))
        return None
    if day < low:
        errors.add(name, _("日期超出允许范围。"))
        return None
    return day


def paid_amount(high: int = MAX_FEN) -> Any:
    """A required payment amount in fen, at most `high`."""
    return Annotated[int, Field(ge=MIN_PAYMENT_FEN, le=high,
                                description="付款金额（整数“分”，JSON 整数，不加引号、不带小数点或指数）。"),
                     cleaned_by(clean_payment_amount, high=high)]


def paid_day(low: dt.date = EARLIEST_PAYMENT_DATE) -> Any:
    """A required payment day, not before `low` (named `date` in the API's body)."""
    return Annotated[dt.date, Field(alias="date", description="付款日期（YYYY-MM-DD），不早于签约日期、不晚于今天。"),
                     cleaned_by(clean_payment_day, low=low)]


class PaymentInput(DeclaredInput):
    """A payment: its amount in fen and the day it was paid."""

    amount_fen: paid_amount()
    paid_on: paid_day()
