"""Journey: an admin reads the audit log, filters it and exports it, on a desktop and on a phone."""
import pytest

from market.deals.models import DealStage
from tests.e2e.conftest import PHONE

expect = pytest.importorskip("playwright.sync_api", reason="playwright not installed: pip install playwright").expect
pytestmark = pytest.mark.e2e


def _page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_an_admin_filters_the_log_and_exports_it(open_page, sign_in, make_deal, deal_world, make_user, screenshot):
    make_deal(DealStage.PERFORMANCE)
    admin = make_user("admin", name="审计管理员")
    visitor = open_page()
    visitor.goto("/login")
    visitor.fill("input[name=email]", "intruder@example.org")
    visitor.fill("input[name=password]", "wrong-password-1")
    visitor.locator("main form button[type=submit]").click()
    expect(visitor.locator("main")).to_contain_text("邮箱或密码错误")

    page = open_page()
    sign_in(page, admin.email)
    page.goto("/admin")
    page.get_by_role("link", name="审计日志").click()
    page.wait_for_url("**/admin/audit")
    expect(page.locator("h1")).to_have_text("审计日志")
    expect(page.locator(".audit-entry").first).to_be_visible()
    screenshot(page, "desktop")

    page.select_option("select[name=action]", "deal.stage")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url("**action=deal.stage**")
    stages = page.locator(".audit-entry")
    expect(stages.first).to_contain_text("交易项目 · 阶段变更")
    assert set(stages.evaluate_all("nodes => nodes.map(n => n.dataset.action)")) == {"deal.stage"}
    with page.expect_download() as download:
        page.locator("#audit-export").click()
    assert download.value.suggested_filename.endswith(".csv")

    phone = open_page(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    sign_in(phone, admin.email)
    phone.goto("/admin/audit?object_type=login")
    expect(phone.locator(".audit-entry").first).to_contain_text("intruder@example.org")
    assert _page_width(phone) <= PHONE["width"]
    phone.goto("/admin/audit")
    assert _page_width(phone) <= PHONE["width"]
    screenshot(phone, "phone")
