"""Configuration: the only module that reads environment variables."""
import os
from pathlib import Path


class Config:
    """Settings for every environment; values come from the environment where given."""

    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", "")
    DEMO_MODE = os.environ.get("MARKET_DEMO_MODE", "") == "1"
    DEMO_PASSWORD = "jinchuang-demo"
    RATELIMIT_STORAGE_URI = os.environ.get("REDIS_URL", "memory://")
    MATCH_INDEX_PATH = os.environ.get("MATCH_INDEX_PATH", "")
    UPLOAD_FOLDER = os.environ.get("UPLOAD_FOLDER", "")
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "587"))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_SENDER = os.environ.get("MAIL_SENDER", "noreply@jinchuang.example")
    IDEMPOTENCY_WAIT_MS = 5000
    """How long a request waits for a concurrent one with the same Idempotency-Key before answering 409."""


def instance_path_default() -> Path:
    """Where the embedded database, uploads and the match index live by default."""
    return Path(__file__).resolve().parent.parent / "instance"
