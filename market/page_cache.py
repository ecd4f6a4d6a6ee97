"""Caches of what visitors see: whole pages for anonymous visitors and data shared by every viewer (search results,
counts), all keyed by the public content version, which any committed change to public content replaces.

A cached page holds nothing of one visitor (no CSRF token, no flash message, no cookie); it is served only to a
request without a signed-in user and without pending messages, in the language the request would be answered in.
Entries also expire after PAGE_CACHE_SECONDS (an hour), which bounds how long a listing whose deadline passed (a
change by time, not by a write) stays on show. Flask-Caching stores them: Redis when REDIS_URL is set, else files in the
instance folder (shared by the workers of one machine)."""
import hashlib
import logging
import pickle
import secrets
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, Response, g, has_app_context, has_request_context, request, session
from flask_login import COOKIE_NAME
from itsdangerous import BadSignature
from markupsafe import Markup
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException
from werkzeug.http import parse_cookie

from market.extensions import cache

log = logging.getLogger(__name__)

PAGE_CACHE_SECONDS = 3600
"""How long a cached page or search result is served at most: a listing whose deadline passed (a change by time, with
no write that would replace the content version) stays on show in cached pages at most this long."""
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


class CacheUnavailable(Exception):
    """The cache store did not answer: pages and results are then computed afresh (and not stored)."""


def _ask(operation: Callable[..., T], *args, **kwargs) -> T:
    """A cache call; a store that does not answer (Redis down) raises CacheUnavailable instead of failing the page."""
    try:
        return operation(*args, **kwargs)
    except Exception as error:  # any store failure means the same: serve without the cache
        log.warning("cache unavailable: %s", error)
        raise CacheUnavailable from error


def content_version() -> str:
    """The current public content version (a new one after every committed change to what visitors can see), read
    once per request: a request's own changes replace it only when its unit of work commits, after the page."""
    if has_request_context() and "content_version" in g:
        return g.content_version
    version = _ask(cache.get, CONTENT_VERSION_KEY)
    if version is None:
        version = secrets.token_hex(8)
        _ask(cache.set, CONTENT_VERSION_KEY, version, timeout=0)
    if has_request_context():
        g.content_version = version
    return version


def replace_content_version() -> None:
    """Make every cached page and result stale (called once a change to public content is committed)."""
    try:
        _ask(cache.set, CONTENT_VERSION_KEY, secrets.token_hex(8), timeout=0)
    except CacheUnavailable:
        log.error("the public content version could not be replaced: cached pages may be stale for up to %s s",
                  PAGE_CACHE_SECONDS)


def _data_key(name: str, parts: tuple) -> str:
    return f"data:{name}:{content_version()}:{hashlib.sha1(pickle.dumps(parts, protocol=5)).hexdigest()}"


def remember(name: str, parts: tuple, compute: Callable[[], T]) -> T:
    """`compute()`, cached under the content version for PAGE_CACHE_SECONDS (computed directly outside an app or
    when the cache does not answer)."""
    if not has_app_context():
        return compute()
    try:
        key = _data_key(name, parts)
        found = _ask(cache.get, key)
    except CacheUnavailable:
        return compute()
    if found is None:
        found = compute()
        try:
            _ask(cache.set, key, found, timeout=PAGE_CACHE_SECONDS)
        except CacheUnavailable:
            pass
    return found


LOCAL_FRAGMENTS = 1024
"""How many page fragments a process also keeps in its own memory (their keys name the content version, so a kept
fragment is never stale; this saves a round trip to the cache per fragment)."""
_local_fragments: OrderedDict[str, tuple[float, str]] = OrderedDict()


def cached_fragment(name: str, *parts, caller: Callable[[], str]) -> Markup:
    """Jinja call block: the block's HTML, rendered once per content version, language and `parts` (which must name
    everything the block shows; the block must hold nothing of one viewer)."""
    from market.accounts.loading import select_locale

    parts = (select_locale(), *parts)
    try:
        key = _data_key(f"fragment:{name}", parts)
    except CacheUnavailable:
        return Markup(str(caller()))
    kept = _local_fragments.get(key)
    if kept is not None and kept[0] > time.monotonic():
        _local_fragments.move_to_end(key)
        return Markup(kept[1])
    html = remember(f"fragment:{name}", parts, lambda: str(caller()))
    _local_fragments[key] = (time.monotonic() + PAGE_CACHE_SECONDS, html)
    if len(_local_fragments) > LOCAL_FRAGMENTS:
        _local_fragments.popitem(last=False)
    return Markup(html)


def _note_change(session: Session) -> None:
    """Replace the content version once this session's transaction commits (once, however many changes it holds)."""
    if session.info.get(_CHANGED):
        return
    from market.unit_of_work import on_commit, on_rollback

    session.info[_CHANGED] = True

    def replace() -> None:
        session.info.pop(_CHANGED, None)
        if has_app_context():
            replace_content_version()

    on_commit(session, replace)
    on_rollback(session, lambda: session.info.pop(_CHANGED, None))


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


def _anonymous_locale(app: Flask, environ: dict) -> str | None:
    """The language an anonymous request is answered in (its session's switch, else the default), or None when the
    request carries a signed-in user, pending messages or a remember-me cookie."""
    cookies = parse_cookie(environ)
    if app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME) in cookies:
        return None
    data = {}
    cookie = cookies.get(app.config["SESSION_COOKIE_NAME"])
    if cookie:
        serializer = app.session_interface.get_signing_serializer(app)
        try:
            data = serializer.loads(cookie, max_age=int(app.permanent_session_lifetime.total_seconds()))
        except BadSignature:
            data = {}
    if "_user_id" in data or "_flashes" in data:
        return None
    chosen = data.get("lang")
    return chosen if chosen in app.config["LANGUAGES"] else app.config["BABEL_DEFAULT_LOCALE"]


class PageCache:
    """WSGI middleware: answers an anonymous GET of a public page from the cache before the application runs, and
    keeps a page the application marked as holding nothing of its visitor (`mark_cacheable`)."""

    def __init__(self, app: Flask, wsgi_app) -> None:
        self.app, self.wsgi_app = app, wsgi_app
        self.endpoints = app.url_map.bind("localhost")

    def _key(self, environ: dict) -> str | None:
        if environ.get("REQUEST_METHOD") != "GET":
            return None
        path = environ.get("PATH_INFO", "")
        try:
            endpoint, _ = self.endpoints.match(path, method="GET")
        except HTTPException:
            return None
        if endpoint not in CACHED_ENDPOINTS:
            return None
        locale = _anonymous_locale(self.app, environ)
        if locale is None:
            return None
        where = f"{environ.get('HTTP_HOST', '')}{path}?{environ.get('QUERY_STRING', '')}".encode("utf-8", "surrogateescape")
        return f"page:{locale}:{hashlib.sha1(where).hexdigest()}"

    def __call__(self, environ: dict, start_response):
        key = self._key(environ)
        if key is None:
            return self.wsgi_app(environ, start_response)
        backend = self.app.extensions["cache"][cache]
        try:
            version, stored = _ask(backend.get_many, CONTENT_VERSION_KEY, key)
            if version is None:
                version = secrets.token_hex(8)
                _ask(backend.set, CONTENT_VERSION_KEY, version, timeout=0)
        except CacheUnavailable:
            return self.wsgi_app(environ, start_response)
        if stored is not None and stored[0] == version:
            _, headers, body = stored
            start_response("200 OK", [*headers, ("X-Request-ID", uuid.uuid4().hex[:12])])
            return [body]
        captured = {}

        def capture(status, headers, exc_info=None):
            captured.update(status=status, headers=headers)
            return start_response(status, headers, exc_info)

        chunks = self.wsgi_app(environ, capture)
        if not environ.get(_STORE) or not captured.get("status", "").startswith("200 "):
            return chunks
        try:
            body = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        if not any(name.lower() == "set-cookie" for name, _ in captured["headers"]):
            headers = [(name, value) for name, value in captured["headers"] if name.lower() != "x-request-id"]
            try:
                _ask(backend.set, key, (version, headers, body), timeout=PAGE_CACHE_SECONDS)
            except CacheUnavailable:
                pass
        return [body]


_STORE = "market.page_cache.store"


def mark_cacheable(response: Response) -> Response:
    """after_request: mark an anonymous visitor's public page that holds nothing of the visitor for the cache."""
    if (request.method == "GET" and request.endpoint in CACHED_ENDPOINTS and response.status_code == 200
            and not response.direct_passthrough and not session.modified and "_user_id" not in session
            and "_flashes" not in session and b'name="csrf_token"' not in response.get_data()):
        request.environ[_STORE] = True
    return response


def install_page_cache(app: Flask) -> None:
    """Bind the cache (Redis when configured, else files in the instance folder), its middleware and hooks."""
    cache.init_app(app)
    app.add_template_global(cached_fragment)
    app.after_request(mark_cacheable)
    app.wsgi_app = PageCache(app, app.wsgi_app)
    if not getattr(install_page_cache, "listening", False):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "do_orm_execute", _after_orm_execute)
        install_page_cache.listening = True
