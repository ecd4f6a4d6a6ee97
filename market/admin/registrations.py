"""Operator page: the queue of technology-contract registrations to verify against their certificates (verify, or
refuse with a reason everyone involved sees). Registered on the admin blueprint (its before_request keeps it for
admins)."""
from flask import redirect, render_template, url_for

from market.admin.views import bp
from market.confirmations.forms import DecisionForm
from market.deals import registrations
from market.deals.registration_views import decide_from_form
from market.extensions import db


@bp.route("/registrations")
def registration_queue():
    """Registrations waiting for an admin, oldest first, with their certificates."""
    return render_template("admin/registrations.html", queue=registrations.list_registration_queue(db.session),
                           decision=DecisionForm(formdata=None))


@bp.route("/registrations/<int:registration_id>/<decision>", methods=["POST"])
def decide_registration(registration_id: int, decision: str):
    """Verify or refuse a registration from the queue."""
    decide_from_form(registration_id, decision)
    return redirect(url_for("admin.registration_queue"))
