"""Listing actions shared by achievements and demands: workspace, review steps, follows and attachments."""
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market.errors import InvalidStateError, ValidationError
from market.extensions import db
from market.formtools import EmptyForm
from market.listings import access, queries, services
from market.listings.forms import AttachmentUploadForm, ConfidentialityForm
from market.listings.models import ConfidentialGrant
from market.listings.vocabulary import ListingKind
from market.unit_of_work import savepoint
from market.uploads import send_stored_pdf

bp = Blueprint("listings", __name__)
KINDS = {"achievement": ListingKind.ACHIEVEMENT, "demand": ListingKind.DEMAND}


def _kind(kind: str) -> ListingKind:
    if kind not in KINDS:
        abort(404)
    return KINDS[kind]


def _detail_url(kind: ListingKind, listing_id: int) -> str:
    if kind == ListingKind.ACHIEVEMENT:
        return url_for("achievements.detail", achievement_id=listing_id)
    return url_for("demands.detail", demand_id=listing_id)


def _checked_form() -> None:
    if not EmptyForm().validate_on_submit():
        abort(400)


@bp.route("/workspace")
@login_required
def workspace():
    """The user's own organisation's listings, in every status, and what they follow."""
    org_id = current_user.organisation_id
    mine = {}
    if org_id is not None:
        for kind in ListingKind:
            mine[kind.value] = queries.list_organisation_listings(db.session, kind, org_id, public_only=False)
    return render_template("listings/workspace.html", mine=mine, followed=services.list_followed(db.session, current_user))


@bp.route("/listings/<kind>/<int:listing_id>/submit", methods=["POST"])
@login_required
def submit(kind: str, listing_id: int):
    """Send to review."""
    _checked_form()
    services.submit_listing(db.session, current_user, _kind(kind), listing_id)
    flash(_("已提交审核。"), "success")
    return redirect(_detail_url(_kind(kind), listing_id))


@bp.route("/listings/<kind>/<int:listing_id>/withdraw", methods=["POST"])
@login_required
def withdraw(kind: str, listing_id: int):
    """Take down."""
    _checked_form()
    services.withdraw_listing(db.session, current_user, _kind(kind), listing_id)
    flash(_("已下架。"), "info")
    return redirect(_detail_url(_kind(kind), listing_id))


@bp.route("/listings/<kind>/<int:listing_id>/renew", methods=["POST"])
@login_required
def renew(kind: str, listing_id: int):
    """Extend by twelve months."""
    _checked_form()
    services.renew_listing(db.session, current_user, _kind(kind), listing_id)
    flash(_("已续期 12 个月。"), "success")
    return redirect(_detail_url(_kind(kind), listing_id))


@bp.route("/listings/<kind>/<int:listing_id>/follow", methods=["POST"])
@login_required
def follow(kind: str, listing_id: int):
    """Follow (收藏)."""
    _checked_form()
    services.follow_listing(db.session, current_user, _kind(kind), listing_id)
    flash(_("已收藏。"), "success")
    return redirect(_detail_url(_kind(kind), listing_id))


@bp.route("/listings/<kind>/<int:listing_id>/unfollow", methods=["POST"])
@login_required
def unfollow(kind: str, listing_id: int):
    """Stop following."""
    _checked_form()
    services.unfollow_listing(db.session, current_user, _kind(kind), listing_id)
    flash(_("已取消收藏。"), "info")
    return redirect(_detail_url(_kind(kind), listing_id))


@bp.route("/listings/<kind>/<int:listing_id>/attachments", methods=["POST"])
@login_required
def upload(kind: str, listing_id: int):
    """Attach a PDF."""
    form = AttachmentUploadForm()
    if form.validate_on_submit():
        try:
            with savepoint():
                services.add_attachment(db.session, current_user, _kind(kind), listing_id,
                                        filename=form.file.data.filename, stream=form.file.data.stream,
                                        upload_folder=current_app.config["UPLOAD_FOLDER"],
                                        max_bytes=current_app.config["MAX_ATTACHMENT_BYTES"],
                                        is_confidential=form.is_confidential.data)
        except ValidationError as error:
            flash(error.message, "error")
        else:
            flash(_("附件已上传。"), "success")
    else:
        flash(_("请选择要上传的 PDF 文件。"), "error")
    return redirect(_detail_url(_kind(kind), listing_id))


@bp.route("/listings/<kind>/<int:listing_id>/confidentiality", methods=["POST"])
@login_required
def acknowledge_confidentiality(kind: str, listing_id: int):
    """A grantee accepts the confidentiality statement, which opens the confidential part to them."""
    form = ConfidentialityForm()
    if not form.validate_on_submit():
        abort(400)
    listing = services.get_listing(db.session, current_user, _kind(kind), listing_id)
    try:
        with savepoint():
            access.acknowledge_confidentiality(db.session, current_user, listing, accepted=form.accepted.data)
    except (ValidationError, InvalidStateError) as error:
        flash(error.message, "error")
    else:
        flash(_("已确认保密声明，保密信息和附件现已对您开放。"), "success")
    return redirect(_detail_url(listing.kind, listing.id))


@bp.route("/listings/grants/<int:grant_id>/revoke", methods=["POST"])
@login_required
def revoke_grant(grant_id: int):
    """The owner takes back a counterparty's access to the confidential part."""
    _checked_form()
    try:
        with savepoint():
            grant = access.revoke_confidential_access(db.session, current_user, grant_id)
    except InvalidStateError as error:
        flash(error.message, "error")
        grant = db.session.get(ConfidentialGrant, grant_id)
    else:
        flash(_("已撤销“%(n)s”查看保密信息的权限。", n=grant.grantee_name), "info")
    return redirect(_detail_url(grant.listing_kind, grant.listing_id))


@bp.route("/attachments/<int:attachment_id>")
def download(attachment_id: int):
    """Download an attachment the user may see, under its original name."""
    attachment = services.get_attachment(db.session, current_user, attachment_id)
    return send_stored_pdf(attachment.stored_name, attachment.original_name)


@bp.route("/attachments/<int:attachment_id>/delete", methods=["POST"])
@login_required
def remove_attachment(attachment_id: int):
    """Delete an attachment."""
    _checked_form()
    attachment = services.get_attachment(db.session, current_user, attachment_id)
    kind, listing_id = attachment.listing_kind, attachment.listing_id
    services.remove_attachment(db.session, current_user, attachment_id, current_app.config["UPLOAD_FOLDER"])
    flash(_("附件已删除。"), "info")
    return redirect(_detail_url(kind, listing_id))
