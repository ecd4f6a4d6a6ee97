"""Journeys: a researcher moves the login to a new e-mail through the mailed link; an admin makes new recovery codes and
turns the authenticator off after the warning; both pages fit a phone."""
import re

import pytest
from sqlalchemy import select

from market.accounts.models import OutboxMail, SecondFactor, User
from tests.e2e.conftest import PHONE, authenticator_code, save_screenshot

expect = pytest.importorskip("playwright.sync_api", reason="playwright not installed: pip install playwright").expect
pytestmark = pytest.mark.e2e


def _fits_a_phone(page, path: str, name: str) -> None:
    """The page at 390 px: nothing wider than the screen."""
    phone = page.context.new_page()
    phone.set_viewport_size(PHONE)
    phone.goto(path)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    save_screenshot(phone, name)
    phone.close()


def test_a_researcher_moves_the_login_to_a_new_address_through_the_mailed_link(open_page, sign_in, make_user, fresh_db):
    user = make_user("researcher", email="old.address@example.org")
    page = open_page()
    sign_in(page, user.email)
    page.goto("/profile")
    page.get_by_role("link", name="修改", exact=True).click()
    page.wait_for_url("**/profile/email")
    save_screenshot(page, "email-change-1280.png")
    _fits_a_phone(page, "/profile/email", "email-change-390.png")
    page.fill("input[name=new_email]", "new.address@example.org")
    page.fill("input[name=current_password]", "correct-horse-battery")
    page.get_by_role("button", name="发送确认链接").click()
    page.wait_for_url("**/profile")
    expect(page.locator("main")).to_contain_text("确认链接已发送到新邮箱")
    expect(page.locator("main")).to_contain_text("old.address@example.org")

    body = fresh_db().scalars(select(OutboxMail.body).where(OutboxMail.recipient == "new.address@example.org")).one()
    link = re.search(r"/email/confirm/[\w-]+", body).group()
    page.goto(link)
    expect(page.locator("main")).to_contain_text("把登录邮箱从 old.address@example.org 改为 new.address@example.org？")
    save_screenshot(page, "email-confirm-1280.png")
    _fits_a_phone(page, link, "email-confirm-390.png")
    page.get_by_role("button", name="确认更改").click()
    page.wait_for_url("**/profile")
    expect(page.locator("main")).to_contain_text("登录邮箱已更改")
    expect(page.locator("main dl")).to_contain_text("new.address@example.org")
    assert fresh_db().get(User, user.id).email == "new.address@example.org"


def test_an_admin_renews_recovery_codes_and_turns_the_authenticator_off(open_page, sign_in, make_user, fresh_db):
    admin = make_user("admin", name="钱管理")
    page = open_page()
    sign_in(page, admin.email)
    page.goto("/profile/two-factor")
    expect(page.locator("#turn-off-second-factor")).to_contain_text("您将不能审批或发放奖补")
    save_screenshot(page, "two-factor-upkeep-1280.png")
    _fits_a_phone(page, "/profile/two-factor", "two-factor-upkeep-390.png")

    page.fill("input[name=renew-code]", authenticator_code(admin.email))
    page.locator("#renew-recovery-codes button").click()
    expect(page.locator("#recovery-codes code")).to_have_count(10)
    expect(page.locator("main")).to_contain_text("已生成新的恢复码")
    recovery_code = page.locator("#recovery-codes code").first.inner_text()
    save_screenshot(page, "two-factor-new-codes-1280.png")

    page.goto("/profile/two-factor")
    page.fill("input[name=off-code]", recovery_code)
    page.locator("#turn-off-second-factor button").click()
    expect(page.locator("#turn-off-second-factor")).to_contain_text("请确认您已了解关闭两步验证的后果。")
    save_screenshot(page, "two-factor-off-refused-1280.png")
    page.check("input[name=off-understood]")
    page.fill("input[name=off-code]", recovery_code)
    page.locator("#turn-off-second-factor button").click()
    page.wait_for_url("**/profile")
    expect(page.locator("main")).to_contain_text("两步验证已关闭")
    assert fresh_db().scalar(select(SecondFactor).where(SecondFactor.user_id == admin.id)) is None
