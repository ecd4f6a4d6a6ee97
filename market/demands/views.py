"""Demand pages: browse and search, detail, create and edit."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market.accounts.models import Role
from market.demands import services
from market.demands.forms import DemandEditForm
from market.errors import DomainError
from market.extensions import db
from market.formtools import apply_errors
from market.listings import queries
from market.listings import services as listings
from market.listings.forms import AttachmentUploadForm, EmptyForm, field_choices
from market.listings.vocabulary import ListingKind, ListingStatus, TransferMode
from market.security import can_manage_listing, roles_required
from market.taxonomy import services as taxonomy
from market.unit_of_work import savepoint

bp = Blueprint("demands", __name__, url_prefix="/demands")
KIND = ListingKind.DEMAND


@bp.route("")
def browse():
    """Search and filter published demands."""
    params, errors = queries.parse_search_args(request.args)
    result = queries.search_listings(db.session, KIND, params)
    return render_template("demands/browse.html", result=result, params=params, errors=errors,
                           top_fields=taxonomy.list_top_fields(db.session), valleys=taxonomy.list_valleys(db.session),
                           stages=[], modes=list(TransferMode))


@bp.route("/<int:demand_id>")
def detail(demand_id: int):
    """One demand."""
    demand = listings.get_listing(db.session, current_user, KIND, demand_id)
    manager = can_manage_listing(current_user, demand)
    return render_template(
        "demands/detail.html", d=demand, manager=manager, field_path=taxonomy.field_path(demand.field),
        attachments=listings.list_attachments(db.session, current_user, demand),
        history=listings.list_history(db.session, demand) if manager else [],
        following=listings.is_following(db.session, current_user, demand),
        action_form=EmptyForm(), upload_form=AttachmentUploadForm(),
    )


def _form() -> DemandEditForm:
    form = DemandEditForm()
    form.field.choices = field_choices(taxonomy.list_fields(db.session))
    return form


@bp.route("/new", methods=["GET", "POST"])
@login_required
@roles_required(Role.ENTERPRISE)
def create():
    """Post a new demand (draft or straight to review)."""
    form = _form()
    if not current_user.is_approved_member:
        flash(_("您的机构成员身份尚在审核中，审核通过后才能发布。"), "warning")
    if form.validate_on_submit():
        try:
            with savepoint():
                demand = services.create_demand(db.session, current_user, form.to_service_data(),
                                                submit=request.form.get("action") == "submit")
        except DomainError as error:
            apply_errors(form, error)
        else:
            flash(_("已提交审核。") if demand.status == ListingStatus.PENDING else _("草稿已保存。"), "success")
            return redirect(url_for("demands.detail", demand_id=demand.id))
    status = 422 if form.errors or getattr(form, "form_errors", None) else 200
    return render_template("demands/edit.html", form=form, demand=None), status


@bp.route("/<int:demand_id>/edit", methods=["GET", "POST"])
@login_required
def edit(demand_id: int):
    """Edit a demand of one's organisation."""
    demand = listings.get_managed_listing(db.session, current_user, KIND, demand_id)
    form = _form()
    if request.method == "GET":
        form.fill_from(demand)
    elif form.validate_on_submit():
        try:
            with savepoint():
                services.update_demand(db.session, current_user, demand.id, form.to_service_data(),
                                       submit=request.form.get("action") == "submit")
        except DomainError as error:
            apply_errors(form, error)
        else:
            flash(_("修改已保存。"), "success")
            return redirect(url_for("demands.detail", demand_id=demand.id))
    status = 422 if form.errors or getattr(form, "form_errors", None) else 200
    return render_template("demands/edit.html", form=form, demand=demand), status
