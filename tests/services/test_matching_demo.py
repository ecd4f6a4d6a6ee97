"""The matcher on the seeded demo: the broker board's defaults show several related pairs, listing pages no noise."""
import pytest
from sqlalchemy import select

from market.demands.models import Demand
from market.extensions import db
from market.matching import services
from market.matching.weights import DEFAULT_WEIGHTS
from market.seeding import load_demo_data
from market.text import is_telling_term
from tests.search_relevance.evaluate import show_demo_as_of


@pytest.fixture
def demo(app):
    """The demo seeded as `make run` does (indexes rebuilt, a year of pairs refreshed), shown as of the set's day."""
    load_demo_data(db.session, "demo-password-1", password_profile="fast", upload_folder=app.config["UPLOAD_FOLDER"])
    show_demo_as_of(db.session)
    db.session.commit()
    services.rebuild_indexes()
    services.refresh_recent_pairs(db.session, days=365)
    db.session.commit()
    return db.session


def test_the_board_shows_several_related_pairs_by_default(demo, make_user):
    page = services.list_board(demo, make_user("broker"), services.BoardFilter())
    assert page.min_score == services.DEFAULTS["MATCH_BOARD_THRESHOLD"]
    assert page.total >= 8
    for row in page.items:
        assert row.pair.score_bp >= page.min_score * 100
        terms = row.pair.explanation["shared_terms"]
        assert terms and all(is_telling_term(term) for term in terms), (row.pair.demand.title, terms)
    assert services.list_board(demo, make_user("broker"), services.BoardFilter(days=30, min_score=40)).total < page.total


def test_listing_pages_show_no_match_below_the_minimum_score(demo):
    vinegar = demo.scalar(select(Demand).where(Demand.title.contains("老陈醋")))
    matches = services.find_listing_matches(demo, vinegar.submitter, vinegar, top=services.MAX_TOP)
    assert matches is not None
    assert all(view.score >= DEFAULT_WEIGHTS.min_listing_score for view in matches.matches)
    assert all(is_telling_term(term) for view in matches.matches for term in view.shared_terms)
    assert len(matches.matches) < services.MAX_TOP, "the long tail is cut, not padded to the limit"
