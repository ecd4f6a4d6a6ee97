"""Journey: a party of a second deal on an achievement sees, on the deal page, the room the first deal left under the
¥2M cap and what the unpaid price would earn, tries a smaller payment, at 1280 and 390 px wide."""
import pytest

from market.deals.models import DealStage
from market.extensions import db
from market.timeutil import today_in_china
from tests.e2e.conftest import ARTIFACTS, PHONE, save_screenshot
from tests.payments import record_and_confirm_deal_payment

expect = pytest.importorskip("playwright.sync_api", reason="playwright not installed: pip install playwright").expect
pytestmark = pytest.mark.e2e

WAN = 1_000_000


@pytest.fixture
def second_deal(deal_world, make_registered_deal, make_deal):
    first, researcher, brokers = make_registered_deal(value_fen=600 * WAN, achievement=deal_world.achievement)
    record_and_confirm_deal_payment(researcher, first.id, amount_fen=600 * WAN, paid_on=today_in_china())
    db.session.commit()
    deal = make_deal(DealStage.PRICING, achievement=deal_world.achievement, amount_fen=500 * WAN,
                     intermediaries=[(brokers[0], 10_000)], reward_rate_bp=2000)
    return deal, researcher


@pytest.mark.parametrize("viewport, name", [(None, "deal-money-outlook-1280.png"), (PHONE, "deal-money-outlook-390.png")])
def test_the_deal_page_shows_the_room_left_and_a_tried_payment(open_page, sign_in, second_deal, viewport, name):
    deal, researcher = second_deal
    page = open_page(viewport=viewport)
    sign_in(page, researcher.email)
    page.goto(f"/deals/{deal.id}")
    outlook = page.locator("#money-outlook")
    expect(outlook.locator(".cap-room-left")).to_have_text("¥800,000.00")
    expect(outlook.locator("#dry-run")).to_contain_text("¥800,000.00")
    outlook.locator("#try-payment").fill("100万")
    outlook.get_by_role("button", name="测算").click()
    expect(page.locator("#dry-run")).to_have_attribute("data-granted-fen", str(20 * WAN))
    assert page.evaluate("document.documentElement.scrollWidth") <= (viewport or {"width": 1280})["width"]
    page.locator("#money-outlook").scroll_into_view_if_needed()
    save_screenshot(page, name)
    page.locator("#money-outlook").screenshot(path=str(ARTIFACTS / f"panel-{name}"))
