"""Security headers on every kind of response, and error pages that reveal nothing but a request id."""
import re

import pytest

from market.extensions import db

PUBLIC_PAGES = ["/", "/achievements", "/demands", "/valleys", "/login", "/register", "/password/forgot",
                "/api/v1/openapi.json", "/api/v1/achievements", "/no-such-page", "/achievements/999999",
                "/api/v1/achievements/999999", "/api/v1/no-such-endpoint", "/static/css/app.css"]
SIGNED_IN_PAGES = ["/workspace", "/profile", "/notifications", "/achievements/new", "/achievements/999999",
                   "/admin", "/no-such-page"]


def csp_directives(response) -> dict[str, list[str]]:
    """The Content-Security-Policy as {directive: sources}."""
    policy = response.headers.get("Content-Security-Policy", "")
    directives = {}
    for part in filter(None, (piece.strip() for piece in policy.split(";"))):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def assert_hardened(response) -> None:
    """The headers every response must carry."""
    directives = csp_directives(response)
    scripts = directives.get("script-src", directives.get("default-src"))
    assert scripts, "no script-src or default-src"
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts and "*" not in scripts
    assert directives.get("object-src") == ["'none'"]
    assert directives.get("frame-ancestors") == ["'none'"]
    assert directives.get("base-uri") == ["'self'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] in ("strict-origin-when-cross-origin", "no-referrer", "same-origin")
    assert re.fullmatch(r"[0-9a-f]{12,32}", response.headers["X-Request-ID"])
    assert not re.search(r"\d", response.headers.get("Server", "")), "the Server header shows a version"
    assert "X-Powered-By" not in response.headers


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_a_visitor_gets_the_security_headers_on(client, path):
    response = client.get(path)
    assert response.status_code in (200, 404)
    assert_hardened(response)
    response.close()


@pytest.mark.parametrize("path", ["/api/v1/openapi.json", "/api/v1/achievements", "/api/v1/achievements/999999"])
def test_api_answers_are_never_cached(client, path):
    response = client.get(path)
    assert "no-store" in response.headers.get("Cache-Control", "")
    assert_hardened(response)


@pytest.mark.parametrize("path", SIGNED_IN_PAGES)
def test_pages_for_a_signed_in_user_are_never_cached(client, login_as, path):
    login_as("researcher")
    response = client.get(path)
    assert response.status_code in (200, 403, 404)
    assert "no-store" in response.headers.get("Cache-Control", "")
    assert_hardened(response)


def test_a_redirect_and_a_method_error_carry_the_headers_too(client, login_as):
    assert_hardened(client.get("/workspace"))
    assert_hardened(client.get("/logout"))
    login_as("researcher")
    response = client.post("/logout")
    assert response.status_code == 302
    assert_hardened(response)


def test_pages_load_no_inline_script_or_style(client, login_as, make_achievement):
    login_as("researcher")
    make_achievement()
    for path in ("/", "/achievements", "/profile", "/workspace"):
        page = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), f"inline script on {path}"
        assert " style=" not in page, f"inline style on {path}"
        assert not re.search(r"\son[a-z]+=", page), f"inline event handler on {path}"


@pytest.fixture
def failing_route(app):
    """A test-only page that fails with an internal error carrying secrets in its message."""

    def explode():
        raise RuntimeError("secret-db-password=hunter2 at /srv/market/models.py line 42")

    app.add_url_rule("/test-only/explode", "test_explode", explode)
    app.add_url_rule("/api/v1/test-only/explode", "test_api_explode", explode)
    return app


@pytest.mark.parametrize("path", ["/test-only/explode", "/api/v1/test-only/explode"])
def test_an_internal_error_shows_a_generic_message_with_the_request_id(failing_route, client, caplog, path):
    response = client.get(path)
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    for secret in ("hunter2", "secret-db-password", "RuntimeError", "Traceback", "/srv/market", "models.py",
                   "werkzeug", "Werkzeug", "Python"):
        assert secret not in body
    shown = response.get_json()["message"] if response.is_json else body
    request_id = response.headers["X-Request-ID"]
    assert f"请求编号：{request_id}" in shown
    assert "服务器出现错误，请稍后重试。" in shown
    assert_hardened(response)
    logged = [record for record in caplog.records if record.levelname == "ERROR"]
    assert logged and request_id in logged[-1].getMessage()


def test_an_api_internal_error_is_json(failing_route, client):
    response = client.get("/api/v1/test-only/explode")
    assert response.is_json
    assert response.get_json()["error"] == "server_error"
    assert response.get_json()["message"].endswith(response.headers["X-Request-ID"])


def test_each_response_has_its_own_request_id(client):
    first, second = client.get("/"), client.get("/")
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]


@pytest.mark.parametrize("app", [{"SESSION_COOKIE_SECURE": True}], indirect=True)
def test_the_session_cookie_is_secure_http_only_and_same_site(client, make_user):
    from tests.conftest import PASSWORD

    user = make_user("researcher")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(cookie for cookie in cookies if cookie.startswith("session="))
    assert "; Secure" in session_cookie
    assert "; HttpOnly" in session_cookie
    assert "; SameSite=Lax" in session_cookie
    assert not any(cookie.startswith("remember_token=") for cookie in cookies)


def test_secure_cookies_are_the_default_outside_demo_and_debug():
    from market import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
    assert app.config["SESSION_COOKIE_SECURE"] is not app.config["DEMO_MODE"]
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["REMEMBER_COOKIE_DURATION"].days <= 1
    assert app.config["MAX_CONTENT_LENGTH"] <= 32 * 1024 * 1024
    with app.app_context():
        db.engine.dispose()
