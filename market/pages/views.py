"""Public pages: home, valleys, language switch."""
from flask import (
    Blueprint,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from market.extensions import db
from market.listings import queries
from market.listings.vocabulary import ListingKind
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
def set_language():
    """Switch the interface language for this session."""
    lang = request.form.get("lang", "")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
    return redirect(safe_next(request.form.get("next"), url_for("pages.home")))
