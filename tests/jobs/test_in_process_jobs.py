"""Jobs without Redis (demo mode, tests): run in-process once the caller's unit of work commits, each in its own unit
of work, retried, and given up on with the kind's last word."""
import pytest
from sqlalchemy import func, select

from market.accounts.models import Organisation, OutboxMail
from market.accounts.services import queue_mail
from market.extensions import db
from market.jobs import queues
from market.jobs.running import PartialJobError
from market.notifications.services import notify


def organisation_names() -> list[str]:
    return list(db.session.scalars(select(Organisation.name).order_by(Organisation.id)))


def test_a_job_asked_for_in_a_transaction_runs_after_the_commit_in_its_own_unit_of_work(app, job_kinds,
                                                                                       make_organisation):
    seen = []

    def rename(session, organisation_id, name):
        seen.append(session.get(Organisation, organisation_id).name)
        session.get(Organisation, organisation_id).name = name

    job_kinds("tests.rename", rename)
    organisation = make_organisation(name="旧名称")
    db.session.commit()
    queues.enqueue_after_commit(db.session, "tests.rename", organisation_id=organisation.id, name="新名称")
    organisation.name = "提交的名称"
    db.session.flush()
    assert seen == []
    db.session.commit()
    assert seen == ["提交的名称"]
    db.session.expire_all()
    assert organisation_names() == ["新名称"]


def test_a_job_asked_for_in_a_transaction_that_rolls_back_never_runs(app, job_kinds):
    seen = []
    job_kinds("tests.record", lambda session, **kwargs: seen.append(kwargs))
    queues.enqueue_after_commit(db.session, "tests.record", n=1)
    db.session.rollback()
    db.session.commit()
    assert seen == []


def test_a_job_asked_for_twice_in_one_transaction_runs_once(app, job_kinds):
    seen = []
    job_kinds("tests.record", lambda session, **kwargs: seen.append(kwargs))
    first = queues.enqueue_after_commit(db.session, "tests.record", n=1)
    assert queues.enqueue_after_commit(db.session, "tests.record", n=1) == first
    queues.enqueue_after_commit(db.session, "tests.record", n=2)
    db.session.commit()
    assert seen == [{"n": 1}, {"n": 2}]
    assert queues.job_status(first).state == "finished"


def test_a_failing_job_is_retried_and_each_failed_try_leaves_nothing(app, job_kinds, make_organisation):
    organisation = make_organisation(name="原名")
    db.session.commit()
    tries = []

    def flaky(session, organisation_id):
        tries.append(len(tries) + 1)
        session.get(Organisation, organisation_id).name = f"第 {len(tries)} 次"
        session.flush()
        if len(tries) < 3:
            raise RuntimeError("temporary failure")

    job_kinds("tests.flaky", flaky, retries=3, retry_waits=(0,))
    job_id = queues.enqueue("tests.flaky", organisation_id=organisation.id)
    assert tries == [1, 2, 3]
    assert queues.job_status(job_id).state == "finished"
    db.session.expire_all()
    assert organisation_names() == ["第 3 次"]


def test_a_job_failing_every_try_is_given_up_and_its_kind_says_so(app, job_kinds, make_organisation):
    organisation = make_organisation(name="原名")
    db.session.commit()
    tries = []

    def broken(session, organisation_id):
        tries.append(1)
        session.get(Organisation, organisation_id).name = "不应保留"
        raise RuntimeError("always fails")

    def gave_up(session, organisation_id):
        session.get(Organisation, organisation_id).name = "已放弃"

    job_kinds("tests.broken", broken, retries=2, retry_waits=(0,), gave_up=gave_up)
    job_id = queues.enqueue("tests.broken", organisation_id=organisation.id)
    status = queues.job_status(job_id)
    assert len(tries) == 3 and (status.state, status.is_over) == ("failed", True) and "always fails" in status.error
    db.session.expire_all()
    assert organisation_names() == ["已放弃"]


def test_a_partial_job_keeps_what_it_did_and_is_retried_for_the_rest(app, job_kinds, make_organisation):
    organisation = make_organisation(name="零")
    db.session.commit()
    names = iter(["一", "二"])

    def step(session, organisation_id):
        session.get(Organisation, organisation_id).name += next(names)
        if organisation_names()[0] == "零一":
            raise PartialJobError("one step done")

    job_kinds("tests.steps", step, retries=1, retry_waits=(0,))
    queues.enqueue("tests.steps", organisation_id=organisation.id)
    db.session.expire_all()
    assert organisation_names() == ["零一二"]


def test_unknown_job_kind_is_refused_when_asked_for():
    with pytest.raises(KeyError, match="no job kind called 'tests.none'"):
        queues.find_kind("tests.none")


# ---------------------------------------------------------------------------------------------- the outbox
@pytest.mark.parametrize("app", [{"MAIL_SERVER": "smtp.test"}], indirect=True)
def test_mail_queued_by_a_committed_notification_is_sent_by_the_outbox_job(app, smtp, make_user):
    user = make_user("researcher")
    db.session.commit()
    notify(db.session, user.id, "membership_approved", "您的账户已审核通过", body="欢迎")
    notify(db.session, user.id, "membership_approved", "第二封", body="欢迎")
    db.session.flush()
    assert smtp.sent == [], "nothing leaves before the commit"
    db.session.commit()
    assert [message["Subject"] for message in smtp.sent] == ["您的账户已审核通过", "第二封"]
    assert db.session.scalar(select(func.count()).select_from(OutboxMail).where(OutboxMail.sent_at.is_(None))) == 0


@pytest.mark.parametrize("app", [{"MAIL_SERVER": "smtp.test"}], indirect=True)
def test_outbox_job_keeps_the_mails_it_sent_before_a_failure_and_sends_the_rest_on_retry(app, smtp):
    smtp.fail_after = 1
    for n in range(3):
        queue_mail(db.session, f"user{n}@example.org", f"邮件 {n}", "正文")
    sends = []
    original = smtp.send_message

    def send_and_recover(self, message):
        sends.append(message["Subject"])
        if len(sends) == 2:
            smtp.fail_after = None
            raise OSError("connection reset")
        original(self, message)

    smtp.send_message = send_and_recover
    db.session.commit()
    assert sends == ["邮件 0", "邮件 1", "邮件 1", "邮件 2"]
    assert [message["Subject"] for message in smtp.sent] == ["邮件 0", "邮件 1", "邮件 2"]
    sent_at = db.session.scalars(select(OutboxMail.sent_at).order_by(OutboxMail.id)).all()
    assert all(sent_at)


def test_without_a_mail_server_mail_stays_in_the_outbox_and_no_job_is_asked_for(app, smtp, job_kinds):
    queue_mail(db.session, "user@example.org", "主题", "正文")
    assert not db.session.info.get("jobs_pending")
    db.session.commit()
    assert smtp.sent == []
    assert db.session.scalar(select(OutboxMail.sent_at)) is None


@pytest.mark.parametrize("app", [{"MAIL_SERVER": "smtp.test"}], indirect=True)
def test_send_mail_command_still_sends_what_is_left(app, smtp, monkeypatch):
    from market.jobs.queues import ImmediateQueue

    monkeypatch.setattr(ImmediateQueue, "enqueue", lambda self, name, kwargs, job_id: job_id)
    queue_mail(db.session, "user@example.org", "主题", "正文")
    db.session.commit()
    assert smtp.sent == []
    result = app.test_cli_runner().invoke(args=["send-mail"])
    assert result.exit_code == 0 and "sent: 1" in result.output
    assert [message["To"] for message in smtp.sent] == ["user@example.org"]
