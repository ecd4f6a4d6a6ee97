"""Bulk import of achievements from Excel or CSV sheets."""
from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("imports", __name__, url_prefix="/imports")


@bp.route("/achievements", methods=["GET", "POST"])
@login_required
def achievements():
    """Upload a sheet of achievements."""
    return render_template("imports/achievements.html")
