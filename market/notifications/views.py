"""The notifications page."""
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market.extensions import db
from market.formtools import EmptyForm
from market.notifications import services

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.route("")
@login_required
def index():
    """The user's notifications, newest first."""
    return render_template("notifications/index.html", notifications=services.list_notifications(db.session, current_user),
                           form=EmptyForm())


@bp.route("/read", methods=["POST"])
@login_required
def mark_read():
    """Mark all as read."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.mark_all_read(db.session, current_user)
    flash(_("已全部标为已读。"), "info")
    return redirect(url_for("notifications.index"))
