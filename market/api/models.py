"""API bookkeeping in the database: the idempotency records that make payment requests safe to retry."""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from market.extensions import db
from market.timeutil import utcnow


class IdempotencyState(StrEnum):
    """A keyed request is being answered (in_progress) or its answer is stored for replay (done)."""

    IN_PROGRESS = "in_progress"
    DONE = "done"


class IdempotencyRecord(db.Model):
    """One Idempotency-Key of one user: the request it was first used for and, once answered, the stored response.

    The unique (user_id, key) constraint decides which of two concurrent requests with the same key runs."""

    __tablename__ = "idempotency_records"
    __table_args__ = (
        UniqueConstraint("user_id", "key", name="one_record_per_user_key"),
        CheckConstraint("state IN ('in_progress', 'done')", name="known_state"),
        CheckConstraint("state = 'in_progress' OR (response_status BETWEEN 200 AND 599 AND response_body IS NOT NULL)",
                        name="done_has_response"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(100))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[IdempotencyState] = mapped_column(String(20), default=IdempotencyState.IN_PROGRESS)
    response_status: Mapped[int | None]
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
