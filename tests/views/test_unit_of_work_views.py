"""The unit of work around views and commands: one commit on success, nothing kept after an exception, and a
refused operation's partial writes never committed (the view ran it in a savepoint)."""
from datetime import date, timedelta

import click
import pytest
from sqlalchemy import func, select

from market.achievements.models import Achievement
from market.awards.models import Award, AwardStatus, PolicyEvent, StartupGrant
from market.extensions import db
from market.listings.vocabulary import ListingStatus
from market.notifications.models import Notification
from market.notifications.services import notify
from market.timeutil import utcnow
from market.unit_of_work import install_unit_of_work, savepoint

WAN = 1_000_000


def committed(model, *conditions) -> int:
    """Rows another connection sees: only what was committed counts."""
    with db.engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(model).where(*conditions))


def add_route(app, rule: str, view) -> None:
    """A route added after the factory ran, wrapped like every other view."""
    app.add_url_rule(rule, view.__name__, view, methods=["POST"])
    install_unit_of_work(app)


def test_a_view_that_raises_after_a_service_flushed_leaves_nothing_behind(app, client, make_user):
    user = make_user("researcher")

    def notify_then_fail():
        notify(db.session, user.id, "test", "写入后出错")
        assert db.session.scalar(select(func.count()).select_from(Notification)) == 1
        raise RuntimeError("after the service flushed")

    add_route(app, "/_test/notify-then-fail", notify_then_fail)
    response = client.post("/_test/notify-then-fail")
    assert response.status_code == 500
    assert committed(Notification) == 0
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0


def test_a_view_that_returns_commits_its_services_writes_once(app, client, make_user):
    user = make_user("researcher")

    def notify_twice():
        notify(db.session, user.id, "test", "第一条")
        notify(db.session, user.id, "test", "第二条")
        return "", 204

    add_route(app, "/_test/notify-twice", notify_twice)
    assert client.post("/_test/notify-twice").status_code == 204
    assert committed(Notification, Notification.user_id == user.id) == 2


def test_a_refusal_shown_by_the_view_keeps_the_rest_and_drops_the_refused_writes(app, client, make_user):
    user = make_user("researcher")

    def refused_in_savepoint():
        notify(db.session, user.id, "test", "保留")
        try:
            with savepoint():
                notify(db.session, user.id, "test", "被拒绝的操作写入")
                db.session.flush()
                raise ValueError("refused")
        except ValueError:
            return "refused", 200

    add_route(app, "/_test/refused", refused_in_savepoint)
    assert client.post("/_test/refused").status_code == 200
    assert [n.title for n in db.session.scalars(select(Notification).where(Notification.user_id == user.id))] == ["保留"]
    assert committed(Notification) == 1


@pytest.fixture
def startup(make_organisation):
    return make_organisation("enterprise", name="晋城明镜光学", valley_id="jincheng", resident_since=date(2024, 1, 5))


def test_a_refused_grant_answers_422_and_commits_none_of_its_partial_writes(client, login_as, startup):
    login_as("admin")
    events_before = committed(PolicyEvent)
    response = client.post("/money/grants/new", data={"organisation_id": startup.id, "granted_on": "2023-12-01",
                                                      "founders_paid_in_fen": "80", "awarded_fen": "100"})
    assert response.status_code == 422
    assert "须已入驻谷区" in response.get_data(as_text=True)
    assert (committed(PolicyEvent), committed(StartupGrant), committed(Award)) == (events_before, 0, 0)
    assert db.session.scalar(select(func.count()).select_from(PolicyEvent)) == events_before


def test_bulk_approval_keeps_the_approved_awards_when_another_is_refused(client, login_as, make_registered_deal):

    admin = login_as("admin")
    awards = _payable_awards(make_registered_deal)
    payable = [award.id for award in awards if award.status == AwardStatus.PAYABLE]
    response = client.post("/money/awards/approve", data={"award_ids": payable + [payable[0], 999_999],
                                                          "next": "/money/awards"})
    assert response.status_code == 302
    assert committed(Award, Award.id.in_(payable), Award.status == AwardStatus.APPROVED) == len(payable)
    assert admin.is_admin


def _payable_awards(make_registered_deal) -> list[Award]:
    """A registered deal with two intermediaries and one proceeds payment: its payable and held awards (committed)."""
    from tests.payments import record_and_confirm_deal_payment

    deal, researcher, _ = make_registered_deal(shares=(5000, 5000))
    _, awards = record_and_confirm_deal_payment(researcher, deal.id, amount_fen=600 * WAN, paid_on=date(2025, 4, 30))
    db.session.commit()
    assert any(award.status == AwardStatus.PAYABLE for award in awards)
    return awards


def test_a_command_commits_its_writes(app, runner, make_achievement):
    achievement = make_achievement()
    achievement.expires_at = utcnow() - timedelta(days=1)
    db.session.commit()
    result = runner.invoke(args=["expire-listings"])
    assert result.exit_code == 0, result.output
    assert "expired: 1" in result.output
    assert committed(Achievement, Achievement.id == achievement.id, Achievement.status == ListingStatus.EXPIRED) == 1


def test_a_command_that_fails_after_writing_keeps_nothing(app, runner, make_user):
    user = make_user("researcher")

    @app.cli.command("notify-then-fail")
    def notify_then_fail():
        notify(db.session, user.id, "test", "命令写入后出错")
        db.session.flush()
        raise click.ClickException("stopped")

    install_unit_of_work(app)
    result = runner.invoke(args=["notify-then-fail"])
    assert result.exit_code == 1 and "stopped" in result.output
    assert committed(Notification) == 0
