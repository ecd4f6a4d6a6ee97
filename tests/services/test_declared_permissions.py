"""Each visibility rule is declared once: the SQL conditions lists use agree with the predicates pages and the API use."""
from sqlalchemy import select

from market.accounts.models import ApprovalStatus
from market.awards.permissions import may_read_awards_of, recipient_keys_of
from market.deals.bids import place_bid
from market.deals.models import Bid, Deal, DealStage, DemandResponse
from market.deals.permissions import (
    can_view_bid,
    can_view_deal,
    can_view_response,
    visible_bids,
    visible_deals,
    visible_responses,
)
from market.deals.responses import respond_to_demand
from market.extensions import db
from market.preorders.models import PreorderAgreement
from market.preorders.permissions import may_view_agreement, visible_agreements

WAN = 1_000_000


def _people(deal_world, make_user):
    """Everyone whose view of the books differs: parties, brokers, an intermediary, a pending member, outsiders."""
    pending = make_user("enterprise", organisation=deal_world.buyer.organisation,
                        membership_status=ApprovalStatus.PENDING)
    pending_broker = make_user("broker", membership_status=ApprovalStatus.PENDING)
    intermediary = make_user("broker")
    return [deal_world.researcher, deal_world.buyer, deal_world.broker, deal_world.other_broker, deal_world.admin,
            deal_world.outsider, pending, pending_broker, intermediary], intermediary


def _agree(model, predicate, condition, people) -> None:
    rows = list(db.session.scalars(select(model).order_by(model.id)))
    assert rows, f"the world holds no {model.__name__}"
    for person in people:
        by_predicate = [row.id for row in rows if predicate(person, row)]
        by_sql = list(db.session.scalars(select(model.id).where(condition(person)).order_by(model.id)))
        assert by_sql == by_predicate, (model.__name__, person.role, person.email)


def test_list_conditions_agree_with_the_predicates(deal_world, make_user, make_deal, make_demand, make_agreement):
    people, intermediary = _people(deal_world, make_user)
    make_deal(DealStage.PRICING, intermediaries=[(intermediary, 10_000)], reward_rate_bp=500)
    make_deal(DealStage.INTENT, broker=None, buyer=deal_world.outsider)
    place_bid(db.session, deal_world.outsider, deal_world.achievement.id, amount_fen=80 * WAN, mode="license_exclusive")
    demand = make_demand(owner=deal_world.buyer)
    respond_to_demand(db.session, deal_world.researcher, demand.id, proposal="我们的成果可以解决该需求中的关键问题。")
    make_agreement(buyer=deal_world.buyer)
    intermediary.membership_status = ApprovalStatus.PENDING  # no longer a platform broker, still named on a deal
    db.session.flush()

    _agree(Deal, can_view_deal, visible_deals, people)
    _agree(Bid, can_view_bid, visible_bids, people)
    _agree(DemandResponse, can_view_response, visible_responses, people)
    _agree(PreorderAgreement, may_view_agreement, visible_agreements, people)


def test_award_readers_are_the_person_and_approved_members_of_the_recipient(deal_world, make_user):
    researcher, admin = deal_world.researcher, deal_world.admin
    pending = make_user("researcher", organisation=researcher.organisation, membership_status=ApprovalStatus.PENDING)
    university = f"org-{researcher.organisation_id}"
    assert recipient_keys_of(researcher) == [f"user-{researcher.id}", university]
    assert recipient_keys_of(pending) == [f"user-{pending.id}"]
    assert may_read_awards_of(researcher, university) and not may_read_awards_of(pending, university)
    assert may_read_awards_of(admin, university) and not may_read_awards_of(deal_world.buyer, university)
