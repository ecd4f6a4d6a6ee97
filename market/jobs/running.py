"""Running one job: a fresh app context (so a fresh database session), one unit of work, and what happens once the
last retry has failed."""
import logging

from flask import Flask, current_app, has_app_context

from market.jobs.registry import find_kind
from market.unit_of_work import unit_of_work

log = logging.getLogger(__name__)


class PartialJobError(Exception):
    """The job did part of its work, which is kept (committed), and must be retried for the rest."""


def perform(name: str, kwargs: dict) -> object:
    """Run the job `name` with `kwargs`: the function RQ workers call."""
    from rq import get_current_job

    rq_job = get_current_job()
    return run_job(_app(), name, kwargs, last_try=rq_job is None or not rq_job.retries_left)


def run_job(app: Flask, name: str, kwargs: dict, *, last_try: bool) -> object:
    """Run one try of a job in its own app context and unit of work: commit on success and on PartialJobError,
    roll back on any other exception; after a failed last try, the kind's `gave_up` runs in a unit of work of its own."""
    kind = find_kind(name)
    try:
        with app.app_context():
            partial = None
            with unit_of_work() as session:
                try:
                    result = kind.run(session, **kwargs)
                except PartialJobError as error:
                    partial = error
            if partial is not None:
                raise partial
            return result
    except Exception:
        if last_try and kind.gave_up is not None:
            _give_up(app, kind, kwargs)
        raise


def _give_up(app: Flask, kind, kwargs: dict) -> None:
    try:
        with app.app_context(), unit_of_work() as session:
            kind.gave_up(session, **kwargs)
    except Exception:
        log.exception("job %s: recording that it gave up failed", kind.name)


def _app() -> Flask:
    """The app whose context the job runs in: the one `flask --app market jobs worker` pushed."""
    if not has_app_context():
        raise RuntimeError("jobs run in the app's context: start workers with `flask --app market jobs worker`")
    return current_app._get_current_object()
