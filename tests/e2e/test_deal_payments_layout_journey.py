"""Journey: the deal page's payments and awards fit the screen at 1280 and 390 px, with every award's cap in view."""
import pytest

from market.extensions import db
from tests.e2e.conftest import DESKTOP, PHONE
from tests.payments import record_and_confirm_deal_payment

expect = pytest.importorskip("playwright.sync_api", reason="playwright not installed: pip install playwright").expect
pytestmark = pytest.mark.e2e

WAN = 1_000_000
LONG_AGENCY = "晋创谷（太原）技术转移服务有限公司第二分公司"


@pytest.fixture
def paid_deal(make_registered_deal, make_user, make_organisation):
    """POLICY.md's worked example 2 paid in full: three intermediaries' rewards, bound by the achievement's cap."""
    agency = make_organisation("agency", name=LONG_AGENCY)
    brokers = [make_user("broker", organisation=agency, name=name) for name in ("张振华", "李明远", "王建国")]
    deal, researcher, _brokers = make_registered_deal(brokers=brokers)
    record_and_confirm_deal_payment(researcher, deal.id, amount_fen=1200 * WAN, paid_on=deal.signed_on)
    db.session.commit()
    return deal, researcher


def _overflow(page) -> dict:
    """How wide the payments table is against the box that holds it, and how wide the page is."""
    return page.evaluate("""() => {
        const table = document.querySelector('#payments table');
        return {table: table.scrollWidth, box: table.parentElement.clientWidth,
                page: document.documentElement.scrollWidth};
    }""")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_the_payments_table_fits_the_screen_and_shows_each_cap(open_page, sign_in, paid_deal, viewport):
    deal, researcher = paid_deal
    page = open_page(viewport=viewport)
    sign_in(page, researcher.email)
    page.goto(f"/deals/{deal.id}#payments")
    table = page.locator("#payments table")
    expect(table).to_contain_text(LONG_AGENCY)
    widths = _overflow(page)
    assert widths["table"] <= widths["box"], widths
    assert widths["page"] <= viewport["width"], widths

    caps = table.locator("td.award-cap")
    expect(caps).to_have_count(3)
    expect(caps).to_have_text(["单个成果上限"] * 3)
    for index in range(3):
        cell = caps.nth(index)
        cell.scroll_into_view_if_needed()
        box = cell.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], box
