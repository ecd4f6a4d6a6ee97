"""Introductions by brokers: propose → both sides accept → a deal at 意向 with the broker; the hostile cases; structured
decline reasons on introductions, bids and responses."""
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select, update

from market.accounts.models import User
from market.deals import introductions as intro
from market.deals.bids import decline_bid, place_bid
from market.deals.limits import MAX_OPEN_INTRODUCTIONS_PER_BROKER, REASK_AFTER_DECLINE_DAYS
from market.deals.models import (
    BidStatus,
    Deal,
    DealEvent,
    DealStage,
    Introduction,
    IntroductionStatus,
    ResponseStatus,
)
from market.deals.permissions import can_view_introduction, deal_roles, visible_introductions
from market.deals.responses import decline_response, respond_to_demand
from market.errors import (
    InvalidStateError,
    NotFoundError,
    PermissionDeniedError,
    RuleViolationError,
    ValidationError,
)
from market.extensions import db
from market.listings.models import ConfidentialGrant, GrantSource
from market.notifications.models import Notification
from market.timeutil import utcnow
from tests.services.test_money_races import RACE_CONFIG, _race


@pytest.fixture
def world(make_user, make_achievement, make_demand, make_organisation):
    """A university with a published achievement, a company with a published demand, an approved enterprise without
    a demand, two brokers (each in his own agency) and an outsider."""
    researcher = make_user("researcher")
    buyer = make_user("enterprise")
    return SimpleNamespace(
        researcher=researcher, achievement=make_achievement(owner=researcher),
        buyer=buyer, demand=make_demand(owner=buyer, modes=["assignment"]),
        enterprise=make_user("enterprise"), broker=make_user("broker"), other_broker=make_user("broker"),
        outsider=make_user("enterprise"))


def propose(world, broker=None, **target):
    target = target or {"demand_id": world.demand.id}
    return intro.propose_introduction(db.session, broker or world.broker, achievement_id=world.achievement.id,
                                      note="双方方向高度契合。", **target)


def fresh(introduction: Introduction) -> Introduction:
    db.session.expire_all()
    return db.session.get(Introduction, introduction.id)


def notified(user, kind: str) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id,
                                                              Notification.kind == kind)))


# ---------------------------------------------------------------- the full path


def test_both_acceptances_open_a_deal_at_intent_with_the_broker_on_it(world):
    introduction = propose(world)
    assert notified(world.researcher, "introduction_awaits_answer") and notified(world.buyer, "introduction_awaits_answer")

    intro.accept_introduction(db.session, world.researcher, introduction.id)
    assert fresh(introduction).status == IntroductionStatus.PENDING
    assert fresh(introduction).deal_id is None
    assert db.session.scalar(select(Deal).where(Deal.achievement_id == world.achievement.id)) is None

    intro.accept_introduction(db.session, world.buyer, introduction.id)
    introduction = fresh(introduction)
    assert introduction.status == IntroductionStatus.ACCEPTED
    deal = db.session.get(Deal, introduction.deal_id)
    assert deal.stage == DealStage.INTENT
    assert (deal.transferor_id, deal.transferee_id) == (world.researcher.organisation_id, world.buyer.organisation_id)
    assert deal.broker_id == world.broker.id and deal.demand_id == world.demand.id
    assert deal.mode == "assignment"
    assert "broker" in deal_roles(world.broker, deal)
    actions = list(db.session.scalars(select(DealEvent.action).where(DealEvent.deal_id == deal.id)
                                      .order_by(DealEvent.id)))
    assert actions == ["opened", "broker"]
    assert notified(world.broker, "introduction_accepted")
    grant = db.session.scalar(select(ConfidentialGrant).where(ConfidentialGrant.deal_id == deal.id))
    assert (grant.organisation_id, grant.source) == (world.buyer.organisation_id, GrantSource.INTRODUCTION)


def test_an_enterprise_without_a_demand_can_be_introduced(world):
    introduction = propose(world, organisation_id=world.enterprise.organisation_id)
    intro.accept_introduction(db.session, world.enterprise, introduction.id)
    intro.accept_introduction(db.session, world.researcher, introduction.id)
    deal = fresh(introduction).deal
    assert deal.transferee_id == world.enterprise.organisation_id and deal.demand_id is None
    assert deal.title == world.achievement.title and deal.broker_id == world.broker.id


# ---------------------------------------------------------------- hostile


def test_a_broker_cannot_introduce_his_own_organisations_listing(world, make_user, make_achievement, make_demand):
    colleague = make_user("researcher", organisation=world.broker.organisation)
    own = make_achievement(owner=colleague)
    with pytest.raises(PermissionDeniedError):
        intro.propose_introduction(db.session, world.broker, achievement_id=own.id, demand_id=world.demand.id)
    buyer_colleague = make_user("enterprise", organisation=world.broker.organisation)
    own_demand = make_demand(owner=buyer_colleague)
    with pytest.raises(PermissionDeniedError):
        intro.propose_introduction(db.session, world.broker, achievement_id=world.achievement.id,
                                   demand_id=own_demand.id)
    assert db.session.scalar(select(Introduction.id)) is None


@pytest.mark.parametrize("who", ["researcher", "buyer", "outsider"])
def test_only_approved_brokers_propose(world, who):
    with pytest.raises(PermissionDeniedError):
        propose(world, broker=getattr(world, who))


def test_an_unapproved_broker_cannot_propose(world, make_user):
    pending = make_user("broker", membership_status="pending")
    with pytest.raises(PermissionDeniedError):
        propose(world, broker=pending)


def test_only_published_listings_are_introduced(world, make_achievement, make_demand):
    draft = make_achievement(owner=world.researcher, status="draft")
    with pytest.raises(ValidationError) as refused:
        intro.propose_introduction(db.session, world.broker, achievement_id=draft.id, demand_id=world.demand.id)
    assert "achievement_id" in refused.value.fields
    draft_demand = make_demand(owner=world.buyer, status="draft")
    with pytest.raises(ValidationError) as refused:
        intro.propose_introduction(db.session, world.broker, achievement_id=world.achievement.id,
                                   demand_id=draft_demand.id)
    assert "demand_id" in refused.value.fields


def test_a_target_is_a_demand_or_an_approved_enterprise(world):
    with pytest.raises(ValidationError) as refused:
        intro.propose_introduction(db.session, world.broker, achievement_id=world.achievement.id)
    assert "demand_id" in refused.value.fields
    with pytest.raises(ValidationError) as refused:
        propose(world, organisation_id=world.researcher.organisation_id)
    assert "organisation_id" in refused.value.fields


@pytest.mark.parametrize("who", ["broker", "other_broker", "outsider"])
def test_nobody_outside_a_side_accepts_for_it(world, who):
    introduction = propose(world)
    with pytest.raises((PermissionDeniedError, NotFoundError)):
        intro.accept_introduction(db.session, getattr(world, who), introduction.id)
    assert fresh(introduction).transferor_accepted_by_id is None
    assert fresh(introduction).transferee_accepted_by_id is None


def test_one_side_accepting_twice_opens_nothing(world, make_user):
    introduction = propose(world)
    colleague = make_user("researcher", organisation=world.researcher.organisation)
    intro.accept_introduction(db.session, world.researcher, introduction.id)
    with pytest.raises(InvalidStateError):
        intro.accept_introduction(db.session, colleague, introduction.id)
    assert fresh(introduction).deal_id is None


def test_a_pair_waits_once(world):
    propose(world)
    with pytest.raises(InvalidStateError):
        propose(world, broker=world.other_broker)
    with pytest.raises(InvalidStateError):
        propose(world)


def test_a_declined_pair_cannot_be_reintroduced_by_the_same_broker_for_thirty_days(world):
    introduction = propose(world)
    intro.decline_introduction(db.session, world.buyer, introduction.id, reason="timing", note="明年再议")
    with pytest.raises(RuleViolationError):
        propose(world)
    other = propose(world, broker=world.other_broker)
    intro.withdraw_introduction(db.session, world.other_broker, other.id)
    past = utcnow() - timedelta(days=REASK_AFTER_DECLINE_DAYS, minutes=1)
    db.session.execute(update(Introduction).where(Introduction.id == introduction.id).values(decided_at=past))
    assert propose(world).status == IntroductionStatus.PENDING


def test_accepting_after_withdrawal_is_refused(world):
    introduction = propose(world)
    intro.accept_introduction(db.session, world.researcher, introduction.id)
    intro.withdraw_introduction(db.session, world.broker, introduction.id)
    with pytest.raises(InvalidStateError):
        intro.accept_introduction(db.session, world.buyer, introduction.id)
    assert fresh(introduction).status == IntroductionStatus.WITHDRAWN
    assert db.session.scalar(select(Deal.id)) is None


def test_only_the_broker_withdraws_and_not_after_both_accepted(world):
    introduction = propose(world)
    with pytest.raises(PermissionDeniedError):
        intro.withdraw_introduction(db.session, world.researcher, introduction.id)
    intro.accept_introduction(db.session, world.researcher, introduction.id)
    intro.accept_introduction(db.session, world.buyer, introduction.id)
    with pytest.raises(InvalidStateError):
        intro.withdraw_introduction(db.session, world.broker, introduction.id)


def test_a_listing_withdrawn_meanwhile_opens_no_deal(world):
    from market.achievements.models import Achievement
    introduction = propose(world)
    intro.accept_introduction(db.session, world.researcher, introduction.id)
    db.session.execute(update(Achievement).where(Achievement.id == world.achievement.id).values(status="withdrawn"))
    with pytest.raises(InvalidStateError):
        intro.accept_introduction(db.session, world.buyer, introduction.id)


def test_open_introductions_per_broker_are_capped(world, make_user, make_organisation, monkeypatch):
    monkeypatch.setattr(intro, "MAX_OPEN_INTRODUCTIONS_PER_BROKER", 2)
    propose(world)
    propose(world, organisation_id=world.enterprise.organisation_id)
    with pytest.raises(RuleViolationError):
        propose(world, organisation_id=world.outsider.organisation_id)
    assert MAX_OPEN_INTRODUCTIONS_PER_BROKER > 2


# ---------------------------------------------------------------- declines with reasons


def test_a_decline_takes_a_reason_and_tells_the_broker_and_the_other_side(world):
    introduction = propose(world)
    with pytest.raises(ValidationError) as refused:
        intro.decline_introduction(db.session, world.buyer, introduction.id, reason=None)
    assert "reason" in refused.value.fields
    with pytest.raises(ValidationError) as refused:
        intro.decline_introduction(db.session, world.buyer, introduction.id, reason="other", note="")
    assert "note" in refused.value.fields
    with pytest.raises(ValidationError):
        intro.decline_introduction(db.session, world.buyer, introduction.id, reason="bogus")
    assert fresh(introduction).status == IntroductionStatus.PENDING

    intro.decline_introduction(db.session, world.buyer, introduction.id, reason="price", note="预算不足")
    introduction = fresh(introduction)
    assert (introduction.status, introduction.declined_side) == (IntroductionStatus.DECLINED, "transferee")
    assert (introduction.decline_reason, introduction.decline_note) == ("price", "预算不足")
    for user in (world.broker, world.researcher):
        [told] = notified(user, "introduction_declined")
        assert "价格或条件不合适" in told.body and "预算不足" in told.body
    with pytest.raises(InvalidStateError):
        intro.accept_introduction(db.session, world.researcher, introduction.id)


def test_bids_and_responses_are_declined_with_a_reason_shown_to_the_other_side(world, make_user):
    bid = place_bid(db.session, world.buyer, world.achievement.id, amount_fen=1_000_000, mode="assignment")
    with pytest.raises(ValidationError):
        decline_bid(db.session, world.researcher, bid.id, reason="")
    decline_bid(db.session, world.researcher, bid.id, reason="price", note="低于底价")
    assert (bid.status, bid.decline_reason, bid.decline_note) == (BidStatus.DECLINED, "price", "低于底价")
    [told] = notified(world.buyer, "bid_declined")
    assert "价格或条件不合适" in told.body and "低于底价" in told.body

    responder = make_user("researcher")
    response = respond_to_demand(db.session, responder, world.demand.id, proposal="方案")
    decline_response(db.session, world.buyer, response.id, reason="not_a_fit")
    assert (response.status, response.decline_reason) == (ResponseStatus.DECLINED, "not_a_fit")
    [told] = notified(responder, "response_declined")
    assert told.body == "技术方向不匹配"


# ---------------------------------------------------------------- who sees what


@pytest.mark.parametrize("who, sees", [("broker", True), ("researcher", True), ("buyer", True),
                                       ("other_broker", False), ("outsider", False), ("enterprise", False)])
def test_visibility_predicate_and_sql_agree(world, who, sees):
    introduction = propose(world)
    user = getattr(world, who)
    assert can_view_introduction(user, introduction) is sees
    listed = db.session.scalars(select(Introduction.id).where(visible_introductions(user))).all()
    assert (introduction.id in listed) is sees
    if not sees:
        with pytest.raises(NotFoundError):
            intro.get_introduction(db.session, user, introduction.id)


def test_awaiting_lists_only_what_the_organisation_has_not_answered(world):
    introduction = propose(world)
    assert [i.id for i in intro.list_introductions(db.session, world.researcher, box="awaiting")] == [introduction.id]
    intro.accept_introduction(db.session, world.researcher, introduction.id)
    assert intro.list_introductions(db.session, world.researcher, box="awaiting") == []
    assert [i.id for i in intro.list_introductions(db.session, world.buyer, box="awaiting")] == [introduction.id]
    assert [i.id for i in intro.list_introductions(db.session, world.broker, box="mine")] == [introduction.id]
    assert intro.list_introductions(db.session, world.other_broker, box="mine") == []


# ---------------------------------------------------------------- races


@pytest.mark.parametrize("app", [RACE_CONFIG], indirect=True)
def test_both_sides_accepting_at_once_open_exactly_one_deal(app, world):
    introduction_id = propose(world).id
    db.session.commit()
    sides = (world.researcher.id, world.buyer.id)

    def accept(index: int):
        intro.accept_introduction(db.session, db.session.get(User, sides[index % 2]), introduction_id)

    outcomes = _race(app, accept)
    assert outcomes.count("ok") == 2, outcomes
    assert all(outcome.startswith("refused") for outcome in outcomes if outcome != "ok"), outcomes
    db.session.expire_all()
    deals = db.session.scalars(select(Deal).where(Deal.achievement_id == world.achievement.id)).all()
    assert len(deals) == 1 and deals[0].broker_id == world.broker.id
    assert db.session.get(Introduction, introduction_id).deal_id == deals[0].id
