"""Journey: a sold achievement stays on show as a success case; its buyer ticks the confidentiality statement and then
reads the confidential part, at 1280 and 390 px."""
import pytest

from market.deals.models import DealStage
from tests.e2e.conftest import DESKTOP, PHONE, save_screenshot

expect = pytest.importorskip("playwright.sync_api", reason="playwright not installed: pip install playwright").expect
pytestmark = pytest.mark.e2e

SECRET = "吸附剂配方与切换时序参数。"


def _page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_a_visitor_browses_success_cases_and_the_buyer_opens_the_confidential_part(
        open_page, sign_in, deal_world, make_deal, fresh_db, viewport):
    world = deal_world
    make_deal(DealStage.COMPLETED, mode="license_exclusive")
    width = viewport["width"]
    phone = {"is_mobile": True, "has_touch": True} if viewport is PHONE else {}

    visitor = open_page(viewport=viewport, **phone)
    visitor.goto("/")
    visitor.locator('a[href="/achievements?sold=1"]').click()
    visitor.wait_for_url("**/achievements?sold=1")
    expect(visitor.locator("#result-count")).to_contain_text("共 1 条")
    expect(visitor.locator("main")).to_contain_text(world.achievement.title)
    assert _page_width(visitor) <= width
    save_screenshot(visitor, f"success-cases-{width}.png")

    visitor.get_by_role("link", name=world.achievement.title).click()
    expect(visitor.locator("main")).to_contain_text("该成果已成交")
    expect(visitor.locator("main")).to_contain_text("更多技术细节在双方建立对接后可见")
    expect(visitor.locator("main")).not_to_contain_text(SECRET)
    assert _page_width(visitor) <= width
    save_screenshot(visitor, f"sold-detail-visitor-{width}.png")

    buyer = open_page(viewport=viewport, **phone)
    sign_in(buyer, world.buyer.email)
    buyer.goto(f"/achievements/{world.achievement.id}")
    expect(buyer.locator("#confidentiality")).to_be_visible()
    assert _page_width(buyer) <= width
    save_screenshot(buyer, f"sold-detail-statement-{width}.png")
    buyer.locator("#confidentiality-accepted").check()
    buyer.get_by_role("button", name="确认并查看保密信息").click()
    expect(buyer.locator("main")).to_contain_text(SECRET)
    expect(buyer.locator("#confidentiality")).to_have_count(0)
    assert _page_width(buyer) <= width
    save_screenshot(buyer, f"sold-detail-buyer-{width}.png")

    owner = open_page(viewport=viewport, **phone)
    sign_in(owner, world.researcher.email)
    owner.goto(f"/achievements/{world.achievement.id}")
    expect(owner.locator("main")).to_contain_text("可查看保密信息的对接方")
    expect(owner.locator("main")).to_contain_text(world.buyer.organisation.name)
    assert _page_width(owner) <= width
    save_screenshot(owner, f"sold-detail-owner-{width}.png")
