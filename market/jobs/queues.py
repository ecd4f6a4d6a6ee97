"""Where jobs go: an RQ queue on Redis (REDIS_URL), or run in this process at once (demo mode, tests, no REDIS_URL).

Both sit behind the same calls: `enqueue` (now), `enqueue_after_commit` (once the caller's unit of work has
committed, so the job sees what the request wrote; the same job asked twice in one transaction is sent once),
`job_status` (by id) and `report_progress` (from inside a running job).
"""
from __future__ import annotations

import logging
import uuid
from collections import OrderedDict
from contextvars import ContextVar
from dataclasses import dataclass

from flask import Flask, current_app
from sqlalchemy.orm import Session

from market.jobs.registry import find_kind
from market.jobs.running import perform, run_job
from market.unit_of_work import on_commit, on_rollback

log = logging.getLogger(__name__)

STATUSES_KEPT = 1000
"""Statuses of finished in-process jobs remembered (per process) for `job_status`."""
RESULT_TTL_SECONDS = 24 * 3600
FAILURE_TTL_SECONDS = 7 * 24 * 3600
_PENDING = "jobs_pending"
"""session.info key: the jobs this transaction will enqueue once it commits."""
_running_in_process: ContextVar[tuple[ImmediateQueue, str] | None] = ContextVar("running_in_process", default=None)


@dataclass(frozen=True)
class JobStatus:
    """Where a job stands: state is queued (also while waiting for a retry), started, finished or failed."""

    id: str
    name: str
    state: str
    progress: tuple[int, int] | None = None
    error: str = ""

    @property
    def is_over(self) -> bool:
        """Whether the job will not run again."""
        return self.state in ("finished", "failed")


class ImmediateQueue:
    """Runs each job in this process as it is enqueued, retrying at once; remembers the latest statuses."""

    def __init__(self, app: Flask):
        """A queue running jobs in `app`'s context."""
        self.app = app
        self.statuses: OrderedDict[str, JobStatus] = OrderedDict()

    def enqueue(self, name: str, kwargs: dict, job_id: str) -> str:
        """Run the job now (every retry included); its failure is logged and kept in its status, never raised."""
        kind = find_kind(name)
        self._remember(JobStatus(job_id, name, "started"))
        token = _running_in_process.set((self, job_id))
        try:
            for attempt in range(kind.retries + 1):
                try:
                    run_job(self.app, name, kwargs, last_try=attempt == kind.retries)
                except Exception as error:
                    if attempt == kind.retries:
                        log.exception("job %s (%s) failed after %s tries", name, job_id, attempt + 1)
                        self._remember(JobStatus(job_id, name, "failed", self._progress(job_id), repr(error)))
                    else:
                        log.warning("job %s (%s) failed (%r); retrying", name, job_id, error)
                    continue
                self._remember(JobStatus(job_id, name, "finished", self._progress(job_id)))
                break
        finally:
            _running_in_process.reset(token)
        return job_id

    def status(self, job_id: str) -> JobStatus | None:
        """The job's status, if this process ran it recently."""
        return self.statuses.get(job_id)

    def set_progress(self, job_id: str, done: int, total: int) -> None:
        """Record how far the running job is."""
        status = self.statuses.get(job_id)
        if status is not None:
            self._remember(JobStatus(job_id, status.name, status.state, (done, total), status.error))

    def _progress(self, job_id: str) -> tuple[int, int] | None:
        status = self.statuses.get(job_id)
        return status.progress if status else None

    def _remember(self, status: JobStatus) -> None:
        self.statuses[status.id] = status
        self.statuses.move_to_end(status.id)
        while len(self.statuses) > STATUSES_KEPT:
            self.statuses.popitem(last=False)


_RQ_STATES = {"queued": "queued", "deferred": "queued", "scheduled": "queued", "started": "started",
              "finished": "finished", "failed": "failed", "stopped": "failed", "canceled": "failed"}


class RedisQueue:
    """An RQ queue on Redis; `flask --app market jobs worker` runs its jobs."""

    def __init__(self, url: str, name: str):
        """The queue called `name` on the Redis server at `url`."""
        import redis
        from rq import Queue

        self.connection = redis.Redis.from_url(url)
        self.queue = Queue(name, connection=self.connection)

    def enqueue(self, name: str, kwargs: dict, job_id: str) -> str:
        """Put the job on the queue with its kind's retries and time limit."""
        from rq import Retry

        kind = find_kind(name)
        retry = Retry(max=kind.retries, interval=list(kind.retry_waits) or 0) if kind.retries else None
        self.queue.enqueue_call(perform, args=(name, kwargs), job_id=job_id, timeout=kind.timeout_seconds,
                                retry=retry, description=name, meta={"name": name},
                                result_ttl=RESULT_TTL_SECONDS, failure_ttl=FAILURE_TTL_SECONDS)
        return job_id

    def status(self, job_id: str) -> JobStatus | None:
        """The job's status as Redis holds it (None once it expired or was never there)."""
        from rq.exceptions import NoSuchJobError
        from rq.job import Job

        try:
            job = Job.fetch(job_id, connection=self.connection)
        except NoSuchJobError:
            return None
        state = _RQ_STATES.get(str(job.get_status(refresh=False) or "queued").rsplit(".", 1)[-1].lower(), "queued")
        progress = job.meta.get("progress")
        error = ""
        if state == "failed":
            result = job.latest_result()
            error = (result.exc_string or "").strip().rsplit("\n", 1)[-1] if result is not None else ""
        return JobStatus(job.id, job.meta.get("name", job.description or ""), state,
                         tuple(progress) if progress else None, error)


def job_queue(app: Flask | None = None) -> ImmediateQueue | RedisQueue:
    """The app's queue: in-process when JOBS_IN_PROCESS is set (demo mode, tests, no REDIS_URL), else RQ on Redis."""
    app = app or current_app._get_current_object()
    queue = app.extensions.get("market.jobs")
    if queue is None:
        if app.config["JOBS_IN_PROCESS"]:
            queue = ImmediateQueue(app)
        else:
            queue = RedisQueue(app.config["REDIS_URL"], app.config["JOB_QUEUE_NAME"])
        app.extensions["market.jobs"] = queue
    return queue


def new_job_id() -> str:
    """A fresh job id."""
    return uuid.uuid4().hex


def enqueue(job_name: str, **kwargs) -> str:
    """Send the job now (in-process: run it now); returns its id."""
    find_kind(job_name)
    return job_queue().enqueue(job_name, kwargs, new_job_id())


def enqueue_after_commit(session: Session, job_name: str, **kwargs) -> str:
    """Send the job once the caller's transaction commits (nothing if it rolls back); returns the id it will have.
    The same job with the same arguments asked again in the same transaction is sent once."""
    find_kind(job_name)
    session.connection()  # the hooks below belong to a transaction, whose rollback drops them
    pending = session.info.setdefault(_PENDING, {})
    key = (job_name, repr(sorted(kwargs.items())))
    if key in pending:
        return pending[key]
    if not pending:
        on_rollback(session, lambda: session.info.pop(_PENDING, None))
    job_id = pending[key] = new_job_id()
    app = current_app._get_current_object()

    def send() -> None:
        session.info.get(_PENDING, {}).pop(key, None)
        try:
            job_queue(app).enqueue(job_name, kwargs, job_id)
        except Exception:
            log.exception("job %s (%s) could not be enqueued after the commit", job_name, job_id)

    on_commit(session, send)
    return job_id


def job_status(job_id: str) -> JobStatus | None:
    """Where the job with this id stands (None if unknown to the queue)."""
    return job_queue().status(job_id)


def report_progress(done: int, total: int) -> None:
    """From inside a running job: how many of its steps are done (shown as a progress bar)."""
    running = _running_in_process.get()
    if running is not None:
        queue, job_id = running
        queue.set_progress(job_id, done, total)
        return
    from rq import get_current_job

    rq_job = get_current_job()
    if rq_job is not None:
        rq_job.meta["progress"] = [done, total]
        rq_job.save_meta()
