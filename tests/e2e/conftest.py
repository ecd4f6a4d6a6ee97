"""Browser journey fixtures: the app served on a free local port and headless Debian chromium driven by Playwright."""
import os
import threading
import time
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from market.extensions import db

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
WAIT_MS = 10_000
DESKTOP = {"width": 1280, "height": 900}
SCREENSHOT_FOLDER = Path("/tmp/e2e-shots")
FACTORY_PASSWORD = "correct-horse-battery"  # the password tests/conftest.py's make_user gives everyone


@pytest.fixture(scope="session")
def chromium():
    """One headless chromium for the whole run; every test opens its own contexts in it."""
    if not CHROMIUM.exists():
        pytest.skip("chromium not installed: apt-get install chromium")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=WAIT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app):
    """The test's app (same database as the `app` fixture) served over HTTP with CSRF on; yields the base URL.

    Rate limiting stays off as the `app` fixture configured it (the limiter reads its switch when the app is built).
    """
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    app.config.update(WTF_CSRF_ENABLED=True, SERVER_NAME=f"127.0.0.1:{server.server_port}")
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    try:
        yield base_url
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def open_page(chromium, live_server):
    """Factory: a page in a fresh browser context (its own cookies), so several people can act in one test."""
    contexts = []

    def open_(viewport: dict | None = None, **options):
        context = chromium.new_context(base_url=live_server, viewport=viewport or DESKTOP, locale="zh-CN", **options)
        context.set_default_timeout(WAIT_MS)
        context.set_default_navigation_timeout(WAIT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_
    for context in contexts:
        context.close()


def authenticator_code(email: str, *, ahead: int = 0) -> str | None:
    """The current code of the user's authenticator (`ahead` steps later), None without one."""
    import pyotp
    from sqlalchemy import select

    from market.accounts.models import SecondFactor, User

    db.session.expire_all()
    factor = db.session.scalar(select(SecondFactor).join(User).where(User.email == email))
    if factor is None or factor.confirmed_at is None:
        return None
    totp = pyotp.TOTP(factor.secret)
    return totp.at(max(time.time() + 30 * ahead, (factor.last_used_step + 1) * 30))


@pytest.fixture
def sign_in():
    """Log a page in through the login form (and the code step when the user has an authenticator) and wait for the
    workspace."""
    from playwright.sync_api import expect

    def do(page, email: str, password: str = FACTORY_PASSWORD) -> None:
        page.goto("/login")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", password)
        page.locator("main form button[type=submit]").click()
        page.wait_for_url(lambda url: "/workspace" in url or "/login/code" in url)
        if "/login/code" in page.url:
            page.fill("input[name=code]", authenticator_code(email))
            page.locator("main form button[type=submit]").click()
        page.wait_for_url("**/workspace**")
        expect(page.locator("#mainNav")).to_contain_text("退出")

    return do


PHONE = {"width": 390, "height": 844}
"""A phone's viewport: journeys are looked at 1280 and 390 px wide."""

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def save_screenshot(page, name: str) -> None:
    """Keep a full-page screenshot under test-artifacts/ once the page's fonts have loaded."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.evaluate("document.fonts.ready.then(() => true)")
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


@pytest.fixture
def screenshot(request):
    """Save a full-page screenshot of a journey's last page to /tmp/e2e-shots when E2E_SCREENSHOTS is set."""

    def take(page, label: str = "last") -> None:
        if not os.environ.get("E2E_SCREENSHOTS"):
            return
        SCREENSHOT_FOLDER.mkdir(parents=True, exist_ok=True)
        page.evaluate("document.fonts.ready.then(() => true)")
        page.screenshot(path=str(SCREENSHOT_FOLDER / f"{request.node.name}-{label}.png"), full_page=True)

    return take


@pytest.fixture
def fresh_db():
    """Forget what the test's own session has cached so that database checks see the server's writes."""

    def refresh():
        db.session.expire_all()
        return db.session

    return refresh
