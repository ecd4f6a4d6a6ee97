"""Forms of organisation verification and residency: shape only, their required fields and limits taken from the
declared inputs."""
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import SelectField, StringField, TextAreaField

from market.formtools import DeclaredForm
from market.organisations.inputs import (
    EVIDENCE_PDF_MAX_BYTES,
    ResidencyEndInput,
    ResidencyRecordInput,
    VerificationRefuseInput,
    VerificationSubmitInput,
)
from market.uploads import size_text

DATE_INPUT = {"type": "date"}


class VerificationSubmitForm(DeclaredForm):
    """The organisation's credit code and business licence PDF."""

    input_says_missing = True
    credit_code = StringField(_l("统一社会信用代码（18 位）"), render_kw={"autocomplete": "off"})
    licence = FileField(_l("营业执照或法人登记证书（PDF，不超过 %(size)s）", size=size_text(EVIDENCE_PDF_MAX_BYTES)))

    def declared_input(self):
        """The verification submission input."""
        return VerificationSubmitInput


class VerificationRefuseForm(DeclaredForm):
    """An admin's reason for refusing a verification."""

    input_says_missing = True
    reason = TextAreaField(_l("不通过的原因（机构可见）"))

    def declared_input(self):
        """The refusal input."""
        return VerificationRefuseInput


class ResidencyRecordForm(DeclaredForm):
    """A new residency: valley, entry day, note and the optional 入驻 agreement PDF."""

    input_says_missing = True
    valley = SelectField(_l("谷区"), validate_choice=False)
    since = StringField(_l("入驻日期"), render_kw=DATE_INPUT)
    note = TextAreaField(_l("备注"))
    agreement = FileField(_l("入驻协议（PDF，可选，建议上传，不超过 %(size)s）", size=size_text(EVIDENCE_PDF_MAX_BYTES)))

    def declared_input(self):
        """The residency record input."""
        return ResidencyRecordInput


class ResidencyEndForm(DeclaredForm):
    """The last day of the current residency."""

    input_says_missing = True
    until = StringField(_l("入驻的最后一天（含当日）"), render_kw=DATE_INPUT)

    def declared_input(self):
        """The residency end input."""
        return ResidencyEndInput
