"""Bids with counter-offers, responses to demands and the deal pipeline: who may do each step, and what it records."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from market.achievements.models import Achievement
from market.awards.models import PolicyEvent
from market.deals import board as deal_board
from market.deals.bids import accept_bid, counter_bid, decline_bid, get_bid, place_bid, withdraw_bid
from market.deals.board import BoardFilters
from market.deals.intermediaries import record_intermediary_exception, set_intermediaries
from market.deals.models import (
    Bid,
    BidSide,
    BidStatus,
    Deal,
    DealEvent,
    DealIntermediary,
    DealStage,
    DemandResponse,
    ResponseStatus,
)
from market.deals.pipeline import (
    accept_terms,
    advance_deal,
    complete_deal,
    confirm_payment,
    get_deal,
    get_public_notice,
    record_payment,
    register_deal,
    start_notice,
    terminate_deal,
    update_terms,
)
from market.deals.recording import today
from market.deals.registrations import verify_registration
from market.deals.responses import accept_response, decline_response, respond_to_demand
from market.deals.signing import confirm_signing, record_signing
from market.errors import (
    InvalidStateError,
    NotFoundError,
    PermissionDeniedError,
    RuleViolationError,
    ValidationError,
)
from market.extensions import db
from market.listings.vocabulary import ListingStatus
from market.notifications.models import Notification
from tests.conftest import deal_clock
from tests.payments import certificate, member_of

WAN = 1_000_000


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def world(deal_world):
    """The parties of this file's deals (tests/conftest.py `deal_world`, which `make_deal` uses)."""
    return deal_world


def fresh(deal: Deal) -> Deal:
    db.session.expire_all()
    return db.session.get(Deal, deal.id)


# ---------------------------------------------------------------- bids


def test_every_bid_round_is_kept_as_a_version(world):
    bid = place_bid(db.session, world.buyer, world.achievement.id, amount_fen=80 * WAN, mode="assignment",
                    message="首轮报价")
    counter_bid(db.session, world.researcher, bid.id, amount_fen=120 * WAN, mode="assignment", message="还价")
    counter_bid(db.session, world.buyer, bid.id, amount_fen=100 * WAN, mode="license_exclusive")
    db.session.expire_all()
    rounds = [(v.number, v.side, v.amount_fen, v.mode) for v in db.session.get(Bid, bid.id).versions]
    assert rounds == [(1, BidSide.BUYER, 80 * WAN, "assignment"), (2, BidSide.OWNER, 120 * WAN, "assignment"),
                      (3, BidSide.BUYER, 100 * WAN, "license_exclusive")]


def test_a_side_cannot_counter_its_own_latest_round(world):
    bid = place_bid(db.session, world.buyer, world.achievement.id, amount_fen=80 * WAN, mode="assignment")
    with pytest.raises(InvalidStateError):
        counter_bid(db.session, world.buyer, bid.id, amount_fen=90 * WAN, mode="assignment")
    assert len(db.session.get(Bid, bid.id).versions) == 1


def test_placing_a_bid_notifies_the_achievement_owners(world):
    bid = place_bid(db.session, world.buyer, world.achievement.id, amount_fen=80 * WAN, mode="assignment")
    notes = db.session.scalars(select(Notification).where(Notification.user_id == world.researcher.id,
                                                          Notification.kind == "bid_received")).all()
    assert [n.link for n in notes] == [f"/deals/bids/{bid.id}"]


def test_accepting_the_latest_round_opens_a_deal_from_that_round(world):
    bid = place_bid(db.session, world.buyer, world.achievement.id, amount_fen=80 * WAN, mode="assignment")
    counter_bid(db.session, world.researcher, bid.id, amount_fen=95 * WAN, mode="license_exclusive")
    deal = accept_bid(db.session, world.buyer, bid.id, version_number=2)
    assert (deal.stage, deal.title, deal.agreed_amount_fen, deal.mode, deal.bid_id) == (
        DealStage.INTENT, world.achievement.title, 95 * WAN, "license_exclusive", bid.id)
    assert (deal.transferor_id, deal.transferee_id) == (world.achievement.organisation_id, world.buyer.organisation_id)
    assert db.session.get(Bid, bid.id).status == BidStatus.ACCEPTED
    assert db.session.scalar(select(Notification.link).where(Notification.user_id == world.researcher.id,
                                                             Notification.kind == "bid_accepted")) == f"/deals/{deal.id}"


def test_a_second_accept_is_refused_and_only_one_deal_exists(world, make_user):
    colleague = make_user("researcher", organisation=world.researcher.organisation)
    bid = place_bid(db.session, world.buyer, world.achievement.id, amount_fen=80 * WAN, mode="assignment")
    accept_bid(db.session, world.researcher, bid.id, version_number=1)
    with pytest.raises(InvalidStateError):
        accept_bid(db.session, colleague, bid.id, version_number=1)
    assert count(Deal) == 1


def test_the_bidder_cannot_accept_its_own_round(world):
    bid = place_bid(db.session, world.buyer, world.achievement.id, amount_fen=80 * WAN, mode="assignment")
    with pytest.raises(InvalidStateError):
        accept_bid(db.session, world.buyer, bid.id, version_number=1)
    assert count(Deal) == 0


def test_accepting_a_round_that_was_superseded_is_refused(world):
    bid = place_bid(db.session, world.buyer, world.achievement.id, amount_fen=80 * WAN, mode="assignment")
    counter_bid(db.session, world.researcher, bid.id, amount_fen=95 * WAN, mode="assignment")
    with pytest.raises(InvalidStateError):
        accept_bid(db.session, world.buyer, bid.id, version_number=1)
    assert count(Deal) == 0


@pytest.mark.parametrize("amount, mode, field", [
    (None, "assignment", "amount_fen"),
    (0, "assignment", "amount_fen"),
    (-1, "assignment", "amount_fen"),
    (10**15 + 1, "assignment", "amount_fen"),
    (1.5, "assignment", "amount_fen"),
    (80 * WAN, "equity", "mode"),
    (80 * WAN, "barter", "mode"),
    (80 * WAN, "", "mode"),
])
def test_bad_bid_is_refused_with_a_field_message(world, amount, mode, field):
    with pytest.raises(ValidationError) as error:
        place_bid(db.session, world.buyer, world.achievement.id, amount_fen=amount, mode=mode)
    assert field in error.value.fields
    assert count(Bid) == 0


def test_only_enterprise_users_bid(world):
    with pytest.raises(PermissionDeniedError):
        place_bid(db.session, world.broker, world.achievement.id, amount_fen=80 * WAN, mode="assignment")


def test_unpublished_achievement_takes_no_bids(world, make_achievement):
    draft = make_achievement(owner=world.researcher, status="draft")
    with pytest.raises(NotFoundError):
        place_bid(db.session, world.buyer, draft.id, amount_fen=80 * WAN, mode="assignment")


def test_a_second_open_bid_from_the_same_company_is_refused(world):
    place_bid(db.session, world.buyer, world.achievement.id, amount_fen=80 * WAN, mode="assignment")
    with pytest.raises(InvalidStateError):
        place_bid(db.session, world.buyer, world.achievement.id, amount_fen=90 * WAN, mode="assignment")
    assert count(Bid) == 1


def test_only_the_owner_declines_and_only_the_bidder_withdraws(world):
    bid = place_bid(db.session, world.buyer, world.achievement.id, amount_fen=80 * WAN, mode="assignment")
    with pytest.raises(PermissionDeniedError):
        decline_bid(db.session, world.buyer, bid.id, reason="price")
    with pytest.raises(PermissionDeniedError):
        withdraw_bid(db.session, world.researcher, bid.id)
    decline_bid(db.session, world.researcher, bid.id, reason="price")
    assert db.session.get(Bid, bid.id).status == BidStatus.DECLINED
    with pytest.raises(InvalidStateError):
        accept_bid(db.session, world.researcher, bid.id, version_number=1)


def test_other_organisations_do_not_see_a_bid(world):
    bid = place_bid(db.session, world.buyer, world.achievement.id, amount_fen=80 * WAN, mode="assignment")
    with pytest.raises(NotFoundError):
        get_bid(db.session, world.outsider, bid.id)
    with pytest.raises(NotFoundError):
        counter_bid(db.session, world.broker, bid.id, amount_fen=1, mode="assignment")


# ---------------------------------------------------------------- responses


@pytest.fixture
def demand(make_demand, world):
    return make_demand(owner=world.buyer)


def test_an_accepted_response_opens_a_deal_between_the_two_organisations(world, demand):
    response = respond_to_demand(db.session, world.researcher, demand.id, proposal="采用机器视觉方案",
                                 amount_fen=60 * WAN, achievement_id=world.achievement.id)
    deal = accept_response(db.session, world.buyer, response.id)
    assert (deal.transferor_id, deal.transferee_id) == (world.researcher.organisation_id, world.buyer.organisation_id)
    assert (deal.demand_id, deal.response_id, deal.achievement_id, deal.agreed_amount_fen) == (
        demand.id, response.id, world.achievement.id, 60 * WAN)
    assert deal.stage == DealStage.INTENT and deal.title == demand.title
    assert db.session.get(DemandResponse, response.id).status == ResponseStatus.ACCEPTED
    with pytest.raises(InvalidStateError):
        accept_response(db.session, world.buyer, response.id)
    assert count(Deal) == 1


def test_a_response_may_name_only_a_published_achievement_of_ones_own_organisation(world, demand, make_achievement):
    foreign = make_achievement()
    with pytest.raises(ValidationError) as error:
        respond_to_demand(db.session, world.researcher, demand.id, proposal="方案",
                          achievement_id=foreign.id)
    assert "achievement_id" in error.value.fields
    assert count(DemandResponse) == 0


@pytest.mark.parametrize("proposal, amount, achievement, field, message", [
    ("", None, None, "proposal", "此项必填。"), ("方" * 5001, None, None, "proposal", "不能超过 5000 个字符。"),
    ("方案\x00", None, None, "proposal", "包含不允许的控制字符。"),
    ("方案", 0, None, "amount_fen", "金额必须大于零且不超过上限。"),
    ("方案", -5, None, "amount_fen", "金额必须大于零且不超过上限。"),
    ("方案", "5", None, "amount_fen", "金额必须大于零且不超过上限。"),
    ("方案", None, "abc", "achievement_id", "请选择本机构已发布的成果。"),
    ("方案", None, "١٢", "achievement_id", "请选择本机构已发布的成果。"),
    ("方案", None, 99_999_999, "achievement_id", "请选择本机构已发布的成果。"),
])
def test_bad_response_is_refused_with_a_field_message(world, demand, proposal, amount, achievement, field, message):
    with pytest.raises(ValidationError) as error:
        respond_to_demand(db.session, world.researcher, demand.id, proposal=proposal, amount_fen=amount,
                          achievement_id=achievement)
    assert error.value.fields == {field: message}
    assert count(DemandResponse) == 0


def test_only_researchers_respond_and_only_the_demand_side_decides(world, demand):
    with pytest.raises(PermissionDeniedError):
        respond_to_demand(db.session, world.outsider, demand.id, proposal="方案")
    response = respond_to_demand(db.session, world.researcher, demand.id, proposal="方案")
    with pytest.raises(PermissionDeniedError):
        accept_response(db.session, world.researcher, response.id)
    decline_response(db.session, world.buyer, response.id, reason="not_a_fit")
    assert db.session.get(DemandResponse, response.id).status == ResponseStatus.DECLINED
    assert count(Deal) == 0


# ---------------------------------------------------------------- who may move which step

ALLOWED = "allowed"
PREDECESSOR = {DealStage.NEGOTIATION: DealStage.INTENT, DealStage.PRICING: DealStage.NEGOTIATION,
               DealStage.NOTICE: DealStage.PRICING, DealStage.SIGNED: DealStage.NOTICE,
               DealStage.REGISTERED: DealStage.SIGNED, DealStage.COMPLETED: DealStage.PERFORMANCE,
               DealStage.TERMINATED: DealStage.NEGOTIATION}
ROLE_ANSWERS = {
    #                       transferor  transferee  broker  other broker  admin  outsider
    DealStage.NEGOTIATION: (ALLOWED, ALLOWED, PermissionDeniedError, PermissionDeniedError, PermissionDeniedError, NotFoundError),
    DealStage.PRICING: (ALLOWED, ALLOWED, PermissionDeniedError, PermissionDeniedError, PermissionDeniedError, NotFoundError),
    DealStage.NOTICE: (ALLOWED, ALLOWED, ALLOWED, PermissionDeniedError, PermissionDeniedError, NotFoundError),
    DealStage.SIGNED: (ALLOWED, PermissionDeniedError, ALLOWED, PermissionDeniedError, PermissionDeniedError, NotFoundError),
    DealStage.REGISTERED: (ALLOWED, PermissionDeniedError, ALLOWED, PermissionDeniedError, PermissionDeniedError, NotFoundError),
    DealStage.COMPLETED: (ALLOWED, PermissionDeniedError, PermissionDeniedError, PermissionDeniedError, ALLOWED, NotFoundError),
    DealStage.TERMINATED: (ALLOWED, ALLOWED, ALLOWED, PermissionDeniedError, ALLOWED, NotFoundError),
}
ROLES = ("researcher", "buyer", "broker", "other_broker", "admin", "outsider")


def move(actor, deal: Deal, target: DealStage):
    """Call the service that moves a deal into the target stage, with valid data."""
    if target in (DealStage.NEGOTIATION, DealStage.PRICING):
        return advance_deal(db.session, actor, deal.id, target)
    if target == DealStage.NOTICE:
        return start_notice(db.session, actor, deal.id, notice_days=15)
    if target == DealStage.SIGNED:  # recorded by the actor, confirmed by the transferee's member
        signing = record_signing(db.session, actor, deal.id, signed_on=today(), agreed_amount_fen=deal.agreed_amount_fen)
        return confirm_signing(db.session, member_of(deal.transferee_id), signing.id)
    if target == DealStage.REGISTERED:
        return register_deal(db.session, actor, deal.id, registration_number="2025140100000099",
                             registered_on=today(), certificate=certificate())
    if target == DealStage.COMPLETED:
        return complete_deal(db.session, actor, deal.id, note="双方确认提前完成")
    return terminate_deal(db.session, actor, deal.id, reason="受让方资金未落实")


@pytest.mark.parametrize("target, role, answer", [
    pytest.param(target, role, answer, id=f"{target}-{role}")
    for target, answers in ROLE_ANSWERS.items() for role, answer in zip(ROLES, answers)
])
def test_each_role_may_move_only_the_steps_it_owns(world, make_deal, target, role, answer):
    deal = make_deal(PREDECESSOR[target])
    actor = getattr(world, role)
    events_before = count(DealEvent)
    if answer == ALLOWED:
        move(actor, deal, target)
        assert fresh(deal).stage == target
        event = db.session.scalars(select(DealEvent).where(DealEvent.deal_id == deal.id)
                                   .order_by(DealEvent.id.desc()).limit(1)).one()
        mover = world.buyer if target == DealStage.SIGNED else actor  # a signing moves when the transferee confirms
        assert (event.actor_id, event.from_stage, event.to_stage) == (mover.id, PREDECESSOR[target], target)
        assert count(DealEvent) == events_before + (2 if target == DealStage.SIGNED else 1)
    else:
        with pytest.raises(answer):
            move(actor, deal, target)
        assert fresh(deal).stage == PREDECESSOR[target]
        assert count(DealEvent) == events_before


@pytest.mark.parametrize("stage, target", [
    (DealStage.INTENT, DealStage.PRICING),
    (DealStage.NEGOTIATION, DealStage.NOTICE),
    (DealStage.PRICING, DealStage.SIGNED),
    (DealStage.NOTICE, DealStage.REGISTERED),
    (DealStage.SIGNED, DealStage.COMPLETED),
    (DealStage.COMPLETED, DealStage.TERMINATED),
    (DealStage.TERMINATED, DealStage.NEGOTIATION),
])
def test_a_deal_cannot_skip_a_stage_or_leave_a_closed_one(world, make_deal, stage, target):
    deal = make_deal(stage)
    with pytest.raises(InvalidStateError):
        move(world.researcher, deal, target)
    assert fresh(deal).stage == stage


def test_performance_is_reached_only_by_a_payment(world, make_deal):
    deal = make_deal(DealStage.REGISTERED)
    with pytest.raises(InvalidStateError):
        advance_deal(db.session, world.researcher, deal.id, DealStage.PERFORMANCE)
    assert fresh(deal).stage == DealStage.REGISTERED


# ---------------------------------------------------------------- what each step needs and records


def test_the_whole_pipeline_from_a_bid_to_completion(world):
    bid = place_bid(db.session, world.buyer, world.achievement.id, amount_fen=300 * WAN, mode="assignment")
    deal = accept_bid(db.session, world.researcher, bid.id, version_number=1)
    advance_deal(db.session, world.buyer, deal.id, DealStage.NEGOTIATION)
    advance_deal(db.session, world.researcher, deal.id, DealStage.PRICING)
    update_terms(db.session, world.researcher, deal.id, agreed_amount_fen=300 * WAN, mode="assignment",
                 inventor_share_bp=7000)
    accept_terms(db.session, world.buyer, deal.id, fresh(deal).terms_version)
    notice_day = today() - timedelta(days=20)
    with deal_clock(notice_day):  # the notice starts 20 days ago, so that it has run out today
        start_notice(db.session, world.buyer, deal.id, notice_days=15)
    deal = fresh(deal)
    assert (deal.notice_starts_on, deal.notice_ends_on) == (notice_day, notice_day + timedelta(days=14))
    signing = record_signing(db.session, world.researcher, deal.id, signed_on=today(), agreed_amount_fen=300 * WAN)
    assert fresh(deal).stage == DealStage.NOTICE and fresh(deal).signed_on is None
    confirm_signing(db.session, world.buyer, signing.id)
    events_before = count(PolicyEvent)
    register_deal(db.session, world.researcher, deal.id, registration_number="２０２５１４０１-０００１",
                  registered_on=today(), certificate=certificate())
    assert count(PolicyEvent) == events_before + 1
    assert fresh(deal).registration_number == "20251401-0001"
    verify_registration(db.session, world.admin, fresh(deal).current_registration.id)
    first = record_payment(db.session, world.researcher, deal.id, amount_fen=100 * WAN, paid_on=today())
    assert fresh(deal).stage == DealStage.REGISTERED and fresh(deal).paid_fen == 0
    confirm_payment(db.session, world.buyer, first.id)
    assert fresh(deal).stage == DealStage.PERFORMANCE
    second = record_payment(db.session, world.buyer, deal.id, amount_fen=200 * WAN, paid_on=today())
    confirm_payment(db.session, world.researcher, second.id)
    deal = fresh(deal)
    assert deal.stage == DealStage.COMPLETED and deal.completed_at is not None
    assert deal.achievement.status == ListingStatus.DEALT
    actions = db.session.scalars(select(DealEvent.action).where(DealEvent.deal_id == deal.id).order_by(DealEvent.id)).all()
    assert actions == ["opened", "stage", "stage", "terms", "terms_accepted", "notice", "signing_recorded", "signed",
                       "registered", "registration_verified", "payment_recorded",
                       "payment", "payment_recorded", "payment", "completed"]


def test_notice_needs_an_agreed_price_and_mode(world, make_deal):
    deal = make_deal(DealStage.PRICING, agreed_amount_fen=None, mode=None)
    with pytest.raises(ValidationError) as error:
        start_notice(db.session, world.researcher, deal.id)
    assert set(error.value.fields) == {"agreed_amount_fen", "mode"}
    assert fresh(deal).stage == DealStage.PRICING


@pytest.mark.parametrize("days", [14, 91, "", "abc", "١٥", 15.0])
def test_notice_period_must_be_fifteen_to_ninety_days(world, make_deal, days):
    deal = make_deal(DealStage.PRICING)
    with pytest.raises(ValidationError) as error:
        start_notice(db.session, world.researcher, deal.id, notice_days=days)
    assert "notice_days" in error.value.fields
    assert fresh(deal).notice_starts_on is None


def test_signing_waits_until_the_notice_period_has_passed(world, make_deal):
    deal = make_deal(DealStage.NOTICE, notice_starts_on=today())
    with pytest.raises(ValidationError) as error:
        record_signing(db.session, world.researcher, deal.id, signed_on=today(), agreed_amount_fen=100 * WAN)
    assert "公示期" in error.value.fields["signed_on"]
    assert fresh(deal).stage == DealStage.NOTICE


def test_signing_at_a_price_other_than_the_noticed_one_is_refused(world, make_deal):
    deal = make_deal(DealStage.NOTICE)
    with pytest.raises(ValidationError) as error:
        record_signing(db.session, world.researcher, deal.id, signed_on=today(), agreed_amount_fen=90 * WAN)
    assert "公示价格" in error.value.fields["agreed_amount_fen"]


@pytest.mark.parametrize("number, day, field", [
    ("", 0, "registration_number"),
    ("<b>12</b>", 0, "registration_number"),
    ("١٢٣٤٥", 0, "registration_number"),
    ("A" * 61, 0, "registration_number"),
    ("2025-0001", 1, "registered_on"),
    ("2025-0001", -6, "registered_on"),
    ("2025-0001", None, "registered_on"),
])
def test_bad_registration_is_refused_and_the_engine_is_not_told(world, make_deal, number, day, field):
    deal = make_deal(DealStage.SIGNED)
    events = count(PolicyEvent)
    registered_on = today() + timedelta(days=day) if day is not None else None
    with pytest.raises(ValidationError) as error:
        register_deal(db.session, world.researcher, deal.id, registration_number=number,
                      registered_on=registered_on, certificate=certificate())
    assert field in error.value.fields
    assert fresh(deal).stage == DealStage.SIGNED and count(PolicyEvent) == events


def test_a_registration_number_is_used_once(world, make_deal):
    make_deal(DealStage.PERFORMANCE, registration_number="2025-0007")
    deal = make_deal(DealStage.SIGNED)
    with pytest.raises(ValidationError) as error:
        register_deal(db.session, world.researcher, deal.id, registration_number="2025-0007",
                      registered_on=today(), certificate=certificate())
    assert "已被其他项目使用" in error.value.fields["registration_number"]


def test_a_short_paid_deal_is_completed_only_with_a_written_note(world, make_deal):
    deal = make_deal(DealStage.PERFORMANCE, paid_fen=40 * WAN)
    with pytest.raises(ValidationError) as error:
        complete_deal(db.session, world.researcher, deal.id, note="  ")
    assert "note" in error.value.fields
    complete_deal(db.session, world.admin, deal.id, note="受让方已书面确认余款豁免")
    assert fresh(deal).stage == DealStage.COMPLETED
    assert fresh(deal).achievement.status == ListingStatus.DEALT


@pytest.mark.parametrize("reason", ["", "   ", "原" * 1001, "原因\x07"])
def test_termination_needs_a_written_reason(world, make_deal, reason):
    deal = make_deal(DealStage.NEGOTIATION)
    with pytest.raises(ValidationError) as error:
        terminate_deal(db.session, world.buyer, deal.id, reason=reason)
    assert "reason" in error.value.fields
    assert fresh(deal).stage == DealStage.NEGOTIATION


def test_a_terminated_deal_records_its_reason(world, make_deal):
    deal = make_deal(DealStage.SIGNED)
    terminate_deal(db.session, world.broker, deal.id, reason="受让方放弃")
    deal = fresh(deal)
    assert (deal.stage, deal.termination_reason) == (DealStage.TERMINATED, "受让方放弃")


def test_every_step_notifies_the_other_side(world, make_deal):
    deal = make_deal(DealStage.INTENT)
    last = db.session.scalar(select(func.max(Notification.id)))
    advance_deal(db.session, world.buyer, deal.id, DealStage.NEGOTIATION)
    told = set(db.session.scalars(select(Notification.user_id).where(Notification.link == f"/deals/{deal.id}",
                                                                     Notification.id > last)))
    assert told == {world.researcher.id, world.broker.id}


# ---------------------------------------------------------------- visibility and the public notice


@pytest.mark.parametrize("role, sees", [("researcher", True), ("buyer", True), ("broker", True), ("other_broker", True),
                                        ("admin", True), ("outsider", False)])
def test_deal_is_visible_to_parties_brokers_and_admins_only(world, make_deal, role, sees):
    deal = make_deal()
    if sees:
        assert get_deal(db.session, getattr(world, role), deal.id).id == deal.id
    else:
        with pytest.raises(NotFoundError):
            get_deal(db.session, getattr(world, role), deal.id)


@pytest.mark.parametrize("stage, public", [(DealStage.PRICING, False), (DealStage.NOTICE, True),
                                           (DealStage.SIGNED, True), (DealStage.TERMINATED, False)])
def test_the_notice_is_public_from_the_notice_stage_on(world, make_deal, stage, public):
    deal = make_deal(stage, terminated_from=DealStage.NOTICE)
    if public:
        assert get_public_notice(db.session, deal.id).id == deal.id
    else:
        with pytest.raises(NotFoundError):
            get_public_notice(db.session, deal.id)


# ---------------------------------------------------------------- intermediaries


@pytest.fixture
def brokers(make_user):
    return [make_user("broker") for _n in range(4)]


def people(*pairs):
    return [(str(user.id), share) for user, share in pairs]


def test_intermediaries_with_shares_and_a_rate_are_saved(world, make_deal, brokers):
    deal = make_deal(DealStage.NEGOTIATION)
    set_intermediaries(db.session, world.broker, deal.id, people=people((brokers[0], 6000), (brokers[1], 4000)),
                       reward_rate_bp=1250)
    deal = fresh(deal)
    assert [(row.user_id, row.share_bp) for row in deal.intermediaries] == [(brokers[0].id, 6000), (brokers[1].id, 4000)]
    assert deal.reward_rate_bp == 1250


def test_a_single_intermediary_gets_the_whole_share(world, make_deal, brokers):
    deal = make_deal()
    set_intermediaries(db.session, world.researcher, deal.id, people=[(str(brokers[0].id), None)],
                       reward_rate_bp=1000)
    assert [row.share_bp for row in fresh(deal).intermediaries] == [10000]


def test_fourth_intermediary_for_an_achievement_is_rejected(world, make_deal, brokers):
    make_deal(DealStage.SIGNED, reward_rate_bp=1000,
              intermediaries=[(brokers[0], 5000), (brokers[1], 3000), (brokers[2], 2000)])
    second = make_deal(DealStage.NEGOTIATION)
    with pytest.raises(RuleViolationError) as error:
        set_intermediaries(db.session, world.buyer, second.id, people=people((brokers[0], 5000), (brokers[3], 5000)),
                           reward_rate_bp=1000)
    assert "不得超过 3 人" in error.value.fields["intermediary_2"]
    assert fresh(second).intermediaries == []
    set_intermediaries(db.session, world.buyer, second.id, people=people((brokers[0], 5000), (brokers[1], 5000)),
                       reward_rate_bp=1000)
    assert len(fresh(second).intermediaries) == 2


def test_fourth_intermediary_is_allowed_after_an_admin_records_an_exception(world, make_deal, brokers):
    make_deal(DealStage.REGISTERED, reward_rate_bp=1000,
              intermediaries=[(brokers[0], 5000), (brokers[1], 3000), (brokers[2], 2000)])
    second = make_deal(DealStage.PRICING, buyer=world.outsider)
    with pytest.raises(PermissionDeniedError):
        record_intermediary_exception(db.session, world.broker, second.id, reason="原中介退出")
    record_intermediary_exception(db.session, world.admin, second.id, reason="原中介团队调整，经运营审核同意")
    set_intermediaries(db.session, world.researcher, second.id, people=people((brokers[3], 10000)),
                       reward_rate_bp=1000)
    assert [row.user_id for row in fresh(second).intermediaries] == [brokers[3].id]


@pytest.mark.parametrize("rows, rate, field, message", [
    ([("1", 5000), ("2", 4000)], 1000, "share_2", "各人分成比例合计须为 100%（当前 90%）。"),
    ([("BROKER0", 5000), ("BROKER0", 5000)], 1000, "intermediary_2", "同一人不能重复填写。"),
    ([("BROKER0", None), ("BROKER1", None)], 1000, "share_1", "请填写分成比例。"),
    ([("", 5000)], 1000, "intermediary_1", "请选择技术经理人。"),
    ([("RESEARCHER", 10000)], 1000, "intermediary_1", "请选择平台上已审核的技术经理人。"),
    ([("١٢", 10000)], 1000, "intermediary_1", "请选择平台上已审核的技术经理人。"),
    ([("FULL-WIDTH BROKER0", 10000)], 1000, "intermediary_1", "请选择平台上已审核的技术经理人。"),
    ([("BROKER0", 0)], 1000, "share_1", "分成比例应大于 0% 且不超过 100%。"),
    ([("BROKER0", "100")], 1000, "share_1", "分成比例应大于 0% 且不超过 100%。"),
    ([("BROKER0", 10000)], 10001, "reward_rate", "奖励比例应在 0% 到 100% 之间。"),
    ([("BROKER0", 10000)], -1, "reward_rate", "奖励比例应在 0% 到 100% 之间。"),
    ([("BROKER0", 10000)], "10", "reward_rate", "奖励比例应在 0% 到 100% 之间。"),
    ([("BROKER0", 2500)] * 4, 1000, "intermediaries", "最多填写 3 名中介服务人员。"),
])
def test_bad_intermediaries_are_refused_with_a_field_message(world, make_deal, brokers, rows, rate, field, message):
    names = {"BROKER0": str(brokers[0].id), "BROKER1": str(brokers[1].id), "RESEARCHER": str(world.researcher.id),
             "1": str(brokers[0].id), "2": str(brokers[1].id),
             "FULL-WIDTH BROKER0": str(brokers[0].id).translate(str.maketrans("0123456789", "０１２３４５６７８９"))}
    deal = make_deal()
    with pytest.raises(ValidationError) as error:
        set_intermediaries(db.session, world.researcher, deal.id,
                           people=[(names.get(person, person), share) for person, share in rows],
                           reward_rate_bp=rate)
    assert error.value.fields[field] == message
    assert count(DealIntermediary) == 0


def test_intermediaries_are_fixed_once_the_contract_is_registered(world, make_deal, brokers):
    deal = make_deal(DealStage.REGISTERED)
    with pytest.raises(InvalidStateError):
        set_intermediaries(db.session, world.researcher, deal.id, people=people((brokers[0], 10000)),
                           reward_rate_bp=1000)


@pytest.mark.parametrize("role", ["other_broker", "admin"])
def test_only_parties_and_the_deal_broker_edit_intermediaries(world, make_deal, brokers, role):
    deal = make_deal()
    with pytest.raises(PermissionDeniedError):
        set_intermediaries(db.session, getattr(world, role), deal.id, people=people((brokers[0], 10000)),
                           reward_rate_bp=1000)


def test_an_agency_may_be_named_as_agent_but_not_a_company(world, make_deal, make_organisation):
    deal = make_deal()
    agency = make_organisation("agency")
    with pytest.raises(ValidationError) as error:
        set_intermediaries(db.session, world.researcher, deal.id, people=[], reward_rate_bp=0,
                           agent_organisation_id=str(world.buyer.organisation_id))
    assert "agent_organisation" in error.value.fields
    with pytest.raises(ValidationError) as error:
        set_intermediaries(db.session, world.researcher, deal.id, people=[], reward_rate_bp=0,
                           agent_organisation_id=str(agency.id).translate(str.maketrans("0123456789",
                                                                                        "０１２３４５６７８９")))
    assert "agent_organisation" in error.value.fields
    set_intermediaries(db.session, world.researcher, deal.id, people=[], reward_rate_bp=0,
                       agent_organisation_id=str(agency.id))
    assert fresh(deal).agent_organisation_id == agency.id


# ---------------------------------------------------------------- brokers and the board


@pytest.mark.parametrize("reason, message", [
    ("", "请填写例外原因。"), ("  \n ", "请填写例外原因。"), (None, "请填写例外原因。"),
    ("\u200b", "请填写可见的文字，不能只有空白或不可见字符。"), ("原" * 1001, "不能超过 1000 个字符。"),
    ("原因\x07", "包含不允许的控制字符。"), (5, "应为文本。"),
])
def test_an_exception_needs_a_written_reason(world, make_deal, reason, message):
    deal = make_deal(DealStage.NEGOTIATION)
    with pytest.raises(ValidationError) as error:
        record_intermediary_exception(db.session, world.admin, deal.id, reason=reason)
    assert error.value.fields == {"exception_reason": message}
    assert not fresh(deal).intermediary_exception


def test_board_groups_deals_by_stage_and_filters_by_valley_field_and_broker(world, make_deal, make_user, make_achievement):
    datong = make_user("researcher")
    other = make_achievement(owner=datong, field="agriculture")
    db.session.execute(update(Achievement).where(Achievement.id == other.id).values(valley_id="datong"))
    db.session.execute(update(Achievement).where(Achievement.id == world.achievement.id).values(valley_id="taiyuan"))
    db.session.commit()
    here = make_deal(DealStage.NOTICE)
    there = make_deal(DealStage.INTENT, achievement=other, broker=None)

    def ids(filters):
        return {stage: [d.id for d in column.deals] for column in deal_board.board(db.session, world.other_broker, filters)
                for stage in [column.stage] if column.deals}

    assert ids(BoardFilters()) == {DealStage.NOTICE: [here.id], DealStage.INTENT: [there.id]}
    assert ids(BoardFilters(valley="datong")) == {DealStage.INTENT: [there.id]}
    assert ids(BoardFilters(field="energy")) == {DealStage.NOTICE: [here.id]}
    assert ids(BoardFilters(broker="none")) == {DealStage.INTENT: [there.id]}
    assert ids(BoardFilters(broker=world.broker.id)) == {DealStage.NOTICE: [here.id]}
    with pytest.raises(PermissionDeniedError):
        deal_board.board(db.session, world.researcher, BoardFilters())
