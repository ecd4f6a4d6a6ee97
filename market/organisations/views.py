"""The organisation's verification page (its state and history, the submission form) and the downloads of business
licences and 入驻 agreements, for the organisation's members and admins."""
from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market.errors import DomainError, PermissionDeniedError
from market.extensions import db
from market.formtools import apply_errors
from market.organisations import residency, verification
from market.organisations.common import get_organisation
from market.organisations.forms import VerificationSubmitForm
from market.organisations.permissions import can_see_organisation_documents, can_submit_verification
from market.organisations.verification import SUBMITTABLE
from market.unit_of_work import savepoint
from market.uploads import send_stored_pdf

bp = Blueprint("organisations", __name__)
bp.add_app_template_global(can_see_organisation_documents)


@bp.route("/organisations/<int:organisation_id>/verification", methods=["GET", "POST"])
@login_required
def verification_page(organisation_id: int):
    """The organisation's verification state and history; its members submit the credit code and licence here."""
    history = verification.list_verifications(db.session, current_user, organisation_id)
    organisation = get_organisation(db.session, organisation_id)
    form = VerificationSubmitForm()
    if form.is_submitted():
        if not can_submit_verification(current_user, organisation.id):
            raise PermissionDeniedError(_("只有本机构已审核的成员可以提交机构认证。"))
        if form.validate():
            upload = form.licence.data
            try:
                with savepoint():
                    verification.submit_verification(
                        db.session, current_user, organisation.id, credit_code=form.credit_code.data,
                        filename=getattr(upload, "filename", None), stream=getattr(upload, "stream", None),
                        upload_folder=current_app.config["UPLOAD_FOLDER"])
            except DomainError as error:
                apply_errors(form, error)
            else:
                flash(_("已提交机构认证，平台审核后会通知您。"), "success")
                return redirect(url_for("organisations.verification_page", organisation_id=organisation.id))
    status = 422 if form.errors or getattr(form, "form_errors", None) else 200
    return render_template("organisations/verification.html", org=organisation, history=history, form=form,
                           residencies=residency.list_residencies(db.session, organisation.id),
                           may_submit=can_submit_verification(current_user, organisation.id)
                           and organisation.verification_status in SUBMITTABLE), status


@bp.route("/organisations/verifications/<int:verification_id>/licence")
@login_required
def licence(verification_id: int):
    """A submitted business licence, for the organisation's members and admins."""
    submission = verification.get_licence(db.session, current_user, verification_id)
    return send_stored_pdf(submission.licence_stored_name, submission.licence_original_name)


@bp.route("/organisations/residencies/<int:residency_id>/agreement")
@login_required
def agreement(residency_id: int):
    """A residency's 入驻 agreement, for the organisation's members and admins."""
    record = residency.get_agreement(db.session, current_user, residency_id)
    return send_stored_pdf(record.evidence_stored_name, record.evidence_original_name)
