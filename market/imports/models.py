"""An uploaded sheet waiting for, or done by, the import job: its file, its outcome and the row report."""
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from market.extensions import db
from market.timeutil import utcnow

FILENAME_MAX_LENGTH = 255


class ImportStatus(StrEnum):
    """Where an upload stands: waiting for (or in) the job, imported, refused with a report, or given up on."""

    QUEUED = "queued"
    IMPORTED = "imported"
    REFUSED = "refused"
    FAILED = "failed"


class ImportRun(db.Model):
    """One upload of a sheet of achievements and what the import job made of it."""

    __tablename__ = "import_runs"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'imported', 'refused', 'failed')", name="status_known"),
        CheckConstraint("created_count >= 0 AND problem_total >= 0", name="counts_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    filename: Mapped[str] = mapped_column(String(FILENAME_MAX_LENGTH))
    stored_name: Mapped[str | None] = mapped_column(String(64))
    """The saved upload under UPLOAD_FOLDER/imports (None once the job is done with it)."""
    submit_for_review: Mapped[bool] = mapped_column(default=False)
    status: Mapped[ImportStatus] = mapped_column(String(20), default=ImportStatus.QUEUED)
    job_id: Mapped[str] = mapped_column(String(32))
    row_count: Mapped[int | None]
    created_count: Mapped[int] = mapped_column(default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    problems: Mapped[list | None] = mapped_column(db.JSON)
    """The refused sheet's problems as [row, column letter, column name, message] lists (at most the report's limit)."""
    problem_total: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
