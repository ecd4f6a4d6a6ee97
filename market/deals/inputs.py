"""Declared inputs of the deal writes: a bid round, accepting a round, the terms, and each move of the pipeline, with
their limits and each move's own messages (rules that need the deal itself stay in the deal modules)."""
import unicodedata
from datetime import date
from typing import Annotated

from flask_babel import gettext as _
from pydantic import Field

from market.deals import recording
from market.deals.limits import (
    DEFAULT_NOTICE_DAYS,
    EARLIEST_DATE,
    MAX_MESSAGE_CHARS,
    MAX_NOTICE_DAYS,
    MAX_REASON_CHARS,
    REGISTRATION_NUMBER,
    REGISTRATION_NUMBER_MAX_LENGTH,
    REGISTRATION_NUMBER_MIN_LENGTH,
)
from market.deals.models import DealStage
from market.deals.recording import clean_amount
from market.declared import DeclaredInput, EmptyInput, cleaned_by, text
from market.inputs import FieldErrors, clean_date, clean_int, clean_text
from market.listings.vocabulary import TransferMode
from market.money import MAX_FEN

MAX_ROUND_NUMBER = 2**31 - 1


def clean_mode(errors: FieldErrors, name: str, value, *, required: bool = True) -> TransferMode | None:
    """One transfer mode of the vocabulary."""
    if value in (None, ""):
        if required:
            errors.add(name, _("请选择转化方式。"))
        return None
    try:
        return TransferMode(value)
    except (ValueError, TypeError):
        errors.add(name, _("无效的选项。"))
        return None


def clean_notice_days(errors: FieldErrors, name: str, value) -> int | None:
    """The length of the public notice in whole days."""
    days = clean_int(errors, name, value, low=DEFAULT_NOTICE_DAYS, high=MAX_NOTICE_DAYS, required=True)
    if name in errors:
        errors[name] = _("公示期应为 %(low)s 到 %(high)s 天的整数。", low=DEFAULT_NOTICE_DAYS, high=MAX_NOTICE_DAYS)
    return days


def clean_signing_date(errors: FieldErrors, name: str, value) -> date | None:
    """The day the contract was signed (not after today)."""
    day = clean_date(errors, name, value, low=EARLIEST_DATE, high=recording.today())
    if name in errors:
        errors[name] = _("签约日期格式应为 YYYY-MM-DD，且不能晚于今天。")
    elif day is None:
        errors.add(name, _("请填写签约日期。"))
    return day


def clean_registration_number(errors: FieldErrors, name: str, value) -> str:
    """A technology-contract registration number: letters, digits and hyphens (full-width forms accepted)."""
    number = clean_text(errors, name, value, max_len=REGISTRATION_NUMBER_MAX_LENGTH, required=True, multiline=False)
    if not number:
        return ""
    number = unicodedata.normalize("NFKC", number).upper().replace(" ", "")
    if not REGISTRATION_NUMBER.fullmatch(number):
        errors.add(name, _("登记编号只能包含字母、数字和连字符，%(low)s 到 %(high)s 位。",
                           low=REGISTRATION_NUMBER_MIN_LENGTH, high=REGISTRATION_NUMBER_MAX_LENGTH))
        return ""
    return number


def clean_registration_date(errors: FieldErrors, name: str, value) -> date | None:
    """The day the contract was registered (not after today)."""
    day = clean_date(errors, name, value, low=EARLIEST_DATE, high=recording.today())
    if name in errors:
        errors[name] = _("登记日期格式应为 YYYY-MM-DD，且不能晚于今天。")
    elif day is None:
        errors.add(name, _("请填写登记日期。"))
    return day


def clean_reason(errors: FieldErrors, name: str, value) -> str:
    """The written reason for ending a deal (required)."""
    reason = clean_text(errors, name, value, max_len=MAX_REASON_CHARS, required=True)
    if name in errors and (value is None or isinstance(value, str) and not value.strip()):
        errors[name] = _("请填写终止原因。")
    return reason


def clean_round_number(errors: FieldErrors, name: str, value) -> int | None:
    """The number of the bid round being accepted."""
    return clean_int(errors, name, value, low=1, high=MAX_ROUND_NUMBER, required=True)


class BidRoundInput(DeclaredInput):
    """One round of a bid: an offer or a counter-offer."""

    amount_fen: Annotated[int, Field(ge=1, le=MAX_FEN, description="报价金额（分）。"),
                          cleaned_by(clean_amount, required=True)]
    mode: Annotated[TransferMode, Field(description="转化方式，须为成果提供的方式之一。"), cleaned_by(clean_mode)]
    message: text(MAX_MESSAGE_CHARS, description="留言。")


class BidAcceptInput(DeclaredInput):
    """Accepting the other side's latest round, named by its number."""

    version: Annotated[int, Field(ge=1, le=MAX_ROUND_NUMBER,
                                  description="所接受的一轮报价的编号，须为最新一轮（防止接受已被更新的报价）。"),
                       cleaned_by(clean_round_number)]


class TermsInput(DeclaredInput):
    """The amount and transfer mode under negotiation (either may be left open)."""

    agreed_amount_fen: Annotated[int | None, Field(None, ge=1, le=MAX_FEN, description="协议价格（分）。"),
                                 cleaned_by(clean_amount, required=False)]
    mode: Annotated[TransferMode | None, Field(None, description="转化方式，须为成果提供的方式之一。"),
                    cleaned_by(clean_mode, required=False)]


class NoticeInput(DeclaredInput):
    """Starting the public notice (公示)."""

    notice_days: Annotated[int, Field(DEFAULT_NOTICE_DAYS, ge=DEFAULT_NOTICE_DAYS, le=MAX_NOTICE_DAYS,
                                      description="公示天数。"), cleaned_by(clean_notice_days)]


class SigningInput(DeclaredInput):
    """The signed contract: its date (after the notice) and amount (the notice's price)."""

    signed_on: Annotated[date, Field(description="签约日期，须在公示期满之后。"), cleaned_by(clean_signing_date)]
    agreed_amount_fen: Annotated[int, Field(ge=1, le=MAX_FEN, description="合同金额（分），须与公示价格一致。"),
                                 cleaned_by(clean_amount, required=True)]


class RegistrationInput(DeclaredInput):
    """The technology-contract registration (技术合同登记)."""

    registration_number: Annotated[str, Field(min_length=REGISTRATION_NUMBER_MIN_LENGTH,
                                              max_length=REGISTRATION_NUMBER_MAX_LENGTH,
                                              description="技术合同登记编号。"),
                                   cleaned_by(clean_registration_number)]
    registered_on: Annotated[date, Field(description="登记日期，不早于签约日期。"), cleaned_by(clean_registration_date)]


class CompletionInput(DeclaredInput):
    """Closing a deal in performance."""

    note: text(MAX_REASON_CHARS, description="完成说明；未全部回款时必填。")


class TerminationInput(DeclaredInput):
    """Ending a deal."""

    reason: Annotated[str, Field(max_length=MAX_REASON_CHARS, description="终止原因，必填。"), cleaned_by(clean_reason)]


STAGE_INPUTS: dict[DealStage, type[DeclaredInput]] = {
    DealStage.NEGOTIATION: EmptyInput,
    DealStage.PRICING: EmptyInput,
    DealStage.NOTICE: NoticeInput,
    DealStage.SIGNED: SigningInput,
    DealStage.REGISTERED: RegistrationInput,
    DealStage.COMPLETED: CompletionInput,
    DealStage.TERMINATED: TerminationInput,
}
"""The stages a deal may be moved into by a person and the input each move takes (performance is reached by the first
payment)."""
