"""Demo deal flow for the demo site: bids, deals at several stages, a registered (and verified) contract with proceeds
and a paid agency fee, a signing that awaits the buyer's confirmation and a forward pre-order agreement with paid
deliveries, so brokers and admins see awards on their pages (all 示例)."""
import io
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from market.accounts.models import OrganisationKind, Role, User
from market.achievements.models import Achievement
from market.awards import services as award_services
from market.confirmations.evidence import EvidenceUpload
from market.confirmations.table import FactRole
from market.deals.bids import accept_bid, counter_bid, place_bid
from market.deals.brokers import accept_broker_request, ask_to_join_deal, invite_broker
from market.deals.fees import fee_due_fen, mark_fee_paid
from market.deals.models import Deal, DealIntermediary, DealStage, FeePayer
from market.deals.payments import confirm_deal_payment, record_deal_payment, register_contract
from market.deals.pipeline import advance_deal
from market.deals.registrations import record_registration, verify_registration
from market.deals.signing import confirm_signing, record_signing
from market.listings.vocabulary import ListingStatus
from market.preorders.models import PreorderAgreement, PreorderDelivery
from market.preorders.payments import confirm_preorder_payment, record_preorder_payment, register_agreement
from market.timeutil import today_in_china

WAN = 1_000_000  # fen in 10,000 yuan
DEMO_CERTIFICATE_PDF = b"%PDF-1.4\n% demo technology-contract registration certificate\n%%EOF\n"
"""The stand-in certificate of the demo deal's registration (an admin verifies it through the service)."""


def load_demo_deals(session: Session) -> int:
    """Create the demo deal flow once (nothing when any deal exists); returns the number of deals created."""
    if session.scalar(select(func.count()).select_from(Deal)):
        return 0
    enterprises = [u for u in session.scalars(select(User).where(User.role == Role.ENTERPRISE, User.is_demo.is_(True))
                                               .order_by(User.id)) if u.is_approved_member]
    brokers = [u for u in session.scalars(select(User).where(User.role == Role.BROKER, User.is_demo.is_(True))
                                           .order_by(User.id)) if u.organisation and u.organisation.kind == OrganisationKind.AGENCY]
    achievements = [a for a in session.scalars(select(Achievement).where(Achievement.status == ListingStatus.PUBLISHED,
                                                                        Achievement.is_demo.is_(True),
                                                                        Achievement.price_min_fen.is_not(None))
                                                .order_by(Achievement.id))
                    if a.submitter is not None and a.organisation.kind == OrganisationKind.UNIVERSITY]
    if len(enterprises) < 4 or len(brokers) < 3 or len(achievements) < 6:
        return 0
    created = 0
    for index, target in enumerate((DealStage.INTENT, DealStage.NEGOTIATION, DealStage.PRICING)):
        buyer, achievement = enterprises[index + 1], achievements[index]
        bid = place_bid(session, buyer, achievement.id, amount_fen=achievement.price_min_fen,
                        mode=achievement.modes[0].value, message="我们希望尽快开展中试验证，价格可再商议。")
        counter_bid(session, achievement.submitter, bid.id, amount_fen=achievement.price_max_fen or achievement.price_min_fen,
                    mode=achievement.modes[0].value, message="考虑到配套技术服务，报价如上。")
        deal = accept_bid(session, buyer, bid.id, version_number=2)
        for step in (DealStage.NEGOTIATION, DealStage.PRICING)[: [DealStage.INTENT, DealStage.NEGOTIATION,
                                                                  DealStage.PRICING].index(target)]:
            advance_deal(session, buyer, deal.id, step)
        if target == DealStage.NEGOTIATION:
            ask_to_join_deal(session, brokers[1], deal.id)
        created += 1
    open_bid_buyer, open_bid_achievement = enterprises[0], achievements[3]
    place_bid(session, open_bid_buyer, open_bid_achievement.id, amount_fen=open_bid_achievement.price_min_fen,
              mode=open_bid_achievement.modes[0].value, message="请问是否可以独占许可？")
    created += _registered_deal_with_proceeds(session, achievements[4], enterprises[2], brokers[:3])
    created += _signing_awaiting_confirmation(session, achievements[5], enterprises[3])
    _paid_preorder(session, enterprises)
    return created


def _registered_deal_with_proceeds(session: Session, achievement: Achievement, buyer: User, brokers: list[User]) -> int:
    """A contract signed and registered in 2025 with three intermediaries and two proceeds payments; its broker
    joined on the transferor's invitation, recorded the signing, which the buyer confirmed, and the buyer paid the
    agency's 3% fee."""
    deal = Deal(title=achievement.title, achievement_id=achievement.id, transferor_id=achievement.organisation_id,
                transferee_id=buyer.organisation_id, stage=DealStage.NOTICE,
                agreed_amount_fen=achievement.price_max_fen or achievement.price_min_fen, reward_rate_bp=1500,
                inventor_share_bp=7000, fee_rate_bp=300, fee_payer=FeePayer.TRANSFEREE.value,
                notice_starts_on=date(2025, 5, 20), notice_ends_on=date(2025, 6, 3))
    deal.intermediaries = [DealIntermediary(user_id=broker.id, share_bp=share, position=position)
                           for position, (broker, share) in enumerate(zip(brokers, (5000, 3000, 2000)))]
    session.add(deal)
    session.flush()
    invitation = invite_broker(session, achievement.submitter, deal.id, broker_id=brokers[0].id)
    accept_broker_request(session, brokers[0], deal.id, invitation.id)
    signing = record_signing(session, brokers[0], deal.id, signed_on=date(2025, 6, 18),
                             agreed_amount_fen=deal.agreed_amount_fen)
    confirm_signing(session, buyer, signing.id)
    deal = session.get(Deal, deal.id)
    mark_fee_paid(session, buyer, deal.id, amount_fen=fee_due_fen(deal), paid_on=date(2025, 6, 20))
    deal.registration_number, deal.registered_on = "2025140100000186", date(2025, 6, 25)
    deal.advance_to(DealStage.REGISTERED)
    snapshot = award_services.lock_books(session)
    register_contract(session, snapshot, deal, achievement.submitter)
    certificate = EvidenceUpload("技术合同登记证明（示例）.pdf", io.BytesIO(DEMO_CERTIFICATE_PDF),
                                 current_app.config["UPLOAD_FOLDER"])
    registration = record_registration(session, deal, achievement.submitter, FactRole.TRANSFEROR,
                                       number=deal.registration_number, day=deal.registered_on, certificate=certificate)
    admin = session.scalar(select(User).where(User.role == Role.ADMIN).order_by(User.id))
    if admin is not None:
        verify_registration(session, admin, registration.id)
    session.flush()
    half = deal.agreed_amount_fen // 2
    for amount_fen, paid_on in ((half, date(2025, 8, 15)), (half // 2, date(2026, 3, 10))):
        payment = record_deal_payment(session, achievement.submitter, deal.id, amount_fen=amount_fen, paid_on=paid_on)
        confirm_deal_payment(session, buyer, payment.id)
    return 1


def _signing_awaiting_confirmation(session: Session, achievement: Achievement, buyer: User) -> int:
    """A deal whose notice ran out two days ago: its transferor recorded the signing, which awaits the buyer's
    confirmation."""
    notice_ends_on = today_in_china() - timedelta(days=2)
    deal = Deal(title=achievement.title, achievement_id=achievement.id, transferor_id=achievement.organisation_id,
                transferee_id=buyer.organisation_id, stage=DealStage.NOTICE, mode=achievement.modes[0].value,
                agreed_amount_fen=achievement.price_min_fen, inventor_share_bp=7000,
                notice_starts_on=notice_ends_on - timedelta(days=14), notice_ends_on=notice_ends_on)
    session.add(deal)
    session.flush()
    record_signing(session, achievement.submitter, deal.id, signed_on=notice_ends_on + timedelta(days=1),
                   agreed_amount_fen=deal.agreed_amount_fen)
    return 1


def _paid_preorder(session: Session, enterprises: list[User]) -> None:
    """A resident startup's agreement with an unrelated buyer: deliveries accepted and partly paid."""
    sellers = [u for u in enterprises if u.organisation.resident_since and u.organisation.resident_since < date(2025, 1, 1)]
    if not sellers:
        return
    seller = sellers[0]
    buyer = next(u for u in enterprises if u.organisation_id != seller.organisation_id and not u.organisation.valley_id) \
        if any(not u.organisation.valley_id for u in enterprises) else next(u for u in enterprises if u.organisation_id != seller.organisation_id)
    agreement = PreorderAgreement(number="YG-2025-0007", buyer_id=buyer.organisation_id, seller_id=seller.organisation_id,
                                  product="车载高压储氢气瓶（IV型，70MPa）", quantity=400, unit="只",
                                  unit_price_fen=5 * WAN, value_fen=2000 * WAN,
                                  delivery_schedule="2025年分两批交付：第一批 200 只（6 月），第二批 200 只（11 月）。",
                                  signed_on=date(2025, 3, 20), created_by_id=seller.id, accepted_fen=1000 * WAN)
    session.add(agreement)
    session.flush()
    session.add(PreorderDelivery(agreement_id=agreement.id, delivered_on=date(2025, 6, 10), quantity=200,
                                 amount_fen=1000 * WAN, accepted_on=date(2025, 6, 20), accepted_by_id=buyer.id,
                                 recorded_by_id=seller.id))
    snapshot = award_services.lock_books(session)
    register_agreement(session, snapshot, session.get(PreorderAgreement, agreement.id), seller)
    session.flush()
    payment = record_preorder_payment(session, buyer, agreement.id, amount_fen=800 * WAN, paid_on=date(2025, 7, 31))
    confirm_preorder_payment(session, seller, payment.id)


