"""Journey: a broker enrols an authenticator from the QR page, keeps the recovery codes and logs in with a code."""
import time

import pyotp
import pytest

from market.accounts.models import RecoveryCode, User
from tests.e2e.conftest import PHONE, save_screenshot

expect = pytest.importorskip("playwright.sync_api", reason="playwright not installed: pip install playwright").expect
pytestmark = pytest.mark.e2e


def test_a_broker_enrols_from_the_qr_page_and_logs_in_with_a_code(open_page, sign_in, make_user, fresh_db):
    broker = make_user("broker", name="赵经理")
    page = open_page()
    sign_in(page, broker.email)
    page.goto("/profile")
    page.get_by_role("link", name="启用两步验证").click()
    page.wait_for_url("**/profile/two-factor")
    qr = page.locator("#totp-qr svg")
    expect(qr).to_be_visible()
    box = qr.bounding_box()
    assert box["width"] >= 120 and abs(box["width"] - box["height"]) < 2
    secret = page.locator("#totp-secret").inner_text().strip()
    save_screenshot(page, "two-factor-enrol-1280.png")

    phone = page.context.new_page()
    phone.set_viewport_size(PHONE)
    phone.goto("/profile/two-factor")
    expect(phone.locator("#totp-qr svg")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert phone.locator("#totp-secret").inner_text().strip() == secret
    save_screenshot(phone, "two-factor-enrol-390.png")
    phone.close()

    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    page.get_by_role("button", name="确认启用").click()
    codes = page.locator("#recovery-codes code")
    expect(codes).to_have_count(10)
    save_screenshot(page, "two-factor-recovery-codes-1280.png")
    assert fresh_db().get(User, broker.id).has_second_factor
    assert fresh_db().query(RecoveryCode).filter_by(user_id=broker.id).count() == 10

    login = open_page()
    login.goto("/login")
    login.fill("input[name=email]", broker.email)
    login.fill("input[name=password]", "correct-horse-battery")
    login.locator("main form button[type=submit]").click()
    login.wait_for_url("**/login/code")
    login.fill("input[name=code]", pyotp.TOTP(secret).at(time.time() + 30))
    login.locator("main form button[type=submit]").click()
    login.wait_for_url("**/workspace**")
    expect(login.locator("#mainNav")).to_contain_text("退出")
