"""Reading the audit log: the filtered list, newest first, a page at a time or whole for the export."""
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from market.audit.models import AuditEntry
from market.timeutil import CHINA_OFFSET

ENTRIES_PER_PAGE = 50
EXPORT_MAX_ROWS = 100_000
"""An export holds at most this many rows (the newest); narrow the filters for older ones."""
EXPORT_BATCH = 1_000


@dataclass(frozen=True)
class AuditFilters:
    """What the admin narrowed the log to; the days are calendar days in China."""

    action: str = ""
    object_type: str = ""
    actor: str = ""
    object_id: int | None = None
    since: date | None = None
    until: date | None = None
    request_id: str = ""


@dataclass(frozen=True)
class AuditPage:
    """One page of entries and where it is in the whole list."""

    items: list[AuditEntry]
    total: int
    page: int
    pages: int


def _china_day_start(day: date) -> datetime:
    """The UTC time at which a calendar day in China begins (stored times are naive UTC)."""
    return datetime(day.year, day.month, day.day) - CHINA_OFFSET


def filtered(filters: AuditFilters) -> Select:
    """The entries matching the filters, newest first."""
    statement = select(AuditEntry)
    if filters.action:
        statement = statement.where(AuditEntry.action == filters.action)
    if filters.object_type:
        statement = statement.where(AuditEntry.object_type == filters.object_type)
    if filters.object_id is not None:
        statement = statement.where(AuditEntry.object_id == filters.object_id)
    if filters.actor:
        if filters.actor.isascii() and filters.actor.isdigit():
            statement = statement.where(AuditEntry.actor_id == int(filters.actor))
        else:
            statement = statement.where(func.lower(AuditEntry.actor_display).contains(filters.actor.lower(),
                                                                                      autoescape=True))
    if filters.since is not None:
        statement = statement.where(AuditEntry.at >= _china_day_start(filters.since))
    if filters.until is not None:
        statement = statement.where(AuditEntry.at < _china_day_start(filters.until + timedelta(days=1)))
    if filters.request_id:
        statement = statement.where(AuditEntry.request_id == filters.request_id)
    return statement.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())


def list_entries(session: Session, filters: AuditFilters, page: int = 1,
                 per_page: int = ENTRIES_PER_PAGE) -> AuditPage:
    """A page of the matching entries, newest first."""
    statement = filtered(filters)
    total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    items = list(session.scalars(statement.limit(per_page).offset((page - 1) * per_page)))
    return AuditPage(items, total, page, pages)


def export_entries(session: Session, filters: AuditFilters) -> Iterator[AuditEntry]:
    """Every matching entry for the export, newest first, read in batches (at most EXPORT_MAX_ROWS)."""
    statement = filtered(filters).limit(EXPORT_MAX_ROWS)
    yield from session.scalars(statement.execution_options(yield_per=EXPORT_BATCH))
