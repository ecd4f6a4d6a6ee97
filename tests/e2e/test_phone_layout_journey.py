"""Journey: on a phone-sized screen the pages fit the width and the menu folds into the toggler."""
import pytest

from market.achievements.models import Achievement
from tests.e2e.conftest import PHONE

expect = pytest.importorskip("playwright.sync_api", reason="playwright not installed: pip install playwright").expect
pytestmark = pytest.mark.e2e

LONG_TITLE = "基于碳化硅功率器件的兆瓦级矿用防爆变频调速一体化装置及其远程运维平台（ZL202110345678.2）"


def _page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_home_and_detail_fit_a_phone_and_the_menu_opens_on_tap(
        open_page, make_achievement, make_demand, fresh_db, screenshot):
    achievement = make_achievement(title=LONG_TITLE, keywords=["碳化硅", "防爆变频", "远程运维", "矿用装备"],
                                   description_public="额定功率1250kW，效率≥98.5%，" * 12,
                                   inventors=["张伟", "刘洋", "陈静"],
                                   ip_items=[{"number": "ZL202110345678.2", "kind": "invention_patent"}])
    make_demand()

    page = open_page(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    page.goto("/")
    toggler = page.locator(".navbar-toggler")
    menu = page.locator("#mainNav")
    expect(toggler).to_be_visible()
    expect(menu).to_be_hidden()
    assert _page_width(page) <= PHONE["width"]

    toggler.tap()
    expect(menu).to_be_visible()
    expect(toggler).to_have_attribute("aria-expanded", "true")
    expect(menu.get_by_role("link", name="科技成果")).to_be_visible()
    menu.get_by_role("link", name="科技成果").tap()
    page.wait_for_url("**/achievements")
    assert _page_width(page) <= PHONE["width"]

    page.goto(f"/achievements/{achievement.id}")
    expect(page.locator("h1")).to_contain_text("兆瓦级矿用防爆变频")
    expect(menu).to_be_hidden()
    assert _page_width(page) <= PHONE["width"]
    screenshot(page)

    shown = fresh_db().get(Achievement, achievement.id)
    expect(page.locator("main")).to_contain_text(shown.ip_items[0]["number"])
    expect(page.locator("main")).to_contain_text("、".join(shown.inventors))
