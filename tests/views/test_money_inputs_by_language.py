"""Money fields ask in the reader's unit: 万元 on Chinese pages, yuan on English ones (a written unit such as 元, 万 or
yuan wins); a bad amount is refused next to its field in the reader's language, kept as typed, and nothing is stored.
The search sidebar filters by yuan in English and still reads min_wan/max_wan and min_fen."""
import html
import re
from datetime import date

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from market.achievements.models import Achievement
from market.awards.models import Award, StartupGrant
from market.deals.models import Deal, DealStage
from market.demands.models import Demand
from market.extensions import db
from market.money import NOT_A_NUMBER, SIGNED, TOO_PRECISE, MoneyUnit
from market.money_input import UNIT_HINTS, label_with_unit, reader_unit
from market.preorders.models import PreorderAgreement
from tests.conftest import WAN
from tests.views.test_bad_input_forms import ACHIEVEMENT_FORM, DEMAND_FORM, FormPage, assert_refused
from tests.views.test_deal_views import client_for, page_of
from tests.views.test_preorder_views import agreement_form


def in_english(app, message: str, **params) -> str:
    """A message as an English page shows it (the Chinese text while the catalogue lacks it)."""
    with app.test_request_context(), force_locale("en"):
        return gettext(message, **params)


def english_label(app, label: str, note: str | None = None) -> str:
    """A money field's label on an English page."""
    with app.test_request_context(), force_locale("en"):
        return label_with_unit(gettext(label), MoneyUnit.YUAN, gettext(note) if note else None)


def switch_to_english(client):
    assert client.post("/language", data={"lang": "en"}).status_code == 302
    return client


def label_of(page: str, name: str) -> str:
    """The text of the label for the field with that id."""
    match = re.search(rf'<label[^>]*for="{name}"[^>]*>([^<]*)</label>', page)
    return html.unescape(match.group(1)) if match else ""


def hint_of(page: str, name: str) -> str:
    """The help text under the field with that name."""
    match = re.search(rf'name="{name}"(?:(?!<div class="mb-3).)*?<div class="form-text">([^<]*)</div>', page, re.DOTALL)
    return html.unescape(match.group(1)) if match else ""


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_reader_unit_follows_the_page_language(app):
    with app.test_request_context(), force_locale("en"):
        assert reader_unit() is MoneyUnit.YUAN
    with app.test_request_context(), force_locale("zh_CN"):
        assert reader_unit() is MoneyUnit.WAN
    with app.test_request_context():
        assert reader_unit() is MoneyUnit.WAN


# --- a deal's terms -------------------------------------------------------------------------------------------------

@pytest.fixture
def pricing_deal(app, deal_world, make_deal):
    deal = make_deal(DealStage.PRICING)
    return deal, client_for(app, deal_world.researcher)


def agreed_amount(deal) -> int | None:
    db.session.expire_all()
    return db.session.get(Deal, deal.id).agreed_amount_fen


TERMS = {"mode": "assignment", "inventor_share": "70"}


@pytest.mark.parametrize(("english", "typed", "fen"), [
    (False, "120", 120 * WAN),
    (False, "12.345678", 12_345_678),
    (False, "3500元", 350_000),
    (True, "1200000", 120 * WAN),
    (True, "1,234,567.89", 123_456_789),
    (True, "120万", 120 * WAN),
    (True, "¥ 80,000 yuan", 8_000_000),
])
def test_deal_terms_read_a_bare_number_in_the_reader_unit(pricing_deal, english, typed, fen):
    deal, client = pricing_deal
    if english:
        switch_to_english(client)
    response = client.post(f"/deals/{deal.id}/terms", data={"agreed_amount_fen": typed, **TERMS})
    assert response.status_code == 302, page_of(response)[:1000]
    assert agreed_amount(deal) == fen


def test_deal_terms_show_the_amount_in_the_reader_unit(app, pricing_deal):
    deal, client = pricing_deal
    assert client.post(f"/deals/{deal.id}/terms", data={"agreed_amount_fen": "123.45", **TERMS}).status_code == 302
    page = page_of(client.get(f"/deals/{deal.id}"))
    assert FormPage(page, f"/deals/{deal.id}/terms").values["agreed_amount_fen"] == "123.45"
    assert label_of(page, "agreed_amount_fen") == "协议价格（万元）"
    page = page_of(switch_to_english(client).get(f"/deals/{deal.id}"))
    assert FormPage(page, f"/deals/{deal.id}/terms").values["agreed_amount_fen"] == "1,234,500"
    assert label_of(page, "agreed_amount_fen") == english_label(app, "协议价格")
    assert "万元" not in label_of(page, "agreed_amount_fen")


@pytest.mark.parametrize(("english", "typed", "message"), [
    (False, "12.3456789", TOO_PRECISE[MoneyUnit.WAN]),
    (True, "1200000.123", TOO_PRECISE[MoneyUnit.YUAN]),
    (True, "1,2000", NOT_A_NUMBER),
    (True, "-100", SIGNED),
])
def test_a_bad_deal_amount_is_refused_in_the_reader_language_and_stores_nothing(app, pricing_deal, english, typed,
                                                                                 message):
    deal, client = pricing_deal
    before = agreed_amount(deal)
    if english:
        switch_to_english(client)
    shown = in_english(app, message) if english else message
    assert_refused(client, f"/deals/{deal.id}/terms", {"agreed_amount_fen": typed, **TERMS}, "agreed_amount_fen",
                   shown, status=422, action=f"/deals/{deal.id}/terms")
    assert agreed_amount(deal) == before


# --- a demand's budget ----------------------------------------------------------------------------------------------

def test_a_demand_budget_is_asked_in_wan_in_chinese(client, login_as):
    login_as("enterprise")
    page = page_of(client.get("/demands/new"))
    assert label_of(page, "budget_min_fen") == "预算下限（万元）"
    assert hint_of(page, "budget_min_fen") == str(UNIT_HINTS[MoneyUnit.WAN])
    response = client.post("/demands/new", data={**DEMAND_FORM, "budget_min_fen": "50", "budget_max_fen": "1,500,000元"})
    assert response.status_code == 302
    stored = db.session.scalar(select(Demand))
    assert (stored.budget_min_fen, stored.budget_max_fen) == (50 * WAN, 150 * WAN)


def test_a_demand_budget_is_asked_in_yuan_in_english_and_shown_back_in_yuan(app, client, login_as):
    login_as("enterprise")
    switch_to_english(client)
    page = page_of(client.get("/demands/new"))
    assert label_of(page, "budget_min_fen") == english_label(app, "预算下限")
    assert hint_of(page, "budget_min_fen") == in_english(app, str(UNIT_HINTS[MoneyUnit.YUAN]))
    response = client.post("/demands/new", data={**DEMAND_FORM, "budget_min_fen": "500,000", "budget_max_fen": "150万"})
    assert response.status_code == 302
    stored = db.session.scalar(select(Demand))
    assert (stored.budget_min_fen, stored.budget_max_fen) == (50 * WAN, 150 * WAN)
    values = FormPage(page_of(client.get(f"/demands/{stored.id}/edit"))).values
    assert (values["budget_min_fen"], values["budget_max_fen"]) == ("500,000", "1,500,000")


def test_a_bad_demand_budget_in_english_is_refused_and_nothing_stored(app, client, login_as):
    login_as("enterprise")
    switch_to_english(client)
    assert_refused(client, "/demands/new", {**DEMAND_FORM, "budget_min_fen": "50.001", "budget_max_fen": "1500000"},
                   "budget_min_fen", in_english(app, TOO_PRECISE[MoneyUnit.YUAN]), status=422, action="")
    assert count(Demand) == 0


# --- an achievement's price -----------------------------------------------------------------------------------------

def test_an_achievement_price_in_english_is_read_in_yuan(app, client, login_as):
    login_as("researcher")
    switch_to_english(client)
    page = page_of(client.get("/achievements/new"))
    assert label_of(page, "price_min_fen") == english_label(app, "价格下限")
    response = client.post("/achievements/new", data={**ACHIEVEMENT_FORM, "price_min_fen": "800000",
                                                      "price_max_fen": "2,000,000.50"})
    assert response.status_code == 302
    stored = db.session.scalar(select(Achievement))
    assert (stored.price_min_fen, stored.price_max_fen) == (80 * WAN, 200 * WAN + 50)
    values = FormPage(page_of(client.get(f"/achievements/{stored.id}/edit"))).values
    assert (values["price_min_fen"], values["price_max_fen"]) == ("800,000", "2,000,000.50")


def test_an_achievement_price_in_chinese_is_read_in_wan(client, login_as):
    login_as("researcher")
    page = page_of(client.get("/achievements/new"))
    assert label_of(page, "price_min_fen") == "价格下限（万元）"
    response = client.post("/achievements/new", data={**ACHIEVEMENT_FORM, "price_min_fen": "80",
                                                      "price_max_fen": "200.00005"})
    assert response.status_code == 302
    stored = db.session.scalar(select(Achievement))
    assert (stored.price_min_fen, stored.price_max_fen) == (80 * WAN, 200 * WAN + 50)
    values = FormPage(page_of(client.get(f"/achievements/{stored.id}/edit"))).values
    assert (values["price_min_fen"], values["price_max_fen"]) == ("80", "200.00005")


def test_a_bad_achievement_price_in_english_is_refused_and_nothing_stored(app, client, login_as):
    login_as("researcher")
    switch_to_english(client)
    assert_refused(client, "/achievements/new", {**ACHIEVEMENT_FORM, "price_min_fen": "eighty thousand"},
                   "price_min_fen", in_english(app, NOT_A_NUMBER), status=422, action="")
    assert count(Achievement) == 0


# --- a pre-order agreement ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("english", "unit_price", "total", "stored"), [
    (False, "150", "", (150 * WAN, 15_000 * WAN)),
    (False, "150", "14,000", (150 * WAN, 14_000 * WAN)),
    (True, "1,500,000", "", (150 * WAN, 15_000 * WAN)),
    (True, "1500000", "140,000,000", (150 * WAN, 14_000 * WAN)),
    (True, "150万", "14000万", (150 * WAN, 14_000 * WAN)),
])
def test_a_preorder_agreement_reads_its_amounts_in_the_reader_unit(client, login, preorder_parties, english,
                                                                   unit_price, total, stored):
    login(preorder_parties.seller_user)
    if english:
        switch_to_english(client)
    response = client.post("/contracts/new", data=agreement_form(preorder_parties, unit_price_fen=unit_price,
                                                                 value_fen=total))
    assert response.status_code == 302, page_of(response)[:1000]
    agreement = db.session.scalar(select(PreorderAgreement))
    assert (agreement.unit_price_fen, agreement.value_fen) == stored


def test_a_preorder_form_labels_its_unit_and_note_in_each_language(app, client, login, preorder_parties):
    login(preorder_parties.seller_user)
    page = page_of(client.get("/contracts/new"))
    assert (label_of(page, "unit_price_fen"), label_of(page, "value_fen")) == ("单价（万元）", "协议总金额（万元，可不填）")
    page = page_of(switch_to_english(client).get("/contracts/new"))
    assert label_of(page, "unit_price_fen") == english_label(app, "单价")
    assert label_of(page, "value_fen") == english_label(app, "协议总金额", "可不填")


def test_a_bad_preorder_price_in_english_is_refused_and_nothing_stored(app, client, login, preorder_parties):
    login(preorder_parties.seller_user)
    switch_to_english(client)
    assert_refused(client, "/contracts/new", agreement_form(preorder_parties, unit_price_fen="1500000.001"),
                   "unit_price_fen", in_english(app, TOO_PRECISE[MoneyUnit.YUAN]), status=422, action="")
    assert count(PreorderAgreement) == 0


# --- a start-up grant (awards) --------------------------------------------------------------------------------------

@pytest.fixture
def startup(make_organisation):
    return make_organisation("enterprise", name="晋城明镜光学", valley_id="jincheng", resident_since=date(2024, 1, 5))


def grant_form(startup, founders: str, awarded: str) -> dict:
    return {"organisation_id": str(startup.id), "granted_on": "2024-06-01", "founders_paid_in_fen": founders,
            "awarded_fen": awarded}


@pytest.mark.parametrize(("english", "founders", "awarded"), [
    (False, "80", "100"),
    (False, "800000元", "1000000元"),
    (True, "800,000", "1000000"),
    (True, "80万", "100万元"),
])
def test_a_startup_grant_reads_its_amounts_in_the_reader_unit(client, login_as, startup, english, founders, awarded):
    login_as("admin")
    if english:
        switch_to_english(client)
    response = client.post("/money/grants/new", data=grant_form(startup, founders, awarded))
    assert response.status_code == 302, page_of(response)[:1000]
    grant = db.session.scalar(select(StartupGrant))
    assert (grant.founders_paid_in_fen, grant.awarded_fen) == (80 * WAN, 100 * WAN)
    award = db.session.scalar(select(Award).where(Award.recipient == f"org-{startup.id}"))
    assert award.granted_fen == 80 * WAN


def test_a_bad_grant_amount_in_english_is_refused_next_to_its_field_and_nothing_stored(app, client, login_as, startup):
    login_as("admin")
    switch_to_english(client)
    page = page_of(client.get("/money/grants/new"))
    assert label_of(page, "awarded_fen") == english_label(app, "拟支持金额")
    assert_refused(client, "/money/grants/new", grant_form(startup, "800,000", "-1,000,000"), "awarded_fen",
                   in_english(app, SIGNED), status=422, action="")
    assert (count(StartupGrant), count(Award)) == (0, 0)


# --- the search sidebar ---------------------------------------------------------------------------------------------

@pytest.fixture
def priced(make_achievement):
    """A dear achievement (80–200万元) and a cheap one (5–10万元)."""
    dear = make_achievement(title="焦炉煤气制氢耦合二氧化碳捕集工艺")
    cheap = make_achievement(title="中药材种植土壤改良技术", price_min_fen=5 * WAN, price_max_fen=10 * WAN)
    return dear, cheap


def found(page: str, *achievements) -> list[bool]:
    return [f'href="/achievements/{achievement.id}"' in page for achievement in achievements]


def sidebar_inputs(page: str) -> dict[str, str]:
    """The sidebar's amount inputs: name → value shown."""
    return {name: html.unescape(value) for name, value in
            re.findall(r'<input class="form-control form-control-sm" name="((?:min|max)_\w+)" value="([^"]*)"', page)}


def test_the_english_sidebar_filters_by_yuan(client, priced):
    switch_to_english(client)
    page = page_of(client.get("/achievements"))
    assert sidebar_inputs(page) == {"min_yuan": "", "max_yuan": ""}
    page = page_of(client.get("/achievements?min_yuan=1,000,000"))
    assert found(page, *priced) == [True, False]
    assert sidebar_inputs(page) == {"min_yuan": "1,000,000", "max_yuan": ""}
    assert found(page_of(client.get("/achievements?max_yuan=200000")), *priced) == [False, True]
    assert found(page_of(client.get("/achievements?min_yuan=50万&max_yuan=¥1,000,000")), *priced) == [True, False]


def test_old_wan_links_and_fen_still_filter_in_english_and_show_in_yuan(client, priced):
    switch_to_english(client)
    page = page_of(client.get("/achievements?min_wan=100"))
    assert found(page, *priced) == [True, False]
    assert sidebar_inputs(page) == {"min_yuan": "1,000,000", "max_yuan": ""}
    page = page_of(client.get(f"/achievements?max_fen={20 * WAN}"))
    assert found(page, *priced) == [False, True]
    assert sidebar_inputs(page) == {"min_yuan": "", "max_yuan": "200,000"}


def test_the_chinese_sidebar_filters_by_wan(client, priced):
    page = page_of(client.get("/achievements"))
    assert sidebar_inputs(page) == {"min_wan": "", "max_wan": ""}
    page = page_of(client.get("/achievements?min_wan=100"))
    assert found(page, *priced) == [True, False]
    assert sidebar_inputs(page) == {"min_wan": "100", "max_wan": ""}
    page = page_of(client.get("/achievements?min_yuan=1000000"))
    assert found(page, *priced) == [True, False]
    assert sidebar_inputs(page) == {"min_wan": "100", "max_wan": ""}


def test_a_bad_sidebar_amount_is_explained_in_english_and_kept(app, client, priced):
    switch_to_english(client)
    response = client.get("/achievements?min_yuan=12.345")
    page = page_of(response)
    assert response.status_code == 200
    assert html.escape(in_english(app, TOO_PRECISE[MoneyUnit.YUAN]), quote=False) in page
    assert sidebar_inputs(page)["min_yuan"] == "12.345"
    assert found(page, *priced) == [True, True]
