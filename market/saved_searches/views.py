"""The saved-search pages: save the browse page's search, list and delete one's saved searches."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market.errors import DomainError
from market.extensions import db
from market.formtools import EmptyForm
from market.listings.vocabulary import ListingKind
from market.saved_searches import services
from market.saved_searches.models import MAX_SAVED_SEARCHES_PER_USER, SEARCH_CRITERIA
from market.unit_of_work import savepoint

bp = Blueprint("saved_searches", __name__, url_prefix="/profile/saved-searches")

BROWSE_PAGES = {ListingKind.ACHIEVEMENT: "achievements.browse", ListingKind.DEMAND: "demands.browse"}


def browse_url(kind: str, criteria: dict) -> str:
    """The browse page of the kind with the search's words and filters."""
    endpoint = BROWSE_PAGES.get(kind, BROWSE_PAGES[ListingKind.ACHIEVEMENT])
    return url_for(endpoint, **{name: value for name, value in criteria.items() if value not in ("", None)})


@bp.route("", methods=["GET"])
@login_required
def index():
    """The user's saved searches, each with its results link and a delete button."""
    saved = services.list_saved_searches(db.session, current_user)
    rows = [(item, services.describe(db.session, item), browse_url(item.kind, item.criteria())) for item in saved]
    return render_template("saved_searches/index.html", rows=rows, form=EmptyForm(),
                           limit=MAX_SAVED_SEARCHES_PER_USER)


@bp.route("", methods=["POST"])
@login_required
def save():
    """Save the search the browse page shows and go back to it."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    data = {name: request.form.get(name) or None for name in ("kind", *SEARCH_CRITERIA)}
    back = browse_url(data["kind"], {name: data[name] for name in SEARCH_CRITERIA})
    try:
        with savepoint():
            _saved, created = services.save_search(db.session, current_user, data)
    except DomainError as error:
        flash(" ".join([error.message, *error.fields.values()]) if error.fields else error.message, "danger")
    else:
        flash(_("已保存此搜索；有符合的新信息发布时会通知您。") if created else _("此搜索已经保存过。"), "success")
    return redirect(back)


@bp.route("/<int:saved_search_id>/delete", methods=["POST"])
@login_required
def delete(saved_search_id: int):
    """Delete one of the user's saved searches."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.delete_saved_search(db.session, current_user, saved_search_id)
    flash(_("已删除保存的搜索。"), "info")
    return redirect(url_for("saved_searches.index"))
