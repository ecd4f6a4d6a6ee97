"""The state every confirmable fact carries: who recorded it as what, and how the other side decided."""
from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from market.accounts.models import ORIGINAL_FILE_NAME_MAX_LENGTH, STORED_FILE_NAME_MAX_LENGTH


class FactStatus(StrEnum):
    """Where a recorded fact stands."""

    RECORDED = "recorded"
    CONFIRMED = "confirmed"
    DISPUTED = "disputed"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


STATUS_LABELS = {
    FactStatus.RECORDED: _l("待确认"),
    FactStatus.CONFIRMED: _l("已确认"),
    FactStatus.DISPUTED: _l("有异议"),
    FactStatus.REFUSED: _l("已驳回"),
    FactStatus.WITHDRAWN: _l("已撤回"),
}
OPEN_STATUSES = (FactStatus.RECORDED, FactStatus.DISPUTED)
"""Recorded facts still waiting for a decision."""
COUNTED_STATUSES = (FactStatus.RECORDED, FactStatus.DISPUTED, FactStatus.CONFIRMED)
"""Facts that still count against what may be recorded (refused and withdrawn ones do not)."""


class Confirmable:
    """Columns of a fact one side records and the other confirms (mixed into its model)."""

    status: Mapped[FactStatus] = mapped_column(String(20), default=FactStatus.RECORDED,
                                               server_default=FactStatus.RECORDED.value)
    recorded_as: Mapped[str | None] = mapped_column(String(20))
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    dispute_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    decision_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    last_reminded_at: Mapped[datetime | None]

    @property
    def is_open(self) -> bool:
        """Whether the fact still waits for a decision."""
        return self.status in OPEN_STATUSES


class Evidenced:
    """Columns of the one evidence PDF a fact may carry (a bank receipt or an invoice), mixed into its model."""

    evidence_stored_name: Mapped[str | None] = mapped_column(String(STORED_FILE_NAME_MAX_LENGTH))
    evidence_original_name: Mapped[str | None] = mapped_column(String(ORIGINAL_FILE_NAME_MAX_LENGTH))
    evidence_uploaded_at: Mapped[datetime | None]
    evidence_uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    @property
    def has_evidence(self) -> bool:
        """Whether an evidence PDF is attached."""
        return self.evidence_stored_name is not None
