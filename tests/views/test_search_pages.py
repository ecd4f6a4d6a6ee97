"""The search pages: one box with tabs for achievements, demands and organisations, highlighting that cannot inject
markup, the ways out of a search that found nothing, sub-fields in the field facet, and the organisation search."""
import re
from dataclasses import replace

import pytest

from market.accounts.models import ApprovalStatus
from market.extensions import db
from market.listings import queries
from market.listings.queries import SearchParams, SearchResult
from market.listings.suggestions import zero_result_help
from market.listings.vocabulary import ListingKind
from market.organisations.search import search_organisations
from market.taxonomy.services import list_fields


def tab_counts(page: str) -> dict[str, tuple[str, int | None]]:
    """The search tabs on a results page: tab label → (link, count)."""
    tabs = re.findall(r'<a class="nav-link[^"]*"(?:\s+aria-current="page")?\s+href="([^"]+)">(找成果|找需求|找机构)'
                      r'(?: <span class="badge[^"]*">(\d+)</span>)?</a>', page)
    return {label: (href, int(count) if count else None) for href, label, count in tabs}


def test_results_page_has_one_search_box_whose_tabs_carry_the_query_with_counts(client, make_achievement,
                                                                                make_demand, make_organisation):
    make_achievement()
    make_demand(title="焦炉煤气制氢提纯需求", description="寻求制氢提纯技术。", keywords=["制氢"])
    make_demand(title="另一项制氢需求", description="制氢。", keywords=["制氢"])
    make_organisation("enterprise", name="山西制氢装备有限公司")
    make_organisation("enterprise", name="未审核制氢公司", status=ApprovalStatus.PENDING)

    page = client.get("/demands?q=制氢").get_data(as_text=True)

    assert page.count('role="search"') == 1 and page.count('name="q"') == 2  # the box, and the price form's hidden q
    assert tab_counts(page) == {"找成果": ("/achievements?q=%E5%88%B6%E6%B0%A2", 1),
                                "找需求": ("/demands?q=%E5%88%B6%E6%B0%A2", 2),
                                "找机构": ("/organisations?q=%E5%88%B6%E6%B0%A2", 1)}
    assert 'aria-current="page" href="/demands?q=' in page
    organisations = client.get("/organisations?q=制氢").get_data(as_text=True)
    assert tab_counts(organisations)["找成果"] == ("/achievements?q=%E5%88%B6%E6%B0%A2", 1)
    assert "山西<mark>制氢</mark>装备有限公司" in organisations and "未审核制氢公司" not in organisations


def test_without_a_query_the_tabs_show_no_counts(client, make_achievement):
    make_achievement()
    page = client.get("/achievements").get_data(as_text=True)
    assert tab_counts(page) == {"找成果": ("/achievements", None), "找需求": ("/demands", None),
                                "找机构": ("/organisations", None)}


def test_home_search_box_chooses_where_the_query_goes(client):
    home = client.get("/").get_data(as_text=True)
    assert 'action="/search"' in home
    assert re.findall(r'name="in" id="search-in-\w+" value="(\w+)"( checked)?', home) == [
        ("achievements", " checked"), ("demands", ""), ("organisations", "")]

    for chosen, target in [("demands", "/demands?q=%E5%88%B6%E6%B0%A2"),
                           ("organisations", "/organisations?q=%E5%88%B6%E6%B0%A2"),
                           ("achievements", "/achievements?q=%E5%88%B6%E6%B0%A2"),
                           ("<script>", "/achievements?q=%E5%88%B6%E6%B0%A2")]:
        response = client.get("/search", query_string={"q": " 制氢 ", "in": chosen})
        assert response.status_code == 302 and response.headers["Location"] == target
    assert client.get("/search?in=demands").headers["Location"] == "/demands"


def test_markup_in_a_title_and_in_the_query_is_shown_as_text(client, make_achievement):
    achievement = make_achievement(title="<script>alert(1)</script>焦炉煤气制氢", keywords=["<b>制氢</b>", "变压吸附"])

    page = client.get("/achievements", query_string={"q": "<script>制氢</script>"}).get_data(as_text=True)

    assert f'href="/achievements/{achievement.id}"' in page
    assert "<script>alert" not in page and "<b>" not in page
    assert "&lt;<mark>script</mark>&gt;alert(1)&lt;/<mark>script</mark>&gt;焦炉煤气<mark>制氢</mark>" in page
    assert "&lt;b&gt;<mark>制氢</mark>&lt;/b&gt;" in page
    assert 'value="&lt;script&gt;制氢&lt;/script&gt;"' in page


def test_zero_results_offer_the_corrected_query_related_fields_no_filters_and_the_other_kind(
        client, make_achievement, make_demand, monkeypatch):
    fuel_cell = make_achievement(title="低铂质子交换膜燃料电池汽车电堆", summary="燃料电池汽车用电堆。",
                                 keywords=["燃料电池汽车"], field="energy.hydrogen.fuel-cell")
    make_demand(title="燃料电池汽车电堆需求", description="寻求燃料电池汽车电堆技术。", keywords=["燃料电池汽车"])
    real_search = queries.search_listings

    def search_with_a_correction(session, kind, params, **options):
        result = real_search(session, kind, params, **options)
        result.suggestion = "燃料电池"
        return result

    monkeypatch.setattr(queries, "search_listings", search_with_a_correction)

    response = client.get("/achievements", query_string={"q": "燃料电池汽车", "valley": "datong"})

    page = response.get_data(as_text=True)
    assert response.status_code == 200 and fuel_cell.title not in page
    assert re.search(r'id="did-you-mean">[^<]*<a class="fw-semibold" href="/achievements\?q=%E7%87%83%E6%96%99%E7%94%B5'
                     r'%E6%B1%A0&amp;valley=datong">燃料电池</a>', page)
    assert re.search(r'<a href="/achievements\?valley=datong&amp;field=energy.hydrogen.fuel-cell">燃料电池</a> '
                     r'<span class="badge[^"]*">1</span>', page)
    assert re.search(r'id="without-filters"><a href="/achievements\?q=[^"]+">去掉筛选条件</a> <span class="badge[^"]*">1'
                     r'</span>', page)
    assert re.search(r'id="other-kind"><a href="/demands\?q=[^"]+">在技术需求中搜索“燃料电池汽车”</a> '
                     r'<span class="badge[^"]*">1</span>', page)


def test_a_search_that_finds_something_offers_no_way_out(client, make_achievement):
    make_achievement()
    page = client.get("/achievements?q=制氢").get_data(as_text=True)
    assert 'id="no-results"' not in page and 'id="other-kind"' not in page


def test_a_misspelt_query_shows_the_results_of_its_correction_and_says_so(client, make_achievement):
    make_achievement(title="增强型氮化镓功率晶体管", keywords=["氮化镓", "功率器件"])
    page = client.get("/achievements?q=氮化家").get_data(as_text=True)
    assert re.search(r"增强型(<mark>[^<]+</mark>)+功率晶体管", page)
    assert '<p class="small" id="corrected-query">以下是“氮化镓”的结果；您输入的是“氮化家”。</p>' in page
    assert 'id="corrected-query"' not in client.get("/achievements?q=氮化镓").get_data(as_text=True)


def test_fewer_words_leave_out_each_word_and_count_what_remains(app, make_achievement):
    make_achievement(title="焦炉煤气制氢工艺", keywords=["制氢"])
    make_achievement(title="冷轧带钢表面缺陷检测", summary="冷轧带钢。", keywords=["冷轧"], field="equipment")
    make_achievement(title="冷轧辊堆焊修复", summary="冷轧辊。", keywords=["冷轧"], field="equipment")
    asked = SearchParams(q="制氢 冷轧")
    nothing = SearchResult(items=[], total=0, page=1, per_page=20, terms=["制氢", "冷轧"])

    help_ = zero_result_help(db.session, ListingKind.ACHIEVEMENT, asked, nothing, list_fields(db.session))

    assert help_.fewer_words == [("制氢", "冷轧", 2), ("冷轧", "制氢", 1)]
    assert help_.suggestion is None and help_.without_filters == 0
    kept_filter = zero_result_help(db.session, ListingKind.ACHIEVEMENT, replace(asked, field="equipment"), nothing,
                                   list_fields(db.session))
    assert kept_filter.fewer_words == [("制氢", "冷轧", 2)]
    assert kept_filter.without_filters == queries.search_listings(
        db.session, ListingKind.ACHIEVEMENT, SearchParams(q="制氢 冷轧"), with_facets=False).total


def field_links(page: str) -> list[tuple[str, str, int, bool]]:
    """The field facet's links: (code, name, count, active)."""
    facet = page.split('class="facet field-facet', 1)[1].split("</div>\n</div>", 1)[0]
    return [(code, name, int(count), "active" in classes.split())
            for classes, code, name, count in re.findall(
                r'<a class="([^"]*)" href="/achievements\?(?:[^"]*&amp;)?field=([\w.-]+)(?:&amp;[^"]*)?"[^>]*><span>([^<]+)</span>'
                r'<span>(\d+)</span></a>', facet)]


def test_field_facet_opens_sub_fields_with_exact_counts(client, make_achievement):
    make_achievement(field="energy.hydrogen.production")
    make_achievement(field="energy.hydrogen.production", title="碱性电解水制氢", keywords=["电解水"])
    make_achievement(field="energy.hydrogen.fuel-cell", title="燃料电池双极板", keywords=["双极板"])
    make_achievement(field="energy.hydrogen", title="氢能综合示范", keywords=["氢能"])
    make_achievement(field="green.solid-waste.coal-based", title="煤矸石充填", keywords=["煤矸石"])

    top = field_links(client.get("/achievements").get_data(as_text=True))
    assert ("energy", "能源和新能源", 4, False) in top and ("green", "节能环保", 1, False) in top
    assert not any(code.startswith("energy.") for code, *_ in top)

    energy = field_links(client.get("/achievements?field=energy").get_data(as_text=True))
    assert ("energy", "能源和新能源", 4, True) in energy
    assert ("energy.hydrogen", "氢能", 4, False) in energy
    assert not any(code.startswith("energy.hydrogen.") for code, *_ in energy)

    hydrogen = client.get("/achievements?field=energy.hydrogen&q=制氢").get_data(as_text=True)
    links = field_links(hydrogen)
    assert ("energy", "能源和新能源", 2, False) in links and ("energy.hydrogen", "氢能", 2, True) in links
    assert ("energy.hydrogen.production", "制氢与氢气提纯", 2, False) in links
    assert not any(code == "energy.hydrogen.fuel-cell" for code, *_ in links)  # no 制氢 among the fuel cells
    assert ("green", "节能环保", 0, False) not in links

    leaf = field_links(client.get("/achievements?field=energy.hydrogen.fuel-cell").get_data(as_text=True))
    assert ("energy.hydrogen.fuel-cell", "燃料电池", 1, True) in leaf
    assert ("energy.hydrogen.production", "制氢与氢气提纯", 2, False) in leaf
    assert sum(count for code, _, count, _ in leaf if code.count(".") == 2) == 3  # 氢能 itself holds the fourth


def test_organisation_search_finds_approved_ones_by_name_first_then_description(app, make_organisation):
    by_name = make_organisation("university", name="太原理工大学", description="煤炭与材料学科。")
    by_description = make_organisation("enterprise", name="晋能装备公司", description="与太原理工大学合作研发。")
    both_words = make_organisation("institute", name="太原理工氢能研究院", description="Hydrogen fuel cells.")
    make_organisation("enterprise", name="太原理工待审公司", status=ApprovalStatus.PENDING)
    make_organisation("enterprise", name="无关公司", description="食品加工。")

    found = search_organisations(db.session, "太原理工大学")
    assert found.terms == ["太原", "理工大学"]
    assert found.items == [by_name, by_description, both_words]  # both terms, in the name first; then one term
    assert [org.id for org in search_organisations(db.session, "HYDROGEN").items] == [both_words.id]
    assert search_organisations(db.session, "%").total == 4  # no term: every approved organisation
    second = search_organisations(db.session, "太原理工大学", page=2, per_page=2)
    assert second.pages == 2 and second.items == [both_words]
    assert search_organisations(db.session, "无人机").total == 0


@pytest.mark.parametrize(("query", "shown", "status"), [
    ({"q": "太原理工"}, ["<mark>太原理工</mark>大学", "<mark>太原理工</mark>装备公司"], 200),
    ({"q": "太原理工", "page": "2", "per_page": "1"}, ["共 2 条"], 200),
    ({"q": "x" * 101}, ["参数无效。", "共 3 条"], 200),
    ({"page": "abc"}, ["应在 1 到"], 200),
])
def test_organisation_page_lists_highlighted_matches_and_refuses_bad_arguments(client, make_organisation, query,
                                                                                shown, status):
    make_organisation("university", name="太原理工大学", description="<script>x</script>")
    make_organisation("enterprise", name="太原理工装备公司")
    make_organisation("enterprise", name="无关公司")
    response = client.get("/organisations", query_string=query)
    page = response.get_data(as_text=True)
    assert response.status_code == status
    for text in shown:
        assert text in page
    assert "<script>x" not in page


def test_organisation_page_without_matches_offers_the_listing_searches(client, make_organisation):
    make_organisation("enterprise", name="无关公司")
    page = client.get("/organisations?q=制氢").get_data(as_text=True)
    assert 'id="no-results"' in page and "在科技成果中搜索“制氢”" in page and "在技术需求中搜索“制氢”" in page


def test_success_cases_that_find_nothing_offer_the_listings_on_offer(client, make_achievement):
    make_achievement()

    page = client.get("/achievements?sold=1&q=制氢").get_data(as_text=True)

    assert 'id="no-results"' in page
    assert re.search(r'id="on-offer"><a href="/achievements\?q=%E5%88%B6%E6%B0%A2">在可对接成果中搜索“制氢”</a> '
                     r'<span class="badge[^"]*">1</span>', page)
    assert tab_counts(page)["找成果"] == ("/achievements?q=%E5%88%B6%E6%B0%A2&amp;sold=1", 0)
