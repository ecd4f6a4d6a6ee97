"""The agency's service fee (佣金): a term of a deal with a broker (a rate or a fixed amount, and its payer; a change is a
new version of the terms, refused while the notice locks them), marked paid by a member of the paying party, and
listed on the broker's money page."""
from datetime import timedelta

import pytest

from market.deals.fees import broker_fees, fee_due_fen, mark_fee_paid, mark_fee_unpaid, set_fee
from market.deals.models import Deal, DealEvent, DealStage, TermsRole
from market.deals.permissions import missing_terms_seats
from market.deals.recording import today
from market.deals.timeline import timeline_notes
from market.errors import InvalidStateError, PermissionDeniedError, ValidationError
from market.extensions import db
from tests.conftest import WAN


@pytest.fixture
def world(deal_world):
    return deal_world


def fresh(deal: Deal) -> Deal:
    db.session.expire_all()
    return db.session.get(Deal, deal.id)


def test_a_fee_is_a_term_whose_change_voids_the_acceptances(world, make_deal):
    deal = make_deal(DealStage.PRICING)
    version = fresh(deal).terms_version
    assert missing_terms_seats(fresh(deal)) == []
    set_fee(db.session, world.researcher, deal.id, fee_rate_bp=500, fee_payer="transferee")
    stored = fresh(deal)
    assert (stored.fee_rate_bp, stored.fee_fixed_fen, stored.fee_payer) == (500, None, "transferee")
    assert stored.terms_version == version + 1
    assert [seat[0] for seat in missing_terms_seats(stored)] == [TermsRole.TRANSFEREE]
    last = db.session.scalars(db.select(DealEvent).where(DealEvent.deal_id == deal.id).order_by(DealEvent.id.desc())).first()
    assert (last.action, last.note_code, last.note_params["rate_bp"]) == ("fee", "fee", 500)
    assert "5%" in timeline_notes(db.session, [last])[last.id]
    set_fee(db.session, world.buyer, deal.id, fee_rate_bp=500, fee_payer="transferee")  # unchanged: no new version
    assert fresh(deal).terms_version == version + 1


@pytest.mark.parametrize("values, field", [
    ({"fee_rate_bp": 500, "fee_fixed_fen": 10 * WAN, "fee_payer": "transferor"}, "fee_fixed_fen"),
    ({"fee_rate_bp": 500}, "fee_payer"),
    ({"fee_payer": "transferor"}, "fee_payer"),
    ({"fee_rate_bp": 0, "fee_payer": "transferor"}, "fee_rate"),
    ({"fee_rate_bp": 10001, "fee_payer": "transferor"}, "fee_rate"),
    ({"fee_fixed_fen": 0, "fee_payer": "transferor"}, "fee_fixed_fen"),
    ({"fee_fixed_fen": 10 * WAN, "fee_payer": "agent"}, "fee_payer"),
])
def test_a_fee_is_a_rate_or_an_amount_with_its_payer(world, make_deal, values, field):
    deal = make_deal(DealStage.NEGOTIATION)
    version = fresh(deal).terms_version
    with pytest.raises(ValidationError) as refused:
        set_fee(db.session, world.broker, deal.id, **values)
    assert field in refused.value.fields
    assert (fresh(deal).terms_version, fresh(deal).fee_payer) == (version, None)


def test_a_fee_needs_a_broker_and_only_parties_or_the_broker_set_it(world, make_deal):
    deal = make_deal(DealStage.NEGOTIATION, broker=None)
    with pytest.raises(InvalidStateError):
        set_fee(db.session, world.researcher, deal.id, fee_fixed_fen=5 * WAN, fee_payer="transferor")
    other = make_deal(DealStage.NEGOTIATION, buyer=world.outsider)
    with pytest.raises(PermissionDeniedError):
        set_fee(db.session, world.other_broker, other.id, fee_fixed_fen=5 * WAN, fee_payer="transferor")
    assert fresh(other).fee_fixed_fen is None


def test_the_notice_locks_the_fee(world, make_deal):
    deal = make_deal(DealStage.NOTICE)
    with pytest.raises(InvalidStateError) as refused:
        set_fee(db.session, world.broker, deal.id, fee_rate_bp=300, fee_payer="transferor")
    assert "公示后交易条件已锁定" in str(refused.value)


def test_the_amount_due_from_a_rate_is_rounded_down_to_the_fen(world, make_deal):
    deal = make_deal(DealStage.PRICING, agreed_amount_fen=1_000_001)
    set_fee(db.session, world.broker, deal.id, fee_rate_bp=333, fee_payer="transferor")
    assert fee_due_fen(fresh(deal)) == 33_300  # 1,000,001 × 333 / 10000 = 33,300.03
    set_fee(db.session, world.broker, deal.id, fee_fixed_fen=12_345, fee_payer="transferor")
    assert fee_due_fen(fresh(deal)) == 12_345
    set_fee(db.session, world.broker, deal.id)
    assert fee_due_fen(fresh(deal)) is None and fresh(deal).fee_payer is None


def test_a_member_of_the_paying_party_marks_the_fee_paid_once_signed(world, make_deal):
    deal = make_deal(DealStage.PRICING)
    set_fee(db.session, world.researcher, deal.id, fee_rate_bp=500, fee_payer="transferee")
    with pytest.raises(InvalidStateError):  # not signed yet
        mark_fee_paid(db.session, world.buyer, deal.id, amount_fen=5 * WAN, paid_on=today())
    deal = make_deal(DealStage.SIGNED)
    db.session.execute(db.update(Deal).where(Deal.id == deal.id).values(fee_rate_bp=500, fee_payer="transferee"))
    for other in (world.researcher, world.broker, world.admin):
        with pytest.raises(PermissionDeniedError):
            mark_fee_paid(db.session, other, deal.id, amount_fen=5 * WAN, paid_on=today())
    with pytest.raises(ValidationError):
        mark_fee_paid(db.session, world.buyer, deal.id, amount_fen=5 * WAN, paid_on=today() + timedelta(days=1))
    assert [row.is_paid for row in broker_fees(db.session, world.broker) if row.deal.id == deal.id] == [False]
    mark_fee_paid(db.session, world.buyer, deal.id, amount_fen=5 * WAN, paid_on=today())
    stored = fresh(deal)
    assert (stored.fee_paid_fen, stored.fee_paid_on, stored.fee_paid_by_id) == (5 * WAN, today(), world.buyer.id)
    row = next(row for row in broker_fees(db.session, world.broker) if row.deal.id == deal.id)
    assert (row.due_fen, row.paid_fen, row.is_paid) == (5 * WAN, 5 * WAN, True)
    assert broker_fees(db.session, world.other_broker) == []
    mark_fee_unpaid(db.session, world.buyer, deal.id)
    assert fresh(deal).fee_paid_fen is None
    with pytest.raises(InvalidStateError):
        mark_fee_unpaid(db.session, world.buyer, deal.id)
