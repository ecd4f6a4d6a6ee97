"""The application factory and its wiring (imported lazily by `market.create_app`)."""
import logging
import secrets
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, g, request
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from market.config import DEFAULT_BASE_URL, Config

log = logging.getLogger(__name__)


def create_app(config: dict | None = None) -> Flask:
    """Build the Flask application; wiring only."""
    app = Flask("market", template_folder="../templates", static_folder="../static")
    app.config.from_object(Config)
    app.config.update(config or {})
    app.config.update({key: value for key, value in _defaults(app).items() if key not in (config or {})})
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))
    _configure_hosts(app)
    _warn_about_insecure_cookies(app)

    app.url_map.converters["int"] = DatabaseIdConverter
    _init_extensions(app)
    _register_blueprints(app)
    _register_request_hooks(app)
    from market.audit.capture import install_audit_capture
    from market.cli import register_commands
    from market.errors import register_error_handlers
    from market.page_cache import install_page_cache
    from market.requestguard import register_request_guard
    from market.templating import register_template_helpers
    from market.unit_of_work import install_unit_of_work

    register_error_handlers(app)
    register_request_guard(app)
    register_template_helpers(app)
    register_commands(app)
    _register_job_kinds()
    install_unit_of_work(app)
    install_audit_capture()
    install_page_cache(app)
    if app.config["TRUSTED_PROXY_HOPS"]:
        hops = app.config["TRUSTED_PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    logging.basicConfig(level=logging.INFO)
    if app.config["WARM_FOR_WORKERS"]:
        from market.startup import warm_for_workers

        warm_for_workers(app)
    return app


class DatabaseIdConverter(IntegerConverter):
    """Route integers are database ids: ASCII digits only (`\\d` would also take full-width and other scripts' digits,
    so `/attachments/１` would alias id 1), and larger values than an INTEGER column holds answer 404, not an overflow."""

    regex = r"[0-9]+"

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def _defaults(app: Flask) -> dict:
    """Values derived from the configuration; a key the caller passed to create_app wins over these."""
    instance = Path(app.instance_path)
    secure_cookies = not app.config["DEMO_MODE"] and not app.config["INSECURE_COOKIES"]
    return {
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"] or f"sqlite:///{instance / 'market.db'}",
        "UPLOAD_FOLDER": app.config["UPLOAD_FOLDER"] or str(instance / "uploads"),
        "MATCH_INDEX_PATH": app.config["MATCH_INDEX_PATH"] or str(instance / "match-index"),
        "MAX_CONTENT_LENGTH": 21 * 1024 * 1024,
        "MAX_ATTACHMENT_BYTES": 20 * 1024 * 1024,
        "API_MAX_BODY_BYTES": 256 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
        "SESSION_IDLE_TIMEOUT": timedelta(hours=2),
        "SESSION_ABSOLUTE_TIMEOUT": timedelta(hours=12),
        "REMEMBER_COOKIE_DURATION": timedelta(days=1),
        "BABEL_DEFAULT_LOCALE": "zh_CN",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "LANGUAGES": ["zh_CN", "en"],
        "LOGIN_RATE_LIMIT": "10 per minute;50 per hour",
        "REGISTER_RATE_LIMIT": "5 per minute;20 per hour",
        "TWO_FACTOR_RATE_LIMIT": "5 per minute;30 per hour",
        "RECENT_LOGIN_MAX_AGE": timedelta(minutes=10),
        "PASSWORD_HASH_PROFILE": "standard",
        "RATELIMIT_HEADERS_ENABLED": True,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "JOBS_IN_PROCESS": app.config["DEMO_MODE"] or app.config["TESTING"] or not app.config["REDIS_URL"],
        "SEARCH_VOCABULARY_IN_BACKGROUND": not app.config["TESTING"],
        **_cache_settings(app),
    }


def _cache_settings(app: Flask) -> dict:
    """Where the page and data caches live: Redis when configured, one process's memory in tests, else files in the
    instance folder (shared by every worker on the machine)."""
    settings = {"CACHE_KEY_PREFIX": "market:cache:", "CACHE_THRESHOLD": 20_000}
    if app.config["TESTING"]:
        return {**settings, "CACHE_TYPE": "SimpleCache"}
    if app.config["REDIS_URL"]:
        return {**settings, "CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": app.config["REDIS_URL"]}
    return {**settings, "CACHE_TYPE": "FileSystemCache", "CACHE_DIR": str(Path(app.instance_path) / "cache")}


def _configure_hosts(app: Flask) -> None:
    """Check BASE_URL and trust a configured one's host besides TRUSTED_HOSTS (None from a caller trusts every host)."""
    if not app.config["BASE_URL"] and not (app.config["DEMO_MODE"] or app.config["TESTING"]):
        log.warning("BASE_URL is not set: links in mails point to %s", DEFAULT_BASE_URL)
    base_url = (app.config["BASE_URL"] or DEFAULT_BASE_URL).rstrip("/")
    parts = urlsplit(base_url)
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.query or parts.fragment:
        raise RuntimeError(f"BASE_URL must look like https://market.example (with an optional path), got {base_url!r}")
    app.config["BASE_URL"] = base_url
    trusted = app.config["TRUSTED_HOSTS"]
    if trusted is not None and base_url != DEFAULT_BASE_URL:
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        app.config["TRUSTED_HOSTS"] = list(dict.fromkeys([*trusted, host]))


def _warn_about_insecure_cookies(app: Flask) -> None:
    """Say at start-up that cookies travel over plain HTTP when the operator asked for it outside demo mode."""
    if app.config["INSECURE_COOKIES"] and not app.config["DEMO_MODE"]:
        log.warning("INSECURE_COOKIES=1: session cookies are not Secure and travel over plain HTTP; "
                    "use this only on a test host without TLS")


def _instance_secret(instance: Path) -> str:
    """A random secret key kept in the instance folder when SECRET_KEY is not configured."""
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _init_extensions(app: Flask) -> None:
    from market import models  # noqa: F401  (registers every model with the metadata)
    from market.accounts.loading import load_session_user, select_locale
    from market.accounts.secret_box import install_secret_box
    from market.extensions import babel, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(Path(__file__).parent / "translations"))
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None
    login_manager.session_protection = None
    login_manager.user_loader(load_session_user)
    install_secret_box(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        from market.database import configure_sqlite

        with app.app_context():
            configure_sqlite(db.engine)


def _register_job_kinds() -> None:
    """Import the modules that register background job kinds, so a worker knows every one."""
    from market.accounts import mail_jobs  # noqa: F401
    from market.imports import jobs as import_jobs  # noqa: F401
    from market.matching import jobs as matching_jobs  # noqa: F401
    from market.saved_searches import jobs as saved_search_jobs  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from market.accounts.views import bp as accounts_bp
    from market.achievements.views import bp as achievements_bp
    from market.admin.views import bp as admin_bp
    from market.api.views import bp as api_bp
    from market.audit.views import bp as audit_bp
    from market.awards.views import bp as awards_bp
    from market.deals.introduction_views import bp as introductions_bp
    from market.deals.views import bp as deals_bp
    from market.demands.views import bp as demands_bp
    from market.imports.views import bp as imports_bp
    from market.listings.views import bp as listings_bp
    from market.matching.views import bp as matching_bp
    from market.notifications.views import bp as notifications_bp
    from market.organisations.views import bp as organisations_bp
    from market.pages.views import bp as pages_bp
    from market.preorders.views import bp as preorders_bp
    from market.saved_searches.views import bp as saved_searches_bp

    for blueprint in (pages_bp, accounts_bp, achievements_bp, demands_bp, listings_bp, notifications_bp, admin_bp, imports_bp,
                      deals_bp, introductions_bp, preorders_bp, awards_bp, matching_bp, organisations_bp, audit_bp,
                      saved_searches_bp, api_bp):
        app.register_blueprint(blueprint)


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def _signed_in() -> bool:
    """Whether this request was answered for a signed-in user (read without reloading a user the commit expired)."""
    user = g.get("_login_user")
    return user is not None and not user.is_anonymous


def _register_request_hooks(app: Flask) -> None:
    @app.before_request
    def assign_request_id():
        g.request_id = uuid.uuid4().hex[:12]

    @app.after_request
    def set_security_headers(response):
        response.headers["X-Request-ID"] = g.get("request_id", "-")
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        response.headers.pop("Server", None)
        if request.path.startswith("/api/") or _signed_in():
            response.headers["Cache-Control"] = "no-store"
        return response
