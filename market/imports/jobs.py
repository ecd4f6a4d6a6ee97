"""The import job: a saved sheet parsed, checked and imported by a worker, with its progress and row report."""
from sqlalchemy.orm import Session

from market.imports.runs import IMPORT_JOB, give_up_on_run, import_run
from market.jobs.registry import job_kind

IMPORT_TIMEOUT_SECONDS = 900


@job_kind(IMPORT_JOB, retries=2, retry_waits=(10, 60), timeout_seconds=IMPORT_TIMEOUT_SECONDS, gave_up=give_up_on_run)
def import_sheet(session: Session, run_id: int) -> None:
    """Import the sheet of the run `run_id` (nothing happens to a run already done)."""
    import_run(session, run_id)
