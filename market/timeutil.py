"""UTC timestamps for model columns."""
from datetime import datetime, timezone


def utcnow() -> datetime:
    """The current time as a naive UTC datetime (stored the same way on SQLite and PostgreSQL)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)
