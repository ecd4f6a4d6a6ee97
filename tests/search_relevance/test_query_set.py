"""The relevance query set is well-formed, large enough, and names listings a visitor of the demo can see."""
from datetime import datetime

import pytest
import yaml

from market.extensions import db
from market.listings.models import LISTING_LIFETIME
from market.listings.vocabulary import ListingKind
from market.seeding import SEED_DIR, load_demo_data
from tests.search_relevance.evaluate import (
    AS_OF,
    SEED_PUBLICATION_TIME,
    TOP,
    Query,
    current_search,
    evaluate,
    load_queries,
    organisation_titles,
    score,
    show_demo_as_of,
    visible_titles,
)

QUERIES = load_queries()


def _seed_rows() -> dict[ListingKind, list[dict]]:
    def read(path):
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle) or []

    achievements = [row for path in sorted((SEED_DIR / "achievements").glob("*.yaml")) for row in read(path)]
    return {ListingKind.ACHIEVEMENT: achievements, ListingKind.DEMAND: read(SEED_DIR / "demands.yaml")}


def _visible_on_the_sets_day(row: dict) -> bool:
    published = row.get("published_on")
    return row.get("status", "published") == "published" and published is not None and \
        datetime.combine(published, SEED_PUBLICATION_TIME) <= AS_OF < \
        datetime.combine(published, SEED_PUBLICATION_TIME) + LISTING_LIFETIME


def test_the_set_is_large_varied_and_well_formed():
    assert len(QUERIES) >= 60
    assert len({query.id for query in QUERIES}) == len(QUERIES), "query ids are unique"
    assert len({(query.kind, query.q) for query in QUERIES}) == len(QUERIES), "no query is asked twice"
    assert sum("typo" in query.tags for query in QUERIES) >= 10
    assert sum("english" in query.tags for query in QUERIES) >= 10
    assert sum("organisation" in query.tags for query in QUERIES) >= 5
    assert sum(query.kind == ListingKind.DEMAND for query in QUERIES) >= 10
    for query in QUERIES:
        assert query.q.strip() and query.q == query.q.strip(), query.id
        assert bool(query.expect) != bool(query.expect_organisation), f"{query.id}: titles or an organisation"
        assert len(query.expect) <= 3 and len(set(query.expect)) == len(query.expect), query.id
        assert query.q.isascii() == ("english" in query.tags), \
            f"{query.id}: the english tag goes with queries written in English, and only with them"


def test_every_expected_title_is_a_demo_listing_a_visitor_sees_on_the_sets_day():
    rows = _seed_rows()
    organisations = {row["key"]: row["name"] for row in yaml.safe_load((SEED_DIR / "organisations.yaml").read_text("utf-8"))}
    for query in QUERIES:
        for title in query.expect:
            matches = [row for row in rows[query.kind] if row["title"] == title]
            assert len(matches) == 1, f"{query.id}: {title!r} should name exactly one {query.kind}"
            assert _visible_on_the_sets_day(matches[0]), f"{query.id}: {title!r} is not on offer on {AS_OF:%Y-%m-%d}"
        if query.expect_organisation:
            own = [row for row in rows[query.kind]
                   if organisations[row["organisation"]] == query.expect_organisation and _visible_on_the_sets_day(row)]
            assert own, f"{query.id}: {query.expect_organisation} has no {query.kind} on offer"


def test_the_score_of_an_organisation_query_asks_for_a_full_top_five():
    query = Query(id="org", q="某大学", kind=ListingKind.ACHIEVEMENT, expect_organisation="某大学")
    wanted = frozenset(f"成果{number}" for number in range(8))
    assert score(query, ["别的", "成果1", "成果2", "别的2", "成果3", "成果4"], wanted) == (3 / TOP, 1 / 2)
    few = frozenset({"成果1", "成果2"})
    assert score(query, ["成果1", "别的", "成果2"], few) == (1.0, 1.0)
    titled = Query(id="t", q="x", kind=ListingKind.ACHIEVEMENT, expect=("甲", "乙"))
    assert score(titled, ["丙", "丁", "戊", "己", "庚", "甲"], frozenset(titled.expect)) == (0.0, 1 / 6)


@pytest.fixture
def demo(app):
    """The demo listings seeded and shown as of the set's day."""
    load_demo_data(db.session, "demo-password-1", password_profile="fast", upload_folder=app.config["UPLOAD_FOLDER"])
    show_demo_as_of(db.session)
    return db.session


def test_the_seeded_demo_shows_every_expected_listing_and_the_harness_scores_searches(demo):
    assert abs(show_demo_as_of(demo).total_seconds()) < 60, "showing the demo as of the set's day twice shifts once"
    visible = {kind: visible_titles(demo, kind) for kind in ListingKind}
    for query in QUERIES:
        missing = set(query.expect) - visible[query.kind]
        assert not missing, f"{query.id}: not on offer in the seeded demo: {missing}"

    def oracle(session, kind, text):
        query = next(query for query in QUERIES if (query.kind, query.q) == (kind, text))
        return list(query.expect) or sorted(organisation_titles(session, kind, query.expect_organisation))

    perfect = evaluate(demo, oracle, QUERIES)
    assert (perfect.recall_at_5, perfect.mrr, perfect.zero_result_queries) == (1.0, 1.0, [])
    blind = evaluate(demo, lambda session, kind, text: [], QUERIES)
    assert (blind.recall_at_5, blind.mrr, len(blind.zero_result_queries)) == (0.0, 0.0, len(QUERIES))
    current = evaluate(demo, current_search, QUERIES[:5])
    assert len(current.outcomes) == 5 and all(0 <= outcome.recall <= 1 for outcome in current.outcomes)
