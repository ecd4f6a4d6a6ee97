"""Caches of what visitors see: whole pages for anonymous visitors and data shared by every viewer (search results,
counts), all keyed by the public content version, which any committed change to public content replaces.

A cached page holds nothing of one visitor (no CSRF token, no flash message, no cookie); it is served only to a
request without a signed-in user and without pending messages, in the language the request would be answered in.
Entries also expire after PAGE_CACHE_SECONDS, which bounds how long a listing whose deadline passed (a change by
time, not by a write) stays on show. Flask-Caching stores them: Redis when REDIS_URL is set, else files in the
instance folder (shared by the workers of one machine)."""
import hashlib
import pickle
import secrets
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, Response, current_app, g, has_app_context, request, session
from flask_login import COOKIE_NAME
from sqlalchemy import event
from sqlalchemy.orm import Session

from market.extensions import cache

PAGE_CACHE_SECONDS = 300
"""How long a cached page or search result is served at most (a deadline passing changes visibility unwritten)."""
CONTENT_VERSION_KEY = "content-version"
CACHED_ENDPOINTS = frozenset({
    "pages.home", "pages.valleys", "pages.organisations", "achievements.browse", "achievements.detail",
    "demands.browse", "demands.detail", "accounts.organisation",
})
"""The public pages an anonymous visitor is served from the cache."""
PRIVATE_TABLES = frozenset({
    "outbox_mails", "recovery_codes", "password_reset_tokens", "user_sessions", "second_factor_resets",
    "second_factors", "api_tokens", "email_change_links", "idempotency_records", "audit_entries", "notifications",
    "mail_opt_outs", "saved_searches", "saved_search_notices", "import_runs", "match_feedback",
    "match_index_changes", "follows", "confidential_grants", "confidentiality_acknowledgements", "listing_events",
})
"""Tables no public page shows: writing only these leaves the content version (and every cached page) as it is."""
_CHANGED = "page_cache_changed"
T = TypeVar("T")


def content_version() -> str:
    """The current public content version (a new one after every committed change to what visitors can see)."""
    version = cache.get(CONTENT_VERSION_KEY)
    if version is None:
        version = secrets.token_hex(8)
        cache.set(CONTENT_VERSION_KEY, version, timeout=0)
    return version


def replace_content_version() -> None:
    """Make every cached page and result stale (called once a change to public content is committed)."""
    cache.set(CONTENT_VERSION_KEY, secrets.token_hex(8), timeout=0)


def remember(name: str, parts: tuple, compute: Callable[[], T]) -> T:
    """`compute()`, cached under the content version for PAGE_CACHE_SECONDS (computed directly outside an app)."""
    if not has_app_context():
        return compute()
    digest = hashlib.sha1(pickle.dumps(parts, protocol=5)).hexdigest()
    key = f"data:{name}:{content_version()}:{digest}"
    found = cache.get(key)
    if found is None:
        found = compute()
        cache.set(key, found, timeout=PAGE_CACHE_SECONDS)
    return found


def _note_change(session: Session) -> None:
    if not session.info.get(_CHANGED):
        from market.unit_of_work import on_commit

        session.info[_CHANGED] = True

        def replace() -> None:
            session.info.pop(_CHANGED, None)
            if has_app_context():
                replace_content_version()

        on_commit(session, replace)


def _public(instance) -> bool:
    table = getattr(instance, "__table__", None)
    return table is None or table.name not in PRIVATE_TABLES


def _after_flush(session: Session, flush_context) -> None:
    """A flush that wrote a row of a public table marks the session: its commit replaces the content version."""
    if any(_public(instance) for group in (session.new, session.dirty, session.deleted) for instance in group):
        _note_change(session)


def _after_orm_execute(execute_state) -> None:
    """An ORM bulk UPDATE or DELETE of a public table marks the session like a flush does."""
    if not (execute_state.is_update or execute_state.is_delete):
        return
    mapper = execute_state.bind_mapper
    if mapper is None or mapper.local_table.name not in PRIVATE_TABLES:
        _note_change(execute_state.session)


def _page_key() -> str | None:
    """The cache key of this request's page, or None when it must be answered afresh."""
    if request.method != "GET" or request.endpoint not in CACHED_ENDPOINTS:
        return None
    if current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME) in request.cookies or "_user_id" in session or "_flashes" in session:
        return None
    from market.accounts.loading import select_locale

    path = hashlib.sha1(request.full_path.encode("utf-8", "surrogatepass")).hexdigest()
    return f"page:{content_version()}:{select_locale()}:{path}"


def serve_cached_page():
    """before_request: answer an anonymous visitor's public page from the cache when it holds it."""
    key = _page_key()
    if key is None:
        return None
    g.page_cache_key = key
    stored = cache.get(key)
    if stored is None:
        return None
    g.page_cache_key = None
    body, mimetype = stored
    return Response(body, mimetype=mimetype)


def store_page(response: Response) -> Response:
    """after_request: keep a freshly rendered public page that holds nothing of its visitor."""
    key = g.pop("page_cache_key", None)
    if (key and response.status_code == 200 and not response.direct_passthrough and not session.modified
            and "Set-Cookie" not in response.headers and "_user_id" not in session and "_flashes" not in session):
        body = response.get_data()
        if b'name="csrf_token"' not in body:
            cache.set(key, (body, response.mimetype), timeout=PAGE_CACHE_SECONDS)
    return response


def install_page_cache(app: Flask) -> None:
    """Bind the cache (Redis when configured, else files in the instance folder) and its request hooks."""
    cache.init_app(app)
    app.before_request(serve_cached_page)
    app.after_request(store_page)
    if not getattr(install_page_cache, "listening", False):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "do_orm_execute", _after_orm_execute)
        install_page_cache.listening = True
