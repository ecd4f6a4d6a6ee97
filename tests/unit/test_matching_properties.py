"""Properties of the matcher on random listings: bounds, order, determinism, self-match, change round-trips."""
import dataclasses

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from market.matching.engine import Listing, MatchIndex
from market.matching.fields import FieldTree
from market.text import add_words

TREE = FieldTree.from_nodes([
    {"code": "energy", "name": "能源"},
    {"code": "energy.hydrogen", "name": "氢能", "parent_code": "energy"},
    {"code": "energy.hydrogen.fuel-cell", "name": "燃料电池", "parent_code": "energy.hydrogen"},
    {"code": "energy.solar", "name": "光伏", "parent_code": "energy"},
    {"code": "equipment", "name": "装备"},
])
HAN = "燃料电池氢能光伏太阳钙钛矿煤矿液压支架中药提取工艺材料制备方法系统控制智能"
ALPHABET = st.sampled_from(list(HAN) + list("，。 ab12") + ["🔋", "Ｘ"])
TEXTS = st.text(alphabet=ALPHABET, max_size=40)
FIELDS = st.sampled_from([None, "energy.hydrogen.fuel-cell", "energy.solar", "equipment", "氢能", "中医药", "药学"])
MODES = st.lists(st.sampled_from(["assignment", "license_ordinary", "license_exclusive", "equity",
                                  "co_development", "tech_service"]), max_size=2)
MONEY = st.one_of(st.none(), st.integers(min_value=0, max_value=10**9))


@st.composite
def listings(draw, kind="achievement", listing_id=None):
    """A random listing over a small alphabet, with random structured fields."""
    return Listing(
        id=listing_id or draw(st.text(alphabet="ab:#+-1", min_size=1, max_size=5)),
        kind=kind, title=draw(TEXTS), text=draw(TEXTS),
        keywords=tuple(draw(st.lists(st.text(alphabet=HAN, min_size=1, max_size=4), max_size=3))),
        field=draw(FIELDS), trl=draw(st.one_of(st.none(), st.integers(1, 9))),
        money_min_fen=draw(MONEY), money_max_fen=draw(MONEY), modes=tuple(draw(MODES)),
        region=draw(st.sampled_from([None, "太原市", "大同", "山西省太原市"])))


CORPORA = st.lists(listings(), min_size=0, max_size=6, unique_by=lambda listing: listing.id)
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def build(corpus):
    """A batch-built index over the corpus."""
    index = MatchIndex(TREE)
    index.add_many(corpus)
    return index


def has_terms(listing):
    """Whether the listing has at least one index term."""
    return any(ch in HAN or ch in "ab12Ｘ" for ch in listing.indexed_text())


@SETTINGS
@given(corpus=CORPORA, query=listings(kind="demand", listing_id="q"), top=st.integers(0, 8))
def test_scores_stay_within_bounds_and_come_best_first(corpus, query, top):
    matches = build(corpus).rank(query, top)
    assert len(matches) <= top
    assert all(0.0 <= m.score <= 100.0 for m in matches)
    keys = [(-m.score, m.candidate_id) for m in matches]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)


@SETTINGS
@given(corpus=CORPORA, query=listings(kind="demand", listing_id="q"))
def test_ranking_is_deterministic(corpus, query):
    first = build(corpus)
    assert first.rank(query) == first.rank(query) == build(list(corpus)).rank(query)


@SETTINGS
@given(corpus=CORPORA, query=listings(kind="demand", listing_id="q"))
def test_contributions_add_up_to_the_score(corpus, query):
    for match in build(corpus).rank(query):
        assert sum(match.explanation.contributions.values()) == pytest.approx(match.score, abs=1e-9)


@SETTINGS
@given(corpus=CORPORA.filter(bool), data=st.data())
def test_a_listing_ranks_itself_first(corpus, data):
    listing = data.draw(st.sampled_from(corpus))
    assume(has_terms(listing))
    twin = dataclasses.replace(listing, kind="demand")
    matches = build(corpus).rank(twin, top=len(corpus))
    scores = {m.candidate_id: m.score for m in matches}
    assert scores[listing.id] == matches[0].score == pytest.approx(100.0)


@SETTINGS
@given(corpus=CORPORA, extra=listings(listing_id="extra"), query=listings(kind="demand", listing_id="q"))
def test_adding_then_removing_a_listing_restores_the_ranking(corpus, extra, query):
    add_words(extra.keywords)  # domain terms a listing teaches stay learned by design; only its postings go away
    index = build([listing for listing in corpus if listing.id != "extra"])
    before = index.rank(query)
    index.add(extra)
    index.remove("extra")
    assert index.rank(query) == before
