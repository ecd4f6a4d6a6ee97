"""Ranked search through the service: partial matches, corrections, English titles, organisation names, filters."""
import pytest

from market.extensions import db
from market.listings.queries import SearchParams, search_listings
from market.listings.vocabulary import ListingKind


def titles(query: str, kind: ListingKind = ListingKind.ACHIEVEMENT, **params) -> list[str]:
    """Titles found for a query, best first."""
    return [item.title for item in search_listings(db.session, kind, SearchParams(q=query, **params)).items]


def test_a_listing_matching_part_of_the_query_is_shown_below_a_full_match(make_achievement):
    make_achievement(title="煤矸石膏体充填材料", keywords=["煤矸石", "充填"])
    make_achievement(title="秸秆综合利用技术", keywords=["秸秆", "综合利用"])
    make_achievement(title="煤矸石综合利用制陶粒", keywords=["煤矸石", "综合利用", "陶粒"])
    found = titles("煤矸石 综合利用")
    assert found[0] == "煤矸石综合利用制陶粒"
    assert set(found) == {"煤矸石膏体充填材料", "秸秆综合利用技术", "煤矸石综合利用制陶粒"}


def test_a_misspelt_query_searches_the_correction_and_says_so(make_achievement):
    make_achievement(title="增强型氮化镓功率晶体管", keywords=["氮化镓", "功率器件"])
    make_achievement(title="家用储能逆变器", keywords=["储能"])
    result = search_listings(db.session, ListingKind.ACHIEVEMENT, SearchParams(q="氮化家"))
    assert result.suggestion == "氮化镓"
    assert result.items[0].title == "增强型氮化镓功率晶体管"
    correct = search_listings(db.session, ListingKind.ACHIEVEMENT, SearchParams(q="氮化镓"))
    assert correct.suggestion is None and correct.total == 1


def test_english_titles_and_field_names_answer_english_queries(make_achievement):
    make_achievement(title="低铂膜电极", title_en="Low-platinum membrane electrodes for PEM fuel cells")
    make_achievement(title="焦炉煤气制氢", summary_en="")
    assert titles("fuel cell") == ["低铂膜电极"]
    assert "焦炉煤气制氢" in titles("energy"), "the English name of the field (能源和新能源) is indexed"


def test_an_organisation_name_finds_its_listings_and_follows_a_rename(make_achievement, make_user):
    owner = make_user("researcher")
    owner.organisation.name = "晋北谷物中心"
    db.session.commit()
    mine = make_achievement(owner=owner, title="谷子联合收获机")
    make_achievement(title="苹果分选")
    assert titles("晋北谷物中心") == [mine.title]
    owner.organisation.name = "太行农机公司"
    db.session.commit()
    assert titles("太行农机公司") == [mine.title]
    assert titles("晋北谷物中心") == []


def test_filters_stay_exact_and_facets_count_the_ranked_matches(make_achievement):
    make_achievement(title="氢能储运装置", field="energy", keywords=["氢能"])
    make_achievement(title="氢能检测设备", field="equipment", keywords=["氢能"])
    make_achievement(title="数控机床", field="equipment", keywords=["机床"])
    assert titles("氢能", field="energy") == ["氢能储运装置"]
    result = search_listings(db.session, ListingKind.ACHIEVEMENT, SearchParams(q="氢能"))
    assert result.total == 2 and result.facets["field"] == {"energy": 1, "equipment": 1}


def test_drafts_and_withdrawn_listings_are_never_found(make_achievement):
    make_achievement(title="钙钛矿电池草稿", status="draft")
    make_achievement(title="钙钛矿电池组件")
    assert titles("钙钛矿") == ["钙钛矿电池组件"]


def _vocabulary_then_a_new_listing(make_achievement):
    """The vocabulary read over one listing, then a listing with a new word indexed: (vocabulary read, load)."""
    from market.listings import queries

    queries._vocabularies.clear()  # another test's vocabulary of the same database (PostgreSQL) is not this one's
    make_achievement(title="钙钛矿电池组件")
    before = queries.load_vocabulary(db.session, ListingKind.ACHIEVEMENT)
    make_achievement(title="固态电解质隔膜", keywords=["固态电解质"])
    return before, lambda: queries.load_vocabulary(db.session, ListingKind.ACHIEVEMENT)


@pytest.mark.parametrize("app", [{"SEARCH_VOCABULARY_REFRESH_SECONDS": 60, "SEARCH_VOCABULARY_IN_BACKGROUND": True}],
                         indirect=True)
def test_a_listing_indexed_after_the_vocabulary_was_read_is_found_at_once(app, make_achievement):
    before, load = _vocabulary_then_a_new_listing(make_achievement)
    assert load() is before, "read again at most once a minute"
    assert "固态电解质隔膜" in titles("固态电解质")


@pytest.mark.parametrize("app", [{"SEARCH_VOCABULARY_REFRESH_SECONDS": 0, "SEARCH_VOCABULARY_IN_BACKGROUND": True}],
                         indirect=True)
def test_a_changed_vocabulary_is_read_again_in_the_background_while_searches_use_the_one_held(app, make_achievement):
    import time

    before, load = _vocabulary_then_a_new_listing(make_achievement)
    assert load() is before
    deadline = time.monotonic() + 10
    while load() is before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "固态电解质" in load()
