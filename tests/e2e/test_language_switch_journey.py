"""Journey: the navbar language button switches the page language for the session and back again."""
import re

import pytest
from sqlalchemy import select

from market.accounts.models import User, UserSession

expect = pytest.importorskip("playwright.sync_api", reason="playwright not installed: pip install playwright").expect
pytestmark = pytest.mark.e2e


def test_english_button_switches_page_language_and_chinese_button_switches_back(
        open_page, make_user, sign_in, fresh_db, screenshot):
    researcher = make_user("researcher")
    page = open_page()
    sign_in(page, researcher.email)
    page.goto("/achievements?q=%E5%88%B6%E6%B0%A2&sort=newest")
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "zh-CN")

    page.get_by_role("button", name="English").click()
    expect(html).to_have_attribute("lang", "en")
    expect(page).to_have_url(re.compile(r"/achievements\?q=%E5%88%B6%E6%B0%A2&sort=newest$"))
    expect(page.get_by_role("button", name="中文")).to_be_visible()

    page.goto("/")
    expect(html).to_have_attribute("lang", "en")

    page.get_by_role("button", name="中文").click()
    expect(html).to_have_attribute("lang", "zh-CN")
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("button", name="English")).to_be_visible()
    expect(page.locator("#mainNav")).to_contain_text(researcher.name)
    screenshot(page)

    session = fresh_db()
    assert session.get(User, researcher.id).locale == "zh_CN"
    logins = session.scalars(select(UserSession).where(UserSession.user_id == researcher.id)).all()
    assert [login.revoked_at for login in logins] == [None]
