"""Fixtures of the job tests: job kinds a test registers for itself, a fake SMTP server, a real Redis queue."""
import os
import uuid
from typing import ClassVar

import pytest

from market.jobs import registry


@pytest.fixture
def job_kinds():
    """Register job kinds for one test: `job_kinds(name, run, **options)`; they are forgotten afterwards."""
    names = []

    def register(name: str, run, **options):
        names.append(name)
        registry.job_kind(name, **options)(run)

    yield register
    for name in names:
        registry.forget_kind(name)


class FakeSmtp:
    """Stands in for smtplib.SMTP: remembers the messages sent; `fail_after` makes the next sends fail."""

    sent: ClassVar[list] = []
    fail_after: int | None = None

    def __init__(self, host, port, timeout=None):
        self.host = host

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def starttls(self):
        pass

    def login(self, user, password):
        pass

    def send_message(self, message):
        if FakeSmtp.fail_after is not None and len(FakeSmtp.sent) >= FakeSmtp.fail_after:
            raise OSError("connection reset by the mail server")
        FakeSmtp.sent.append(message)


@pytest.fixture
def smtp(monkeypatch):
    """A fake SMTP server; the app's MAIL_SERVER points at it."""
    import smtplib

    FakeSmtp.sent, FakeSmtp.fail_after = [], None
    monkeypatch.setattr(smtplib, "SMTP", FakeSmtp)
    return FakeSmtp


REDIS_TEST_URL = os.environ.get("MARKET_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_or_skip():
    """A connection to the test Redis; skipped when it is unreachable, except in CI, where the test must run."""
    import redis

    connection = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=2)
    try:
        connection.ping()
    except redis.ConnectionError:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no Redis at {REDIS_TEST_URL}")
    return connection


@pytest.fixture
def redis_queue_name():
    """A queue name of this test alone; every key it left in Redis (queue, registries, jobs) is deleted afterwards."""
    connection = redis_or_skip()
    name = f"market-test-{uuid.uuid4().hex[:12]}"
    yield name
    from rq import Queue

    queue = Queue(name, connection=connection)
    job_ids = set(queue.job_ids)
    for registry_ in (queue.started_job_registry, queue.finished_job_registry, queue.failed_job_registry,
                      queue.scheduled_job_registry, queue.deferred_job_registry):
        job_ids |= set(registry_.get_job_ids())
    queue.delete(delete_jobs=True)
    for job_id in job_ids:
        for key in connection.scan_iter(f"rq:*{job_id}*"):
            connection.delete(key)
    for key in connection.scan_iter(f"rq:*{name}*"):
        connection.delete(key)
    connection.close()
