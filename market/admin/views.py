"""Operator pages: dashboard, review queue, member and organisation approval, valleys, the field tree and second-factor
resets (organisation verification and residency pages are in market/admin/organisations.py)."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market.accounts import services as accounts
from market.accounts import twofactor
from market.accounts.forms import ConfirmActionForm
from market.admin.forms import FieldAddForm, FieldRenameForm, ValleyEditForm
from market.errors import DomainError, ValidationError
from market.extensions import db
from market.formtools import EmptyForm, apply_errors, options
from market.listings import services as listings
from market.listings.forms import ListingReturnForm
from market.listings.vocabulary import ListingKind
from market.organisations import verification
from market.pages import stats
from market.security import admin_required
from market.taxonomy import services as taxonomy
from market.taxonomy.models import FIELD_NAME_MAX_LENGTH
from market.unit_of_work import savepoint

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
@admin_required
def require_admin():
    """Every page here is for platform operators only."""


def _checked_form() -> None:
    if not EmptyForm().validate_on_submit():
        abort(400)


@bp.route("")
def dashboard():
    """What waits for the operator."""
    return render_template(
        "admin/dashboard.html",
        figures=stats.platform_figures(db.session),
        pending_achievements=len(listings.list_review_queue(db.session, ListingKind.ACHIEVEMENT)),
        pending_demands=len(listings.list_review_queue(db.session, ListingKind.DEMAND)),
        pending_members=len(accounts.list_pending_members(db.session)),
        pending_organisations=len(accounts.list_pending_organisations(db.session)),
        pending_verifications=len(verification.list_verification_queue(db.session)),
    )


@bp.route("/review")
def review_queue():
    """Listings waiting for review."""
    return _review_page()


def _review_page(failed_form: ListingReturnForm | None = None, failed: str = "") -> str:
    """The review queue; a return form that failed is shown again, with its messages, on its listing's card."""
    return render_template("admin/review.html",
                           achievements=listings.list_review_queue(db.session, ListingKind.ACHIEVEMENT),
                           demands=listings.list_review_queue(db.session, ListingKind.DEMAND),
                           form=EmptyForm(), return_form=ListingReturnForm(formdata=None),
                           failed_form=failed_form, failed=failed)


@bp.route("/review/<kind>/<int:listing_id>/approve", methods=["POST"])
def approve(kind: str, listing_id: int):
    """Publish a listing."""
    _checked_form()
    listings.approve_listing(db.session, current_user, _kind(kind), listing_id)
    flash(_("已审核通过并发布。"), "success")
    return redirect(url_for("admin.review_queue"))


@bp.route("/review/<kind>/<int:listing_id>/return", methods=["POST"])
def send_back(kind: str, listing_id: int):
    """Return a listing with a reason."""
    form = ListingReturnForm()
    if form.validate_on_submit():
        try:
            with savepoint():
                listings.return_listing(db.session, current_user, _kind(kind), listing_id, form.reason.data, form.comment.data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            flash(_("已退回，提交人会收到通知。"), "info")
            return redirect(url_for("admin.review_queue"))
    return _review_page(form, f"{_kind(kind).value}-{listing_id}"), 422


@bp.route("/members")
def members():
    """Users and organisations waiting for approval."""
    return render_template("admin/members.html", users=accounts.list_pending_members(db.session),
                           organisations=accounts.list_pending_organisations(db.session), form=EmptyForm())


@bp.route("/members/<int:user_id>/<decision>", methods=["POST"])
def decide_member(user_id: int, decision: str):
    """Approve or reject a membership."""
    _checked_form()
    if decision not in ("approve", "reject"):
        abort(404)
    accounts.decide_membership(db.session, current_user, user_id, decision == "approve")
    flash(_("已处理。"), "success")
    return redirect(url_for("admin.members"))


@bp.route("/organisations/<int:organisation_id>/<decision>", methods=["POST"])
def decide_organisation(organisation_id: int, decision: str):
    """Approve or reject an organisation."""
    _checked_form()
    if decision not in ("approve", "reject"):
        abort(404)
    accounts.decide_organisation(db.session, current_user, organisation_id, decision == "approve")
    flash(_("已处理。"), "success")
    return redirect(url_for("admin.members"))


@bp.route("/valleys")
def valleys():
    """Every valley with its key fields."""
    return render_template("admin/valleys.html", valleys=taxonomy.list_valleys(db.session))


@bp.route("/valleys/<valley_id>", methods=["GET", "POST"])
def edit_valley(valley_id: str):
    """Edit a valley (at most three key fields)."""
    valley = taxonomy.get_valley(db.session, valley_id)
    form = ValleyEditForm(obj=valley)
    form.key_fields.choices = options((f.code, "\u3000" * f.depth + f.name) for f in taxonomy.list_fields(db.session))
    if request.method == "GET":
        form.key_fields.data = [f.code for f in valley.key_fields]
    elif form.validate_on_submit():
        try:
            with savepoint():
                taxonomy.update_valley(db.session, current_user, valley.id, name=form.name.data,
                                       description=form.description.data or "",
                                       target_achievements=form.target_achievements.data,
                                       target_companies=form.target_companies.data,
                                       key_field_codes=form.key_fields.data or [])
        except DomainError as error:
            apply_errors(form, error)
        else:
            flash(_("谷区已保存。"), "success")
            return redirect(url_for("admin.valleys"))
    status = 422 if form.errors or getattr(form, "form_errors", None) else 200
    return render_template("admin/valley_edit.html", valley=valley, form=form), status


@bp.route("/fields", methods=["GET", "POST"])
def fields():
    """The field tree; add a node."""
    form = FieldAddForm()
    all_fields = taxonomy.list_fields(db.session)
    form.parent.choices = options([("", _("（顶级领域）"))] + [(f.code, "\u3000" * f.depth + f.name) for f in all_fields if f.depth < 2])
    if form.validate_on_submit():
        try:
            with savepoint():
                taxonomy.add_field(db.session, current_user, parent_code=form.parent.data or None, code_suffix=form.code.data,
                                   name=form.name.data, name_en=form.name_en.data or "")
        except DomainError as error:
            apply_errors(form, error)
        else:
            flash(_("领域已添加。"), "success")
            return redirect(url_for("admin.fields"))
    status = 422 if form.errors or getattr(form, "form_errors", None) else 200
    return render_template("admin/fields.html", fields=all_fields, form=form, rename_form=FieldRenameForm()), status


@bp.route("/fields/<code>/rename", methods=["POST"])
def rename_field(code: str):
    """Rename a field."""
    form = FieldRenameForm()
    if form.validate_on_submit():
        try:
            with savepoint():
                taxonomy.rename_field(db.session, current_user, code, name=form.name.data, name_en=form.name_en.data or "")
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash(_("领域已更名。"), "success")
    else:
        flash(_("名称为 1 到 %(n)s 个字符。", n=FIELD_NAME_MAX_LENGTH), "error")
    return redirect(url_for("admin.fields"))


def _kind(kind: str) -> ListingKind:
    try:
        return ListingKind(kind)
    except ValueError:
        abort(404)


@bp.route("/second-factors")
def second_factors():
    """Users with an authenticator, each with a reset button for a lost phone."""
    return render_template("admin/second_factors.html", users=twofactor.list_enrolled_users(db.session),
                           form=ConfirmActionForm())


@bp.route("/second-factors/<int:user_id>/reset", methods=["POST"])
def reset_second_factor(user_id: int):
    """Remove another user's lost authenticator (recorded and logged); one's own is refused."""
    form = ConfirmActionForm()
    if not form.validate_on_submit():
        flash(_("请求无法处理，请检查后重试。"), "error")
        return redirect(url_for("admin.second_factors"))
    try:
        with savepoint():
            user = twofactor.reset_second_factor(db.session, current_user, user_id)
    except ValidationError as error:
        flash(error.message, "error")
        return redirect(url_for("admin.second_factors"))
    flash(_("已重置 %(name)s 的两步验证，对方下次登录后需重新设置。", name=user.name), "success")
    return redirect(url_for("admin.second_factors"))


from market.admin import organisations, registrations  # noqa: F401  registers their pages on this blueprint; imported last
