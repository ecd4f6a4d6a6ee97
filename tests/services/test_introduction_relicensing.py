"""An introduction of an achievement transferred outright opens a licence only when the owner's side, accepting,
ticks that it may license it again: the confirmation is recorded in the achievement's history, refused without it
with the bid path's message, and an owner's acceptance given before the transfer is asked again."""
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from market.deals import introductions as intro
from market.deals.bids import accept_bid, place_bid
from market.deals.models import Deal, DealStage, Introduction, IntroductionStatus
from market.errors import InvalidStateError
from market.extensions import db
from market.listings.models import ListingEvent
from market.notifications.models import Notification
from tests.conftest import WAN


@pytest.fixture
def world(deal_world, make_user, make_demand):
    """deal_world's achievement, a second company with a demand for it, and a broker to introduce them."""
    company = make_user("enterprise")
    return SimpleNamespace(owner=deal_world.researcher, achievement=deal_world.achievement, company=company,
                           demand=make_demand(owner=company, modes=["license_exclusive"]), broker=make_user("broker"))


def transfer(make_deal, stage=DealStage.SIGNED) -> Deal:
    """deal_world's buyer takes the achievement outright (转让, signed)."""
    return make_deal(stage, mode="assignment", broker=None)


def propose(world) -> Introduction:
    return intro.propose_introduction(db.session, world.broker, achievement_id=world.achievement.id,
                                      demand_id=world.demand.id, note="许可给第二家企业。")


def fresh(introduction: Introduction) -> Introduction:
    db.session.expire_all()
    return db.session.get(Introduction, introduction.id)


def relicense_events(achievement) -> list[ListingEvent]:
    return list(db.session.scalars(select(ListingEvent).where(ListingEvent.listing_id == achievement.id,
                                                              ListingEvent.action == "relicense")))


def bid_path_refusal(world, make_user) -> str:
    """The message the bid path gives an owner who accepts without ticking."""
    bid = place_bid(db.session, make_user("enterprise"), world.achievement.id, amount_fen=30 * WAN,
                    mode="license_exclusive")
    with pytest.raises(InvalidStateError) as refused:
        accept_bid(db.session, world.owner, bid.id, version_number=1)
    return refused.value.message


def test_the_owner_accepts_only_ticking_the_new_licence_with_the_bid_paths_message(world, make_deal, make_user):
    sold = transfer(make_deal)
    introduction = propose(world)
    with pytest.raises(InvalidStateError) as refused:
        intro.accept_introduction(db.session, world.owner, introduction.id)
    assert refused.value.message == bid_path_refusal(world, make_user)
    assert f"#{sold.id}" in refused.value.message and sold.transferee.name in refused.value.message
    assert fresh(introduction).transferor_accepted_by_id is None and relicense_events(world.achievement) == []

    intro.accept_introduction(db.session, world.owner, introduction.id, confirm_relicense=True)
    stored = fresh(introduction)
    assert stored.transferor_accepted_by_id == world.owner.id and stored.relicense_confirmed_at is not None
    [event] = relicense_events(world.achievement)
    assert event.actor_id == world.owner.id and f"#{sold.id}" in event.comment and f"引荐 #{introduction.id}" in event.comment

    intro.accept_introduction(db.session, world.company, introduction.id)
    stored = fresh(introduction)
    assert stored.status == IntroductionStatus.ACCEPTED
    deal = db.session.get(Deal, stored.deal_id)
    assert (deal.stage, deal.transferee_id, deal.broker_id) == (DealStage.INTENT, world.company.organisation_id,
                                                                world.broker.id)
    assert len(relicense_events(world.achievement)) == 1


def test_the_other_side_accepting_first_waits_for_the_owners_confirmation(world, make_deal):
    transfer(make_deal)
    introduction = propose(world)
    intro.accept_introduction(db.session, world.company, introduction.id, confirm_relicense=True)
    assert fresh(introduction).relicense_confirmed_at is None  # only the owner's side confirms
    with pytest.raises(InvalidStateError):
        intro.accept_introduction(db.session, world.owner, introduction.id, confirm_relicense=False)
    assert fresh(introduction).status == IntroductionStatus.PENDING and fresh(introduction).deal_id is None
    intro.accept_introduction(db.session, world.owner, introduction.id, confirm_relicense=True)
    assert fresh(introduction).status == IntroductionStatus.ACCEPTED and len(relicense_events(world.achievement)) == 1


def test_an_owners_acceptance_given_before_the_transfer_is_asked_again(world, make_deal):
    introduction = propose(world)
    intro.accept_introduction(db.session, world.owner, introduction.id)
    assert fresh(introduction).relicense_confirmed_at is None
    transfer(make_deal)
    intro.accept_introduction(db.session, world.company, introduction.id)
    stored = fresh(introduction)
    assert (stored.status, stored.deal_id, stored.transferor_accepted_by_id) == (IntroductionStatus.PENDING, None, None)
    assert stored.transferee_accepted_by_id == world.company.id
    told = db.session.scalars(select(Notification.body).where(Notification.user_id == world.owner.id,
                                                              Notification.kind == "introduction_accepted")).all()
    assert "须成果方重新接受并确认再次许可" in " ".join(told)
    with pytest.raises(InvalidStateError):
        intro.accept_introduction(db.session, world.owner, introduction.id)
    intro.accept_introduction(db.session, world.owner, introduction.id, confirm_relicense=True)
    assert fresh(introduction).status == IntroductionStatus.ACCEPTED


def test_a_licence_after_a_licence_needs_no_confirmation(world, make_deal):
    make_deal(DealStage.SIGNED, mode="license_exclusive", broker=None)
    introduction = propose(world)
    intro.accept_introduction(db.session, world.owner, introduction.id)
    intro.accept_introduction(db.session, world.company, introduction.id)
    stored = fresh(introduction)
    assert stored.status == IntroductionStatus.ACCEPTED and stored.relicense_confirmed_at is None
    assert relicense_events(world.achievement) == []
