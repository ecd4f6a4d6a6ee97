"""Achievement pages: browse and search, detail, create and edit."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market.accounts.models import Role
from market.achievements import services
from market.achievements.forms import AchievementEditForm
from market.errors import DomainError
from market.extensions import db
from market.formtools import apply_errors
from market.listings import queries
from market.listings import services as listings
from market.listings.forms import AttachmentUploadForm, EmptyForm, field_choices
from market.listings.vocabulary import ListingKind, ListingStatus, Stage, TransferMode
from market.security import can_manage_listing, can_see_confidential, roles_required
from market.taxonomy import services as taxonomy
from market.unit_of_work import savepoint

bp = Blueprint("achievements", __name__, url_prefix="/achievements")
KIND = ListingKind.ACHIEVEMENT


@bp.route("")
def browse():
    """Search and filter published achievements."""
    params, errors = queries.parse_search_args(request.args)
    result = queries.search_listings(db.session, KIND, params)
    return render_template("achievements/browse.html", result=result, params=params, errors=errors,
                           top_fields=taxonomy.list_top_fields(db.session), valleys=taxonomy.list_valleys(db.session),
                           stages=list(Stage), modes=list(TransferMode))


@bp.route("/<int:achievement_id>")
def detail(achievement_id: int):
    """One achievement; the confidential part only for its organisation and admins."""
    achievement = listings.get_listing(db.session, current_user, KIND, achievement_id)
    manager = can_manage_listing(current_user, achievement)
    return render_template(
        "achievements/detail.html", a=achievement, manager=manager,
        confidential=can_see_confidential(current_user, achievement),
        field_path=taxonomy.field_path(achievement.field),
        attachments=listings.list_attachments(db.session, current_user, achievement),
        history=listings.list_history(db.session, achievement) if manager else [],
        following=listings.is_following(db.session, current_user, achievement),
        action_form=EmptyForm(), upload_form=AttachmentUploadForm(),
    )


def _form() -> AchievementEditForm:
    form = AchievementEditForm()
    form.field.choices = field_choices(taxonomy.list_fields(db.session))
    return form


@bp.route("/new", methods=["GET", "POST"])
@login_required
@roles_required(Role.RESEARCHER, Role.ENTERPRISE)
def create():
    """List a new achievement (draft or straight to review)."""
    form = _form()
    if not current_user.is_approved_member:
        flash(_("您的机构成员身份尚在审核中，审核通过后才能发布。"), "warning")
    if form.validate_on_submit():
        try:
            with savepoint():
                achievement = services.create_achievement(db.session, current_user, form.to_service_data(),
                                                          submit=request.form.get("action") == "submit")
        except DomainError as error:
            apply_errors(form, error)
        else:
            flash(_("已提交审核。") if achievement.status == ListingStatus.PENDING else _("草稿已保存。"), "success")
            return redirect(url_for("achievements.detail", achievement_id=achievement.id))
    status = 422 if form.errors or getattr(form, "form_errors", None) else 200
    return render_template("achievements/edit.html", form=form, achievement=None), status


@bp.route("/<int:achievement_id>/edit", methods=["GET", "POST"])
@login_required
def edit(achievement_id: int):
    """Edit an achievement of one's organisation."""
    achievement = listings.get_managed_listing(db.session, current_user, KIND, achievement_id)
    form = _form()
    if request.method == "GET":
        form.fill_from(achievement)
    elif form.validate_on_submit():
        try:
            with savepoint():
                services.update_achievement(db.session, current_user, achievement.id, form.to_service_data(),
                                            submit=request.form.get("action") == "submit")
        except DomainError as error:
            apply_errors(form, error)
        else:
            flash(_("修改已保存。"), "success")
            return redirect(url_for("achievements.detail", achievement_id=achievement.id))
    status = 422 if form.errors or getattr(form, "form_errors", None) else 200
    return render_template("achievements/edit.html", form=form, achievement=achievement), status
