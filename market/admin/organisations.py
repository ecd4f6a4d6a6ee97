"""Operator pages for organisations: the queue of verification submissions (verify or refuse with a reason), the list
of organisations, and an organisation's page with its verification and residency history and the residency forms.
Registered on the admin blueprint (its before_request keeps them for admins)."""
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from market.admin.views import bp
from market.errors import DomainError
from market.extensions import db
from market.formtools import EmptyForm, apply_errors, options
from market.organisations import residency, verification
from market.organisations.common import get_organisation, list_organisations
from market.organisations.forms import ResidencyEndForm, ResidencyRecordForm, VerificationRefuseForm
from market.taxonomy import services as taxonomy
from market.unit_of_work import savepoint

NAME_FILTER_MAX_LENGTH = 60
"""The longest name filter read from the organisation list's query string."""


@bp.route("/verifications")
def verification_queue():
    """Verification submissions waiting for a decision."""
    return _queue_page()


def _queue_page(failed_form: VerificationRefuseForm | None = None, failed: int | None = None):
    return render_template("admin/verifications.html", queue=verification.list_verification_queue(db.session),
                           form=EmptyForm(), refuse_form=VerificationRefuseForm(formdata=None),
                           failed_form=failed_form, failed=failed)


@bp.route("/verifications/<int:verification_id>/verify", methods=["POST"])
def verify(verification_id: int):
    """Verify an organisation from its submission."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        with savepoint():
            submission = verification.verify_organisation(db.session, current_user, verification_id)
    except DomainError as error:
        if error.status == 404:
            raise
        flash(error.message, "error")
    else:
        flash(_("已认证：%(name)s", name=submission.organisation.name), "success")
    return redirect(url_for("admin.verification_queue"))


@bp.route("/verifications/<int:verification_id>/refuse", methods=["POST"])
def refuse(verification_id: int):
    """Refuse a submission with a reason the organisation sees."""
    form = VerificationRefuseForm()
    if form.validate_on_submit():
        try:
            with savepoint():
                verification.refuse_verification(db.session, current_user, verification_id, reason=form.reason.data)
        except DomainError as error:
            if error.status == 404:
                raise
            apply_errors(form, error)
        else:
            flash(_("已退回认证申请，机构成员会收到原因。"), "info")
            return redirect(url_for("admin.verification_queue"))
    return _queue_page(form, verification_id), 422


@bp.route("/organisations")
def organisations():
    """Every organisation with its verification state and current residency."""
    name = request.args.get("q", "").strip()[:NAME_FILTER_MAX_LENGTH]
    return render_template("admin/organisations.html", organisations=list_organisations(db.session, name_contains=name),
                           q=name)


@bp.route("/organisations/<int:organisation_id>")
def organisation(organisation_id: int):
    """An organisation's verification and residency history, with the residency forms."""
    return _organisation_page(organisation_id)


def _organisation_page(organisation_id: int, record_form: ResidencyRecordForm | None = None,
                       end_form: ResidencyEndForm | None = None):
    org = get_organisation(db.session, organisation_id)
    record_form = record_form or ResidencyRecordForm(formdata=None)
    _valley_choices(record_form)
    return render_template("admin/organisation.html", org=org,
                           history=verification.list_verifications(db.session, current_user, org.id),
                           residencies=residency.list_residencies(db.session, org.id),
                           current=residency.latest_residency(db.session, org.id),
                           record_form=record_form, end_form=end_form or ResidencyEndForm(formdata=None))


def _valley_choices(form: ResidencyRecordForm) -> None:
    form.valley.choices = options([("", _("请选择谷区"))] + [(v.id, v.name) for v in taxonomy.list_valleys(db.session)])


@bp.route("/organisations/<int:organisation_id>/residencies", methods=["POST"])
def record_residency(organisation_id: int):
    """Record a new residency (a current one ends the day before)."""
    form = ResidencyRecordForm()
    _valley_choices(form)
    if form.validate_on_submit():
        upload = form.agreement.data
        try:
            with savepoint():
                residency.record_residency(db.session, current_user, organisation_id, valley=form.valley.data,
                                           since=form.since.data, note=form.note.data or "",
                                           filename=getattr(upload, "filename", None),
                                           stream=getattr(upload, "stream", None),
                                           upload_folder=current_app.config["UPLOAD_FOLDER"])
        except DomainError as error:
            if error.status == 404:
                raise
            apply_errors(form, error)
        else:
            flash(_("入驻记录已保存。"), "success")
            return redirect(url_for("admin.organisation", organisation_id=organisation_id))
    return _organisation_page(organisation_id, record_form=form), 422


@bp.route("/organisations/<int:organisation_id>/residencies/end", methods=["POST"])
def end_residency(organisation_id: int):
    """Record the last day of the current residency."""
    form = ResidencyEndForm()
    if form.validate_on_submit():
        try:
            with savepoint():
                residency.end_residency(db.session, current_user, organisation_id, until=form.until.data)
        except DomainError as error:
            if error.status == 404:
                raise
            apply_errors(form, error)
        else:
            flash(_("已记录入驻结束。"), "success")
            return redirect(url_for("admin.organisation", organisation_id=organisation_id))
    return _organisation_page(organisation_id, end_form=form), 422
