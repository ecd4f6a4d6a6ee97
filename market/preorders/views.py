"""Pre-order agreement pages: the list, recording an agreement, its page with its confirmation, deliveries,
acceptance, payments and subsidies, confirming, refusing or withdrawing it, amending and ending it."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from market.accounts.models import Role
from market.awards.services import active_rule_sets
from market.confirmations.forms import DecisionForm, EvidenceForm, evidence_upload
from market.confirmations.models import COUNTED_STATUSES
from market.errors import DomainError, NotFoundError, PermissionDeniedError
from market.extensions import db
from market.formtools import apply_errors, options, submit_small_form
from market.money import format_yuan
from market.preorders import permissions, proposals, services
from market.preorders.forms import (
    AcceptanceForm,
    AgreementForm,
    AgreementTermsForm,
    DeliveryForm,
    PaymentForm,
    TerminationForm,
)
from market.preorders.models import AgreementStatus, PreorderAgreement
from market.preorders.payments import (
    attach_preorder_payment_evidence,
    get_payment,
    get_payment_evidence,
    payment_choices,
)
from market.taxonomy.services import list_valleys
from market.timeutil import today_in_china
from market.unit_of_work import savepoint
from market.uploads import send_stored_pdf

bp = Blueprint("preorders", __name__, url_prefix="/contracts")


@bp.context_processor
def labels():
    """Status labels for the contract templates."""
    return {"agreement_status_labels": services.AGREEMENT_STATUS_LABELS}


def _show_refusal(form, error: DomainError) -> int:
    """Put a refusal next to the form's fields (or above them) and give the page's status; 403/404 propagate."""
    if isinstance(error, (NotFoundError, PermissionDeniedError)):
        raise error
    apply_errors(form, error)
    return error.status


def _add_missing_errors(form, errors: dict[str, str]) -> None:
    """After the form's own checks failed, also show the service's findings for fields that have no error yet."""
    for name, message in errors.items():
        if name in form._fields and not form._fields[name].errors:
            form._fields[name].errors = [message]


def _form_status(form, refused: int = 200) -> int:
    """The status of a page showing a form: the refusal's, else 422 when the form has errors."""
    if refused != 200:
        return refused
    return 422 if form.errors or getattr(form, "form_errors", None) else 200


@bp.route("")
@login_required
def index():
    """The agreements the user's organisation signed, a broker's own, or (admins) all; filter by valley, status."""
    status = request.args.get("status", "")
    valley = request.args.get("valley", "")
    try:
        page = int(request.args.get("page", "1"))
    except ValueError:
        page = 1
    result = services.list_agreements(db.session, current_user, status=status, valley=valley, page=page)
    return render_template("preorders/index.html", result=result, status=status, valley=valley,
                           valleys=list_valleys(db.session), statuses=list(AgreementStatus),
                           may_create=permissions.may_create_agreement(current_user))


def _agreement_form() -> AgreementForm:
    form = AgreementForm()
    enterprises = [("", _("请选择企业"))] + services.enterprise_choices(db.session)
    form.buyer_id.choices = options(enterprises)
    form.seller_id.choices = options(enterprises)
    if current_user.role == Role.BROKER:
        del form.broker_id
    else:
        form.broker_id.choices = options([("", _("无"))] + services.broker_choices(db.session))
    return form


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    """Record an agreement; it takes effect once the other party confirms it."""
    if not permissions.may_create_agreement(current_user):
        abort(403)
    form = _agreement_form()
    status = 200
    if request.method == "GET" and current_user.role == Role.ENTERPRISE:
        form.buyer_id.data = str(current_user.organisation_id)
    if form.validate_on_submit():
        try:
            with savepoint():
                agreement = proposals.create_agreement(db.session, current_user, form.to_service_data())
        except DomainError as error:
            status = _show_refusal(form, error)
        else:
            flash(_("预约采购协议 %(n)s 已登记，待%(who)s确认后生效。", n=agreement.number,
                    who=proposals.awaiting_text(agreement)), "success")
            return redirect(url_for("preorders.detail", agreement_id=agreement.id))
    elif request.method == "POST":
        _add_missing_errors(form, services.review_agreement_input(db.session, current_user, form.to_service_data()))
    return render_template("preorders/edit.html", form=form, original=None), _form_status(form, status)


def _render_detail(agreement_id: int, status: int = 200, **forms):
    """The agreement page; a form that was just refused is passed in to show its errors."""
    agreement = services.get_visible_agreement(db.session, current_user, agreement_id)
    today = today_in_china().isoformat()
    acceptance_forms = {}
    for delivery in agreement.deliveries:
        if delivery.accepted_on is None:
            form = forms.get("acceptance") if forms.get("acceptance_for") == delivery.id else None
            if form is None:
                form = AcceptanceForm(prefix=f"accept-{delivery.id}", formdata=None)
                form.accepted_on.data = today
            acceptance_forms[delivery.id] = form
    delivery_form = forms.get("delivery", DeliveryForm(prefix="delivery", formdata=None))
    payment_form = forms.get("payment", PaymentForm(prefix="payment", formdata=None))
    termination_form = forms.get("termination", TerminationForm(prefix="terminate", formdata=None))
    rule_sets = active_rule_sets(db.session)
    rows = services.payment_rows(db.session, agreement)
    user = current_user
    return render_template(
        "preorders/detail.html", a=agreement, rows=rows,
        cap_text={award.id: services.explain_cap(rule_sets, award) for row in rows for award in row.awards},
        outlook=services.subsidy_outlook(db.session, agreement), percent=services.percent,
        delivered_fen=services.delivered_fen(agreement),
        superseded_by=services.superseded_by(db.session, agreement),
        pending_amendment=services.pending_amendment(db.session, agreement),
        awaiting=proposals.awaiting_text(agreement), proposal=agreement.proposal,
        proposal_choices=proposals.proposal_choices(user, agreement),
        proposal_recorded_as=proposals.recorded_as_text(agreement.proposal),
        supersedes=db.session.get(PreorderAgreement, agreement.supersedes_id) if agreement.supersedes_id else None,
        termination_reason=services.termination_reason(db.session, agreement),
        is_open=agreement.status == AgreementStatus.SIGNED,
        can_deliver=permissions.may_record_delivery(user, agreement),
        can_accept=permissions.may_accept_delivery(user, agreement),
        can_pay=permissions.may_record_payment(user, agreement), can_amend=permissions.may_amend(user, agreement),
        can_terminate=permissions.may_terminate(user, agreement),
        delivery_form=delivery_form, acceptance_forms=acceptance_forms, payment_form=payment_form,
        termination_form=termination_form, decision=DecisionForm(),
        payment_choices={row.payment.id: payment_choices(user, row.payment) for row in rows},
    ), status


def _agreement_allowing(may, agreement_id: int):
    """The agreement if the current user sees it (404 otherwise) and the permission `may` lets them act (403)."""
    agreement = services.get_visible_agreement(db.session, current_user, agreement_id)
    if not may(current_user, agreement):
        abort(403)
    return agreement


@bp.route("/<int:agreement_id>")
@login_required
def detail(agreement_id: int):
    """One agreement: parties, terms, deliveries, payments with their subsidies."""
    return _render_detail(agreement_id)


@bp.route("/<int:agreement_id>/deliveries", methods=["POST"])
@login_required
def record_delivery(agreement_id: int):
    """The seller's side records a delivery."""
    agreement = _agreement_allowing(permissions.may_record_delivery, agreement_id)
    form = DeliveryForm(prefix="delivery")
    status = 200
    if form.validate_on_submit():
        try:
            with savepoint():
                services.record_delivery(db.session, current_user, agreement_id, form.to_service_data())
        except DomainError as error:
            status = _show_refusal(form, error)
        else:
            flash(_("交付已登记，等待买方验收。"), "success")
            return redirect(url_for("preorders.detail", agreement_id=agreement_id, _anchor="deliveries"))
    else:
        _add_missing_errors(form, services.review_delivery_input(agreement, form.to_service_data()))
    return _render_detail(agreement_id, _form_status(form, status), delivery=form)


@bp.route("/<int:agreement_id>/deliveries/<int:delivery_id>/accept", methods=["POST"])
@login_required
def accept_delivery(agreement_id: int, delivery_id: int):
    """The buyer accepts a delivery."""
    _agreement_allowing(permissions.may_accept_delivery, agreement_id)
    form = AcceptanceForm(prefix=f"accept-{delivery_id}")
    status = 200
    if form.validate_on_submit():
        try:
            with savepoint():
                delivery = services.accept_delivery(db.session, current_user, agreement_id, delivery_id,
                                                    form.accepted_on.data)
        except DomainError as error:
            status = _show_refusal(form, error)
        else:
            flash(_("已验收，验收金额 %(v)s 可用于登记付款。", v=format_yuan(delivery.amount_fen)), "success")
            return redirect(url_for("preorders.detail", agreement_id=agreement_id, _anchor="deliveries"))
    return _render_detail(agreement_id, _form_status(form, status), acceptance=form, acceptance_for=delivery_id)


@bp.route("/<int:agreement_id>/payments", methods=["POST"])
@login_required
def record_payment(agreement_id: int):
    """Record a payment; it earns the subsidy when the seller confirms it."""
    services.get_visible_agreement(db.session, current_user, agreement_id)
    form = PaymentForm(prefix="payment")
    status = 200
    if form.validate_on_submit():
        try:
            with savepoint():
                payment = services.record_payment(db.session, current_user, agreement_id,
                                                  amount_fen=form.amount_fen.data, paid_on=form.paid_on.data,
                                                  evidence=evidence_upload(form.evidence.data))
        except DomainError as error:
            status = _show_refusal(form, error)
        else:
            flash(_("付款 %(v)s 已登记，等待供货方确认。", v=format_yuan(payment.amount_fen)), "success")
            return redirect(url_for("preorders.detail", agreement_id=agreement_id, _anchor="payments"))
    return _render_detail(agreement_id, _form_status(form, status), payment=form)


def _confirmation_message(payment, awards) -> str:
    granted = [award for award in awards if award.status != "waived"]
    if not granted:
        return _("付款 %(v)s 已确认；本协议不产生后补助。", v=format_yuan(payment.amount_fen))
    rule_sets = active_rule_sets(db.session)
    notes = "；".join(filter(None, (services.explain_cap(rule_sets, award) for award in granted)))
    message = _("付款 %(v)s 已确认，后补助 %(s)s。", v=format_yuan(payment.amount_fen),
                s=format_yuan(sum(award.granted_fen for award in granted)))
    return f"{message}{notes}" if notes else message


DECISION_DONE = {"dispute": _l("已提出异议，平台运营人员将处理。"), "withdraw": _l("付款记录已撤回。"),
                 "refuse": _l("付款记录已驳回。")}


@bp.route("/payments/<int:payment_id>/<decision>", methods=["POST"])
@login_required
def decide_payment(payment_id: int, decision: str):
    """Confirm, dispute, withdraw or (admins) refuse a recorded payment."""
    payment = get_payment(db.session, current_user, payment_id)
    if decision != "confirm" and decision not in DECISION_DONE:
        abort(404)
    form = DecisionForm()
    submit_small_form(form, lambda: services.decide_payment(db.session, current_user, payment_id, decision,
                                                          reason=form.reason.data),
                      lambda outcome: _confirmation_message(*outcome) if decision == "confirm"
                      else str(DECISION_DONE[decision]))
    return redirect(url_for("preorders.detail", agreement_id=payment.agreement_id, _anchor="payments"))


AGREEMENT_DECISION_DONE = {"refuse": _l("已拒绝该协议，协议未生效。"), "withdraw": _l("协议登记已撤回。")}


def _agreement_confirmation_message(agreement) -> str:
    if agreement.status == AgreementStatus.SIGNED:
        return _("协议 %(n)s 已经双方确认，开始履行。", n=agreement.number)
    return _("已确认，待%(who)s确认后生效。", who=proposals.awaiting_text(agreement))


@bp.route("/<int:agreement_id>/<any(confirm, refuse, withdraw):decision>", methods=["POST"])
@login_required
def decide_agreement(agreement_id: int, decision: str):
    """Confirm or refuse a proposed agreement (the side that must confirm it), or withdraw it (its recorder)."""
    services.get_visible_agreement(db.session, current_user, agreement_id)
    form = DecisionForm()
    submit_small_form(form, lambda: proposals.decide_agreement(db.session, current_user, agreement_id, decision,
                                                             reason=form.reason.data),
                      lambda agreement: _agreement_confirmation_message(agreement) if decision == "confirm"
                      else str(AGREEMENT_DECISION_DONE[decision]))
    return redirect(url_for("preorders.detail", agreement_id=agreement_id))


@bp.route("/payments/<int:payment_id>/evidence", methods=["POST"])
@login_required
def attach_payment_evidence(payment_id: int):
    """The recorder attaches the bank receipt or invoice to a payment that waits for a decision."""
    payment = get_payment(db.session, current_user, payment_id)
    form = EvidenceForm()
    submit_small_form(form, lambda: attach_preorder_payment_evidence(db.session, current_user, payment_id,
                                                                     evidence_upload(form.evidence.data)),
                      _("凭证已上传。"))
    return redirect(url_for("preorders.detail", agreement_id=payment.agreement_id, _anchor=f"payment-{payment.id}"))


@bp.route("/payments/<int:payment_id>/evidence")
@login_required
def payment_evidence(payment_id: int):
    """A payment's receipt or invoice, for the agreement's parties, its broker and admins (404 for everyone else)."""
    payment = get_payment_evidence(db.session, current_user, payment_id)
    return send_stored_pdf(payment.evidence_stored_name, payment.evidence_original_name)


@bp.route("/<int:agreement_id>/amend", methods=["GET", "POST"])
@login_required
def amend(agreement_id: int):
    """Record the amended agreement as a new version (only while nothing has been paid); the signed version stays in
    force until the other party confirms it."""
    original = _agreement_allowing(permissions.may_amend, agreement_id)
    form = AgreementTermsForm()
    status = 200
    if request.method == "GET":
        if (original.status != AgreementStatus.SIGNED or any(p.status in COUNTED_STATUSES for p in original.payments)
                or services.pending_amendment(db.session, original) is not None):
            flash(_("只有尚未登记付款、也没有待确认变更的履行中协议可以变更。"), "warning")
            return redirect(url_for("preorders.detail", agreement_id=original.id))
        form.fill_from(original)
    elif form.validate_on_submit():
        try:
            with savepoint():
                agreement = proposals.amend_agreement(db.session, current_user, agreement_id, form.to_service_data())
        except DomainError as error:
            status = _show_refusal(form, error)
            original = services.get_visible_agreement(db.session, current_user, agreement_id)
        else:
            flash(_("已登记变更后的协议 %(n)s，待%(who)s确认；确认前原协议 %(o)s 继续有效。", n=agreement.number,
                    who=proposals.awaiting_text(agreement), o=original.number), "success")
            return redirect(url_for("preorders.detail", agreement_id=agreement.id))
    else:
        _add_missing_errors(form, services.review_agreement_input(db.session, current_user, form.to_service_data(),
                                                                  original))
    return render_template("preorders/edit.html", form=form, original=original), _form_status(form, status)


@bp.route("/<int:agreement_id>/terminate", methods=["POST"])
@login_required
def terminate(agreement_id: int):
    """Either party or an admin ends the agreement, with a reason."""
    agreement = _agreement_allowing(permissions.may_terminate, agreement_id)
    form = TerminationForm(prefix="terminate")
    status = 200
    if form.validate_on_submit():
        try:
            with savepoint():
                agreement = services.terminate_agreement(db.session, current_user, agreement_id, form.reason.data)
        except DomainError as error:
            status = _show_refusal(form, error)
        else:
            flash(_("协议 %(n)s 已终止。", n=agreement.number), "success")
            return redirect(url_for("preorders.detail", agreement_id=agreement_id))
    return _render_detail(agreement_id, _form_status(form, status), termination=form)
