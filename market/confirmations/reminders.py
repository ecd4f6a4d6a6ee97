"""When a recorded fact that still waits for the other side (or for an admin) is due a reminder: waiting for
REMINDER_AFTER_DAYS days or more, and not reminded yet on the current day in China."""
from datetime import datetime, timedelta

from sqlalchemy import and_, or_

from market.confirmations.models import FactStatus
from market.timeutil import CHINA_OFFSET

REMINDER_AFTER_DAYS = 3
"""Days a recorded fact waits for its confirmation before the side that must confirm it is reminded (daily)."""


def start_of_china_day(moment: datetime) -> datetime:
    """The naive UTC time at which the day in China that contains `moment` (naive UTC) began."""
    return datetime.combine((moment + CHINA_OFFSET).date(), datetime.min.time()) - CHINA_OFFSET


def waited_long_enough(recorded_at, last_reminded_at, now: datetime):
    """The SQL condition of a record recorded at `recorded_at` (a column) due a reminder at `now`: waiting
    REMINDER_AFTER_DAYS days or more and not reminded since the current day in China began."""
    return and_(recorded_at <= now - timedelta(days=REMINDER_AFTER_DAYS),
                or_(last_reminded_at.is_(None), last_reminded_at < start_of_china_day(now)))


def reminder_due(model, now: datetime):
    """The SQL condition of a record of `model` (a confirmable fact) due a reminder at `now` (records migrated without
    a recorder's role wait for an admin and are left out)."""
    return and_(model.status == FactStatus.RECORDED, model.recorded_as.is_not(None),
                waited_long_enough(model.created_at, model.last_reminded_at, now))
