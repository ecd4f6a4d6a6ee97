"""The receipt or invoice of a deal's proceeds payment: its recorder attaches it while the payment is open; the
parties, the deal's broker and admins download it."""
from flask import redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market.confirmations.evidence import may_attach_evidence
from market.confirmations.forms import EvidenceForm, evidence_upload
from market.confirmations.inputs import EVIDENCE_PDF_MAX_BYTES
from market.deals import payments as payment_services
from market.deals.views import bp
from market.extensions import db
from market.formtools import submit_small_form
from market.uploads import send_stored_pdf, size_text


@bp.app_template_global()
def evidence_max_size() -> str:
    """The size limit of an evidence PDF as people read it."""
    return size_text(EVIDENCE_PDF_MAX_BYTES)


@bp.app_template_global("may_attach_evidence")
def current_user_may_attach_evidence(record) -> bool:
    """Whether the signed-in user may attach the evidence of the record now (its recorder, while it is open)."""
    return may_attach_evidence(current_user, record)


@bp.route("/payments/<int:payment_id>/evidence", methods=["POST"])
@login_required
def attach_payment_evidence(payment_id: int):
    """The recorder attaches the bank receipt or invoice to a payment that waits for a decision."""
    payment = payment_services.get_payment(db.session, current_user, payment_id)
    form = EvidenceForm()
    submit_small_form(form, lambda: payment_services.attach_deal_payment_evidence(
        db.session, current_user, payment_id, evidence_upload(form.evidence.data)), _("凭证已上传。"))
    return redirect(url_for("deals.detail", deal_id=payment.deal_id, _anchor=f"payment-{payment.id}"))


@bp.route("/payments/<int:payment_id>/evidence")
@login_required
def payment_evidence(payment_id: int):
    """A payment's receipt or invoice, for the deal's parties, its broker and admins (404 for everyone else)."""
    payment = payment_services.get_payment_evidence(db.session, current_user, payment_id)
    return send_stored_pdf(payment.evidence_stored_name, payment.evidence_original_name)
