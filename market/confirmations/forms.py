"""The forms of a decision on a recorded fact and of the evidence PDF it carries."""
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import TextAreaField

from market.confirmations.evidence import EvidenceUpload
from market.confirmations.inputs import EVIDENCE_PDF_MAX_BYTES, DecisionInput
from market.formtools import DeclaredForm, MarketForm
from market.uploads import size_text


class DecisionForm(DeclaredForm):
    """Confirm, dispute, withdraw or refuse a recorded fact, with the reason a dispute or refusal needs."""

    reason = TextAreaField(_l("理由"))

    def declared_input(self):
        """The decision input of the confirmations."""
        return DecisionInput


def evidence_field(optional: bool) -> FileField:
    """The file field of a payment's receipt or invoice (optional when recording, required when attached later)."""
    size = size_text(EVIDENCE_PDF_MAX_BYTES)
    if optional:
        return FileField(_l("凭证：银行回单或发票（PDF，可选，不超过 %(size)s）", size=size))
    return FileField(_l("凭证：银行回单或发票（PDF，不超过 %(size)s）", size=size))


class EvidenceForm(MarketForm):
    """Attach the receipt or invoice to a payment that waits for a decision."""

    evidence = evidence_field(optional=False)


def evidence_upload(data) -> EvidenceUpload:
    """The uploaded file of an evidence field as the services take it (none when the field was left empty)."""
    return EvidenceUpload(getattr(data, "filename", None), getattr(data, "stream", None),
                          current_app.config["UPLOAD_FOLDER"])
