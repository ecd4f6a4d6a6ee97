"""The demo broker's introductions (引荐), told through the introduction and deal services: three awaiting answers
(one already accepted by the achievement's side), one declined with its reason, and one both sides accepted, whose
deal the broker took through terms with a 5% fee, notice, signing and registration; that registration awaits the
demo admin's verification, and the award its first proceeds earned is held until then (all 示例)."""
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from market.accounts.models import ApprovalStatus, Organisation, User
from market.achievements.models import Achievement
from market.deals.fees import set_fee
from market.deals.intermediaries import set_intermediaries
from market.deals.introductions import accept_introduction, decline_introduction, propose_introduction
from market.deals.models import Deal, DeclineReason, FeePayer
from market.deals.pipeline import confirm_payment, record_payment, register_deal, update_terms
from market.deals.signing import confirm_signing, record_signing
from market.demands.models import Demand
from market.demo_flow import accept_all_terms, into_notice, told_on, upload
from market.timeutil import today_in_china

INVENTOR_SHARE_BP = 7000
AWAITING = (
    ("tyut-a202", None, "jingyan-semi", "", "贵公司正在建设碳化硅外延中试线，该团队的低压银烧结互连工艺可用于后续功率模块封装，建议双方面谈。"),
    ("tyut-a101", "d-011", None, "transferor", "该工艺以焦炉煤气为原料制氢并同步捕集二氧化碳，与贵公司燃料电池级氢气的提纯需求高度契合。"),
    ("tyut-a901", "d-099", None, "", "该系统的动态视频行为识别算法已在井下场景验证，可迁移到货车运行故障图像识别。"),
)
"""Introductions awaiting answers: the achievement, the demand or the enterprise, the side that already accepted, the
broker's note."""
DECLINED = ("tyut-a401", "d-048", "煤矿设备上云平台可以直接接入贵公司所列的多品牌设备数据，建议先做一个工作面的试点。",
            DeclineReason.OTHER_PARTNER, "已与设备厂商签订数据接入服务合同，本年度不再另行引进。")
"""The introduction the enterprise declined, with the structured reason and its note."""
ACCEPTED = ("tyut-a801", "d-086", "该团队的煤矸石膏体充填材料配方与管道输送技术，可直接回应贵公司早强、低成本配方的需求。")
"""The introduction both sides accepted, which opened the broker's deal."""


def load_demo_introductions(session: Session, broker: User) -> int:
    """The broker's introductions, made over the last weeks; returns the number of deals they opened (the accepted
    one)."""
    today = today_in_china()
    for days_ago, (achievement_key, demand_key, organisation_slug, accepted_side, note) in zip((9, 6, 3), AWAITING):
        achievement = _achievement(session, achievement_key)
        with told_on(session, today - timedelta(days=days_ago)):
            introduction = _propose(session, broker, achievement, demand_key, organisation_slug, note)
        if accepted_side == "transferor":
            with told_on(session, today - timedelta(days=days_ago - 2)):
                accept_introduction(session, achievement.submitter, introduction.id)
    achievement_key, demand_key, note, reason, reason_note = DECLINED
    with told_on(session, today - timedelta(days=24)):
        introduction = _propose(session, broker, _achievement(session, achievement_key), demand_key, None, note)
    with told_on(session, today - timedelta(days=20)):
        decline_introduction(session, _member(session, introduction.transferee_id), introduction.id,
                             reason=reason.value, note=reason_note)
    _introduced_deal(session, broker, today)
    return 1


def _introduced_deal(session: Session, broker: User, today: date) -> None:
    """Both sides accept the introduction; the owner records the terms and names the broker as the sole intermediary
    (10% reward), the broker agrees a 5% fee paid by the buyer, everyone accepts; the notice ran from 45 days ago,
    the broker recorded the signing 28 days ago (confirmed by the buyer) and the registration 21 days ago, which
    awaits the admin; the buyer confirmed the first proceeds, whose award is held until the registration is
    verified."""
    achievement_key, demand_key, note = ACCEPTED
    achievement = _achievement(session, achievement_key)
    owner = achievement.submitter
    with told_on(session, today - timedelta(days=60)):
        introduction = _propose(session, broker, achievement, demand_key, None, note)
    with told_on(session, today - timedelta(days=58)):
        accept_introduction(session, owner, introduction.id)
    with told_on(session, today - timedelta(days=56)):
        buyer = _member(session, introduction.transferee_id)
        deal_id = accept_introduction(session, buyer, introduction.id).deal_id
    with told_on(session, today - timedelta(days=54)):
        deal = session.get(Deal, deal_id)
        update_terms(session, owner, deal_id, agreed_amount_fen=achievement.price_min_fen,
                     mode=deal.mode or achievement.modes[0].value, inventor_share_bp=INVENTOR_SHARE_BP)
        set_intermediaries(session, owner, deal_id, reward_rate_bp=1000, people=[(str(broker.id), 10000)])
        set_fee(session, broker, deal_id, fee_rate_bp=500, fee_payer=FeePayer.TRANSFEREE.value)
    with told_on(session, today - timedelta(days=50)):
        accept_all_terms(session, deal_id, [owner, buyer])
    deal = into_notice(session, deal_id, buyer, owner, today - timedelta(days=45))
    signed_on, registered_on = today - timedelta(days=28), today - timedelta(days=21)
    with told_on(session, signed_on):
        signing = record_signing(session, broker, deal_id, signed_on=signed_on, agreed_amount_fen=deal.agreed_amount_fen)
    with told_on(session, signed_on + timedelta(days=1)):
        confirm_signing(session, buyer, signing.id)
    with told_on(session, registered_on):
        register_deal(session, broker, deal_id, registration_number=f"{registered_on.year}140600000217",
                      registered_on=registered_on,
                      certificate=upload("技术合同登记证明（示例）.pdf", "Technology contract registration - demo data"))
    paid_on = today - timedelta(days=14)
    with told_on(session, paid_on, hour=16):
        payment = record_payment(session, owner, deal_id, amount_fen=deal.agreed_amount_fen * 3 // 10, paid_on=paid_on,
                                 evidence=upload("银行回单（示例）.pdf", "Bank receipt - demo data"))
    with told_on(session, paid_on + timedelta(days=2)):
        confirm_payment(session, buyer, payment.id)


def _propose(session: Session, broker: User, achievement: Achievement, demand_key: str | None,
             organisation_slug: str | None, note: str):
    """The broker introduces the achievement to a demand (by its seed key) or to an enterprise (by its slug); to the
    demand's enterprise once the demand is no longer public (the demo's listings age)."""
    demand = session.scalar(select(Demand).where(Demand.source_key == "seed:" + demand_key)) if demand_key else None
    organisation_id = session.scalar(select(Organisation.id).where(Organisation.slug == organisation_slug)) \
        if organisation_slug else None
    if demand is not None and not demand.is_public:
        demand, organisation_id = None, demand.organisation_id
    demand_id = demand.id if demand is not None else None
    return propose_introduction(session, broker, achievement_id=achievement.id, demand_id=demand_id,
                                organisation_id=organisation_id, note=note)


def _achievement(session: Session, key: str) -> Achievement:
    return session.scalar(select(Achievement).where(Achievement.source_key == "seed:" + key))


def _member(session: Session, organisation_id: int) -> User:
    """The organisation's first approved member (who answers for it in the demo)."""
    return session.scalar(select(User).where(User.organisation_id == organisation_id,
                                             User.membership_status == ApprovalStatus.APPROVED).order_by(User.id))
