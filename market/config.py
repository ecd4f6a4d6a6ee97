"""Configuration: the only module that reads environment variables."""
import os
from pathlib import Path

# Werkzeug 3.1 cannot match an IPv6 literal such as [::1] against a trusted list, so none is listed: use a name.
DEFAULT_TRUSTED_HOSTS = ("localhost", "127.0.0.1")
DEFAULT_BASE_URL = "http://127.0.0.1:5000"


def _host_list(value: str) -> list[str]:
    """A comma- or space-separated list of host names, e.g. "market.example, .market.example"."""
    return [host for host in value.replace(",", " ").split() if host]


def _whole_number(name: str, default: str) -> int:
    """An environment variable that must be a whole number ≥ 0; anything else stops the start-up with its name."""
    value = os.environ.get(name, default).strip()
    if not value.isdigit():
        raise RuntimeError(f"{name} must be a whole number (0 or more), got {value!r}")
    return int(value)


class Config:
    """Settings for every environment; values come from the environment where given."""

    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", "")
    DEMO_MODE = os.environ.get("MARKET_DEMO_MODE", "") == "1"
    DEMO_PASSWORD = "jinchuang-demo"
    RATELIMIT_STORAGE_URI = os.environ.get("REDIS_URL", "memory://")
    # Background jobs go to an RQ queue in this Redis; unset (or demo mode, or tests) runs them in-process.
    REDIS_URL = os.environ.get("REDIS_URL", "")
    JOB_QUEUE_NAME = os.environ.get("JOB_QUEUE_NAME", "market")
    MATCH_INDEX_PATH = os.environ.get("MATCH_INDEX_PATH", "")
    # 1 (set by market/gunicorn_conf.py): load the match indexes and search vocabularies when the app is created, so
    # gunicorn's workers, forked after that, share them.
    WARM_FOR_WORKERS = os.environ.get("MARKET_WARM_FOR_WORKERS", "") == "1"
    UPLOAD_FOLDER = os.environ.get("UPLOAD_FOLDER", "")
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "587"))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_SENDER = os.environ.get("MAIL_SENDER", "noreply@jinchuang.example")
    # The site's public address; links in mails start with it, never with the request's Host header.
    BASE_URL = os.environ.get("BASE_URL", "")
    # Host names the site answers to (Flask refuses others with 400); the BASE_URL's host is always added.
    TRUSTED_HOSTS = _host_list(os.environ.get("TRUSTED_HOSTS", "")) or list(DEFAULT_TRUSTED_HOSTS)
    # How many reverse proxies in front of the app set X-Forwarded-For/-Proto/-Host; 0 ignores those headers.
    TRUSTED_PROXY_HOPS = _whole_number("TRUSTED_PROXY_HOPS", "0")
    # 1 sends session cookies over plain HTTP outside demo mode (a test host without TLS only).
    INSECURE_COOKIES = os.environ.get("INSECURE_COOKIES", "") == "1"
    # Fernet keys encrypting authenticator secrets at rest, comma-separated (the first encrypts, all decrypt);
    # unset: a key derived from SECRET_KEY (a warning is logged outside demo mode).
    TOTP_ENCRYPTION_KEY = os.environ.get("TOTP_ENCRYPTION_KEY", "")
    # How long a request waits for a concurrent one with the same Idempotency-Key before answering 409.
    IDEMPOTENCY_WAIT_MS = 5000


def instance_path_default() -> Path:
    """Where the embedded database, uploads and the match index live by default."""
    return Path(__file__).resolve().parent.parent / "instance"
