"""UTC timestamps for model columns."""
from datetime import UTC, date, datetime, timedelta


def utcnow() -> datetime:
    """The current time as a naive UTC datetime (stored the same way on SQLite and PostgreSQL)."""
    return datetime.now(UTC).replace(tzinfo=None)


CHINA_OFFSET = timedelta(hours=8)


def today_in_china() -> date:
    """Today's date in China Standard Time (UTC+8, no daylight saving): the date users see on their calendars."""
    return (datetime.now(UTC) + CHINA_OFFSET).date()
