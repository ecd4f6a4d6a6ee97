"""The deal page's signing: the recorded signings with the decisions open to the viewer (the transferee confirms or
disputes, the recorder withdraws, an admin settles a dispute)."""
from flask import abort, flash, redirect, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from market.confirmations.forms import DecisionForm
from market.deals import signing as signing_services
from market.deals.models import Deal
from market.deals.views import bp
from market.errors import DomainError
from market.extensions import db
from market.unit_of_work import savepoint

SIGNING_DECISION_DONE = {"confirm": _l("签约已确认，项目进入签约阶段。"), "dispute": _l("已对签约记录提出异议。"),
                         "withdraw": _l("签约记录已撤回，可重新登记。"), "refuse": _l("签约记录已驳回。")}


@bp.app_template_global("signing_rows")
def signing_rows(deal: Deal) -> list:
    """The deal's signings, newest first, each with the decisions the signed-in user may take on it."""
    return [(signing, signing_services.signing_choices(current_user, signing))
            for signing in signing_services.deal_signings(db.session, deal)]


@bp.route("/signings/<int:signing_id>/<decision>", methods=["POST"])
@login_required
def decide_signing(signing_id: int, decision: str):
    """Confirm, dispute, withdraw or (admins) refuse a recorded signing."""
    signing = signing_services.get_signing(db.session, current_user, signing_id)
    if decision not in SIGNING_DECISION_DONE:
        abort(404)
    form = DecisionForm()
    if not form.validate_on_submit():
        flash("；".join(message for messages in form.errors.values() for message in messages), "error")
    else:
        try:
            with savepoint():
                signing_services.decide_signing(db.session, current_user, signing_id, decision, reason=form.reason.data)
        except DomainError as error:
            flash("；".join(error.fields.values()) or error.message, "error")
        else:
            flash(str(SIGNING_DECISION_DONE[decision]), "success")
    return redirect(url_for("deals.detail", deal_id=signing.deal_id, _anchor="signing"))
