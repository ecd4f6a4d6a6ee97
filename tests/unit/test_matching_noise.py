"""The matcher's long tail stays quiet: structured fits need close subjects, explanations show telling terms only."""
import pytest

from market.matching.engine import Listing, MatchIndex
from market.matching.weights import DEFAULT_WEIGHTS, STRUCTURED_FACTORS, MatchWeights
from market.text import is_telling_term
from tests.unit.demo_listings import demo_achievements, demo_demands, demo_field_tree, demo_index

# A high-nickel cathode achievement as a researcher would write it, with the structured fits most demands like:
# a high TRL, a modest price, the common transfer modes and a Taiyuan address.
CATHODE = Listing(
    id="cathode", kind="achievement", title="高镍三元正极材料单晶化与表面包覆改性技术",
    text="通过共沉淀前驱体控制和一次高温烧结制备单晶高镍NCM811正极材料，表面包覆快离子导体层，抑制循环中的微裂纹和"
         "界面副反应。首次放电比容量205 mAh/g以上，1C循环1000次容量保持率92%，振实密度2.4 g/cm3以上，已完成百吨级中试。",
    keywords=("高镍正极", "单晶化", "表面包覆", "锂离子电池"), field="energy.storage.battery", trl=7,
    money_min_fen=20_000_000, money_max_fen=60_000_000, modes=("assignment", "co_development", "license_exclusive"),
    region="太原市")
VINEGAR_DEMAND = "d-080"          # 老陈醋固态醋醅自动翻醅与发酵过程监控
CARDIAC_DEMAND = "d-067"          # 基层用心肌标志物多联检快速检测试剂
CARDIAC_ACHIEVEMENT = "sxu-a604"  # 心肌标志物三联检时间分辨荧光免疫层析试剂


def _demand(key: str) -> Listing:
    return next(listing for listing in demo_demands() if listing.id == key)


def _shown(matches) -> list[str]:
    """Ids of the matches a listing page shows (at or above the minimum score)."""
    return [match.candidate_id for match in matches if match.score >= DEFAULT_WEIGHTS.min_listing_score]


def test_the_demo_ids_name_the_listings_the_tests_mean():
    assert "老陈醋" in _demand(VINEGAR_DEMAND).title and "心肌标志物" in _demand(CARDIAC_DEMAND).title
    assert any(a.id == CARDIAC_ACHIEVEMENT and "心肌标志物" in a.title for a in demo_achievements())


def test_a_cathode_achievement_lists_neither_the_vinegar_nor_the_cardiac_demand():
    demands = demo_index(demo_demands())
    matches = demands.rank(CATHODE, 50)
    by_id = {match.candidate_id: match for match in matches}
    for unrelated in (VINEGAR_DEMAND, CARDIAC_DEMAND):
        assert unrelated not in _shown(matches)
        if unrelated in by_id:
            explanation = by_id[unrelated].explanation
            assert not explanation.structured_counted
            assert all(explanation.contributions[name] == 0 for name in STRUCTURED_FACTORS)


@pytest.mark.parametrize("query_id", [VINEGAR_DEMAND, CARDIAC_DEMAND])
def test_the_vinegar_and_cardiac_demands_do_not_list_the_cathode(query_id):
    achievements = demo_index(demo_achievements() + (CATHODE,))
    assert CATHODE.id not in _shown(achievements.rank(_demand(query_id), 50))


def test_the_cardiac_achievement_is_not_listed_for_a_cathode_demand():
    demand = Listing(id="cathode-demand", kind="demand", title="高镍正极材料循环寿命提升",
                     text="希望与高校合作解决高镍三元正极材料循环中的微裂纹和产气问题，容量保持率达到90%以上。",
                     keywords=("高镍正极", "锂离子电池"), field="energy.storage.battery", trl=5,
                     money_min_fen=30_000_000, money_max_fen=300_000_000, modes=("assignment", "license_exclusive"),
                     region="太原市")
    assert CARDIAC_ACHIEVEMENT not in _shown(demo_index(demo_achievements()).rank(demand, 50))


def test_related_pairs_across_top_level_fields_still_show_with_their_structured_fits():
    hard_carbon_demand = next(d for d in demo_demands() if "硬碳负极" in d.title)
    matches = demo_index(demo_achievements()).rank(hard_carbon_demand, 10)
    best = demo_index(demo_achievements()).get(matches[0].candidate_id)
    assert "硬碳负极" in best.title and matches[0].score >= DEFAULT_WEIGHTS.min_listing_score
    assert matches[0].explanation.structured_counted


def test_structured_fits_give_no_points_when_text_and_field_are_both_far_apart():
    shared = {"trl": 7, "money_min_fen": 1_000_000, "money_max_fen": 1_000_000, "modes": ("assignment",),
              "region": "太原市"}
    pair = [
        Listing(id="vinegar", title="老陈醋固态发酵自动翻醅机", text="老陈醋醋醅每次自动翻醅，监测醅温和总酸，劳动强度低。",
                field="agriculture.food-processing", **shared),
        Listing(id="anode", title="无烟煤基硬碳负极材料", text="钠离子电池硬碳负极，首次库伦效率高。",
                field="energy.storage.battery", **shared)]
    index = demo_index(demo_achievements() + tuple(pair))
    demand = Listing(id="d", kind="demand", title="钠离子电池硬碳负极", text="提升钠离子电池硬碳负极首次库伦效率。",
                     field="energy.storage.battery", **shared)
    by_id = {match.candidate_id: match for match in index.rank(demand, 300)}
    assert by_id["anode"].explanation.structured_counted
    assert by_id["anode"].explanation.contributions["maturity"] > 0
    far = by_id["vinegar"].explanation
    assert not far.structured_counted and far.similarities["maturity"] == 1.0
    assert all(far.contributions[name] == 0 for name in STRUCTURED_FACTORS)
    assert by_id["vinegar"].score == pytest.approx(sum(far.contributions.values()), abs=1e-6)
    opened = MatchIndex(demo_field_tree(), MatchWeights(structured_gate_text=0.0))
    opened.add_many(index.listings())
    assert {m.candidate_id: m for m in opened.rank(demand, 300)}["vinegar"].score > by_id["vinegar"].score


@pytest.mark.parametrize("word", ["通过", "首次", "表面", "mah", "以上", "mm", "88", "15分钟", "30%", "MPa", "℃",
                                  "kW·h", "2.4", "的", "技术", "万元", "cm3", "项目", "a"])
def test_stop_words_generic_words_numbers_and_units_are_not_telling(word):
    assert not is_telling_term(word)


@pytest.mark.parametrize("word", ["燃料电池", "硬碳负极", "pemfc", "igbt", "ncm811", "co2", "5g", "3d", "老陈醋"])
def test_subject_words_are_telling(word):
    assert is_telling_term(word)


def test_no_demo_explanation_shows_a_stop_word_or_a_unit():
    noise = {"通过", "首次", "表面", "mah", "以上", "mm"}
    for queries, index in ((demo_demands() + (CATHODE,), demo_index(demo_achievements())),
                           (demo_achievements() + (CATHODE,), demo_index(demo_demands()))):
        for query in queries:
            for match in index.rank(query, 10):
                terms = match.explanation.shared_terms
                assert noise.isdisjoint(terms), (query.title, terms)
                assert all(is_telling_term(term) for term in terms), (query.title, terms)


def test_words_in_many_listings_are_too_common_to_explain_a_match():
    filler = [Listing(id=f"f{i}", title=f"平台{i}", text=f"数据采集与数据分析第{i}号方案，含钒钛铁矿以外的内容{i}。")
              for i in range(DEFAULT_WEIGHTS.shared_term_min_listings)]
    index = MatchIndex()
    index.add_many(filler + [Listing(id="target", title="钒钛磁铁矿数据分析", text="钒钛磁铁矿选冶数据分析。")])
    match = index.rank(Listing(id="q", kind="demand", title="钒钛磁铁矿选冶", text="钒钛磁铁矿选冶的数据分析。"), 1)[0]
    assert match.candidate_id == "target"
    assert "磁铁矿" in match.explanation.shared_terms
    assert "数据" not in match.explanation.shared_terms and "数据分析" not in match.explanation.shared_terms
