"""Journey: a user turns off the money mails and, after acknowledging it, the action mails; the page fits a phone."""
import pytest
from sqlalchemy import select

from market.notifications.models import MailOptOut
from tests.e2e.conftest import PHONE

expect = pytest.importorskip("playwright.sync_api", reason="playwright not installed: pip install playwright").expect
pytestmark = pytest.mark.e2e


def test_mail_settings_are_chosen_from_the_profile(open_page, make_user, sign_in, fresh_db, screenshot):
    user = make_user("enterprise")
    page = open_page(viewport=PHONE, is_mobile=True, has_touch=True)
    sign_in(page, user.email)
    page.goto("/profile")
    page.get_by_role("link", name="邮件通知设置").click()
    page.wait_for_url("**/notifications/settings")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.get_by_label("资金消息", exact=False).uncheck()
    page.get_by_label("等待我处理的事项", exact=False).uncheck()
    page.locator("main form button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("请确认您已了解")
    screenshot(page, "refused")
    page.get_by_label("我了解", exact=False).check()
    page.locator("main form button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("邮件通知设置已保存")
    screenshot(page, "saved")
    kept = set(fresh_db().scalars(select(MailOptOut.category).where(MailOptOut.user_id == user.id)))
    assert kept == {"money", "action"}
    page.goto("/notifications")
    expect(page.locator("main")).to_contain_text("您已关闭待处理事项的邮件")
    screenshot(page, "notifications")
