"""Journey: a broker introduces a matching achievement from the match list, the university accepts on a phone, the
company declines with a reason, and the broker's page shows why; the pages fit 1280 and 390 px."""
import pytest

from market.deals.models import Introduction
from tests.conftest import HYDROGEN, HYDROGEN_NEED
from tests.e2e.conftest import DESKTOP, PHONE

expect = pytest.importorskip("playwright.sync_api", reason="playwright not installed: pip install playwright").expect
pytestmark = pytest.mark.e2e


def _page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_broker_introduces_and_the_sides_answer(open_page, sign_in, make_user, make_achievement, make_demand,
                                                fresh_db, screenshot):
    researcher, buyer, broker = make_user("researcher"), make_user("enterprise"), make_user("broker")
    achievement = make_achievement(owner=researcher, **HYDROGEN)
    demand = make_demand(owner=buyer, **HYDROGEN_NEED)

    agent = open_page(viewport=DESKTOP)
    sign_in(agent, broker.email)
    agent.goto(f"/demands/{demand.id}/matches")
    agent.locator(f"#match-{demand.id}-{achievement.id} .match-introduce").click()
    agent.wait_for_url(f"**/introductions/new/{achievement.id}**")
    agent.fill("textarea[name=note]", "贵方需求与该成果的变压吸附制氢工艺高度契合，建议尽快对接。")
    agent.locator("main form.introduction-form button[type=submit]").click()
    agent.wait_for_url("**/introductions/*")
    expect(agent.locator("main")).to_contain_text("等待成果方、需求方答复")
    screenshot(agent, "broker-1280")
    introduction = fresh_db().scalar(fresh_db().query(Introduction).statement)

    owner = open_page(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    sign_in(owner, researcher.email)
    owner.goto("/introductions")
    expect(owner.locator("main")).to_contain_text(achievement.title)
    assert _page_width(owner) <= PHONE["width"]
    screenshot(owner, "awaiting-390")
    owner.goto(f"/introductions/{introduction.id}")
    owner.once("dialog", lambda dialog: dialog.accept())
    owner.get_by_role("button", name="接受引荐").tap()
    expect(owner.locator("main")).to_contain_text("已接受引荐")
    assert _page_width(owner) <= PHONE["width"]

    company = open_page(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    sign_in(company, buyer.email)
    company.goto(f"/introductions/{introduction.id}")
    company.locator("details.decline-form summary").tap()
    company.select_option("select[name=reason]", "other_partner")
    company.fill("textarea[name=note]", "已与另一家研究院签订合作协议。")
    screenshot(company, "decline-390")
    company.once("dialog", lambda dialog: dialog.accept())
    company.get_by_role("button", name="确认拒绝").tap()
    expect(company.locator("main")).to_contain_text("已拒绝该引荐")
    assert _page_width(company) <= PHONE["width"]

    agent.goto(f"/introductions/{introduction.id}")
    expect(agent.locator(".decline-reason")).to_contain_text("已有其他合作方")
    expect(agent.locator(".decline-reason")).to_contain_text("已与另一家研究院签订合作协议。")
    screenshot(agent, "declined-1280")
    agent.goto("/introductions")
    screenshot(agent, "mine-1280")
    assert fresh_db().get(Introduction, introduction.id).status == "declined"
