"""Uploads handed to the import job: saving the sheet and its run, the job's outcome, and reading a run back."""
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from market.accounts.models import User
from market.errors import DomainError, NotFoundError, ValidationError
from market.imports import services, sheets
from market.imports.models import FILENAME_MAX_LENGTH, ImportRun, ImportStatus
from market.jobs.queues import JobStatus, enqueue_after_commit, job_status, report_progress
from market.notifications.services import recipient_locale
from market.timeutil import utcnow
from market.unit_of_work import on_commit, on_rollback, savepoint

IMPORT_JOB = "imports.achievements"
UPLOADS_SUBFOLDER = "imports"


def queue_import(session: Session, actor: User, *, filename: str, data: bytes, submit: bool) -> ImportRun:
    """Check what needs no parsing, save the sheet and its run, and hand it to the import job once committed."""
    organisation = services.importing_organisation(actor)
    try:
        suffix = sheets.sheet_suffix(filename, data)
    except sheets.SheetError as error:
        raise ValidationError(error.message, {"file": error.message}) from error
    folder = _folder()
    folder.mkdir(parents=True, exist_ok=True)
    stored_name = secrets.token_hex(16) + suffix
    path = folder / stored_name
    path.write_bytes(data)
    on_rollback(session, lambda: path.unlink(missing_ok=True))
    display_name = "".join(ch for ch in (filename or "").replace("\\", "/").split("/")[-1] if ch.isprintable())
    display_name = display_name.strip()[:FILENAME_MAX_LENGTH] or "sheet" + suffix
    run = ImportRun(user_id=actor.id, organisation_id=organisation.id, filename=display_name, stored_name=stored_name,
                    submit_for_review=submit, status=ImportStatus.QUEUED, job_id="")
    session.add(run)
    session.flush()
    run.job_id = enqueue_after_commit(session, IMPORT_JOB, run_id=run.id)
    return run


def import_run(session: Session, run_id: int) -> None:
    """The import job: parse and check the saved sheet, create its achievements (all or none) and keep the outcome."""
    run = session.get(ImportRun, run_id)
    if run is None or run.status != ImportStatus.QUEUED:
        return
    actor = session.get(User, run.user_id)
    with force_locale(recipient_locale(actor)):
        _import(session, run, actor)


def _import(session: Session, run: ImportRun, actor: User) -> None:
    path = _folder() / (run.stored_name or "")
    try:
        data = path.read_bytes()
    except OSError:
        _finish(session, run, ImportStatus.FAILED, _("上传的文件已不在服务器上，请重新上传。"))
        return
    try:
        with savepoint(session):
            created = services.import_achievements(session, actor, filename=run.filename, data=data,
                                                   submit=run.submit_for_review, progress=report_progress)
    except services.SheetRowsError as error:
        run.problems = services.encode_problems(error.problems)
        run.problem_total, run.row_count = error.total, error.row_count
        _finish(session, run, ImportStatus.REFUSED, error.message)
    except DomainError as error:
        _finish(session, run, ImportStatus.REFUSED, error.message)
    else:
        run.created_count = run.row_count = len(created)
        _finish(session, run, ImportStatus.IMPORTED, "")


def give_up_on_run(session: Session, run_id: int) -> None:
    """After the job's last failed try: the run says so, and its file goes."""
    run = session.get(ImportRun, run_id)
    if run is not None and run.status == ImportStatus.QUEUED:
        _finish(session, run, ImportStatus.FAILED, _("导入未能完成，未导入任何成果。请稍后重新上传；如果仍然失败，请联系平台运营。"))


def _finish(session: Session, run: ImportRun, status: ImportStatus, message: str) -> None:
    run.status, run.message, run.finished_at = status, message, utcnow()
    if run.stored_name:
        path = _folder() / run.stored_name
        on_commit(session, lambda: path.unlink(missing_ok=True))
        run.stored_name = None
    session.flush()


def _folder() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"]) / UPLOADS_SUBFOLDER


@dataclass(frozen=True)
class RunView:
    """A run as its page shows it: the run, where its job stands while queued, and the refused sheet's problems."""

    run: ImportRun
    job: JobStatus | None
    problems: list[services.RowProblem]

    @property
    def is_waiting(self) -> bool:
        """Whether the page should look again (the job has not finished with the run)."""
        return self.run.status == ImportStatus.QUEUED and not (self.job is not None and self.job.state == "failed")

    @property
    def percent(self) -> int:
        """How far the job is, 0–100."""
        if self.job is None or not self.job.progress or not self.job.progress[1]:
            return 0
        done, total = self.job.progress
        return min(100, done * 100 // total)


def get_run_view(session: Session, actor: User, run_id: int) -> RunView:
    """The uploader's run (anyone else: NotFoundError)."""
    run = session.get(ImportRun, run_id)
    if run is None or run.user_id != actor.id:
        raise NotFoundError(_("找不到这次导入。"))
    job = job_status(run.job_id) if run.status == ImportStatus.QUEUED and run.job_id else None
    problems = services.decode_problems(run.problems or [])
    return RunView(run, job, problems)
