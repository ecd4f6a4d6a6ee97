"""Demo deal flow for the demo site, told through the deal services by the people who act in each step: bids, deals
at several stages (one whose terms await the buyer, one whose signing awaits the buyer's confirmation), a contract
with three intermediaries taken through terms, notice, signing, a paid agency fee, a verified registration and
confirmed proceeds, broker introductions (demo_introductions), awards approved, paid and reversed by the demo admin,
and a forward pre-order agreement the seller recorded and the buyer confirmed, with paid deliveries (all 示例)."""
import io
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from market.accounts.models import OrganisationKind, Role, User
from market.accounts.twofactor import is_second_factor_exempt
from market.achievements.models import Achievement
from market.awards import services as award_services
from market.awards.models import Award
from market.deals.bids import accept_bid, counter_bid, place_bid
from market.deals.brokers import accept_broker_request, ask_to_join_deal, invite_broker
from market.deals.fees import fee_due_fen, mark_fee_paid, set_fee
from market.deals.intermediaries import set_intermediaries
from market.deals.models import PIPELINE, Deal, DealStage, FeePayer
from market.deals.pipeline import advance_deal, confirm_payment, record_payment, register_deal, update_terms
from market.deals.registrations import verify_registration
from market.deals.signing import confirm_signing, record_signing
from market.demo_flow import WAN, accept_all_terms, into_notice, sample_pdf, told_on, upload
from market.demo_introductions import load_demo_introductions
from market.listings.vocabulary import ListingStatus
from market.preorders.payments import confirm_preorder_payment, record_preorder_payment
from market.preorders.proposals import confirm_agreement, create_agreement
from market.preorders.services import accept_delivery, record_delivery
from market.seeding import demo_admin
from market.timeutil import today_in_china

INVENTOR_SHARE_BP = 7000
REVERSAL_REASON = "示例：经核查，该中介服务人员未参与本笔回款对应的合同履行，奖补冲正。"


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
    admin = demo_admin(session)
    created = 0
    today = today_in_china()
    for index, target in enumerate((DealStage.INTENT, DealStage.NEGOTIATION, DealStage.PRICING)):
        with told_on(session, today - timedelta(days=12 - 3 * index)):
            created += _early_deal(session, achievements[index], enterprises[index + 1], target, brokers[1])
    open_bid_buyer, open_bid_achievement = enterprises[0], achievements[3]
    with told_on(session, today - timedelta(days=2)):
        place_bid(session, open_bid_buyer, open_bid_achievement.id, amount_fen=open_bid_achievement.price_min_fen,
                  mode=open_bid_achievement.modes[0].value, message="请问是否可以独占许可？")
    registered = _registered_deal_with_proceeds(session, achievements[4], enterprises[2], brokers[:3], admin)
    created += 1
    created += _signing_awaiting_confirmation(session, achievements[5], enterprises[0])
    created += load_demo_introductions(session, brokers[0])
    _paid_preorder(session, enterprises)
    _award_decisions(session, admin, registered, brokers[:3])
    return created


def _early_deal(session: Session, achievement: Achievement, buyer: User, target: DealStage, asking_broker: User) -> int:
    """A bid met by a counter-offer and accepted, moved on to `target`: in negotiation a broker asks to join, in
    pricing the owner records the inventors' share, a new version of the terms that awaits the buyer."""
    owner, mode = achievement.submitter, achievement.modes[0].value
    bid = place_bid(session, buyer, achievement.id, amount_fen=achievement.price_min_fen, mode=mode,
                    message="我们希望尽快开展中试验证，价格可再商议。")
    counter_bid(session, owner, bid.id, amount_fen=achievement.price_max_fen or achievement.price_min_fen, mode=mode,
                message="考虑到配套技术服务，报价如上。")
    deal = accept_bid(session, buyer, bid.id, version_number=2)
    for step in (DealStage.NEGOTIATION, DealStage.PRICING):
        if PIPELINE.index(step) <= PIPELINE.index(target):
            advance_deal(session, buyer, deal.id, step)
    if target == DealStage.NEGOTIATION:
        ask_to_join_deal(session, asking_broker, deal.id)
    if target == DealStage.PRICING:
        update_terms(session, owner, deal.id, agreed_amount_fen=deal.agreed_amount_fen, mode=deal.mode,
                     inventor_share_bp=INVENTOR_SHARE_BP)
    return 1


def _registered_deal_with_proceeds(session: Session, achievement: Achievement, buyer: User, brokers: list[User],
                                   admin: User) -> Deal:
    """A contract agreed in spring 2025: the buyer's bid met the owner's counter-offer, the owner invited the first
    broker, named three intermediaries sharing a 15% reward, the broker agreed a 3% fee paid by the buyer, and
    everyone accepted the terms; noticed from 2025-05-20, signed on 2025-06-18 (recorded by the broker, confirmed by
    the buyer), the fee paid, registered on 2025-06-25 by the owner with its certificate, verified by the demo admin,
    and two proceeds payments recorded with their receipts by the owner and confirmed by the buyer."""
    owner = achievement.submitter
    amount = achievement.price_max_fen or achievement.price_min_fen
    mode = achievement.modes[0].value
    with told_on(session, date(2025, 4, 21)):
        bid = place_bid(session, buyer, achievement.id, amount_fen=achievement.price_min_fen, mode=mode,
                        message="希望引进该技术在我司基地示范应用，请报价。")
    with told_on(session, date(2025, 4, 24)):
        counter_bid(session, owner, bid.id, amount_fen=amount, mode=mode, message="含两年技术指导和人员培训。")
    with told_on(session, date(2025, 4, 28)):
        deal_id = accept_bid(session, buyer, bid.id, version_number=2).id
        invitation = invite_broker(session, owner, deal_id, broker_id=brokers[0].id)
        accept_broker_request(session, brokers[0], deal_id, invitation.id)
        update_terms(session, owner, deal_id, agreed_amount_fen=amount, mode=mode, inventor_share_bp=INVENTOR_SHARE_BP)
        set_intermediaries(session, owner, deal_id, reward_rate_bp=1500,
                           people=[(str(broker.id), share) for broker, share in zip(brokers, (5000, 3000, 2000))])
        set_fee(session, brokers[0], deal_id, fee_rate_bp=300, fee_payer=FeePayer.TRANSFEREE.value)
    with told_on(session, date(2025, 5, 6)):
        accept_all_terms(session, deal_id, [owner, buyer])
    into_notice(session, deal_id, buyer, owner, date(2025, 5, 20))
    with told_on(session, date(2025, 6, 18)):
        signing = record_signing(session, brokers[0], deal_id, signed_on=date(2025, 6, 18), agreed_amount_fen=amount)
    with told_on(session, date(2025, 6, 19)):
        confirm_signing(session, buyer, signing.id)
    with told_on(session, date(2025, 6, 20)):
        mark_fee_paid(session, buyer, deal_id, amount_fen=fee_due_fen(session.get(Deal, deal_id)),
                      paid_on=date(2025, 6, 20))
    with told_on(session, date(2025, 6, 25)):
        register_deal(session, owner, deal_id, registration_number="2025140100000186", registered_on=date(2025, 6, 25),
                      certificate=upload("技术合同登记证明（示例）.pdf", "Technology contract registration - demo data"))
    with told_on(session, date(2025, 6, 27)):
        verify_registration(session, admin, session.get(Deal, deal_id).current_registration.id)
    half = amount // 2
    for amount_fen, paid_on in ((half, date(2025, 8, 15)), (half // 2, date(2026, 3, 10))):
        with told_on(session, paid_on, hour=16):
            payment = record_payment(session, owner, deal_id, amount_fen=amount_fen, paid_on=paid_on,
                                     evidence=upload("银行回单（示例）.pdf", "Bank receipt - demo data"))
        with told_on(session, paid_on + timedelta(days=2)):
            confirm_payment(session, buyer, payment.id)
    return session.get(Deal, deal_id)


def _signing_awaiting_confirmation(session: Session, achievement: Achievement, buyer: User) -> int:
    """A deal whose notice ran out two days ago, bought by the well-known demo company: the owner accepted its bid,
    recorded the inventors' share, both accepted the terms, and the owner recorded the signing yesterday, which awaits
    the buyer's confirmation."""
    owner, today = achievement.submitter, today_in_china()
    notice_starts_on = today - timedelta(days=16)
    with told_on(session, notice_starts_on - timedelta(days=8)):
        bid = place_bid(session, buyer, achievement.id, amount_fen=achievement.price_min_fen,
                        mode=achievement.modes[0].value, message="按挂牌底价受让，尽快签约。")
    with told_on(session, notice_starts_on - timedelta(days=6)):
        deal_id = accept_bid(session, owner, bid.id, version_number=1).id
        deal = session.get(Deal, deal_id)
        update_terms(session, owner, deal_id, agreed_amount_fen=deal.agreed_amount_fen, mode=deal.mode,
                     inventor_share_bp=INVENTOR_SHARE_BP)
    with told_on(session, notice_starts_on - timedelta(days=3)):
        accept_all_terms(session, deal_id, [owner, buyer])
    deal = into_notice(session, deal_id, buyer, owner, notice_starts_on)
    with told_on(session, today - timedelta(days=1), hour=15):
        record_signing(session, owner, deal_id, signed_on=today - timedelta(days=1),
                       agreed_amount_fen=deal.agreed_amount_fen)
    return 1


def _award_decisions(session: Session, admin: User, deal: Deal, intermediaries: list[User]) -> None:
    """The demo admin approves the lead broker's award for the first proceeds and pays it with a voucher, approves
    the second intermediary's, and reverses the third intermediary's award for the second proceeds; skipped outside
    demo mode, where approvals and payouts need the admin's second factor."""
    if not is_second_factor_exempt(admin):
        return
    earned = {(award.recipient, award.policy_event_id): award for award in session.scalars(
        select(Award).where(Award.deal_id == deal.id, Award.granted_fen > 0).order_by(Award.id))}
    events = sorted({event_id for _recipient, event_id in earned})
    first, second = events[0], events[-1]
    lead, second_broker, third_broker = (award_services.person_key(person.id) for person in intermediaries)
    paid = award_services.approve_award(session, admin, earned[(lead, first)].id)
    award_services.pay_award(session, admin, paid.id, voucher_reference="晋财奖补〔2026〕示例0001号",
                             paid_on=today_in_china(), filename="奖补发放凭证（示例）.pdf",
                             stream=io.BytesIO(sample_pdf("Award payout voucher - demo data")),
                             upload_folder=current_app.config["UPLOAD_FOLDER"])
    award_services.approve_award(session, admin, earned[(second_broker, first)].id)
    award_services.reverse_award(session, admin, earned[(third_broker, second)].id, REVERSAL_REASON)


def _paid_preorder(session: Session, enterprises: list[User]) -> None:
    """A resident startup's agreement with an unrelated buyer, recorded by the seller and confirmed by the buyer:
    deliveries accepted and partly paid; and a second one the seller recorded that awaits the buyer's confirmation."""
    sellers = [u for u in enterprises if u.organisation.resident_since and u.organisation.resident_since < date(2025, 1, 1)]
    if not sellers:
        return
    seller = sellers[0]
    buyer = next(u for u in enterprises if u.organisation_id != seller.organisation_id and not u.organisation.valley_id) \
        if any(not u.organisation.valley_id for u in enterprises) else next(u for u in enterprises if u.organisation_id != seller.organisation_id)
    agreement = create_agreement(session, seller, {
        "number": "YG-2025-0007", "buyer_id": buyer.organisation_id, "seller_id": seller.organisation_id,
        "broker_id": None, "product": "车载高压储氢气瓶（IV型，70MPa）", "description": "", "quantity": "400", "unit": "只",
        "unit_price_fen": 5 * WAN, "value_fen": 2000 * WAN,
        "delivery_schedule": "2025年分两批交付：第一批 200 只（6 月），第二批 200 只（11 月）。",
        "signed_on": "2025-03-20", "is_related_party": False})
    confirm_agreement(session, buyer, agreement.id)
    delivery = record_delivery(session, seller, agreement.id, {"delivered_on": "2025-06-10", "quantity": "200",
                                                               "amount_fen": 1000 * WAN})
    accept_delivery(session, buyer, agreement.id, delivery.id, "2025-06-20")
    payment = record_preorder_payment(session, buyer, agreement.id, amount_fen=800 * WAN, paid_on=date(2025, 7, 31))
    confirm_preorder_payment(session, seller, payment.id)
    create_agreement(session, seller, {
        "number": "YG-2026-0003", "buyer_id": buyer.organisation_id, "seller_id": seller.organisation_id,
        "broker_id": None, "product": "加氢站用储氢瓶组（示例）", "description": "", "quantity": "20", "unit": "组",
        "unit_price_fen": 30 * WAN, "value_fen": None, "delivery_schedule": "2026年第二季度交付。",
        "signed_on": today_in_china().isoformat(), "is_related_party": False})


