"""GET /api/v1/achievements and /api/v1/demands: search, filters, sort, pages, and refused query parameters."""
import pytest

from market.money import MAX_FEN

SIC = {
    "title": "碳化硅功率器件低温烧结封装",
    "summary": "纳米银烧结工艺替代软钎焊，提高碳化硅模块的耐温能力。",
    "description_public": "",
    "description_confidential": "",
    "keywords": ["碳化硅", "烧结"],
    "field": "semiconductor.compound.sic",
    "trl": 4,
    "stage": "small_pilot",
    "modes": ["license_ordinary"],
    "price_type": "floor",
    "price_min_fen": 30_000_000,
    "price_max_fen": None,
}


def ids(response) -> list[int]:
    """The ids of a list response's items, in order."""
    return [item["id"] for item in response.get_json()["items"]]


def test_list_answers_a_page_with_total_page_and_per_page(client, make_achievement):
    made = [make_achievement(title=f"焦炉煤气制氢工艺第{n}代") for n in range(3)]
    first = client.get("/api/v1/achievements?per_page=2&sort=newest")
    second = client.get("/api/v1/achievements?per_page=2&page=2&sort=newest")
    assert first.status_code == second.status_code == 200
    body = first.get_json()
    assert (body["total"], body["page"], body["per_page"], body["pages"]) == (3, 1, 2, 2)
    assert ids(first) + ids(second) == [achievement.id for achievement in reversed(made)]
    assert second.get_json()["page"] == 2


def test_list_shows_only_published_listings(client, make_achievement, make_demand):
    published = make_achievement()
    make_achievement(status="draft")
    make_achievement(status="pending")
    make_demand(status="draft")
    assert ids(client.get("/api/v1/achievements")) == [published.id]
    assert client.get("/api/v1/demands").get_json()["total"] == 0


def test_full_text_query_finds_only_matching_achievements(client, make_achievement):
    hydrogen = make_achievement()
    make_achievement(**SIC)
    assert ids(client.get("/api/v1/achievements?q=焦炉煤气")) == [hydrogen.id]


def test_field_filter_includes_sub_fields(client, make_achievement):
    fuel_cell = make_achievement(field="energy.hydrogen.fuel-cell")
    top = make_achievement(field="energy")
    make_achievement(**SIC)
    assert set(ids(client.get("/api/v1/achievements?field=energy"))) == {fuel_cell.id, top.id}
    assert ids(client.get("/api/v1/achievements?field=energy.hydrogen")) == [fuel_cell.id]


@pytest.mark.parametrize("query, expected", [
    ("stage=pilot", "hydrogen"),
    ("stage=small_pilot", "sic"),
    ("mode=license_ordinary", "sic"),
    ("mode=assignment", "hydrogen"),
    ("region=大同市", "sic"),
    ("valley=datong", "sic"),
    ("valley=taiyuan", "hydrogen"),
    ("min_fen=100000000", "hydrogen"),
    ("max_fen=50000000", "sic"),
])
def test_filters_select_the_matching_achievement(client, make_user, make_organisation, make_achievement,
                                                 query, expected):
    hydrogen = make_achievement()
    datong = make_user("researcher", organisation=make_organisation("university", region="大同市"))
    sic = make_achievement(owner=datong, **SIC)
    assert ids(client.get(f"/api/v1/achievements?{query}")) == [{"hydrogen": hydrogen, "sic": sic}[expected].id]


def test_price_sorts_order_by_amount_and_keep_money_as_exact_integers(client, make_achievement):
    cheap = make_achievement(price_min_fen=1, price_max_fen=2)
    dear = make_achievement(price_min_fen=MAX_FEN - 1, price_max_fen=MAX_FEN)
    assert ids(client.get("/api/v1/achievements?sort=price_asc")) == [cheap.id, dear.id]
    body = client.get("/api/v1/achievements?sort=price_desc").get_json()
    assert [item["id"] for item in body["items"]] == [dear.id, cheap.id]
    assert (body["items"][0]["price_min_fen"], body["items"][0]["price_max_fen"]) == (MAX_FEN - 1, MAX_FEN)
    assert type(body["items"][0]["price_max_fen"]) is int


def test_demand_list_filters_by_budget_and_never_shows_confidential_parts(client, make_demand, make_achievement):
    small = make_demand(budget_min_fen=1_000_000, budget_max_fen=2_000_000)
    large = make_demand()
    make_achievement()
    assert ids(client.get("/api/v1/demands?min_fen=100000000")) == [large.id]
    body = client.get("/api/v1/demands?max_fen=3000000").get_json()
    assert [item["id"] for item in body["items"]] == [small.id]
    assert (body["items"][0]["budget_min_fen"], body["items"][0]["budget_max_fen"]) == (1_000_000, 2_000_000)
    assert "review" not in body["items"][0]


def test_list_items_never_carry_the_confidential_part(client, make_achievement):
    make_achievement()
    item = client.get("/api/v1/achievements").get_json()["items"][0]
    assert "description_confidential" not in item
    assert item["has_confidential"] is True


@pytest.mark.parametrize("path, query, parameter", [
    ("/api/v1/achievements", "per_page=101", "per_page"),
    ("/api/v1/achievements", "per_page=0", "per_page"),
    ("/api/v1/achievements", "page=abc", "page"),
    ("/api/v1/achievements", "page=-1", "page"),
    ("/api/v1/achievements", "page=１", "page"),
    ("/api/v1/achievements", "sort=cheapest", "sort"),
    ("/api/v1/achievements", "stage=moon", "stage"),
    ("/api/v1/achievements", "mode=gift", "mode"),
    ("/api/v1/achievements", "min_fen=-1", "min_fen"),
    ("/api/v1/achievements", "min_fen=1.5", "min_fen"),
    ("/api/v1/achievements", "max_fen=1e3", "max_fen"),
    ("/api/v1/achievements", f"max_fen={MAX_FEN + 1}", "max_fen"),
    ("/api/v1/achievements", "q=" + "氢" * 101, "q"),
    ("/api/v1/achievements", "q=%01", "q"),
    ("/api/v1/achievements", "q=a&q=b", "q"),
    ("/api/v1/achievements", "foo=1", "foo"),
    ("/api/v1/achievements", "min_wan=1", "min_wan"),
    ("/api/v1/achievements", "organisation_id=1", "organisation_id"),
    ("/api/v1/demands", "stage=pilot", "stage"),
    ("/api/v1/demands", "per_page=1000", "per_page"),
    ("/api/v1/demands", "bar=", "bar"),
])
def test_invalid_or_unknown_query_parameters_are_refused(client, path, query, parameter):
    response = client.get(f"{path}?{query}")
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "validation_failed"
    assert parameter in body["fields"]
    assert body["message"]


def test_valid_query_with_every_parameter_is_accepted(client, make_achievement):
    achievement = make_achievement()
    response = client.get("/api/v1/achievements?q=制氢&field=energy&valley=taiyuan&stage=pilot&mode=assignment"
                          "&region=太原市&min_fen=0&max_fen=80000000&sort=price_asc&page=1&per_page=100")
    assert response.status_code == 200
    assert ids(response) == [achievement.id]


def test_search_answers_the_corrected_query_it_searched(client, make_achievement):
    made = make_achievement(title="燃料电池双极板精密成形", keywords=["双极板", "燃料电池"])
    make_achievement(title="储能电站消防")
    body = client.get("/api/v1/achievements?q=双级板").get_json()
    assert body["suggestion"] == "双极板" and body["items"][0]["id"] == made.id
    assert client.get("/api/v1/achievements?q=双极板").get_json()["suggestion"] is None


def test_listings_carry_their_english_title_and_summary(client, make_achievement):
    made = make_achievement(title_en="Bipolar plates", summary_en="Stamped stainless plates.")
    item = client.get(f"/api/v1/achievements/{made.id}").get_json()
    assert (item["title_en"], item["summary_en"]) == ("Bipolar plates", "Stamped stainless plates.")
    assert client.get("/api/v1/achievements?q=bipolar").get_json()["items"][0]["id"] == made.id
