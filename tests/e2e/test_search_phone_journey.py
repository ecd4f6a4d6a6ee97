"""Journey: on a phone the search results start on the first screen with the filters folded away above them; the
home page's one search box reaches organisations too."""
import re

import pytest

from tests.e2e.conftest import DESKTOP, PHONE

expect = pytest.importorskip("playwright.sync_api", reason="playwright not installed: pip install playwright").expect
pytestmark = pytest.mark.e2e

TITLES = ["焦炉煤气变压吸附制氢耦合二氧化碳捕集一体化工艺及其成套装备", "碱性电解水制氢用自支撑镍铁基析氧电极",
          "工业副产氢深度脱除一氧化碳制氢催化剂", "站内制氢加氢一体化撬装集成技术"]


def test_phone_results_start_on_the_first_screen_and_filters_unfold_on_tap(
        open_page, make_achievement, make_organisation, make_user, screenshot):
    university = make_organisation("university", name="太原理工大学", description="氢能与材料学科。")
    researcher = make_user("researcher", organisation=university)
    for number, title in enumerate(TITLES):
        make_achievement(owner=researcher, title=title, keywords=["制氢", f"工艺{number}"],
                         field="energy.hydrogen.production" if number % 2 else "energy.hydrogen.fuel-cell")

    page = open_page(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    page.goto("/achievements?q=制氢")
    first = page.locator("article.listing-card").first
    expect(first.locator("h2 mark").first).to_have_text("制氢")
    box = first.bounding_box()
    assert box["y"] + 60 < PHONE["height"], f"the first result starts {box['y']:.0f} px down a {PHONE['height']} px screen"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    filters = page.locator("details.search-filters")
    field_link = page.locator(".field-facet a", has_text="能源和新能源")
    expect(filters).not_to_have_attribute("open", "")
    expect(field_link).to_be_hidden()
    filters.locator("summary").tap()
    expect(field_link).to_be_visible()
    field_link.tap()
    page.wait_for_url(re.compile(r"field=energy"))
    expect(page.locator(".field-facet a", has_text="氢能")).to_have_count(1)
    page.locator("details.search-filters summary").tap()
    page.locator(".field-facet a", has_text="氢能").tap()
    page.wait_for_url(re.compile(r"field=energy\.hydrogen"))
    page.locator("details.search-filters summary").tap()
    expect(page.locator(".field-facet a", has_text="燃料电池")).to_contain_text("2")
    expect(page.locator(".field-facet a", has_text="制氢与氢气提纯")).to_contain_text("2")
    expect(page.locator("details.search-filters summary .badge")).to_have_text("1")
    screenshot(page, "phone")

    page.goto("/")
    page.get_by_text("找机构").tap()
    page.get_by_role("search").get_by_role("searchbox").fill("太原理工")
    page.get_by_role("search").get_by_role("button").tap()
    page.wait_for_url(re.compile(r"/organisations\?q="))
    expect(page.locator(".org-card h2 mark")).to_have_text("太原理工")
    expect(page.locator(".search-tabs .nav-link.active")).to_contain_text("1")

    desktop = open_page(viewport=DESKTOP)
    desktop.goto("/achievements?q=制氢")
    expect(desktop.locator("details.search-filters")).to_have_attribute("open", "")
    expect(desktop.locator("details.search-filters summary")).to_be_hidden()
    expect(desktop.locator(".field-facet a", has_text="能源和新能源")).to_be_visible()
