"""The site behind its front door: trusted host names, links in mail from BASE_URL, proxy headers only from a
configured number of proxies, Secure cookies and a CSRF page that says why a form was refused."""
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from flask import jsonify, request
from sqlalchemy import func, select

from market import create_app
from market.accounts.models import OutboxMail, PasswordResetToken
from market.extensions import db
from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
UNTRUSTED_HOST_MESSAGE = "本站不接受此主机名的请求。"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def latest_mail_body() -> str:
    return db.session.scalar(select(OutboxMail.body).order_by(OutboxMail.id.desc()))


def forgot_password(client, email: str, **headers):
    return client.post("/password/forgot", data={"email": email}, headers=headers)


# Host names and links in mail

def test_a_password_reset_for_an_unknown_host_is_refused_and_mails_nothing(client, make_user):
    user = make_user("researcher")
    response = forgot_password(client, user.email, Host="evil.example")
    assert response.status_code == 400
    assert response.get_data(as_text=True) == UNTRUSTED_HOST_MESSAGE
    assert (count(OutboxMail), count(PasswordResetToken)) == (0, 0)


def test_an_unknown_host_gets_a_json_400_on_the_api(client):
    response = client.get("/api/v1/achievements", headers={"Host": "evil.example:8080"})
    assert response.status_code == 400
    assert response.get_json() == {"error": "untrusted_host", "message": UNTRUSTED_HOST_MESSAGE, "fields": {}}


@pytest.mark.parametrize("app", [{"BASE_URL": "https://market.example/jc/"}], indirect=True)
@pytest.mark.parametrize("host", ["localhost", "127.0.0.1:5000", "market.example"])
def test_the_reset_link_starts_with_the_configured_base_url_whatever_the_host(client, make_user, host):
    user = make_user("researcher")
    assert forgot_password(client, user.email, Host=host).status_code == 302
    body = latest_mail_body()
    links = re.findall(r"[a-z]+://\S+", body)
    assert len(links) == 1 and links[0].startswith("https://market.example/jc/password/reset/"), body


def test_without_base_url_the_reset_link_points_at_the_local_default(client, make_user):
    user = make_user("researcher")
    forgot_password(client, user.email, Host="127.0.0.1:8000")
    assert "http://127.0.0.1:5000/password/reset/" in latest_mail_body()


@pytest.mark.parametrize("app", [{"TRUSTED_HOSTS": ["localhost", "market.example", ".jinchuang.example"]}],
                         indirect=True)
@pytest.mark.parametrize(("host", "status"), [
    ("market.example", 200), ("market.example:8443", 200), ("www.jinchuang.example", 200),
    ("127.0.0.1", 400), ("market.example.evil", 400), ("evil.example", 400),
])
def test_configured_hosts_are_served_and_others_refused(client, host, status):
    assert client.get("/login", headers={"Host": host}).status_code == status


@pytest.mark.parametrize("app", [{"BASE_URL": "https://portal.example"}], indirect=True)
def test_the_base_url_host_is_trusted_besides_the_defaults(client):
    statuses = [client.get("/login", headers={"Host": host}).status_code
                for host in ("portal.example", "localhost", "127.0.0.1:5000", "evil.example")]
    assert statuses == [200, 200, 200, 400]


@pytest.mark.parametrize("base_url", ["market.example", "ftp://market.example", "https://market.example/?next=x"])
def test_a_malformed_base_url_stops_the_start_up_with_its_name(base_url):
    with pytest.raises(RuntimeError, match="BASE_URL"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x", "BASE_URL": base_url})


def _run_with_environment(code: str, **environment: str) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), **environment}
    return subprocess.run([sys.executable, "-c", code], check=False, cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def test_with_only_database_url_and_secret_key_the_site_answers_on_127_0_0_1(tmp_path):
    result = _run_with_environment(
        "from market import create_app\n"
        "app = create_app()\n"
        "client = app.test_client()\n"
        "print(client.get('/login', base_url='http://127.0.0.1:8123').status_code,"
        " client.get('/login', base_url='http://localhost:8123').status_code,"
        " client.get('/login', base_url='http://evil.example').status_code)",
        DATABASE_URL=f"sqlite:///{tmp_path / 'market.db'}", SECRET_KEY="only-two-settings",
    )
    assert result.stdout.split() == ["200", "200", "400"], result.stderr


def test_the_settings_are_read_from_the_environment():
    result = _run_with_environment(
        "from market.config import Config as C\n"
        "print(C.BASE_URL, ','.join(C.TRUSTED_HOSTS), C.TRUSTED_PROXY_HOPS, C.INSECURE_COOKIES)",
        BASE_URL="https://market.example", TRUSTED_HOSTS="market.example, .jinchuang.example",
        TRUSTED_PROXY_HOPS="2", INSECURE_COOKIES="1",
    )
    assert result.stdout.split() == ["https://market.example", "market.example,.jinchuang.example", "2", "True"]


def test_a_proxy_hop_count_that_is_not_a_number_stops_the_start_up_with_its_name():
    result = _run_with_environment("import market.config", TRUSTED_PROXY_HOPS="one")
    assert result.returncode != 0
    assert "TRUSTED_PROXY_HOPS must be a whole number" in result.stderr


# Proxies

@pytest.fixture
def request_echo(app):
    """A test-only page that shows how the app sees the request."""

    def echo():
        return jsonify(scheme=request.scheme, host=request.host, remote_addr=request.remote_addr)

    app.add_url_rule("/test-only/echo", "test_echo", echo)
    return app


FORWARDED = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "market.example"}
ONE_PROXY = {"TRUSTED_PROXY_HOPS": 1, "TRUSTED_HOSTS": ["localhost", "market.example"]}
RATE_LIMITED = {"RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "2 per minute"}


@pytest.mark.parametrize("app", [ONE_PROXY], indirect=True)
def test_behind_one_proxy_the_forwarded_client_scheme_and_host_are_honoured(request_echo, client):
    seen = client.get("/test-only/echo", headers=FORWARDED).get_json()
    assert seen == {"scheme": "https", "host": "market.example", "remote_addr": "203.0.113.7"}


@pytest.mark.parametrize("app", [ONE_PROXY], indirect=True)
def test_behind_one_proxy_a_forwarded_host_outside_the_list_is_refused(client):
    response = client.get("/login", headers={**FORWARDED, "X-Forwarded-Host": "evil.example"})
    assert response.status_code == 400


def test_without_proxy_hops_the_forwarded_headers_are_ignored(request_echo, client):
    seen = client.get("/test-only/echo", headers=FORWARDED).get_json()
    assert seen == {"scheme": "http", "host": "localhost", "remote_addr": "127.0.0.1"}


def _failed_logins(client, user, forwarded_for: str, attempts: int) -> list[int]:
    return [client.post("/login", data={"email": user.email, "password": "wrong-password-1"},
                        headers={"X-Forwarded-For": forwarded_for}).status_code for _ in range(attempts)]


@pytest.mark.parametrize("app", [{**ONE_PROXY, **RATE_LIMITED}], indirect=True)
def test_behind_one_proxy_each_client_has_its_own_login_rate_limit(app, make_user):
    user = make_user("researcher")
    first, second = app.test_client(), app.test_client()
    assert _failed_logins(first, user, "198.51.100.1", 3) == [200, 200, 429]
    assert _failed_logins(second, user, "198.51.100.2", 2) == [200, 200]


@pytest.mark.parametrize("app", [RATE_LIMITED], indirect=True)
def test_without_proxy_hops_every_client_behind_the_proxy_shares_one_login_rate_limit(app, make_user):
    user = make_user("researcher")
    first, second = app.test_client(), app.test_client()
    assert _failed_logins(first, user, "198.51.100.3", 2) == [200, 200]
    assert _failed_logins(second, user, "198.51.100.4", 1) == [429]


# Cookies

def _built(caplog, **config):
    with caplog.at_level(logging.WARNING, logger="market.app"):
        app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x", "BASE_URL": "https://m.example",
                          **config})
    with app.app_context():
        db.engine.dispose()
    warnings = [record.getMessage() for record in caplog.records if record.name == "market.app"]
    return (app.config["SESSION_COOKIE_SECURE"], app.config["REMEMBER_COOKIE_SECURE"]), warnings


def test_cookies_are_secure_by_default_outside_demo_mode(caplog):
    assert _built(caplog, DEMO_MODE=False, INSECURE_COOKIES=False) == ((True, True), [])


def test_the_insecure_cookie_setting_turns_secure_off_and_warns_at_start_up(caplog):
    secure, warnings = _built(caplog, DEMO_MODE=False, INSECURE_COOKIES=True)
    assert secure == (False, False)
    assert len(warnings) == 1 and warnings[0].startswith("INSECURE_COOKIES=1")


def test_demo_mode_cookies_are_not_secure_and_nothing_is_logged(caplog):
    assert _built(caplog, DEMO_MODE=True, INSECURE_COOKIES=False) == ((False, False), [])


def test_a_missing_base_url_is_logged_outside_demo_mode(caplog):
    with caplog.at_level(logging.WARNING, logger="market.app"):
        app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x", "DEMO_MODE": False})
    with app.app_context():
        db.engine.dispose()
    assert [r.getMessage() for r in caplog.records if r.name == "market.app"] == [
        "BASE_URL is not set: links in mails point to http://127.0.0.1:5000"]


SECURE_WITH_CSRF = {"WTF_CSRF_ENABLED": True, "SESSION_COOKIE_SECURE": True}
COOKIE_NOT_SENT = "浏览器没有发送会话 Cookie"


def _login_after_opening_the_form(client, make_user, base_url: str) -> str:
    user = make_user("researcher")
    client.get("/login", base_url=base_url)
    if base_url.startswith("http:"):
        client.delete_cookie("session")  # what a browser does with a Secure cookie on a plain-HTTP page
    response = client.post("/login", data={"email": user.email, "password": PASSWORD}, base_url=base_url)
    assert response.status_code == 400
    return response.get_data(as_text=True)


@pytest.mark.parametrize("app", [SECURE_WITH_CSRF], indirect=True)
def test_a_form_over_plain_http_with_secure_cookies_says_the_cookie_was_not_sent_and_names_the_setting(
        client, make_user):
    page = _login_after_opening_the_form(client, make_user, "http://localhost")
    assert COOKIE_NOT_SENT in page and "INSECURE_COOKIES=1" in page


@pytest.mark.parametrize("app", [{"WTF_CSRF_ENABLED": True}], indirect=True)
def test_a_form_without_the_cookie_over_http_with_plain_cookies_does_not_name_the_setting(client, make_user):
    user = make_user("researcher")
    page = client.post("/login", data={"email": user.email, "password": PASSWORD}).get_data(as_text=True)
    assert COOKIE_NOT_SENT in page and "INSECURE_COOKIES" not in page


@pytest.mark.parametrize("app", [SECURE_WITH_CSRF], indirect=True)
def test_a_form_over_https_without_its_token_says_the_form_expired(client, make_user):
    page = _login_after_opening_the_form(client, make_user, "https://localhost")
    assert "表单已过期" in page and COOKIE_NOT_SENT not in page
