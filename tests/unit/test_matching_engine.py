"""The pure matcher: text analysis, field tree, factors, ranking, explanations, changes and persistence."""
import numpy as np
import pytest

from market.matching.engine import Listing, MatchIndex
from market.matching.factors import budget_fit, maturity_fit, mode_fit, region_fit
from market.matching.fields import FieldTree
from market.matching.ngrams import term_counts
from market.matching.suggest import FieldSuggester
from market.matching.weights import FACTORS, MatchWeights
from market.text import add_words, words_of

FIELD_NODES = [
    {"code": "energy", "name": "能源和新能源", "parent_code": None, "keywords": ["新能源"]},
    {"code": "energy.hydrogen", "name": "氢能", "parent_code": "energy", "keywords": ["制氢", "储氢"]},
    {"code": "energy.hydrogen.fuel-cell", "name": "燃料电池", "parent_code": "energy.hydrogen",
     "keywords": ["质子交换膜", "电堆"]},
    {"code": "energy.hydrogen.storage", "name": "储氢材料", "parent_code": "energy.hydrogen", "keywords": []},
    {"code": "energy.solar", "name": "光伏", "parent_code": "energy", "keywords": ["太阳能电池"]},
    {"code": "equipment", "name": "先进装备制造", "parent_code": None, "keywords": []},
    {"code": "equipment.mining", "name": "煤矿智能装备", "parent_code": "equipment", "keywords": ["液压支架"]},
]

ACHIEVEMENTS = [
    Listing(id="a-fuel-cell", title="质子交换膜燃料电池电堆", field="energy.hydrogen.fuel-cell", trl=6,
            text="研制了一种低铂质子交换膜燃料电池电堆，功率密度高，适用于重载卡车。", keywords=("燃料电池", "电堆")),
    Listing(id="a-storage", title="镁基储氢合金", field="储氢材料", trl=4,
            text="镁基储氢合金在常温下吸放氢，储氢密度高，适合氢能储运。"),
    Listing(id="a-solar", title="钙钛矿太阳能电池", field="energy.solar", trl=5,
            text="钙钛矿太阳能电池的界面钝化方法，转换效率提高，稳定性好。"),
    Listing(id="a-support", title="液压支架电液控制系统", field="equipment.mining", trl=8,
            text="煤矿综采工作面液压支架的电液控制系统，实现自动跟机与远程监控。"),
    Listing(id="a-herb", title="中药提取工艺", field="中医药", trl=7,
            text="黄芪多糖的提取纯化工艺，收率高，适合规模化生产。"),
]


@pytest.fixture
def tree():
    """A small field tree: energy (hydrogen: fuel cells, storage; solar) and equipment (mining)."""
    return FieldTree.from_nodes(FIELD_NODES)


@pytest.fixture
def index(tree):
    """The five achievements, batch-indexed with the tree."""
    built = MatchIndex(tree)
    built.add_many(ACHIEVEMENTS)
    return built


def demand(**fields):
    """A demand listing with id d-1 unless given."""
    fields.setdefault("id", "d-1")
    return Listing(kind="demand", **fields)


def ranked_ids(index, query, top=10):
    """Candidate ids of the ranking, best first."""
    return [m.candidate_id for m in index.rank(query, top)]


# ----- text analysis ---------------------------------------------------------------------------

def test_full_width_letters_and_digits_give_the_same_terms_as_half_width():
    assert np.array_equal(term_counts(["ＳＯＦＣ电池１２３"])[1], term_counts(["sofc电池123"])[1])


def test_bigrams_do_not_cross_punctuation():
    _, joined, _ = term_counts(["电池"])
    _, split, _ = term_counts(["电，池"])
    assert len(joined) == 3 and len(split) == 2


def test_segmenter_keeps_domain_terms_whole():
    assert "钛基双极板涂层" not in words_of("一种钛基双极板涂层的制备方法", domain_terms=True)
    add_words(["钛基双极板涂层"])
    assert "钛基双极板涂层" in words_of("一种钛基双极板涂层的制备方法", domain_terms=True)


# ----- field tree ------------------------------------------------------------------------------

@pytest.mark.parametrize("a, b, expected", [
    ("energy.hydrogen.fuel-cell", "energy.hydrogen.fuel-cell", 1.0),
    ("energy.hydrogen.fuel-cell", "energy.hydrogen", 0.5),
    ("energy.hydrogen.fuel-cell", "energy.hydrogen.storage", 0.25),
    ("energy.hydrogen.fuel-cell", "energy.solar", 0.125),
    ("energy.hydrogen.fuel-cell", "equipment.mining", 0.0),
    ("燃料电池", "energy.hydrogen.fuel-cell", 1.0),
    ("中医药", "中医药", 1.0),
    ("中医药", "药学", 0.0),
    ("中医药", "energy", 0.0),
])
def test_field_similarity_falls_with_tree_distance(tree, a, b, expected):
    assert tree.similarity(a, b) == expected


def test_field_path_goes_up_and_down_the_tree(tree):
    assert tree.path("energy.hydrogen.fuel-cell", "储氢材料") == ("燃料电池", "氢能", "储氢材料")
    assert tree.path("能源和新能源", "energy.hydrogen.fuel-cell") == ("能源和新能源", "氢能", "燃料电池")


def test_nested_records_build_the_same_tree_as_flat_nodes(tree):
    nested = FieldTree.from_nested([{"code": "energy", "name": "能源和新能源", "children": [
        {"code": "energy.hydrogen", "name": "氢能", "children": [
            {"code": "energy.hydrogen.fuel-cell", "name": "燃料电池", "keywords": ["电堆"]}]}]}])
    assert nested.path("energy", "energy.hydrogen.fuel-cell") == tree.path("energy", "energy.hydrogen.fuel-cell")
    assert "电堆" in nested.vocabulary()


# ----- structured factors ----------------------------------------------------------------------

@pytest.mark.parametrize("wanted, offered, expected", [
    (5, 7, 1.0), (7, 7, 1.0), (7, 6, 0.75), (7, 5, 0.5), (9, 1, 0.0), (None, 5, None), (5, None, None),
])
def test_maturity_fit_counts_levels_short_of_the_demand(wanted, offered, expected):
    fit = maturity_fit(demand(trl=wanted), Listing(id="a", trl=offered), shortfall_step=0.25)
    assert fit == expected


@pytest.mark.parametrize("budget, price, expected", [
    ((100_000_00, 300_000_00), (200_000_00, 250_000_00), 1.0),
    ((None, 100_000_00), (200_000_00, None), 0.5),
    ((50_000_00, None), (None, 200_000_00), 0.25),
    ((0, 0), (100, 200), 0.0),
    ((None, None), (100, 200), None),
])
def test_budget_fit_compares_the_budget_ceiling_with_the_asking_price(budget, price, expected):
    query = demand(money_min_fen=budget[0], money_max_fen=budget[1])
    offer = Listing(id="a", money_min_fen=price[0], money_max_fen=price[1])
    assert budget_fit(query, offer) == expected


@pytest.mark.parametrize("wanted, offered, expected", [
    (("license_exclusive", "assignment"), ("assignment",), 1.0),
    (("license_ordinary",), ("license_exclusive",), 0.5),
    (("equity",), ("tech_service",), 0.0),
    ((), ("equity",), None),
])
def test_mode_fit_rewards_a_shared_transfer_mode(wanted, offered, expected):
    assert mode_fit(demand(modes=wanted), Listing(id="a", modes=offered), related_similarity=0.5) == expected


@pytest.mark.parametrize("a, b, expected", [
    ("太原市", "太原", 1.0), ("山西省太原市", "太原市", 1.0), ("大同市", "太原市", 0.0), ("", "太原", None),
])
def test_region_fit_matches_the_same_city(a, b, expected):
    assert region_fit(demand(region=a), Listing(id="a", region=b)) == expected


# ----- ranking ---------------------------------------------------------------------------------

def test_demand_finds_the_achievement_it_describes(index):
    query = demand(title="燃料电池电堆", text="需要一种适用于重载卡车的质子交换膜燃料电池电堆")
    assert ranked_ids(index, query)[0] == "a-fuel-cell"


def test_keywords_only_demand_finds_the_achievement(index):
    assert ranked_ids(index, demand(keywords=["液压支架", "电液控制"]))[0] == "a-support"


@pytest.mark.parametrize("query", [
    demand(),
    demand(title="   ", text="\n\t"),
    demand(text="，。！？……"),
])
def test_a_demand_without_words_has_no_matches(index, query):
    assert index.rank(query) == []


def test_empty_index_and_single_achievement_rank_without_error(tree):
    empty = MatchIndex(tree)
    assert empty.rank(demand(text="燃料电池")) == []
    single = MatchIndex(tree)
    single.add(ACHIEVEMENTS[0])
    assert ranked_ids(single, demand(text="燃料电池")) == ["a-fuel-cell"]
    assert single.rank(demand(text="光伏组件清洗机器人")) == []


def test_only_listings_sharing_a_term_are_returned(index):
    assert ranked_ids(index, demand(text="黄芪")) == ["a-herb"]


def test_top_limits_the_number_of_matches(index):
    query = demand(text="电池 氢 煤矿 中药 钙钛矿")
    assert len(index.rank(query, top=2)) == 2
    assert index.rank(query, top=0) == []


def test_very_long_text_is_ranked(index):
    long_text = "质子交换膜燃料电池电堆" + "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(60_000))
    matches = index.rank(demand(text=long_text))
    assert matches and all(0 <= m.score <= 100 for m in matches)


def test_mixed_scripts_and_emoji_are_tolerated(index):
    query = demand(title="PEMFC 燃料电池 🚛🔋 Brennstoffzelle ÉTUDE 重载卡车 \ud83d", keywords=["fuel cell 🔋"])
    assert ranked_ids(index, query)[0] == "a-fuel-cell"


def test_identical_listings_tie_and_are_ordered_by_id(tree):
    twin = {"title": "钙钛矿太阳能电池", "text": "钙钛矿太阳能电池的界面钝化方法。", "field": "energy.solar"}
    index = MatchIndex(tree)
    index.add_many([Listing(id="b-2", **twin), Listing(id="b-10", **twin), Listing(id="a:1#x+y", **twin)])
    matches = index.rank(demand(text="钙钛矿电池"))
    assert [m.candidate_id for m in matches] == ["a:1#x+y", "b-10", "b-2"]
    assert len({m.score for m in matches}) == 1


def test_unknown_field_labels_count_only_when_equal(tree):
    text = "黄芪多糖的提取纯化工艺"
    index = MatchIndex(tree)
    index.add_many([Listing(id="same", text=text, field="中医药"), Listing(id="other", text=text, field="药学"),
                    Listing(id="none", text=text)])
    by_id = {m.candidate_id: m for m in index.rank(demand(text=text, field="中医药"))}
    assert by_id["same"].explanation.similarities["field"] == 1.0
    assert by_id["other"].explanation.similarities["field"] == 0.0
    assert by_id["none"].explanation.similarities["field"] is None
    assert by_id["same"].score > by_id["other"].score


def test_field_given_by_name_counts_like_its_code(index):
    by_code = index.rank(demand(text="燃料电池电堆", field="energy.hydrogen.fuel-cell"))[0]
    by_name = index.rank(demand(text="燃料电池电堆", field="燃料电池"))[0]
    assert by_code.score == by_name.score


def test_a_demand_without_field_gets_one_inferred_from_its_candidates(index):
    match = index.rank(demand(title="质子交换膜燃料电池电堆"))[0]
    assert match.explanation.field_inferred
    assert match.explanation.query_field == "energy.hydrogen.fuel-cell"
    assert match.explanation.field_path == ("燃料电池",)


def test_field_agreement_lifts_a_same_field_candidate_over_an_equal_text_match(tree):
    text = "高效电池材料的制备方法"
    index = MatchIndex(tree)
    index.add_many([Listing(id="a-solar", text=text, field="energy.solar"),
                    Listing(id="b-fuel", text=text, field="energy.hydrogen.fuel-cell")])
    assert ranked_ids(index, demand(text=text, field="燃料电池")) == ["b-fuel", "a-solar"]


def test_structured_fit_orders_equal_text_matches():
    text = "液压支架电液控制系统"
    index = MatchIndex()
    index.add_many([Listing(id="a-cheap", text=text, trl=8, money_min_fen=50_000_00, modes=("license_ordinary",),
                            region="太原市"),
                    Listing(id="b-dear", text=text, trl=4, money_min_fen=900_000_00, modes=("equity",),
                            region="大同市")])
    query = demand(text=text, trl=7, money_max_fen=100_000_00, modes=["license_ordinary"], region="太原")
    first, second = index.rank(query)
    assert (first.candidate_id, second.candidate_id) == ("a-cheap", "b-dear")
    similarities = dict(first.explanation.similarities)
    assert similarities.pop("text") == pytest.approx(1.0)
    assert similarities == {"title_keywords": None, "field": None, "maturity": 1.0, "budget": 1.0, "mode": 1.0,
                            "region": 1.0}
    assert first.score == pytest.approx(100.0, abs=1e-3)
    assert second.explanation.similarities["budget"] == pytest.approx(100_000_00 / 900_000_00)


def test_explanation_contributions_sum_to_the_score(index):
    query = demand(title="燃料电池", text="低铂电堆 储氢 太阳能电池", keywords=["电堆"], trl=5,
                   money_max_fen=200_000_00, modes=["assignment"], region="太原")
    for match in index.rank(query):
        contributions = match.explanation.contributions
        assert set(contributions) == set(FACTORS)
        assert sum(contributions.values()) == pytest.approx(match.score, abs=1e-9)
        assert all(contributions[f] == 0 for f, s in match.explanation.similarities.items() if s is None)


def test_explanation_lists_shared_terms_for_highlighting(index):
    match = index.rank(demand(title="重载卡车用燃料电池", keywords=["质子交换膜"]))[0]
    assert "燃料电池" in match.explanation.shared_terms
    assert "质子交换膜" in match.explanation.shared_terms
    assert "电池" not in match.explanation.shared_terms  # inside a longer shared term


def test_an_achievement_ranks_demands_in_the_other_direction(tree):
    demands = MatchIndex(tree)
    demands.add_many([demand(id="d-truck", title="重载卡车燃料电池", text="寻求燃料电池电堆技术"),
                      demand(id="d-coal", title="综采工作面自动化", text="液压支架远程监控")])
    match = demands.rank(ACHIEVEMENTS[0])[0]
    assert (match.demand_id, match.achievement_id) == ("d-truck", "a-fuel-cell")


# ----- changes and persistence -----------------------------------------------------------------

def test_removed_listing_is_no_longer_matched(index):
    assert index.remove("a-herb")
    assert "a-herb" not in index and len(index) == len(ACHIEVEMENTS) - 1
    assert index.rank(demand(text="黄芪多糖")) == []
    assert not index.remove("a-herb")


def test_updated_listing_is_matched_by_its_new_text(index):
    index.update(Listing(id="a-herb", text="丹参酮的提取工艺", field="中医药"))
    assert index.rank(demand(text="黄芪")) == []
    assert ranked_ids(index, demand(text="丹参酮")) == ["a-herb"]


def test_incremental_adds_give_the_same_scores_as_a_batch_build(tree):
    batch = MatchIndex(tree)
    batch.add_many(ACHIEVEMENTS)
    one_by_one = MatchIndex(tree, delta_limit=2)
    for listing in ACHIEVEMENTS:
        one_by_one.add(listing)
    query = demand(text="燃料电池 储氢合金 液压支架")
    assert [(m.candidate_id, m.score) for m in one_by_one.rank(query)] == \
        [(m.candidate_id, m.score) for m in batch.rank(query)]


def test_compaction_after_removals_keeps_the_rankings(index):
    index.remove("a-solar")
    query = demand(text="燃料电池 储氢 液压支架 黄芪")
    before = [(m.candidate_id, m.score) for m in index.rank(query)]
    index.compact()
    assert [(m.candidate_id, m.score) for m in index.rank(query)] == before


def test_saved_index_loads_with_the_same_rankings(index, tree, tmp_path):
    index.remove("a-solar")
    index.add(Listing(id="a-new", text="车载储氢瓶的碳纤维缠绕工艺", field="储氢材料", keywords=("储氢瓶",)))
    query = demand(text="储氢 燃料电池 碳纤维", keywords=["储氢瓶"])
    path = tmp_path / "achievements.npz"
    index.save(path)
    loaded = MatchIndex.load(path, tree)
    assert len(loaded) == len(index) and loaded.get("a-new") == index.get("a-new")
    assert loaded.rank(query) == index.rank(query)
    loaded.add(Listing(id="a-later", text="固态储氢"))
    assert "a-later" in ranked_ids(loaded, query)


def test_negative_weights_are_rejected():
    with pytest.raises(ValueError):
        MatchWeights(region=-0.1)


# ----- field suggestion ------------------------------------------------------------------------

LABELLED = [
    ("质子交换膜燃料电池电堆的低铂催化剂", "燃料电池"),
    ("燃料电池双极板与膜电极的制备", "燃料电池"),
    ("钙钛矿太阳能电池的界面钝化", "光伏"),
    ("晶硅光伏组件的减反射镀膜", "光伏"),
    ("黄芪多糖的提取纯化", "中药学"),
    ("中药复方的质量控制与指纹图谱", "中药学"),
]


def test_suggester_proposes_the_field_of_similar_listings():
    suggester = FieldSuggester()
    suggester.add_many(LABELLED)
    assert suggester.best("膜电极催化剂用于燃料电池") == "燃料电池"
    assert suggester.best("光伏组件镀膜工艺") == "光伏"
    assert suggester.best("中药指纹图谱") == "中药学"


def test_suggestions_are_ranked_with_confidences():
    suggester = FieldSuggester()
    suggester.add_many(LABELLED)
    suggestions = suggester.suggest("燃料电池催化剂", top=3)
    assert suggestions[0].label == "燃料电池" and len(suggestions) == 3
    confidences = [s.confidence for s in suggestions]
    assert confidences == sorted(confidences, reverse=True) and 0 < sum(confidences) <= 1 + 1e-9


def test_suggester_without_known_words_falls_back_to_the_most_common_field():
    suggester = FieldSuggester()
    suggester.add_many(LABELLED + [("燃料电池系统", "燃料电池")])
    assert suggester.best("😀😀") == "燃料电池"
    assert FieldSuggester().suggest("燃料电池") == []


def test_suggester_learns_from_listings_with_fields():
    suggester = FieldSuggester.from_listings(ACHIEVEMENTS)
    assert suggester.best("煤矿液压支架控制") == "equipment.mining"
    assert "中医药" in suggester.labels


def test_a_query_against_a_corpus_of_empty_listings_finds_nothing():
    index = MatchIndex()
    index.add(Listing(id="1"))
    assert index.rank(Listing(id="q", text="1", kind="demand")) == []
