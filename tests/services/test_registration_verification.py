"""Technology-contract registrations verified by an admin; awards held "awaiting verification" while their earning
fact (the registration, the recipient organisation) is unverified; reversals give cap headroom back; residency judged
from its history on the signing date."""
import io
from datetime import date

import pytest
from sqlalchemy import func, select

from market.accounts.models import VerificationStatus
from market.awards import services as award_services
from market.awards.grants import record_startup_grant
from market.awards.ledger import balances
from market.awards.models import Award, AwardStatus, HoldReason, PolicyEvent, PolicyStateSnapshot
from market.deals.models import Deal, DealEvent, DealRegistration, DealStage, RegistrationStatus
from market.deals.pipeline import register_deal
from market.deals.registrations import (
    add_certificate,
    decide_registration,
    refuse_registration,
    verify_registration,
)
from market.errors import InvalidStateError, NotFoundError, PermissionDeniedError, RuleViolationError, ValidationError
from market.extensions import db
from market.notifications.models import Notification
from market.organisations import residency, verification
from market.policy.snapshot import state_from_data
from market.timeutil import today_in_china
from tests.payments import RECEIPT_PDF, certificate, member_of, record_and_confirm_deal_payment

WAN = 1_000_000
PAID_ON = date(2025, 4, 30)
CODE = "91140000110114391W"


def fresh(model, row_id):
    return db.session.get(model, row_id)


def registration_of(deal) -> DealRegistration:
    return fresh(Deal, deal.id).current_registration


def achievement_cap_used(achievement_id: int) -> int:
    """What the engine state counts against R2's ¥2M cap of an achievement."""
    state = state_from_data(db.session.get(PolicyStateSnapshot, 1).state)
    return sum(usage.granted_fen for key, usage in state.cap_usage.items()
               if key.rule == "R2" and key.subject == f"achievement-{achievement_id}")


def test_awards_wait_awaiting_verification_until_an_admin_verifies_the_registration(make_registered_deal, make_user):
    deal, researcher, brokers = make_registered_deal(registration_verified=False)
    assert registration_of(deal).status == RegistrationStatus.AWAITING and registration_of(deal).has_certificate
    _, awards = record_and_confirm_deal_payment(researcher, deal.id, amount_fen=600 * WAN, paid_on=PAID_ON)
    assert [(a.status, a.hold_reason) for a in awards] == [(AwardStatus.HELD, HoldReason.AWAITING_VERIFICATION)] * 3
    key = award_services.person_key(brokers[0].id)
    assert balances(db.session, f"held:{key}") == {f"held:{key}": 60 * WAN}
    admin = make_user("admin")
    with pytest.raises(RuleViolationError):
        award_services.approve_award(db.session, admin, awards[0].id)
    verify_registration(db.session, admin, registration_of(deal).id)
    assert [fresh(Award, a.id).status for a in awards] == [AwardStatus.PAYABLE] * 3
    assert all(fresh(Award, a.id).hold_reason is None for a in awards)
    assert balances(db.session, f"held:{key}") == {f"held:{key}": 0}
    assert balances(db.session, f"awarded:{key}") == {f"awarded:{key}": 60 * WAN}
    assert award_services.approve_award(db.session, admin, awards[0].id).status == AwardStatus.APPROVED


def test_a_refused_registration_reverses_its_awards_returns_their_headroom_and_a_second_deal_uses_it(
        make_registered_deal, make_user):
    deal, researcher, brokers = make_registered_deal(registration_verified=False)
    _, awards = record_and_confirm_deal_payment(researcher, deal.id, amount_fen=1000 * WAN, paid_on=PAID_ON)
    assert sum(a.granted_fen for a in awards) == 200 * WAN  # 20% of ¥10M: the whole ¥2M cap of the achievement
    assert achievement_cap_used(deal.achievement_id) == 200 * WAN
    admin = make_user("admin")
    with pytest.raises(ValidationError):
        refuse_registration(db.session, admin, registration_of(deal).id, reason=" ")
    refused = refuse_registration(db.session, admin, registration_of(deal).id, reason="登记证明上的合同金额与签约金额不符")
    assert [fresh(Award, a.id).status for a in awards] == [AwardStatus.REVERSED] * 3
    assert achievement_cap_used(deal.achievement_id) == 0
    deal = fresh(Deal, deal.id)
    assert (deal.stage, deal.registration_number, deal.current_registration) == (DealStage.SIGNED, None, None)
    assert refused.status == RegistrationStatus.REFUSED and [r.id for r in deal.registrations] == [refused.id]
    told = db.session.scalars(select(Notification.user_id).where(Notification.title.contains("技术合同登记被驳回"))).all()
    assert {b.id for b in brokers} | {researcher.id} <= set(told)

    second, _, _ = make_registered_deal(achievement=deal.achievement, brokers=brokers)
    _, earned = record_and_confirm_deal_payment(researcher, second.id, amount_fen=500 * WAN, paid_on=PAID_ON)
    assert sum(a.granted_fen for a in earned) == 100 * WAN and {a.status for a in earned} == {AwardStatus.PAYABLE}

    events = db.session.scalar(select(func.count()).select_from(PolicyEvent))
    register_deal(db.session, researcher, deal.id, registration_number="2025140100000777", registered_on=date(2025, 3, 12),
                  certificate=certificate("更正后的登记证明.pdf"))
    deal = fresh(Deal, deal.id)
    assert deal.stage == DealStage.REGISTERED and len(deal.registrations) == 2
    assert deal.current_registration.status == RegistrationStatus.AWAITING
    assert db.session.scalar(select(func.count()).select_from(PolicyEvent)) == events  # the engine knows the contract


def test_a_new_registration_needs_its_certificate_and_is_recorded_by_the_transferor_or_the_broker(make_deal, world):
    deal = make_deal(DealStage.SIGNED)
    with pytest.raises(ValidationError) as missing:
        register_deal(db.session, world.researcher, deal.id, registration_number="2025-0100",
                      registered_on=fresh(Deal, deal.id).signed_on)
    assert "certificate" in missing.value.fields
    with pytest.raises(ValidationError) as not_pdf:
        register_deal(db.session, world.researcher, deal.id, registration_number="2025-0100",
                      registered_on=fresh(Deal, deal.id).signed_on, certificate=certificate("证明.pdf", b"PK zip"))
    assert "certificate" in not_pdf.value.fields
    with pytest.raises(PermissionDeniedError):
        register_deal(db.session, world.admin, deal.id, registration_number="2025-0100",
                      registered_on=fresh(Deal, deal.id).signed_on, certificate=certificate())
    assert fresh(Deal, deal.id).stage == DealStage.SIGNED and not fresh(Deal, deal.id).registrations


@pytest.fixture
def world(deal_world):
    return deal_world


def test_a_beneficiary_or_a_non_admin_cannot_verify_a_registration(make_registered_deal, make_organisation, make_user):
    agency = make_organisation("agency", verification_status=VerificationStatus.VERIFIED)
    agency_admin = make_user("admin", organisation=agency)
    deal, researcher, brokers = make_registered_deal(registration_verified=False, agent=agency)
    _, awards = record_and_confirm_deal_payment(researcher, deal.id, amount_fen=600 * WAN, paid_on=PAID_ON)
    registration = registration_of(deal)
    with pytest.raises(PermissionDeniedError):
        verify_registration(db.session, agency_admin, registration.id)  # a member of the agent earns from the deal
    for person in (brokers[0], researcher):
        with pytest.raises((PermissionDeniedError, NotFoundError)):
            decide_registration(db.session, person, registration.id, "verify")
    with pytest.raises(NotFoundError):
        decide_registration(db.session, make_user("admin"), registration.id, "approve")
    assert {fresh(Award, a.id).status for a in awards} == {AwardStatus.HELD}
    assert registration_of(deal).status == RegistrationStatus.AWAITING
    admin = make_user("admin")
    verify_registration(db.session, admin, registration.id)
    with pytest.raises(InvalidStateError):
        verify_registration(db.session, make_user("admin"), registration.id)


def test_a_registration_is_refused_once_an_award_of_the_deal_was_paid(make_registered_deal, make_user):
    deal, researcher, _ = make_registered_deal()
    _, awards = record_and_confirm_deal_payment(researcher, deal.id, amount_fen=600 * WAN, paid_on=PAID_ON)
    admin = make_user("admin")
    award_services.approve_award(db.session, admin, awards[0].id)
    award_services.pay_award(db.session, admin, awards[0].id, voucher_reference="BOC-1", paid_on=today_in_china())
    registration = registration_of(deal)
    registration.status = RegistrationStatus.AWAITING  # as a migrated registration would be
    db.session.flush()
    with pytest.raises(RuleViolationError):
        refuse_registration(db.session, make_user("admin"), registration.id, reason="证明无效")


def submit(organisation, member, app):
    """A member submits the organisation's credit code and licence."""
    return verification.submit_verification(db.session, member, organisation.id, credit_code=CODE,
                                            filename="营业执照.pdf", stream=io.BytesIO(RECEIPT_PDF),
                                            upload_folder=app.config["UPLOAD_FOLDER"])


def test_an_unverified_agent_holds_its_award_until_both_it_and_the_registration_are_verified(
        app, make_registered_deal, make_organisation, make_user, tmp_path):
    agency = make_organisation("agency")
    member = make_user("broker", organisation=agency)
    buyer = make_organisation("enterprise", region="阳泉市", valley_id="yangquan", resident_since=date(2024, 5, 1))
    deal, researcher, _ = make_registered_deal(transferee=buyer, reward_rate_bp=0, shares=(), agent=agency,
                                               registration_verified=False)
    _, held = record_and_confirm_deal_payment(researcher, deal.id, amount_fen=600 * WAN, paid_on=date(2025, 4, 1))
    assert [(a.status, a.hold_reason) for a in held] == [(AwardStatus.HELD, HoldReason.AWAITING_VERIFICATION)]
    admin = make_user("admin")
    submission = submit(agency, member, app)
    verification.verify_organisation(db.session, admin, submission.id)
    assert fresh(Award, held[0].id).hold_reason == HoldReason.AWAITING_VERIFICATION  # the registration still waits
    verify_registration(db.session, admin, registration_of(deal).id)
    # R3 is a draft rule in 2025: once verified, the award waits for a confirming rule version instead
    assert (fresh(Award, held[0].id).status, fresh(Award, held[0].id).hold_reason) == (AwardStatus.HELD,
                                                                                       HoldReason.DRAFT_RULE)


def test_an_unverified_startup_is_granted_held_and_a_refusal_returns_the_one_time_grant(app, make_organisation,
                                                                                       make_user):
    admin = make_user("admin")
    startup = make_organisation("enterprise", valley_id="taiyuan", resident_since=date(2024, 3, 1))
    member = make_user("enterprise", organisation=startup)
    _, first = record_startup_grant(db.session, admin, startup.id, granted_on=date(2024, 6, 1),
                                    founders_paid_in_fen=80 * WAN, awarded_fen=100 * WAN)
    assert [(a.status, a.hold_reason) for a in first] == [(AwardStatus.HELD, HoldReason.AWAITING_VERIFICATION)]
    submission = submit(startup, member, app)
    verification.refuse_verification(db.session, admin, submission.id, reason="营业执照与机构名称不符")
    assert fresh(Award, first[0].id).status == AwardStatus.REVERSED
    _, again = record_startup_grant(db.session, admin, startup.id, granted_on=date(2024, 9, 1),
                                    founders_paid_in_fen=80 * WAN, awarded_fen=100 * WAN)
    assert again[0].granted_fen == first[0].granted_fen > 0  # the one-time grant was given back
    submission = submit(startup, member, app)
    verification.verify_organisation(db.session, admin, submission.id)
    assert (fresh(Award, again[0].id).status, fresh(Award, again[0].id).hold_reason) == (AwardStatus.PAYABLE, None)


def test_an_admin_reversal_gives_the_headroom_back(make_registered_deal, make_user):
    deal, researcher, _ = make_registered_deal()
    _, awards = record_and_confirm_deal_payment(researcher, deal.id, amount_fen=1000 * WAN, paid_on=PAID_ON)
    assert achievement_cap_used(deal.achievement_id) == 200 * WAN
    admin = make_user("admin")
    award_services.reverse_award(db.session, admin, awards[0].id, "金额有误")
    assert achievement_cap_used(deal.achievement_id) == 200 * WAN - awards[0].granted_fen
    _, more = record_and_confirm_deal_payment(researcher, deal.id, amount_fen=100 * WAN, paid_on=PAID_ON)
    assert sum(a.granted_fen for a in more) == 20 * WAN


def test_the_book_check_finds_cap_usage_the_awards_do_not_account_for(make_registered_deal, expect_book_problems):
    deal, researcher, _ = make_registered_deal()
    record_and_confirm_deal_payment(researcher, deal.id, amount_fen=600 * WAN, paid_on=PAID_ON)
    snapshot = db.session.get(PolicyStateSnapshot, 1)
    data = dict(snapshot.state)
    data["cap_usage"] = [dict(row, granted_fen=row["granted_fen"] + 1) if row["rule"] == "R2" else row
                         for row in data["cap_usage"]]
    snapshot.state = data
    db.session.commit()
    expect_book_problems("the engine state says rule R2 cap achievement")


@pytest.mark.parametrize("until, earns", [(date(2024, 6, 30), False), (date(2025, 1, 31), True)])
def test_residency_is_judged_from_its_history_on_the_signing_date(make_agreement, make_organisation, make_user, until,
                                                                  earns):
    admin = make_user("admin")
    seller_org = make_organisation("enterprise", verification_status=VerificationStatus.VERIFIED)
    residency.record_residency(db.session, admin, seller_org.id, valley="taiyuan", since=date(2024, 3, 1))
    residency.end_residency(db.session, admin, seller_org.id, until=until)
    assert seller_org.valley_id is None  # the current columns say nothing any more
    seller = make_user("enterprise", organisation=seller_org)
    agreement = make_agreement(seller=seller, signed_on=date(2024, 10, 15), value_fen=1000 * WAN,
                               deliveries=[(1000 * WAN, date(2025, 1, 10))], payments=[(500 * WAN, date(2025, 3, 1))])
    granted = sum(db.session.scalars(select(Award.granted_fen).where(Award.agreement_id == agreement.id)))
    assert (granted > 0) is earns


def test_the_engine_organisation_is_the_residency_that_covered_the_day(make_organisation, make_user):
    admin = make_user("admin")
    organisation = make_organisation("enterprise")
    residency.record_residency(db.session, admin, organisation.id, valley="taiyuan", since=date(2024, 3, 1))
    residency.record_residency(db.session, admin, organisation.id, valley="yangquan", since=date(2025, 2, 1))
    seen = {day: award_services.engine_organisation(organisation, day)
            for day in (date(2024, 2, 1), date(2024, 12, 1), date(2025, 6, 1))}
    assert [(o.valley, o.resident_since) for o in seen.values()] == [
        (None, None), ("taiyuan", date(2024, 3, 1)), ("yangquan", date(2025, 2, 1))]


def test_a_migrated_registration_blocks_approval_until_an_admin_verifies_it(make_registered_deal, make_user):
    deal, researcher, _ = make_registered_deal()
    _, awards = record_and_confirm_deal_payment(researcher, deal.id, amount_fen=600 * WAN, paid_on=PAID_ON)
    registration = registration_of(deal)
    registration.status, registration.recorded_by_id, registration.recorded_as = RegistrationStatus.AWAITING, None, None
    registration.certificate_stored_name = None  # as the migration leaves a registration recorded before
    db.session.flush()
    admin = make_user("admin")
    with pytest.raises(RuleViolationError) as refused:
        award_services.approve_award(db.session, admin, awards[0].id)
    assert refused.value.message == "该项目的技术合同登记尚未核验。"
    with pytest.raises(InvalidStateError) as no_certificate:
        verify_registration(db.session, admin, registration.id)
    assert no_certificate.value.message == "该技术合同登记还没有登记证明，须由成果转让方或项目经纪人补充上传后才能核验。"
    assert registration_of(deal).status == RegistrationStatus.AWAITING
    add_certificate(db.session, researcher, registration.id, certificate("补充的登记证明.pdf"))
    verify_registration(db.session, admin, registration.id)
    assert award_services.approve_award(db.session, admin, awards[0].id).status == AwardStatus.APPROVED


def migrated(make_registered_deal, **kwargs):
    """A registration as the migration left one recorded before certificates were asked for: awaiting, without a
    recorder or a certificate. Returns (deal, researcher, brokers, registration)."""
    deal, researcher, brokers = make_registered_deal(registration_verified=False, **kwargs)
    registration = registration_of(deal)
    registration.recorded_by_id = registration.recorded_as = registration.certificate_stored_name = None
    registration.certificate_original_name, registration.certificate_size_bytes = "", None
    db.session.flush()
    return deal, researcher, brokers, registration


def test_the_transferor_or_the_broker_adds_the_certificate_a_migrated_registration_lacks(
        make_registered_deal, make_user, deal_world):
    broker = make_user("broker")
    deal, researcher, brokers, registration = migrated(make_registered_deal, broker=broker)
    buyer = member_of(deal.transferee_id)
    for person, error in ((buyer, PermissionDeniedError), (brokers[0], NotFoundError),
                          (deal_world.admin, PermissionDeniedError), (deal_world.outsider, NotFoundError)):
        with pytest.raises(error):
            add_certificate(db.session, person, registration.id, certificate())
    with pytest.raises(ValidationError) as missing:
        add_certificate(db.session, broker, registration.id, certificate(filename=None, data=b""))
    assert missing.value.fields == {"certificate": "请上传技术合同登记证明（PDF）。"}
    with pytest.raises(ValidationError) as not_pdf:
        add_certificate(db.session, broker, registration.id, certificate("证明.docx", b"PK zip"))
    assert "certificate" in not_pdf.value.fields
    assert not registration_of(deal).has_certificate
    add_certificate(db.session, broker, registration.id, certificate("补充证明.pdf"))
    stored = registration_of(deal)
    assert (stored.certificate_original_name, stored.certificate_size_bytes, stored.status) == (
        "补充证明.pdf", len(RECEIPT_PDF), RegistrationStatus.AWAITING)
    step = db.session.scalars(select(DealEvent).where(DealEvent.deal_id == deal.id).order_by(DealEvent.id.desc())).first()
    assert (step.action, step.actor_id) == ("registration_certificate", broker.id)
    assert db.session.scalar(select(Notification.id).where(Notification.user_id == researcher.id,
                                                           Notification.kind == "deal_registration_certificate"))
    with pytest.raises(InvalidStateError) as twice:
        add_certificate(db.session, researcher, registration.id, certificate())
    assert twice.value.message == "该技术合同登记已有登记证明。"


def test_a_certificate_is_added_only_while_the_registration_awaits_and_within_the_size_limit(
        make_registered_deal, deal_world, monkeypatch):
    deal, researcher, _, registration = migrated(make_registered_deal)
    monkeypatch.setattr("market.deals.registrations.EVIDENCE_PDF_MAX_BYTES", len(RECEIPT_PDF) - 1)
    with pytest.raises(ValidationError) as too_big:
        add_certificate(db.session, researcher, registration.id, certificate())
    assert "certificate" in too_big.value.fields and not registration_of(deal).has_certificate
    monkeypatch.undo()
    refuse_registration(db.session, deal_world.admin, registration.id, reason="无存档材料")
    with pytest.raises(InvalidStateError):
        add_certificate(db.session, researcher, registration.id, certificate())
