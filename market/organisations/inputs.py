"""Declared inputs of an organisation's verification (its credit code; an admin's refusal) and of an admin's residency
records, with their limits and messages (rules that need stored records — the state of the verification, a code
already verified for another organisation, the valley, the open residency — stay in the services)."""
import datetime as dt
from typing import Annotated

from flask_babel import gettext as _
from pydantic import Field

from market.accounts.models import CREDIT_CODE_LENGTH, RESIDENCY_NOTE_MAX_LENGTH, VERIFICATION_REASON_MAX_LENGTH
from market.declared import DeclaredInput, cleaned_by, text
from market.inputs import FieldErrors, clean_date, clean_required_text, clean_text
from market.organisations.credit_code import CreditCodeProblem, credit_code_problem, normalise_credit_code
from market.taxonomy.models import VALLEY_ID_MAX_LENGTH
from market.timeutil import today_in_china
from market.uploads import MEGABYTE

EVIDENCE_PDF_MAX_BYTES = 10 * MEGABYTE
"""The largest business licence or 入驻 agreement PDF."""
CREDIT_CODE_TYPED_MAX_LENGTH = 40
"""What may be typed for a credit code before it is normalised (spaces and hyphens are dropped)."""


def clean_credit_code(errors: FieldErrors, name: str, value) -> str:
    """A 统一社会信用代码: 18 characters whose last is the GB 32100-2015 check character."""
    typed = clean_text(errors, name, value, max_len=CREDIT_CODE_TYPED_MAX_LENGTH, multiline=False)
    if name in errors:
        return ""
    code = normalise_credit_code(typed)
    if not code:
        errors.add(name, _("请填写统一社会信用代码。"))
        return ""
    problem = credit_code_problem(code)
    if problem == CreditCodeProblem.LENGTH:
        errors.add(name, _("统一社会信用代码应为 %(n)s 位。", n=CREDIT_CODE_LENGTH))
    elif problem == CreditCodeProblem.FORMAT:
        errors.add(name, _("统一社会信用代码包含不允许的字符（前 8 位为数字，其余为数字或大写字母，不含 I、O、Z、S、V）。"))
    elif problem == CreditCodeProblem.CHECK_CHARACTER:
        errors.add(name, _("统一社会信用代码的校验位不正确，请逐位核对。"))
    return "" if problem else code


def clean_refusal_reason(errors: FieldErrors, name: str, value) -> str:
    """Why an admin refused a verification (required; the organisation sees it)."""
    return clean_required_text(errors, name, value, max_len=VERIFICATION_REASON_MAX_LENGTH,
                               missing=_("请填写不通过的原因。"))


def clean_valley_choice(errors: FieldErrors, name: str, value) -> str:
    """The id of the valley chosen from a list (the service checks that it exists)."""
    valley = clean_text(errors, name, value, max_len=VALLEY_ID_MAX_LENGTH, multiline=False)
    if not valley and name not in errors:
        errors.add(name, _("请选择谷区。"))
    return valley


def _past_day(errors: FieldErrors, name: str, value, missing: str) -> dt.date | None:
    """A required ISO date not after today."""
    if value is None or value == "":
        errors.add(name, missing)
        return None
    found = FieldErrors()
    day = clean_date(found, name, value, low=dt.date.min, high=today_in_china())
    if found:
        errors.add(name, _("请填写不晚于今天的日期（YYYY-MM-DD）。"))
        return None
    return day


def clean_entry_day(errors: FieldErrors, name: str, value) -> dt.date | None:
    """The first day of a residency."""
    return _past_day(errors, name, value, _("请填写入驻日期。"))


def clean_last_day(errors: FieldErrors, name: str, value) -> dt.date | None:
    """The last day of a residency."""
    return _past_day(errors, name, value, _("请填写入驻的最后一天。"))


class VerificationSubmitInput(DeclaredInput):
    """An organisation's credit code (the business licence PDF comes as the upload)."""

    credit_code: Annotated[str, Field(max_length=CREDIT_CODE_TYPED_MAX_LENGTH,
                                      description="统一社会信用代码，18 位，末位为 GB 32100-2015 校验码。"),
                           cleaned_by(clean_credit_code)]


class VerificationRefuseInput(DeclaredInput):
    """An admin's reason for refusing a verification."""

    reason: Annotated[str, Field(max_length=VERIFICATION_REASON_MAX_LENGTH, description="不通过的原因，机构可见。"),
                      cleaned_by(clean_refusal_reason)]


class ResidencyRecordInput(DeclaredInput):
    """A new residency: the valley, the first day, a note (the 入驻 agreement PDF comes as an optional upload)."""

    valley: Annotated[str, Field(max_length=VALLEY_ID_MAX_LENGTH, description="谷区代码。"),
                      cleaned_by(clean_valley_choice)]
    since: Annotated[dt.date, Field(description="入驻日期，不晚于今天。"), cleaned_by(clean_entry_day)]
    note: text(RESIDENCY_NOTE_MAX_LENGTH, description="备注。")


class ResidencyEndInput(DeclaredInput):
    """The last day of the current residency."""

    until: Annotated[dt.date, Field(description="入驻的最后一天（含当日），不晚于今天。"), cleaned_by(clean_last_day)]
