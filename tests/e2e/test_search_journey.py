"""Journey: a visitor searches from the home page, narrows by a facet and opens a listing without its secrets."""
import re

import pytest
from sqlalchemy import func, select

from market.accounts.models import UserSession
from market.achievements.models import Achievement
from market.listings.models import Follow
from market.listings.vocabulary import ListingStatus

expect = pytest.importorskip("playwright.sync_api", reason="playwright not installed: pip install playwright").expect
pytestmark = pytest.mark.e2e


def test_visitor_finds_highlighted_result_filters_by_field_and_sees_no_confidential_part(
        open_page, make_achievement, make_organisation, make_user, fresh_db, screenshot):
    university = make_organisation("university", name="太原理工大学")
    researcher = make_user("researcher", organisation=university)
    hydrogen = make_achievement(owner=researcher)
    make_achievement(
        owner=researcher, title="镁基储氢合金低成本制氢材料", summary="镁基合金水解制氢，常温常压放氢。",
        keywords=["镁合金", "制氢"], field="semiconductor", trl=4, stage="small_pilot",
        description_confidential="合金成分配比。")
    make_achievement(owner=researcher, title="冷轧带钢表面缺陷视觉检测系统", summary="在线识别划伤与辊印。",
                     keywords=["机器视觉"], field="equipment", description_confidential="")

    page = open_page()
    page.goto("/")
    page.get_by_role("search").get_by_role("searchbox").fill("制氢")
    page.get_by_role("search").get_by_role("button").click()

    page.wait_for_url(re.compile(r"/achievements\?q="))
    expect(page.locator("#result-count")).to_contain_text("共 2 条")
    first_title = page.locator("article.listing-card h2 a").filter(has_text="焦炉煤气")
    expect(first_title.locator("mark")).to_have_text("制氢")
    expect(page.locator("article.listing-card")).to_have_count(2)
    found_ids = {int(href.rsplit("/", 1)[1])
                 for href in page.locator("article.listing-card h2 a").evaluate_all("links => links.map(a => a.href)")}

    page.locator(".facet a", has_text="能源和新能源").click()
    page.wait_for_url(re.compile(r"field=energy"))
    expect(page.locator("#result-count")).to_contain_text("共 1 条")
    expect(page.locator(".facet a.active", has_text="能源和新能源")).to_be_visible()
    expect(page.locator("article.listing-card")).to_have_count(1)
    expect(page.get_by_role("searchbox")).to_have_value("制氢")

    page.locator("article.listing-card h2 a").click()
    page.wait_for_url(f"**/achievements/{hydrogen.id}")
    expect(page.locator("h1")).to_contain_text(hydrogen.title)
    expect(page.locator("main")).to_contain_text("更多技术细节在双方建立对接后可见")
    expect(page.locator("main")).not_to_contain_text(hydrogen.description_confidential)
    expect(page.locator(".confidential")).to_have_count(0)
    screenshot(page)

    session = fresh_db()
    published = session.scalars(select(Achievement).where(Achievement.status == ListingStatus.PUBLISHED)).all()
    assert found_ids == {a.id for a in published if "制氢" in a.title}
    assert session.get(Achievement, hydrogen.id).field.code == "energy"
    assert session.scalar(select(func.count()).select_from(UserSession)) == 0
    assert session.scalar(select(func.count()).select_from(Follow)) == 0
