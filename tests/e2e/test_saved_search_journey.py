"""Journey: a visitor's search is saved after signing in (the login brings them back to it); the saved-search page
under the profile fits a phone and deletes a search."""
import pytest
from sqlalchemy import select

from market.saved_searches.models import SavedSearch
from tests.e2e.conftest import FACTORY_PASSWORD, PHONE

expect = pytest.importorskip("playwright.sync_api", reason="playwright not installed: pip install playwright").expect
pytestmark = pytest.mark.e2e


def test_a_visitor_signs_in_saves_the_search_and_deletes_it_on_a_phone(open_page, make_user, fresh_db, screenshot):
    user = make_user("enterprise")
    page = open_page(viewport=PHONE, is_mobile=True, has_touch=True)
    page.goto("/achievements?q=焦炉煤气&field=energy")
    page.get_by_role("link", name="登录后保存此搜索").click()
    page.wait_for_url("**/login?next=**")
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", FACTORY_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/achievements?q=**")
    page.locator("#save-search button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("已保存此搜索")
    [saved] = fresh_db().scalars(select(SavedSearch).where(SavedSearch.user_id == user.id)).all()
    assert (saved.kind, saved.q, saved.field) == ("achievement", "焦炉煤气", "energy")
    page.get_by_role("link", name="我保存的搜索").click()
    page.wait_for_url("**/profile/saved-searches")
    expect(page.locator("#saved-searches")).to_contain_text("“焦炉煤气”")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "list")
    page.locator("#saved-searches button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("已删除保存的搜索")
    assert fresh_db().scalars(select(SavedSearch).where(SavedSearch.user_id == user.id)).all() == []
