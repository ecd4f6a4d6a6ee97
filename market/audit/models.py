"""The audit entry: one recorded change or refused login, append-only."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column

from market.extensions import db
from market.timeutil import utcnow

ACTOR_DISPLAY_MAX_LENGTH = 120
ACTION_MAX_LENGTH = 60
OBJECT_TYPE_MAX_LENGTH = 40
REQUEST_ID_MAX_LENGTH = 40
IP_ADDRESS_MAX_LENGTH = 45
"""Room for the longest IPv6 text form."""


class AuditEntry(db.Model):
    """Who did what to which record, when and from where, with the changed fields before and after."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor_display: Mapped[str] = mapped_column(String(ACTOR_DISPLAY_MAX_LENGTH), default="")
    action: Mapped[str] = mapped_column(String(ACTION_MAX_LENGTH), index=True)
    object_type: Mapped[str] = mapped_column(String(OBJECT_TYPE_MAX_LENGTH))
    object_id: Mapped[int | None]
    before: Mapped[dict | None] = mapped_column(db.JSON)
    after: Mapped[dict | None] = mapped_column(db.JSON)
    request_id: Mapped[str] = mapped_column(String(REQUEST_ID_MAX_LENGTH), default="", index=True)
    ip_address: Mapped[str] = mapped_column(String(IP_ADDRESS_MAX_LENGTH), default="")


class AuditEntryImmutableError(RuntimeError):
    """An audit entry was about to be changed or deleted through the ORM."""


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _refuse_change(_mapper, _connection, entry: AuditEntry) -> None:
    """Audit entries are appended, never changed or deleted."""
    raise AuditEntryImmutableError(f"audit entry {entry.id} is append-only")
