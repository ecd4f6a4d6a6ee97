"""Jobs on a real Redis (127.0.0.1:6379, a queue of the test's own): the web process enqueues, a worker in burst
mode runs them in the app's context, retries, and the status and results are visible by id. Skipped only when
Redis is unreachable outside CI."""
import pytest
from rq import SimpleWorker
from sqlalchemy import select

from market.achievements.models import Achievement
from market.extensions import db
from market.imports.models import ImportRun
from market.jobs import queues
from tests.import_sheets import csv_bytes, post_file, sheet_row
from tests.jobs.conftest import REDIS_TEST_URL


@pytest.fixture
def redis_app(app, redis_queue_name):
    """The test app sending its jobs to Redis instead of running them in-process."""
    app.config.update(JOBS_IN_PROCESS=False, REDIS_URL=REDIS_TEST_URL, JOB_QUEUE_NAME=redis_queue_name)
    app.extensions.pop("market.jobs", None)
    yield app
    app.extensions.pop("market.jobs", None)


def work_burst() -> bool:
    """Run every job on the queue in this process, as `flask jobs worker --burst` does."""
    queue = queues.job_queue()
    return SimpleWorker([queue.queue], connection=queue.connection).work(burst=True, logging_level="WARNING")


def test_an_uploaded_sheet_waits_for_the_worker_which_imports_it_and_the_page_shows_the_outcome(redis_app, client,
                                                                                                login_as):
    user = login_as("researcher")
    response = post_file(client, csv_bytes([sheet_row(1), sheet_row(2)]), "成果.csv")
    run = db.session.scalar(select(ImportRun))
    assert run.status == "queued" and db.session.scalar(select(Achievement)) is None
    assert queues.job_status(run.job_id).state == "queued"
    waiting = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'http-equiv="refresh"' in waiting and 'id="import-progress-bar"' in waiting

    assert work_burst()
    status = queues.job_status(run.job_id)
    assert (status.state, status.progress) == ("finished", (2, 2))
    db.session.expire_all()
    assert (run.status, run.created_count) == ("imported", 2)
    assert [a.organisation_id for a in db.session.scalars(select(Achievement))] == [user.organisation_id] * 2
    done = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已导入 2 项成果，保存为草稿。" in done and 'http-equiv="refresh"' not in done


def test_a_refused_sheet_shows_its_row_report_once_the_worker_is_done(redis_app, client, login_as):
    login_as("researcher")
    response = post_file(client, csv_bytes([sheet_row(1), sheet_row(2, trl=9)]), "成果.csv")
    work_burst()
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    table = page[page.index('id="import-problems"'):]
    assert "第 3 行" in table and "不一致" in table
    assert db.session.scalar(select(Achievement)) is None


def test_a_failing_job_is_retried_by_the_worker_until_it_succeeds(redis_app, job_kinds):
    tries = []

    def flaky(session, n):
        tries.append(n)
        if len(tries) < 3:
            raise RuntimeError("temporary failure")
        return n * 2

    job_kinds("tests.flaky", flaky, retries=3, retry_waits=(0,))
    job_id = queues.enqueue("tests.flaky", n=21)
    assert queues.job_status(job_id).state == "queued"
    work_burst()
    assert tries == [21, 21, 21]
    assert queues.job_status(job_id).state == "finished"
    from rq.job import Job

    assert Job.fetch(job_id, connection=queues.job_queue().connection).return_value() == 42


def test_a_job_failing_every_try_ends_failed_with_its_error_and_its_kind_gives_up(redis_app, job_kinds):
    given_up = []
    job_kinds("tests.broken", lambda session: 1 / 0, retries=1, retry_waits=(0,),
              gave_up=lambda session: given_up.append(True))
    job_id = queues.enqueue("tests.broken")
    work_burst()
    status = queues.job_status(job_id)
    assert status.state == "failed" and "ZeroDivisionError" in status.error
    assert given_up == [True]


def test_unknown_job_id_has_no_status(redis_app):
    assert queues.job_status("no-such-job") is None


def test_worker_command_refuses_to_start_without_redis(app):
    result = app.test_cli_runner().invoke(args=["jobs", "worker", "--burst"])
    assert result.exit_code != 0 and "REDIS_URL is not configured" in result.output


def test_worker_command_runs_the_queue_in_burst_mode(redis_app, job_kinds):
    seen = []
    job_kinds("tests.record", lambda session, n: seen.append(n))
    job_id = queues.enqueue("tests.record", n=7)
    result = redis_app.test_cli_runner().invoke(args=["jobs", "worker", "--burst"])
    assert result.exit_code == 0, result.output
    assert seen == [7]
    status = redis_app.test_cli_runner().invoke(args=["jobs", "status", job_id])
    assert f"{job_id} tests.record: finished" in status.output
