"""Declared inputs of the admin's money writes: recording a payout, reversing an award and entering a start-up capital
grant, with their
limits and messages (rules that need stored records — the award's status, the enterprise, the rules in force — stay
in the services). A rule-set upload declares no field: its only input is the file, which the rule-set parser checks."""
import datetime as dt
from typing import Annotated

from flask_babel import gettext as _
from pydantic import Field

from market.declared import DeclaredInput, cleaned_by
from market.inputs import MAX_ID, FieldErrors, clean_date, clean_id, clean_required_text, clean_text, clean_whole_number
from market.money import MAX_FEN
from market.timeutil import today_in_china
from market.uploads import MEGABYTE

VOUCHER_REFERENCE_MAX_LENGTH = 60
"""The longest payout voucher reference (the bank's 付款凭证号 or the treasury's document number)."""
VOUCHER_PDF_MAX_BYTES = 10 * MEGABYTE
"""The largest payout voucher PDF."""

REVERSAL_REASON_MAX_LENGTH = 500
"""The longest reversal reason, kept whole as the memo of the reversing postings."""


def clean_reversal_reason(errors: FieldErrors, name: str, value) -> str:
    """The written reason for reversing an award (required)."""
    return clean_required_text(errors, name, value, max_len=REVERSAL_REASON_MAX_LENGTH, missing=_("请填写冲正原因。"))


def clean_voucher_reference(errors: FieldErrors, name: str, value) -> str:
    """The payout voucher's reference: one line, trimmed, required."""
    text = clean_text(errors, name, value, max_len=VOUCHER_REFERENCE_MAX_LENGTH, required=True, multiline=False)
    if name in errors and (value is None or isinstance(value, str) and not value.strip()):
        errors[name] = _("请填写付款凭证号。")
    return text


def _past_day(errors: FieldErrors, name: str, value, missing: str, late: str) -> dt.date | None:
    """An ISO date not after today, with the caller's messages for a missing and a bad or future day."""
    if value is None or value == "":
        errors.add(name, missing)
        return None
    found = FieldErrors()
    day = clean_date(found, name, value, low=dt.date.min, high=today_in_china())
    if found:
        errors.add(name, late)
        return None
    return day


def clean_payout_day(errors: FieldErrors, name: str, value) -> dt.date | None:
    """The day the payout was made: an ISO date not after today (the service checks it is not before approval)."""
    return _past_day(errors, name, value, _("请填写发放日期。"), _("发放日期应为不晚于今天的日期。"))


def clean_enterprise_id(errors: FieldErrors, name: str, value) -> int | None:
    """The id of the enterprise a grant is for (chosen from a list)."""
    if value is None or value == "":
        errors.add(name, _("请选择企业。"))
        return None
    return clean_id(errors, name, value)


def clean_grant_day(errors: FieldErrors, name: str, value) -> dt.date | None:
    """The day of a grant: an ISO date not after today."""
    if value is None or value == "":
        errors.add(name, _("请填写日期。"))
        return None
    found = FieldErrors()
    day = clean_date(found, name, value, low=dt.date.min, high=today_in_china())
    if found:
        errors.add(name, _("请填写不晚于今天的日期。"))
        return None
    return day


def _grant_amount(errors: FieldErrors, name: str, value, missing: str) -> int | None:
    """A whole number of fen from 0 to MAX_FEN (an integer, never text, a float or a bool)."""
    return clean_whole_number(errors, name, value, low=0, high=MAX_FEN, invalid=_("金额必须是不小于零的整数（分）。"),
                              missing=missing)


def clean_founders_paid_in(errors: FieldErrors, name: str, value) -> int | None:
    """The founders' own paid-in capital in fen."""
    return _grant_amount(errors, name, value, _("请填写创始人实缴金额。"))


def clean_proposed_grant(errors: FieldErrors, name: str, value) -> int | None:
    """The amount proposed for the grant in fen (the rules cap it)."""
    return _grant_amount(errors, name, value, _("请填写拟支持金额。"))


class ReversalInput(DeclaredInput):
    """Reversing an award (a paid one becomes a receivable from its recipient)."""

    reason: Annotated[str, Field(max_length=REVERSAL_REASON_MAX_LENGTH, description="冲正原因，必填；记为反向分录的备注。"),
                      cleaned_by(clean_reversal_reason)]


REISSUE_REASON_MAX_LENGTH = REVERSAL_REASON_MAX_LENGTH
"""The longest reason for re-issuing a corrected amount (kept with the new award)."""


def clean_reissue_reason(errors: FieldErrors, name: str, value) -> str:
    """Why the corrected amount is issued (required)."""
    return clean_required_text(errors, name, value, max_len=REISSUE_REASON_MAX_LENGTH, missing=_("请填写更正原因。"))


def clean_corrected_amount(errors: FieldErrors, name: str, value) -> int | None:
    """The corrected amount in fen: a whole number above zero (the service bounds it by the computed amount)."""
    return clean_whole_number(errors, name, value, low=1, high=MAX_FEN, invalid=_("更正金额必须是大于零的整数（分）。"),
                              missing=_("请填写更正金额。"))


class ReissueInput(DeclaredInput):
    """Issuing the corrected amount of a reversed award as a new award (settled question 2)."""

    amount_fen: Annotated[int, Field(ge=1, le=MAX_FEN, description="更正金额（分），不超过原奖补的计算金额；按原事项日期的上限核定。"),
                          cleaned_by(clean_corrected_amount)]
    reason: Annotated[str, Field(max_length=REISSUE_REASON_MAX_LENGTH, description="更正原因，必填。"),
                      cleaned_by(clean_reissue_reason)]


class PayoutInput(DeclaredInput):
    """The payout of an approved award as the admin records it (the voucher PDF, optional, is a file, not a field)."""

    voucher_reference: Annotated[str, Field(max_length=VOUCHER_REFERENCE_MAX_LENGTH,
                                            description="付款凭证号（如银行付款凭证号），必填。"),
                                 cleaned_by(clean_voucher_reference)]
    paid_on: Annotated[dt.date, Field(description="发放日期，不晚于今天，也不早于审批日期。"),
                       cleaned_by(clean_payout_day)]


def clean_recovery_day(errors: FieldErrors, name: str, value) -> dt.date | None:
    """The day a reversed payout was recovered: an ISO date not after today (the service checks it is not before the
    payout)."""
    return _past_day(errors, name, value, _("请填写追回日期。"), _("追回日期应为不晚于今天的日期。"))


class RecoveryInput(DeclaredInput):
    """The recovery of a reversed payout from its recipient, as the admin records it."""

    voucher_reference: Annotated[str, Field(max_length=VOUCHER_REFERENCE_MAX_LENGTH,
                                            description="收款凭证号（追回款项的银行凭证号），必填。"),
                                 cleaned_by(clean_voucher_reference)]
    recovered_on: Annotated[dt.date, Field(description="追回日期，不晚于今天，也不早于发放日期。"),
                            cleaned_by(clean_recovery_day)]


class StartupGrantInput(DeclaredInput):
    """A start-up (registered) capital grant for an enterprise resident in a valley (R4), as the admin enters it."""

    organisation_id: Annotated[int, Field(ge=1, le=MAX_ID, description="获得支持的入驻谷区企业的编号。"),
                               cleaned_by(clean_enterprise_id)]
    granted_on: Annotated[dt.date, Field(description="支持日期，不晚于今天。"), cleaned_by(clean_grant_day)]
    founders_paid_in_fen: Annotated[int, Field(ge=0, le=MAX_FEN, description="创始人自有资金实缴（分）。"),
                                    cleaned_by(clean_founders_paid_in)]
    awarded_fen: Annotated[int, Field(ge=0, le=MAX_FEN, description="拟支持金额（分），按现行规则封顶。"),
                           cleaned_by(clean_proposed_grant)]
