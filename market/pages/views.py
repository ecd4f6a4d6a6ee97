"""Public pages: home, valleys, the one search box's tabs (achievements, demands, organisations), language switch."""
from flask import (
    Blueprint,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from market.extensions import csrf, db
from market.listings import queries
from market.listings.vocabulary import ListingKind
from market.organisations.search import count_organisations, search_organisations
from market.pages import stats
from market.safety import safe_next
from market.taxonomy import services as taxonomy

bp = Blueprint("pages", __name__)


@bp.route("/")
def home():
    """Search box, headline figures, newest listings and the valleys."""
    latest = queries.SearchParams(sort="newest", per_page=6)
    return render_template(
        "pages/home.html",
        achievements=queries.search_listings(db.session, ListingKind.ACHIEVEMENT, latest, with_facets=False).items,
        demands=queries.search_listings(db.session, ListingKind.DEMAND, latest, with_facets=False).items,
        figures=stats.platform_figures(db.session),
        valleys=taxonomy.list_valleys(db.session),
        top_fields=taxonomy.list_top_fields(db.session),
    )


SEARCH_TABS = {"achievements": "achievements.browse", "demands": "demands.browse", "organisations": "pages.organisations"}
"""The search box's tabs and the page each one searches."""


@bp.route("/search")
def search():
    """The home page's search box: send the query to the page of the chosen tab (achievements unless told)."""
    endpoint = SEARCH_TABS.get(request.args.get("in", ""), SEARCH_TABS["achievements"])
    query = (request.args.get("q") or "").strip()
    return redirect(url_for(endpoint, q=query or None))


@bp.route("/organisations")
def organisations():
    """Approved organisations found by name and description (all of them, by name, without a query)."""
    params, errors = queries.parse_search_args(request.args)
    found = search_organisations(db.session, params.q, page=params.page, per_page=params.per_page)
    return render_template("pages/organisations.html", result=found, params=params, errors=errors)


@bp.app_template_global()
def search_tab_counts(query: str, current: str, current_total: int) -> dict[str, int]:
    """How many achievements, demands and organisations the query finds, for the search box's tabs (the current
    tab's count is the page's own total)."""
    counts = {current: current_total}
    for tab, kind in (("achievements", ListingKind.ACHIEVEMENT), ("demands", ListingKind.DEMAND)):
        if tab not in counts:
            counts[tab] = queries.search_listings(db.session, kind, queries.SearchParams(q=query, per_page=1),
                                                  with_facets=False).total
    if "organisations" not in counts:
        counts["organisations"] = count_organisations(db.session, query)
    return counts


@bp.route("/valleys")
def valleys():
    """Every valley with its key fields and listing counts."""
    return render_template("pages/valleys.html", valleys=taxonomy.list_valleys(db.session),
                           counts=stats.listings_per_valley(db.session))


@bp.route("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico; answer with the SVG icon."""
    return redirect(url_for("static", filename="favicon.svg"), code=301)


@bp.route("/language", methods=["POST"])
@csrf.exempt
def set_language():
    """Switch the interface language for this session (no CSRF token: the switch changes nothing but the display,
    and the form sits on pages cached for every visitor)."""
    lang = request.form.get("lang", "")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
    return redirect(safe_next(request.form.get("next"), url_for("pages.home")))
