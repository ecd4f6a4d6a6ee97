"""The demo data loads completely, meets PRODUCT.md's minimums, and loading it twice changes nothing."""
from datetime import timedelta

from sqlalchemy import func, select

from market.accounts.models import (
    Organisation,
    OrganisationKind,
    OrganisationVerification,
    Residency,
    Role,
    User,
    VerificationStatus,
)
from market.achievements.models import Achievement
from market.awards.book_checks import find_book_problems
from market.awards.models import Award, AwardStatus, HoldReason
from market.awards.services import awaits_verification, recipient_unverified
from market.confirmations.models import FactStatus
from market.deals.models import (
    Deal,
    DealBrokerRequest,
    DealPayment,
    DealRegistration,
    DealSigning,
    DealStage,
    DeclineReason,
    Introduction,
    IntroductionStatus,
    RegistrationStatus,
    TermsRole,
)
from market.deals.permissions import missing_terms_seats
from market.deals.terms import acceptances
from market.demands.models import Demand
from market.demo_deals import load_demo_deals
from market.extensions import db
from market.listings.models import ListingEvent, SearchTerm
from market.listings.queries import visible_to_public
from market.organisations.credit_code import credit_code_problem
from market.organisations.verification import list_verification_queue
from market.seeding import DEMO_ON_SHOW_AFTER_LOADING, demo_admin, load_demo_data, load_reference_data
from market.taxonomy.models import Field, Valley
from market.timeutil import CHINA_OFFSET, today_in_china, utcnow
from tests.conftest import PASSWORD


def _count(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def _fingerprint() -> dict:
    return {model.__tablename__: _count(model) for model in (Organisation, User, Achievement, Demand, ListingEvent,
                                                             SearchTerm, Field, Valley, Award)} | {
        "titles": sorted(db.session.scalars(select(Achievement.title))),
        "demand_budgets": sorted((d.source_key, d.budget_min_fen) for d in db.session.scalars(select(Demand))),
    }


def test_demo_data_meets_the_product_minimums_and_loading_twice_changes_nothing(app):
    counts = load_demo_data(db.session, "demo-password-1", password_profile="fast",
                            upload_folder=app.config["UPLOAD_FOLDER"])
    assert counts["achievements"] >= 200 and counts["demands"] >= 80
    assert counts["residencies"] >= 8 and counts["verifications"] >= 8
    resident = db.session.scalars(select(Organisation).where(Organisation.resident_since.is_not(None))).all()
    assert resident and all(org.is_resident_on(org.resident_since) for org in resident)
    assert _count(Organisation, Organisation.verification_status == VerificationStatus.VERIFIED) == counts["verifications"]
    assert _count(Organisation, Organisation.kind.in_([OrganisationKind.UNIVERSITY, OrganisationKind.INSTITUTE])) >= 10
    assert _count(Organisation, Organisation.kind == OrganisationKind.ENTERPRISE) >= 30
    assert _count(Organisation, Organisation.kind == OrganisationKind.AGENCY) >= 3
    assert _count(User, User.role == Role.BROKER) >= 3
    assert _count(Field) >= 60 and _count(Valley) == 11
    top_fields = db.session.scalars(select(Field.code).where(Field.parent_id.is_(None))).all()
    for code in top_fields:
        in_field = select(Field.id).where((Field.code == code) | Field.code.like(code + ".%"))
        assert _count(Achievement, Achievement.field_id.in_(in_field)) >= 10, code
        assert _count(Demand, Demand.field_id.in_(in_field)) >= 4, code
    assert _count(Achievement, Achievement.is_demo.is_(False)) == 0
    app.config["DEMO_MODE"] = True  # the demo admin approves and pays awards without a second factor only here
    assert load_demo_deals(db.session) >= 6
    assert db.session.scalar(select(func.count()).select_from(Award).where(Award.granted_fen > 0)) >= 4
    requests = db.session.execute(select(DealBrokerRequest.kind, DealBrokerRequest.status, Deal.broker_id)
                                  .join(Deal, Deal.id == DealBrokerRequest.deal_id).order_by(DealBrokerRequest.id)).all()
    assert sorted((kind, status, broker is not None) for kind, status, broker in requests) == [
        ("ask", "pending", False), ("invite", "accepted", True)]
    signings = db.session.execute(select(DealSigning.status, Deal.stage).join(Deal, Deal.id == DealSigning.deal_id)
                                  .order_by(DealSigning.id)).all()
    assert [(str(status), str(stage)) for status, stage in signings] == [
        ("confirmed", "performance"), ("recorded", "notice"), ("confirmed", "performance")], \
        "signings seed through the flow, one awaits its buyer"
    fees = sorted((deal.fee_rate_bp, deal.fee_paid_fen) for deal in db.session.scalars(
        select(Deal).where(Deal.broker_id.is_not(None))))
    paid_deal = db.session.scalar(select(Deal).where(Deal.fee_paid_fen.is_not(None)))
    assert fees == [(300, paid_deal.agreed_amount_fen * 300 // 10000), (500, None)], "one fee paid, one still due"
    before = _fingerprint()
    again = load_demo_data(db.session, "demo-password-1", password_profile="fast",
                           upload_folder=app.config["UPLOAD_FOLDER"])
    assert set(again.values()) == {0}
    assert load_demo_deals(db.session) == 0
    load_reference_data(db.session)
    assert _fingerprint() == before


def test_every_valley_has_at_most_three_key_fields(app):
    assert all(len(valley.key_fields) <= 3 for valley in db.session.scalars(select(Valley)))
    assert [f.name for f in db.session.get(Valley, "taiyuan").key_fields] == ["先进装备制造", "能源和新能源", "半导体和新材料"]
    assert [f.name for f in db.session.get(Valley, "jincheng").key_fields] == ["光机电", "数字经济", "文旅康养"]


def test_demo_users_cannot_log_in_outside_demo_mode(app, client, make_user):
    user = make_user("researcher", is_demo=True)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 200
    assert "邮箱或密码错误" in response.get_data(as_text=True)
    app.config["DEMO_MODE"] = True
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302


def test_the_demo_is_seeded_through_the_trust_flows(app):
    """Organisations verified by the demo admin (two left in the queue), residencies recorded by him, every deal
    past pricing on terms accepted by all its seats, each queue and each money state holding something, books clean."""
    counts = load_demo_data(db.session, "demo-password-1", password_profile="fast",
                            upload_folder=app.config["UPLOAD_FOLDER"])
    app.config["DEMO_MODE"] = True
    load_demo_deals(db.session)
    admin = demo_admin(db.session)

    verifications = db.session.scalars(select(OrganisationVerification)).all()
    assert all(credit_code_problem(v.credit_code) is None and v.submitted_by_id is not None for v in verifications)
    assert {v.decided_by_id for v in verifications if v.status == VerificationStatus.VERIFIED} == {admin.id}
    assert len(list_verification_queue(db.session)) == 2
    assert counts["verifications"] == len(verifications) - 2 >= 60
    parties = select(Deal.transferor_id).union(select(Deal.transferee_id))
    assert all(org.is_verified for org in db.session.scalars(select(Organisation).where(Organisation.id.in_(parties))))
    residencies = db.session.scalars(select(Residency)).all()
    assert residencies and {row.recorded_by_id for row in residencies} == {admin.id}
    assert all(row.organisation.valley_id == row.valley_id and row.organisation.resident_since == row.since
               for row in residencies if row.until is None)

    past_pricing = db.session.scalars(select(Deal).where(Deal.stage.in_(
        [DealStage.NOTICE, DealStage.SIGNED, DealStage.REGISTERED, DealStage.PERFORMANCE]))).all()
    assert len(past_pricing) == 3
    for deal in past_pricing:
        assert deal.mode and deal.agreed_amount_fen and deal.inventor_share_bp, deal.title
        assert not missing_terms_seats(deal) and all(consent for _seat, consent in acceptances(deal)), deal.title
        accepted_days = {(consent.at + CHINA_OFFSET).date() for _seat, consent in acceptances(deal)}
        assert max(accepted_days) < deal.notice_starts_on, "the terms were accepted before the notice, as dated"
    pricing = db.session.scalar(select(Deal).where(Deal.stage == DealStage.PRICING))
    assert [seat[0] for seat in missing_terms_seats(pricing)] == [TermsRole.TRANSFEREE], "terms await the buyer"
    assert {(r.status, r.decided_by_id) for r in db.session.scalars(select(DealRegistration))} == {
        (RegistrationStatus.VERIFIED, admin.id), (RegistrationStatus.AWAITING, None)}
    assert all(r.certificate_stored_name for r in db.session.scalars(select(DealRegistration)))
    payments = db.session.scalars(select(DealPayment)).all()
    assert payments and all(p.status == FactStatus.CONFIRMED and p.has_evidence for p in payments)

    introductions = db.session.scalars(select(Introduction)).all()
    assert sorted(str(i.status) for i in introductions) == ["accepted", "declined", "pending", "pending", "pending"]
    accepted = next(i for i in introductions if i.status == IntroductionStatus.ACCEPTED)
    assert accepted.deal.broker_id == accepted.broker_id and accepted.deal.stage == DealStage.PERFORMANCE
    declined = next(i for i in introductions if i.status == IntroductionStatus.DECLINED)
    assert (declined.decline_reason, declined.declined_side) == (DeclineReason.OTHER_PARTNER, "transferee")

    awards = db.session.scalars(select(Award).where(Award.granted_fen > 0)).all()
    assert {str(award.status) for award in awards} >= {"payable", "approved", "paid", "held", "reversed"}
    paid = next(award for award in awards if award.status == AwardStatus.PAID)
    assert paid.voucher_reference and paid.voucher_stored_name and paid.paid_on
    for award in awards:
        if award.hold_reason == HoldReason.AWAITING_VERIFICATION:
            assert awaits_verification(db.session, award) and not recipient_unverified(db.session, award), award.id
    assert find_book_problems(db.session) == []


def test_a_freshly_loaded_demo_shows_200_achievements_and_80_demands_now_and_a_year_on(app):
    load_demo_data(db.session, "demo-password-1", password_profile="fast")
    assert DEMO_ON_SHOW_AFTER_LOADING > timedelta(days=366)
    for moment in (utcnow(), utcnow() + timedelta(days=365)):
        assert _count(Achievement, visible_to_public(Achievement, moment)) >= 200, moment
        assert _count(Demand, visible_to_public(Demand, moment)) >= 80, moment
    on_offer = db.session.scalars(select(Demand).where(visible_to_public(Demand))).all()
    assert all(demand.is_public for demand in on_offer)
    assert sum(1 for demand in on_offer if demand.deadline and demand.deadline < today_in_china()) <= 2
