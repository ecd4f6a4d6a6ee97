"""The registration certificate download, its upload to a registration migrated without one, and an admin's verify /
refuse buttons on the deal page (the queue of registrations to verify is in market/admin/registrations.py)."""
from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from market.confirmations.forms import DecisionForm, evidence_upload
from market.deals import registrations
from market.deals.forms import CertificateForm
from market.deals.labels import REGISTRATION_STATUS_LABELS
from market.deals.models import DealRegistration
from market.deals.views import bp
from market.errors import DomainError
from market.extensions import db
from market.formtools import submit_small_form
from market.unit_of_work import savepoint
from market.uploads import send_stored_pdf

DECISION_MESSAGES = {
    "verify": _l("技术合同登记已核验。"),
    "refuse": _l("技术合同登记已驳回，相关各方会收到原因。"),
}


@bp.app_template_global("may_decide_registration")
def current_user_may_decide_registration(registration: DealRegistration) -> bool:
    """Whether the signed-in user may verify or refuse the registration now."""
    return registrations.may_decide(current_user, registration)


@bp.app_template_global("may_verify_registration")
def current_user_may_verify_registration(registration: DealRegistration) -> bool:
    """Whether the signed-in user may verify the registration now (it carries its certificate)."""
    return registrations.may_verify(current_user, registration)


@bp.app_template_global("may_add_certificate")
def current_user_may_add_certificate(registration: DealRegistration) -> bool:
    """Whether the signed-in user may add the certificate a migrated registration lacks."""
    return registrations.may_add_certificate(current_user, registration)


@bp.app_template_global()
def certificate_form() -> CertificateForm:
    """The form that adds a missing certificate (rendered without posted data)."""
    return CertificateForm(formdata=None)


@bp.app_template_global()
def registration_status_label(status: str) -> str:
    """A registration's status in words."""
    return str(REGISTRATION_STATUS_LABELS[status])


def decide_from_form(registration_id: int, decision: str) -> DealRegistration | None:
    """Run an admin's posted decision: the registration, or None after flashing why it was refused."""
    form = DecisionForm()
    if decision not in registrations.DECISIONS:
        flash(_("没有这项操作。"), "error")
        return None
    if not form.validate_on_submit():
        flash("；".join(message for messages in form.errors.values() for message in messages), "error")
        return None
    try:
        with savepoint():
            registration = registrations.decide_registration(db.session, current_user, registration_id, decision,
                                                             reason=form.reason.data or "")
    except DomainError as error:
        if error.status == 404:
            raise
        flash("；".join(error.fields.values()) or error.message, "error")
        return None
    flash(str(DECISION_MESSAGES[decision]), "success")
    return registration


@bp.route("/registrations/<int:registration_id>/decide/<decision>", methods=["POST"])
@login_required
def decide_registration(registration_id: int, decision: str):
    """An admin verifies or refuses a registration from the deal page."""
    registration = registrations.get_registration(db.session, current_user, registration_id)
    deal_id = registration.deal_id
    decide_from_form(registration_id, decision)
    return redirect(url_for("deals.detail", deal_id=deal_id, _anchor="registrations"))


@bp.route("/registrations/<int:registration_id>/certificate")
@login_required
def registration_certificate(registration_id: int):
    """A registration's certificate, for the deal's parties, its broker and admins (404 for everyone else)."""
    registration = registrations.get_certificate(db.session, current_user, registration_id)
    return send_stored_pdf(registration.certificate_stored_name, registration.certificate_original_name)


@bp.route("/registrations/<int:registration_id>/certificate", methods=["POST"])
@login_required
def add_registration_certificate(registration_id: int):
    """The transferor or the deal's broker adds the certificate PDF a migrated registration lacks."""
    registration = registrations.get_registration(db.session, current_user, registration_id)
    form = CertificateForm()
    submit_small_form(form, lambda: registrations.add_certificate(
        db.session, current_user, registration_id, evidence_upload(form.certificate.data)),
        _("登记证明已上传，待平台运营人员核验。"))
    return redirect(url_for("deals.detail", deal_id=registration.deal_id, _anchor=f"registration-{registration_id}"))
