"""Fixtures of the fault trials: a registered deal and a signed pre-order agreement ready to be paid through the API,
and an approved award ready to be paid out."""
from datetime import date

import pytest

from market.awards import services as award_services
from market.awards.models import AwardStatus
from market.deals.models import Deal, DealIntermediary, DealStage
from market.deals.payments import record_deal_payment, register_contract
from market.extensions import db
from market.preorders.models import PreorderAgreement, PreorderDelivery
from market.preorders.payments import register_agreement
from tests.faults.keyed import WAN


@pytest.fixture
def registered_deal(make_user, make_organisation, make_achievement):
    """A ¥12M transfer with three intermediaries sharing a 20% reward, registered; returns (deal, researcher)."""
    researcher = make_user("researcher")
    achievement = make_achievement(owner=researcher)
    buyer = make_organisation("enterprise", region="忻州市")
    brokers = [make_user("broker") for _ in range(3)]
    deal = Deal(title="焦炉煤气制氢工艺转让", achievement_id=achievement.id, transferor_id=achievement.organisation_id,
                transferee_id=buyer.id, stage=DealStage.REGISTERED, agreed_amount_fen=1200 * WAN, reward_rate_bp=2000,
                signed_on=date(2025, 3, 10), registration_number=f"REG-FAULT-{achievement.id}",
                registered_on=date(2025, 3, 10))
    deal.intermediaries = [DealIntermediary(user_id=b.id, share_bp=s, position=i)
                           for i, (b, s) in enumerate(zip(brokers, (5000, 3000, 2000)))]
    db.session.add(deal)
    db.session.flush()
    register_contract(db.session, award_services.lock_books(db.session), db.session.get(Deal, deal.id), researcher)
    db.session.commit()
    return deal, researcher


@pytest.fixture
def signed_agreement(make_organisation, make_user):
    """A resident seller's ¥150M pre-order agreement, delivered and accepted; returns (agreement, seller's user)."""
    seller = make_organisation("enterprise", valley_id="taiyuan", resident_since=date(2024, 3, 1))
    buyer = make_organisation("enterprise")
    seller_user = make_user("enterprise", organisation=seller)
    agreement = PreorderAgreement(number="YG-FAULT-001", buyer_id=buyer.id, seller_id=seller.id, product="储氢瓶",
                                  quantity=100, unit_price_fen=150 * WAN * 100, value_fen=15000 * WAN,
                                  signed_on=date(2024, 10, 15), accepted_fen=15000 * WAN, created_by_id=seller_user.id)
    db.session.add(agreement)
    db.session.flush()
    db.session.add(PreorderDelivery(agreement_id=agreement.id, delivered_on=date(2025, 1, 10), quantity=100,
                                    amount_fen=15000 * WAN, accepted_on=date(2025, 1, 20),
                                    recorded_by_id=seller_user.id))
    register_agreement(db.session, award_services.lock_books(db.session), db.session.get(PreorderAgreement, agreement.id),
                       seller_user)
    db.session.commit()
    return agreement, seller_user


@pytest.fixture
def approved_award(registered_deal, make_user):
    """A paid deal's first payable award, approved by an admin (with a second factor); returns (award id, admin)."""
    deal, researcher = registered_deal
    admin = make_user("admin")
    _, awards = record_deal_payment(db.session, researcher, deal.id, amount_fen=600 * WAN, paid_on=date(2025, 4, 30))
    payable = next(award for award in awards if award.status == AwardStatus.PAYABLE and award.granted_fen)
    award_services.approve_award(db.session, admin, payable.id)
    db.session.commit()
    return payable.id, admin
