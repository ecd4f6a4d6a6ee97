"""The notifications page and the notification mail settings."""
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market.errors import DomainError
from market.extensions import db
from market.formtools import EmptyForm, apply_errors
from market.notifications import services
from market.notifications.categories import MailCategory
from market.notifications.forms import MailSettingsForm
from market.unit_of_work import savepoint

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.route("")
@login_required
def index():
    """The user's notifications, newest first."""
    action_mail = MailCategory.ACTION in services.mail_categories_on(db.session, current_user)
    return render_template("notifications/index.html", notifications=services.list_notifications(db.session, current_user),
                           form=EmptyForm(), action_mail=action_mail)


@bp.route("/read", methods=["POST"])
@login_required
def mark_read():
    """Mark all as read."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.mark_all_read(db.session, current_user)
    flash(_("已全部标为已读。"), "info")
    return redirect(url_for("notifications.index"))


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    """Choose which notification mails to receive."""
    form = MailSettingsForm()
    if not form.is_submitted():
        for category in services.mail_categories_on(db.session, current_user):
            getattr(form, category.value).data = True
    elif form.validate_on_submit():
        try:
            with savepoint():
                services.set_mail_categories(db.session, current_user, {
                    "categories": form.chosen(), "action_off_understood": form.action_off_understood.data})
        except DomainError as error:
            apply_errors(form, error)
        else:
            flash(_("邮件通知设置已保存。"), "success")
            return redirect(url_for("notifications.settings"))
    status = 422 if form.errors or getattr(form, "form_errors", None) else 200
    return render_template("notifications/settings.html", form=form), status
