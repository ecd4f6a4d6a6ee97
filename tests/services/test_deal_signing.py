"""Signing is recorded by the transferor or the deal's broker and takes effect only when the transferee confirms it:
nobody confirms their own record, the broker and the transferor never confirm, the transferee may dispute with a
reason, the recorder may withdraw and record again."""
import pytest
from sqlalchemy import func, select

from market.confirmations.models import FactStatus
from market.deals.models import Deal, DealEvent, DealSigning, DealStage
from market.deals.permissions import permissions
from market.deals.pipeline import terminate_deal, withdraw_notice
from market.deals.recording import today
from market.deals.signing import (
    confirm_signing,
    decide_signing,
    dispute_signing,
    record_signing,
    refuse_signing,
    signing_choices,
    withdraw_signing,
)
from market.errors import InvalidStateError, NotFoundError, PermissionDeniedError, ValidationError
from market.extensions import db
from market.notifications.models import Notification
from tests.conftest import WAN


@pytest.fixture
def world(deal_world):
    return deal_world


def fresh(deal: Deal) -> Deal:
    db.session.expire_all()
    return db.session.get(Deal, deal.id)


def record(actor, deal: Deal, **changes) -> DealSigning:
    values = {"signed_on": today(), "agreed_amount_fen": fresh(deal).agreed_amount_fen, **changes}
    return record_signing(db.session, actor, deal.id, **values)


def actions(deal: Deal) -> list[str]:
    return list(db.session.scalars(select(DealEvent.action).where(DealEvent.deal_id == deal.id).order_by(DealEvent.id)))


def test_the_stage_moves_only_when_the_transferee_confirms(world, make_deal):
    deal = make_deal(DealStage.NOTICE)
    signing = record(world.researcher, deal)
    stored = fresh(deal)
    assert (stored.stage, stored.signed_on, signing.status, signing.recorded_as) == (
        DealStage.NOTICE, None, FactStatus.RECORDED, "transferor")
    assert actions(deal)[-1] == "signing_recorded"
    assert db.session.scalar(select(Notification.id).where(Notification.user_id == world.buyer.id,
                                                           Notification.kind == "deal_signing_awaits_confirmation"))
    confirm_signing(db.session, world.buyer, signing.id)
    stored = fresh(deal)
    assert (stored.stage, stored.signed_on, stored.agreed_amount_fen) == (DealStage.SIGNED, today(), 100 * WAN)
    assert db.session.get(DealSigning, signing.id).status == FactStatus.CONFIRMED
    assert actions(deal)[-2:] == ["signing_recorded", "signed"]
    told = set(db.session.scalars(select(Notification.user_id).where(Notification.kind == "deal_signed")))
    assert {world.researcher.id, world.broker.id} <= told and world.buyer.id not in told


def test_the_recorder_cannot_confirm_his_own_signing(world, make_deal):
    deal = make_deal(DealStage.NOTICE)
    signing = record(world.researcher, deal)
    with pytest.raises(PermissionDeniedError) as refused:
        confirm_signing(db.session, world.researcher, signing.id)
    assert "不能确认自己登记的记录" in str(refused.value)
    assert fresh(deal).stage == DealStage.NOTICE


def test_the_broker_cannot_confirm_a_signing_and_the_transferor_cannot_confirm_the_brokers(world, make_deal):
    deal = make_deal(DealStage.NOTICE)
    by_transferor = record(world.researcher, deal)
    with pytest.raises(PermissionDeniedError) as refused:
        confirm_signing(db.session, world.broker, by_transferor.id)
    assert "须由成果受让方确认" in str(refused.value)
    withdraw_signing(db.session, world.researcher, by_transferor.id)
    by_broker = record(world.broker, deal)
    assert by_broker.recorded_as == "broker"
    with pytest.raises(PermissionDeniedError):
        confirm_signing(db.session, world.researcher, by_broker.id)
    with pytest.raises(PermissionDeniedError):
        confirm_signing(db.session, world.admin, by_broker.id)  # an admin settles disputes only
    assert fresh(deal).stage == DealStage.NOTICE
    confirm_signing(db.session, world.buyer, by_broker.id)
    assert fresh(deal).stage == DealStage.SIGNED


@pytest.mark.parametrize("role", ["buyer", "other_broker", "admin"])
def test_only_the_transferor_or_the_deals_broker_records_a_signing(world, make_deal, role):
    deal = make_deal(DealStage.NOTICE)
    with pytest.raises(PermissionDeniedError):
        record(getattr(world, role), deal)
    assert db.session.scalar(select(func.count()).select_from(DealSigning)) == 0


def test_an_outsider_sees_no_signing(world, make_deal):
    deal = make_deal(DealStage.NOTICE)
    signing = record(world.researcher, deal)
    with pytest.raises(NotFoundError):
        confirm_signing(db.session, world.outsider, signing.id)


def test_a_second_signing_waits_until_the_first_is_decided(world, make_deal):
    deal = make_deal(DealStage.NOTICE)
    record(world.researcher, deal)
    assert not permissions(world.broker, fresh(deal)).sign
    with pytest.raises(InvalidStateError):
        record(world.broker, deal)


def test_the_checks_of_the_signing_stay(world, make_deal):
    deal = make_deal(DealStage.NOTICE)
    with pytest.raises(ValidationError) as refused:
        record(world.researcher, deal, agreed_amount_fen=99 * WAN, signed_on=fresh(deal).notice_ends_on)
    assert set(refused.value.fields) == {"signed_on", "agreed_amount_fen"}
    assert db.session.scalar(select(func.count()).select_from(DealSigning)) == 0


def test_the_transferee_disputes_with_a_reason_that_everyone_involved_is_told(world, make_deal):
    deal = make_deal(DealStage.NOTICE)
    signing = record(world.researcher, deal)
    with pytest.raises(ValidationError):
        dispute_signing(db.session, world.buyer, signing.id, reason="  ")
    with pytest.raises(PermissionDeniedError):
        dispute_signing(db.session, world.broker, signing.id, reason="日期不对")
    dispute_signing(db.session, world.buyer, signing.id, reason="合同签订日期为次日")
    stored = db.session.get(DealSigning, signing.id)
    assert (stored.status, stored.dispute_reason) == (FactStatus.DISPUTED, "合同签订日期为次日")
    event = db.session.scalars(select(DealEvent).where(DealEvent.deal_id == deal.id).order_by(DealEvent.id.desc())).first()
    assert (event.action, event.note) == ("signing_disputed", "合同签订日期为次日")
    told = set(db.session.scalars(select(Notification.user_id).where(Notification.kind == "deal_signing_disputed")))
    assert {world.researcher.id, world.broker.id} <= told
    with pytest.raises(PermissionDeniedError):  # a disputed signing is settled by an admin or withdrawn
        confirm_signing(db.session, world.buyer, signing.id)
    assert signing_choices(world.researcher, stored).withdraw and not signing_choices(world.buyer, stored).any
    assert fresh(deal).stage == DealStage.NOTICE


def test_the_recorder_withdraws_and_records_again(world, make_deal):
    deal = make_deal(DealStage.NOTICE)
    first = record(world.researcher, deal)
    dispute_signing(db.session, world.buyer, first.id, reason="日期不对")
    with pytest.raises(PermissionDeniedError):
        withdraw_signing(db.session, world.broker, first.id)
    withdraw_signing(db.session, world.researcher, first.id)
    with pytest.raises(InvalidStateError):
        confirm_signing(db.session, world.buyer, first.id)
    second = record(world.researcher, deal)
    decide_signing(db.session, world.buyer, second.id, "confirm")
    assert fresh(deal).stage == DealStage.SIGNED
    assert [s.status for s in db.session.scalars(select(DealSigning).order_by(DealSigning.id))] == [
        FactStatus.WITHDRAWN, FactStatus.CONFIRMED]


def test_an_admin_settles_a_dispute(world, make_deal):
    deal = make_deal(DealStage.NOTICE)
    signing = record(world.broker, deal)
    dispute_signing(db.session, world.buyer, signing.id, reason="金额不符")
    with pytest.raises(PermissionDeniedError):
        refuse_signing(db.session, world.researcher, signing.id, reason="无")
    refuse_signing(db.session, world.admin, signing.id, reason="受让方说明属实")
    assert db.session.get(DealSigning, signing.id).status == FactStatus.REFUSED
    assert fresh(deal).stage == DealStage.NOTICE
    again = record(world.broker, deal)
    dispute_signing(db.session, world.buyer, again.id, reason="再核对")
    confirm_signing(db.session, world.admin, again.id)
    assert fresh(deal).stage == DealStage.SIGNED


def test_withdrawing_the_notice_or_ending_the_deal_withdraws_an_open_signing(world, make_deal):
    deal = make_deal(DealStage.NOTICE)
    signing = record(world.researcher, deal)
    withdraw_notice(db.session, world.buyer, deal.id, reason="价格需重新协商")
    stored = db.session.get(DealSigning, signing.id)
    assert (stored.status, stored.decision_note) == (FactStatus.WITHDRAWN, "价格需重新协商")
    with pytest.raises(InvalidStateError):
        confirm_signing(db.session, world.buyer, signing.id)
    other = make_deal(DealStage.NOTICE, achievement=None, buyer=world.outsider)
    pending = record(world.researcher, other)
    terminate_deal(db.session, world.outsider, other.id, reason="资金未落实")
    assert db.session.get(DealSigning, pending.id).status == FactStatus.WITHDRAWN


def test_a_named_intermediary_of_the_transferee_cannot_confirm_what_earns_him(world, make_deal, make_user):
    insider = make_user("broker", organisation=world.buyer.organisation)
    deal = make_deal(DealStage.NOTICE, intermediaries=[(insider, 10000)], reward_rate_bp=1000)
    signing = record(world.researcher, deal)
    with pytest.raises(PermissionDeniedError):
        confirm_signing(db.session, insider, signing.id)


def test_an_unknown_decision_is_not_found(world, make_deal):
    deal = make_deal(DealStage.NOTICE)
    signing = record(world.researcher, deal)
    with pytest.raises(NotFoundError):
        decide_signing(db.session, world.buyer, signing.id, "approve")
