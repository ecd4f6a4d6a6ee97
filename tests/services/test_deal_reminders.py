"""Signings waiting for the transferee's confirmation and registrations waiting for an admin's verification are
reminded of after three days, once a day, by the same daily command as payments; the reminders are mailed."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from market.accounts.models import OutboxMail
from market.confirmations.reminders import REMINDER_AFTER_DAYS, start_of_china_day
from market.deals.models import Deal, DealStage, RegistrationStatus
from market.deals.recording import today
from market.deals.registrations import REMINDER_KIND as REGISTRATION_REMINDER
from market.deals.registrations import remind_registration_verifications, verify_registration
from market.deals.signing import REMINDER_KIND as SIGNING_REMINDER
from market.deals.signing import (
    confirm_signing,
    dispute_signing,
    record_signing,
    remind_signing_confirmations,
    withdraw_signing,
)
from market.extensions import db
from market.notifications.categories import MailCategory, mail_category
from market.notifications.models import Notification
from market.timeutil import utcnow


def reminders(user, kind: str) -> int:
    return len(db.session.scalars(select(Notification).where(Notification.user_id == user.id,
                                                             Notification.kind == kind)).all())


def recorded_signing(world, make_deal):
    deal = make_deal(DealStage.NOTICE)
    return record_signing(db.session, world.researcher, deal.id, signed_on=today(),
                          agreed_amount_fen=db.session.get(Deal, deal.id).agreed_amount_fen)


def age(record, days: float, now, column: str = "created_at") -> None:
    setattr(record, column, now - timedelta(days=days))
    db.session.flush()


@pytest.fixture
def now():
    return start_of_china_day(utcnow()) + timedelta(hours=10)  # mid-morning in China: five minutes on is the same day


def test_both_reminders_ask_their_reader_to_act_are_mailed_and_fit_their_column():
    assert mail_category(SIGNING_REMINDER) == mail_category(REGISTRATION_REMINDER) == MailCategory.ACTION
    width = Notification.__table__.c.kind.type.length
    assert len(SIGNING_REMINDER) <= width and len(REGISTRATION_REMINDER) <= width


def test_the_transferee_is_reminded_of_a_signing_waiting_three_days_once_a_day(deal_world, make_deal, now):
    signing = recorded_signing(deal_world, make_deal)
    age(signing, REMINDER_AFTER_DAYS - 0.1, now)
    assert remind_signing_confirmations(db.session, now) == 0 and reminders(deal_world.buyer, SIGNING_REMINDER) == 0
    age(signing, REMINDER_AFTER_DAYS, now)
    mails_before = len(db.session.scalars(select(OutboxMail).where(OutboxMail.recipient == deal_world.buyer.email)).all())
    assert remind_signing_confirmations(db.session, now) == 1
    assert reminders(deal_world.buyer, SIGNING_REMINDER) == 1
    assert len(db.session.scalars(select(OutboxMail).where(OutboxMail.recipient == deal_world.buyer.email)).all()) \
        == mails_before + 1
    assert reminders(deal_world.researcher, SIGNING_REMINDER) == reminders(deal_world.broker, SIGNING_REMINDER) == 0
    [notice] = db.session.scalars(select(Notification).where(Notification.kind == SIGNING_REMINDER)).all()
    assert notice.link.endswith(f"#signing-{signing.id}") and f"{REMINDER_AFTER_DAYS} 天" in notice.title
    assert remind_signing_confirmations(db.session, now + timedelta(minutes=5)) == 0
    assert remind_signing_confirmations(db.session, now + timedelta(days=1)) == 1
    assert reminders(deal_world.buyer, SIGNING_REMINDER) == 2


@pytest.mark.parametrize("decision", ["confirm", "dispute", "withdraw"])
def test_a_decided_or_disputed_signing_is_not_reminded_of(deal_world, make_deal, now, decision):
    signing = recorded_signing(deal_world, make_deal)
    if decision == "confirm":
        confirm_signing(db.session, deal_world.buyer, signing.id)
    elif decision == "dispute":
        dispute_signing(db.session, deal_world.buyer, signing.id, reason="合同尚未盖章")
    else:
        withdraw_signing(db.session, deal_world.researcher, signing.id)
    age(signing, 10, now)
    assert remind_signing_confirmations(db.session, now) == 0 and reminders(deal_world.buyer, SIGNING_REMINDER) == 0


def awaiting_registration(make_registered_deal):
    deal, _, brokers = make_registered_deal(registration_verified=False)
    return db.session.get(Deal, deal.id).current_registration, brokers


def test_admins_who_may_verify_are_reminded_of_a_registration_waiting_three_days(make_registered_deal, make_user,
                                                                                 now):
    registration, brokers = awaiting_registration(make_registered_deal)
    admin, broker = make_user("admin"), brokers[0]
    age(registration, REMINDER_AFTER_DAYS - 0.1, now, "recorded_at")
    assert remind_registration_verifications(db.session, now) == 0
    age(registration, REMINDER_AFTER_DAYS, now, "recorded_at")
    assert remind_registration_verifications(db.session, now) == 1
    assert reminders(admin, REGISTRATION_REMINDER) == 1 and reminders(broker, REGISTRATION_REMINDER) == 0
    recorder = db.session.get(type(admin), registration.recorded_by_id)
    assert reminders(recorder, REGISTRATION_REMINDER) == 0
    assert remind_registration_verifications(db.session, now + timedelta(minutes=5)) == 0
    assert remind_registration_verifications(db.session, now + timedelta(days=1)) == 1
    assert reminders(admin, REGISTRATION_REMINDER) == 2
    verify_registration(db.session, admin, registration.id)
    assert remind_registration_verifications(db.session, now + timedelta(days=2)) == 0


def test_an_admin_who_earns_from_the_deal_is_not_reminded(make_registered_deal, make_organisation, make_user, now):
    agency = make_organisation("agency")
    agency_admin, admin = make_user("admin", organisation=agency), make_user("admin")
    deal, _, _ = make_registered_deal(registration_verified=False, agent=agency)
    registration = db.session.get(Deal, deal.id).current_registration
    age(registration, 5, now, "recorded_at")
    assert remind_registration_verifications(db.session, now) == 1
    assert reminders(agency_admin, REGISTRATION_REMINDER) == 0 and reminders(admin, REGISTRATION_REMINDER) == 1


def test_a_registration_without_its_certificate_is_not_reminded_of(make_registered_deal, make_user, now):
    registration, _ = awaiting_registration(make_registered_deal)
    registration.certificate_stored_name, registration.recorded_by_id, registration.recorded_as = None, None, None
    age(registration, 10, now, "recorded_at")
    admin = make_user("admin")
    assert remind_registration_verifications(db.session, now) == 0 and reminders(admin, REGISTRATION_REMINDER) == 0
    registration.status = RegistrationStatus.VERIFIED
    db.session.flush()
    assert remind_registration_verifications(db.session, now) == 0


def test_the_daily_command_reminds_signings_and_registrations_too(app, deal_world, make_deal, make_registered_deal):
    age(recorded_signing(deal_world, make_deal), REMINDER_AFTER_DAYS, utcnow())
    registration, _ = awaiting_registration(make_registered_deal)
    age(registration, REMINDER_AFTER_DAYS, utcnow(), "recorded_at")
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["remind-confirmations"])
    assert result.exit_code == 0, result.output
    assert "deal signings 1, registrations 1" in result.output
    again = app.test_cli_runner().invoke(args=["remind-confirmations"])
    assert "deal signings 0, registrations 0" in again.output
