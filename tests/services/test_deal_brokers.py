"""A broker joins a deal only by consent: asked by a broker and accepted by both parties, invited by a party and
accepted by the broker, proposed by an admin and accepted by all three; removal with a reason."""
import pytest
from sqlalchemy import select

from market.accounts.models import User
from market.deals.brokers import (
    accept_broker_request,
    ask_to_join_deal,
    decline_broker_request,
    invite_broker,
    propose_broker,
    remove_broker,
    withdraw_broker_request,
)
from market.deals.models import BrokerRequestStatus, Deal, DealBrokerRequest, DealEvent
from market.deals.permissions import deal_roles, permissions
from market.deals.pipeline import update_terms
from market.deals.timeline import timeline_notes
from market.errors import InvalidStateError, NotFoundError, PermissionDeniedError, ValidationError
from market.extensions import db
from market.notifications.models import Notification
from tests.services.test_money_races import RACE_CONFIG, THREADS, _race

RACE_ROUNDS = 2


@pytest.fixture
def world(deal_world):
    """The parties of tests/conftest.py `deal_world`: researcher (transferor), buyer (transferee), two brokers."""
    return deal_world


def fresh(deal: Deal) -> Deal:
    db.session.expire_all()
    return db.session.get(Deal, deal.id)


def status_of(request: DealBrokerRequest) -> str:
    db.session.expire_all()
    return db.session.get(DealBrokerRequest, request.id).status


def notified(user, kind: str) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id,
                                                              Notification.kind == kind)))


def timeline(deal: Deal, action: str) -> list[str]:
    """The deal's timeline notes of one action as shown (worded from their codes)."""
    events = list(db.session.scalars(select(DealEvent).where(DealEvent.deal_id == deal.id, DealEvent.action == action)
                                     .order_by(DealEvent.id)))
    notes = timeline_notes(db.session, events)
    return [notes[event.id] for event in events]


# ---------------------------------------------------------------- a broker asks


def test_an_unrelated_broker_who_asks_gets_nothing_until_both_parties_accept(world, make_deal):
    deal = make_deal(broker=None)
    request = ask_to_join_deal(db.session, world.other_broker, deal.id)
    assert fresh(deal).broker_id is None
    assert "broker" not in deal_roles(world.other_broker, fresh(deal))
    with pytest.raises(PermissionDeniedError):
        update_terms(db.session, world.other_broker, deal.id, agreed_amount_fen=1, mode="assignment")
    assert notified(world.researcher, "deal_broker_request") and notified(world.buyer, "deal_broker_request")

    accept_broker_request(db.session, world.researcher, deal.id, request.id)
    assert fresh(deal).broker_id is None
    assert status_of(request) == BrokerRequestStatus.PENDING

    accept_broker_request(db.session, world.buyer, deal.id, request.id)
    assert fresh(deal).broker_id == world.other_broker.id
    assert status_of(request) == BrokerRequestStatus.ACCEPTED
    assert "broker" in deal_roles(world.other_broker, fresh(deal))
    assert timeline(deal, "broker") == [f"{world.other_broker.name} 成为项目经纪人"]


def test_one_partys_acceptance_is_not_enough_even_twice(world, make_deal, make_user):
    deal = make_deal(broker=None)
    colleague = make_user("researcher", organisation=world.researcher.organisation)
    request = ask_to_join_deal(db.session, world.other_broker, deal.id)
    accept_broker_request(db.session, world.researcher, deal.id, request.id)
    for person in (world.researcher, colleague):
        with pytest.raises(PermissionDeniedError, match="不需要您确认"):
            accept_broker_request(db.session, person, deal.id, request.id)
    stored = db.session.get(DealBrokerRequest, request.id)
    assert (stored.transferor_accepted_by_id, stored.transferee_accepted_by_id) == (world.researcher.id, None)
    assert fresh(deal).broker_id is None


def test_a_broker_cannot_accept_his_own_ask(world, make_deal):
    deal = make_deal(broker=None)
    request = ask_to_join_deal(db.session, world.other_broker, deal.id)
    with pytest.raises(PermissionDeniedError, match="不能答复自己发起的"):
        accept_broker_request(db.session, world.other_broker, deal.id, request.id)
    with pytest.raises(PermissionDeniedError):
        decline_broker_request(db.session, world.other_broker, deal.id, request.id)
    assert fresh(deal).broker_id is None and status_of(request) == BrokerRequestStatus.PENDING


def test_a_declined_request_leaves_the_deal_without_a_broker(world, make_deal):
    deal = make_deal(broker=None)
    request = ask_to_join_deal(db.session, world.other_broker, deal.id)
    accept_broker_request(db.session, world.researcher, deal.id, request.id)
    decline_broker_request(db.session, world.buyer, deal.id, request.id, reason="我方已有合作的技术转移机构")
    assert status_of(request) == BrokerRequestStatus.DECLINED
    with pytest.raises(InvalidStateError):
        accept_broker_request(db.session, world.buyer, deal.id, request.id)
    assert fresh(deal).broker_id is None
    assert any("我方已有合作的技术转移机构" in n.body for n in notified(world.other_broker, "deal_broker_request_closed"))


def test_a_broker_asks_only_once_and_never_for_a_deal_with_a_broker(world, make_deal):
    deal = make_deal(broker=None)
    ask_to_join_deal(db.session, world.other_broker, deal.id)
    with pytest.raises(InvalidStateError):
        ask_to_join_deal(db.session, world.other_broker, deal.id)
    assert not permissions(world.other_broker, fresh(deal)).ask_broker
    brokered = make_deal()
    with pytest.raises(InvalidStateError):
        ask_to_join_deal(db.session, world.other_broker, brokered.id)


def test_a_broker_who_is_a_member_of_a_party_cannot_ask_or_be_invited(world, make_deal, make_user):
    deal = make_deal(broker=None)
    inside = make_user("broker", organisation=world.buyer.organisation)
    with pytest.raises(PermissionDeniedError):
        ask_to_join_deal(db.session, inside, deal.id)
    with pytest.raises(ValidationError) as error:
        invite_broker(db.session, world.researcher, deal.id, broker_id=inside.id)
    assert error.value.fields == {"broker": "交易一方的成员不能担任本项目的经纪人。"}
    assert db.session.scalar(select(DealBrokerRequest.id)) is None


def test_people_who_are_not_brokers_cannot_ask(world, make_deal):
    deal = make_deal(broker=None)
    for person in (world.researcher, world.admin):
        with pytest.raises(PermissionDeniedError):
            ask_to_join_deal(db.session, person, deal.id)
    with pytest.raises(NotFoundError):
        ask_to_join_deal(db.session, world.outsider, deal.id)


# ---------------------------------------------------------------- a party invites


def test_the_invited_broker_accepts_and_becomes_the_broker(world, make_deal):
    deal = make_deal(broker=None)
    invitation = invite_broker(db.session, world.researcher, deal.id, broker_id=str(world.other_broker.id))
    assert fresh(deal).broker_id is None
    assert notified(world.other_broker, "deal_broker_request")
    with pytest.raises(PermissionDeniedError):
        accept_broker_request(db.session, world.buyer, deal.id, invitation.id)
    with pytest.raises(PermissionDeniedError, match="不能答复自己发起的"):
        accept_broker_request(db.session, world.researcher, deal.id, invitation.id)
    accept_broker_request(db.session, world.other_broker, deal.id, invitation.id)
    assert fresh(deal).broker_id == world.other_broker.id


def test_an_invited_broker_who_declines_leaves_the_deal_without_a_broker(world, make_deal):
    deal = make_deal(broker=None)
    invitation = invite_broker(db.session, world.buyer, deal.id, broker_id=world.other_broker.id)
    decline_broker_request(db.session, world.other_broker, deal.id, invitation.id, reason="")
    assert status_of(invitation) == BrokerRequestStatus.DECLINED and fresh(deal).broker_id is None


def test_only_the_parties_invite(world, make_deal):
    deal = make_deal(broker=None)
    for person in (world.broker, world.admin):
        with pytest.raises(PermissionDeniedError):
            invite_broker(db.session, person, deal.id, broker_id=world.other_broker.id)
    with pytest.raises(NotFoundError):
        invite_broker(db.session, world.outsider, deal.id, broker_id=world.other_broker.id)


@pytest.mark.parametrize("broker, message", [
    ("", "请选择技术经理人。"), (None, "请选择技术经理人。"), ("abc", "请选择平台上已审核的技术经理人。"),
    ("１", "请选择平台上已审核的技术经理人。"), ("RESEARCHER", "请选择平台上已审核的技术经理人。"),
    (99_999_999, "请选择平台上已审核的技术经理人。"), ("SAME", "该技术经理人已有待确认的邀请或申请。"),
])
def test_a_bad_invitation_is_refused_with_its_message(world, make_deal, broker, message):
    deal = make_deal(broker=None)
    if broker == "SAME":
        ask_to_join_deal(db.session, world.other_broker, deal.id)
        broker = world.other_broker.id
    broker = world.researcher.id if broker == "RESEARCHER" else broker
    before = db.session.scalar(select(db.func.count()).select_from(DealBrokerRequest))
    with pytest.raises(ValidationError) as error:
        invite_broker(db.session, world.buyer, deal.id, broker_id=broker)
    assert error.value.fields == {"broker": message}
    assert db.session.scalar(select(db.func.count()).select_from(DealBrokerRequest)) == before


def test_accepting_one_request_closes_the_others(world, make_deal):
    deal = make_deal(broker=None)
    ask = ask_to_join_deal(db.session, world.other_broker, deal.id)
    invitation = invite_broker(db.session, world.researcher, deal.id, broker_id=world.broker.id)
    accept_broker_request(db.session, world.researcher, deal.id, ask.id)
    accept_broker_request(db.session, world.broker, deal.id, invitation.id)
    assert fresh(deal).broker_id == world.broker.id
    assert status_of(ask) == BrokerRequestStatus.SUPERSEDED
    with pytest.raises(InvalidStateError):
        accept_broker_request(db.session, world.buyer, deal.id, ask.id)
    with pytest.raises(InvalidStateError):
        invite_broker(db.session, world.buyer, deal.id, broker_id=world.other_broker.id)
    assert fresh(deal).broker_id == world.broker.id


def test_the_initiator_withdraws_and_nobody_else(world, make_deal):
    deal = make_deal(broker=None)
    invitation = invite_broker(db.session, world.researcher, deal.id, broker_id=world.other_broker.id)
    for person in (world.buyer, world.other_broker):
        with pytest.raises(PermissionDeniedError):
            withdraw_broker_request(db.session, person, deal.id, invitation.id)
    withdraw_broker_request(db.session, world.researcher, deal.id, invitation.id, reason="双方决定自行洽谈")
    assert status_of(invitation) == BrokerRequestStatus.WITHDRAWN
    with pytest.raises(InvalidStateError):
        accept_broker_request(db.session, world.other_broker, deal.id, invitation.id)
    assert fresh(deal).broker_id is None


def test_a_request_of_another_deal_is_not_found(world, make_deal):
    deal, other = make_deal(broker=None), make_deal(broker=None)
    request = ask_to_join_deal(db.session, world.other_broker, deal.id)
    with pytest.raises(NotFoundError):
        accept_broker_request(db.session, world.buyer, other.id, request.id)


# ---------------------------------------------------------------- an admin proposes


def test_an_admin_proposal_needs_the_broker_and_both_parties(world, make_deal):
    deal = make_deal(broker=None)
    with pytest.raises(PermissionDeniedError):
        propose_broker(db.session, world.researcher, deal.id, broker_id=world.other_broker.id)
    proposal = propose_broker(db.session, world.admin, deal.id, broker_id=world.other_broker.id)
    with pytest.raises(PermissionDeniedError):
        accept_broker_request(db.session, world.admin, deal.id, proposal.id)
    accept_broker_request(db.session, world.other_broker, deal.id, proposal.id)
    accept_broker_request(db.session, world.researcher, deal.id, proposal.id)
    assert fresh(deal).broker_id is None
    accept_broker_request(db.session, world.buyer, deal.id, proposal.id)
    assert fresh(deal).broker_id == world.other_broker.id


def test_a_party_declining_an_admin_proposal_tells_the_admin(world, make_deal):
    deal = make_deal(broker=None)
    proposal = propose_broker(db.session, world.admin, deal.id, broker_id=world.other_broker.id)
    accept_broker_request(db.session, world.other_broker, deal.id, proposal.id)
    decline_broker_request(db.session, world.researcher, deal.id, proposal.id, reason="不需要经纪服务")
    assert status_of(proposal) == BrokerRequestStatus.DECLINED and fresh(deal).broker_id is None
    assert any("不需要经纪服务" in n.body for n in notified(world.admin, "deal_broker_request_closed"))


# ---------------------------------------------------------------- removal


def test_a_party_removes_the_broker_with_a_reason_and_the_broker_is_told(world, make_deal):
    deal = make_deal()
    with pytest.raises(ValidationError) as error:
        remove_broker(db.session, world.buyer, deal.id, reason="  ")
    assert error.value.fields == {"reason": "请填写移除原因。"}
    for person in (world.broker, world.other_broker):
        with pytest.raises(PermissionDeniedError):
            remove_broker(db.session, person, deal.id, reason="想换人")
    remove_broker(db.session, world.buyer, deal.id, reason="经纪人长期未跟进")
    assert fresh(deal).broker_id is None
    assert [n.body for n in notified(world.broker, "deal_broker_removed")] == [
        f"移除项目经纪人 {world.broker.name}：经纪人长期未跟进"]
    assert db.session.scalar(select(DealBrokerRequest.status).where(DealBrokerRequest.deal_id == deal.id)) == "removed"
    with pytest.raises(InvalidStateError):
        remove_broker(db.session, world.admin, deal.id, reason="再次移除")


def test_an_admin_removes_a_broker_who_joined_before_requests_existed(world, make_deal):
    deal = make_deal(broker=None)
    db.session.execute(db.update(Deal).where(Deal.id == deal.id).values(broker_id=world.other_broker.id))
    remove_broker(db.session, world.admin, deal.id, reason="核实后该经纪人未提供服务")
    assert fresh(deal).broker_id is None
    assert timeline(deal, "broker")[-1] == f"移除项目经纪人 {world.other_broker.name}：核实后该经纪人未提供服务"


# ---------------------------------------------------------------- answers arriving at once


@pytest.mark.parametrize("app", [RACE_CONFIG], indirect=True)
def test_parallel_acceptances_seat_exactly_one_broker(app, world, make_deal, make_user):
    brokers = [make_user("broker") for _ in range(THREADS)]
    for _round in range(RACE_ROUNDS):
        deal = make_deal(broker=None)
        invitations = [invite_broker(db.session, world.researcher, deal.id, broker_id=broker.id).id
                       for broker in brokers]
        db.session.commit()

        def accept(index: int, deal_id=deal.id, invitations=invitations):
            accept_broker_request(db.session, db.session.get(User, brokers[index].id), deal_id, invitations[index])

        outcomes = _race(app, accept)
        assert outcomes.count("ok") == 1, outcomes
        assert all(o.startswith("refused") for o in outcomes if o != "ok"), outcomes
        winner = brokers[outcomes.index("ok")]
        assert fresh(deal).broker_id == winner.id
        statuses = db.session.scalars(select(DealBrokerRequest.status).where(DealBrokerRequest.deal_id == deal.id))
        assert sorted(statuses) == ["accepted"] + ["superseded"] * (THREADS - 1)


@pytest.mark.parametrize("app", [RACE_CONFIG], indirect=True)
def test_both_parties_accepting_at_once_seat_the_broker(app, world, make_deal):
    parties = (world.researcher.id, world.buyer.id)
    for _round in range(RACE_ROUNDS):
        deal = make_deal(broker=None)
        request_id = ask_to_join_deal(db.session, world.other_broker, deal.id).id
        db.session.commit()

        def accept(index: int, deal_id=deal.id, request_id=request_id):
            accept_broker_request(db.session, db.session.get(User, parties[index % 2]), deal_id, request_id)

        outcomes = _race(app, accept)
        assert outcomes.count("ok") == 2, outcomes
        assert all(o.startswith("refused") for o in outcomes if o != "ok"), outcomes
        assert fresh(deal).broker_id == world.other_broker.id
        assert status_of(db.session.get(DealBrokerRequest, request_id)) == BrokerRequestStatus.ACCEPTED
