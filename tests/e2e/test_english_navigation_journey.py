"""Journey: an admin's and a broker's signed-in navigation fits on one line at 1280 px in English (and in Chinese)."""
import pytest

from tests.e2e.conftest import save_screenshot

expect = pytest.importorskip("playwright.sync_api", reason="playwright not installed: pip install playwright").expect
pytestmark = pytest.mark.e2e

ROW_TOLERANCE_PX = 12


def _nav_rows(page) -> int:
    """How many lines the visible navigation items take (by their vertical centres)."""
    centres = page.eval_on_selector_all(
        "nav.navbar .navbar-brand, #mainNav .nav-link",
        "els => els.filter(e => e.offsetParent !== null)"
        ".map(e => { const r = e.getBoundingClientRect(); return r.top + r.height / 2; })")
    rows: list[float] = []
    for centre in sorted(centres):
        if not rows or centre - rows[-1] > ROW_TOLERANCE_PX:
            rows.append(centre)
    return len(rows)


@pytest.mark.parametrize("role", ["admin", "broker"])
def test_signed_in_navigation_fits_at_1280_in_english(open_page, make_user, sign_in, role):
    user = make_user(role, second_factor=True, name="Alexandra Montgomery-Smith")
    page = open_page()
    sign_in(page, user.email)
    assert _nav_rows(page) == 1
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto("/money/calculator")
    expect(page.locator("#mainNav")).to_contain_text(user.name)
    save_screenshot(page, f"navigation-en-{role}-1280.png")
    assert _nav_rows(page) == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    language = page.get_by_role("button", name="中文").bounding_box()
    link = page.locator("#mainNav .nav-link").first.bounding_box()
    assert language["height"] < 1.5 * link["height"], "the language button wraps"
