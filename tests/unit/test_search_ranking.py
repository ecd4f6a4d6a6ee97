"""Search ranking: BM25 with field weights and idf, partial matches, sub-word expansion and typo corrections."""
from market.listings import ranking, search, spelling
from market.listings.ranking import QueryTerm, Vocabulary


def _index(listings: dict[int, search.ListingText]) -> tuple[Vocabulary, dict[str, list[tuple[int, int]]]]:
    """A vocabulary and postings built the way the search table is filled."""
    postings: dict[str, list[tuple[int, int]]] = {}
    lengths = {}
    for listing_id, text in listings.items():
        terms = search.listing_terms(text)
        lengths[listing_id] = float(sum(terms.values()))
        for term, weight in terms.items():
            postings.setdefault(term, []).append((listing_id, weight))
    return Vocabulary({term: len(rows) for term, rows in postings.items()}, lengths), postings


def _ranked(listings: dict[int, search.ListingText], query: str) -> list[int]:
    vocabulary, postings = _index(listings)
    found = ranking.rank(ranking.expand(search.query_words(query), vocabulary), postings, vocabulary)
    return sorted(found, key=lambda listing_id: -found[listing_id].score)


def _text(title: str, body: str = "", **parts) -> search.ListingText:
    return search.ListingText(title=title, keywords=parts.pop("keywords", []), body=body, **parts)


FILLER = {10 + n: _text(f"设备{n}", "工艺 系统 设备 控制") for n in range(6)}


def test_a_listing_matching_more_query_words_ranks_higher_and_partial_matches_are_shown():
    listings = {1: _text("煤矸石充填材料", "综合利用煤矸石"), 2: _text("煤矸石山绿化"), 3: _text("秸秆综合利用"), **FILLER}
    found = _ranked(listings, "煤矸石 综合利用")
    assert found[0] == 1
    assert set(found[:3]) == {1, 2, 3}, "a listing matching one of the words is still a result"


def test_a_rarer_word_counts_more_than_a_common_one():
    listings = {1: _text("钙钛矿 薄膜"), 2: _text("电池 薄膜"), 3: _text("电池 组件"), 4: _text("电池 模组"), **FILLER}
    assert _ranked(listings, "钙钛矿 电池")[0] == 1


def test_a_title_or_keyword_hit_outranks_a_body_hit():
    listings = {1: _text("高炉渣处理", "本方案也可用于氢能储运"), 2: _text("氢能储运装置", "高炉渣"),
                3: _text("管道", keywords=["氢能"]), **FILLER}
    found = _ranked(listings, "氢能")
    assert found.index(2) < found.index(1) and found.index(3) < found.index(1)


def test_vocabulary_idf_is_positive_and_falls_with_document_frequency():
    vocabulary = Vocabulary({"稀有": 1, "常见": 9}, {n: 10.0 for n in range(10)})
    assert vocabulary.idf("稀有") > vocabulary.idf("常见") > 0
    assert vocabulary.idf("未知") > vocabulary.idf("稀有")


def test_an_unknown_word_is_searched_by_the_longest_known_pieces():
    vocabulary = Vocabulary({"锂离子": 1, "离子": 2, "电池": 5, "子电": 1}, {1: 1.0})
    assert ranking.cover("锂离子电池", vocabulary) == ["锂离子", "电池"]
    assert ranking.cover("钠离子电池", vocabulary) == ["离子", "电池"]
    assert ranking.cover("氢能", vocabulary) == []
    with_characters = Vocabulary({"机": 40, "光": 12, "电池": 5}, {1: 1.0})
    assert ranking.cover("光刻机", with_characters) == [], "single characters alone find noise"
    assert ranking.cover("光刻机电池", with_characters) == ["电池"]
    terms = {term.term: term for term in ranking.expand(["锂离子电池"], vocabulary)}
    assert set(terms) == {"锂离子电池", "锂离子", "电池"} and all(term.word == "锂离子电池" for term in terms.values())
    assert terms["锂离子电池"].weight == 1.0, "the whole word too, in case a listing indexed since holds it"


def test_a_known_word_brings_its_sub_words_at_a_lower_weight():
    vocabulary = Vocabulary({"燃料电池": 2, "电池": 5, "燃料": 3}, {1: 1.0})
    terms = {term.term: term.weight for term in ranking.expand(["燃料电池"], vocabulary)}
    assert terms["燃料电池"] == 1.0 and 0 < terms["电池"] < 1 and 0 < terms["燃料"] < 1


def test_a_listing_found_by_its_sub_words_only_counts_partly_covered(monkeypatch):
    monkeypatch.setattr(ranking, "MIN_RELATIVE_SCORE", 0.0)
    vocabulary = Vocabulary({"燃料电池": 1, "电池": 2}, {1: 4.0, 2: 4.0})
    terms = ranking.expand(["燃料电池"], vocabulary)
    found = ranking.rank(terms, {"燃料电池": [(1, 4)], "电池": [(1, 4), (2, 4)]}, vocabulary)
    assert found[1].coverage == 1.0 and found[2].coverage < 1.0 and found[1].score > found[2].score


def test_stray_partial_hits_far_below_the_best_are_dropped():
    vocabulary = Vocabulary({"甲": 1, "乙": 1}, {1: 1.0, 2: 1.0})
    found = ranking.rank([QueryTerm("甲", "甲", 1.0), QueryTerm("乙", "乙", 0.01)],
                         {"甲": [(1, 4)], "乙": [(2, 1)]}, vocabulary)
    assert set(found) == {1}


def test_english_words_match_without_their_plural_ending_and_stop_words():
    assert search.query_words("Hydrogen Fuel Cells and batteries") == ["hydrogen", "fuel", "cell", "battery"]
    listings = {1: _text("膜电极", title_en="Membrane electrode assemblies for PEM fuel cells"),
                2: _text("储氢罐", body_en="Hydrogen energy"), **FILLER}
    assert _ranked(listings, "fuel cell")[0] == 1


def test_an_organisation_name_finds_its_listings_below_a_title_hit():
    listings = {1: _text("碳纤维原丝", organisation="中国科学院山西煤炭化学研究所"),
                2: _text("碳纤维上浆剂", organisation="太原理工大学"), **FILLER}
    assert _ranked(listings, "太原理工大学") == [2]
    assert _ranked(listings, "山西煤炭化学研究所 碳纤维")[0] == 1


def test_homophone_typos_are_corrected_against_the_vocabulary():
    vocabulary = Vocabulary({"煤矸石": 3, "充填": 2, "氮化镓": 2, "虚拟电厂": 1, "电场": 1, "虚拟": 1}, {1: 1.0})
    assert spelling.correct("煤干石 充填", vocabulary) == "煤矸石 充填"
    assert spelling.correct("氮化家", vocabulary) == "氮化镓"
    assert spelling.correct("虚拟电场", vocabulary) == "虚拟电厂"


def test_a_missing_character_is_restored_from_the_vocabulary():
    vocabulary = Vocabulary({"飞轮储能": 1, "磁悬浮": 1}, {1: 1.0})
    assert spelling.correct("磁悬浮飞储能", vocabulary) == "磁悬浮飞轮储能"


def test_a_correctly_typed_query_gets_no_correction():
    vocabulary = Vocabulary({"煤矸石": 3, "充填": 2, "电场": 1, "仿真": 1}, {1: 1.0})
    assert spelling.correct("煤矸石 充填", vocabulary) is None
    assert spelling.correct("电场 仿真", vocabulary) is None
    assert spelling.correct("hydrogen", vocabulary) is None
