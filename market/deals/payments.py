"""Money on deals: registering the transfer contract with the engine and recording proceeds payments."""
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from market.accounts.models import User
from market.awards import services as award_services
from market.awards.models import Award
from market.awards.payment_input import PaymentInput
from market.deals.models import (
    Deal,
    DealEvent,
    DealIntermediary,
    DealPayment,
    DealStage,
)
from market.deals.permissions import PAYABLE_STAGES, may_record_payment
from market.declared import validate_input
from market.errors import (
    NotFoundError,
    PermissionDeniedError,
    RuleViolationError,
    ValidationError,
)
from market.money import format_yuan
from market.policy.events import IntermediaryShare, TransferPaid, TransferSigned
from market.security import is_member_of
from market.timeutil import today_in_china, utcnow


def contract_key(deal: Deal) -> str:
    """The engine's id of a deal's contract."""
    return f"deal-{deal.id}"


def achievement_key(deal: Deal) -> str:
    """The engine's id of what the intermediary limit and reward cap count against."""
    return f"achievement-{deal.achievement_id}" if deal.achievement_id else f"deal-{deal.id}"


def other_intermediaries(session: Session, deal: Deal) -> set[int]:
    """People named as intermediaries of the deal's achievement in its other open or registered deals."""
    if deal.achievement_id is None:
        return set()
    rows = session.execute(
        select(DealIntermediary.user_id)
        .join(Deal, Deal.id == DealIntermediary.deal_id)
        .where(Deal.achievement_id == deal.achievement_id, Deal.id != deal.id,
               (Deal.stage != DealStage.TERMINATED) | Deal.registration_number.is_not(None))
    )
    return {user_id for (user_id,) in rows}


def register_contract(session: Session, snapshot, deal: Deal, actor: User) -> None:
    """Tell the engine the deal's contract is signed and registered (under the caller's lock; no commit)."""
    people = [IntermediaryShare(award_services.person_key(row.user_id), row.share_bp) for row in deal.intermediaries]
    event = TransferSigned(
        id=award_services.next_event_id(snapshot), date=deal.signed_on, contract=contract_key(deal),
        achievement=achievement_key(deal), transferor=award_services.org_key(deal.transferor_id),
        transferee=award_services.org_key(deal.transferee_id), value_fen=deal.agreed_amount_fen,
        reward_rate_bp=deal.reward_rate_bp, intermediaries=tuple(people),
        agent=award_services.org_key(deal.agent_organisation_id) if deal.agent_organisation_id else None,
        registered=True, intermediary_exception=deal.intermediary_exception or None,
    )
    parties = [deal.transferor, deal.transferee] + ([deal.agent_organisation] if deal.agent_organisation else [])
    award_services.apply_policy_event(session, snapshot, event, parties, actor=actor, deal_id=deal.id)


def record_deal_payment(session: Session, actor: User, deal_id: int, *, amount_fen, paid_on) -> tuple[DealPayment, list[Award]]:
    """Record proceeds received under a registered contract; rewards are computed at once, under the money lock
    (held until the unit of work commits)."""
    snapshot = award_services.lock_books(session)
    deal = session.get(Deal, deal_id)
    if deal is None or not (may_record_payment(actor, deal) or is_member_of(actor, deal.transferee_id)):
        raise NotFoundError(_("项目不存在。"))
    if not may_record_payment(actor, deal):
        raise PermissionDeniedError(_("回款由成果转让方、项目经纪人或平台登记。"))
    values, errors = validate_input(PaymentInput, {"amount_fen": amount_fen, "paid_on": paid_on})
    amount_fen, paid_on = values.get("amount_fen"), values.get("paid_on")
    if paid_on is not None and paid_on > today_in_china():
        errors["paid_on"] = _("回款日期不能晚于今天。")
    elif paid_on is not None and deal.signed_on and paid_on < deal.signed_on:
        errors["paid_on"] = _("回款日期不能早于签约日期（%(d)s）。", d=deal.signed_on.isoformat())
    if deal.stage not in PAYABLE_STAGES:
        raise RuleViolationError(_("技术合同登记后才能登记回款。"))
    if not errors and deal.paid_fen + amount_fen > deal.agreed_amount_fen:
        errors["amount_fen"] = _("累计回款将超过合同金额，剩余可登记 %(left)s。",
                                 left=format_yuan(deal.agreed_amount_fen - deal.paid_fen))
    if errors:
        raise ValidationError(_("请修改标出的内容。"), dict(errors))
    event = TransferPaid(id=award_services.next_event_id(snapshot), date=paid_on, contract=contract_key(deal), amount_fen=amount_fen)
    parties = [deal.transferor, deal.transferee] + ([deal.agent_organisation] if deal.agent_organisation else [])
    awards = award_services.apply_policy_event(session, snapshot, event, parties, actor=actor, deal_id=deal.id)
    payment = DealPayment(deal_id=deal.id, paid_on=paid_on, amount_fen=amount_fen, recorded_by_id=actor.id,
                          policy_event_id=snapshot.last_event_id)
    session.add(payment)
    deal.paid_fen += amount_fen
    previous = deal.stage
    if deal.stage == DealStage.REGISTERED:
        deal.advance_to(DealStage.PERFORMANCE)
    deal.updated_at = utcnow()
    session.add(DealEvent(deal_id=deal.id, actor_id=actor.id, action="payment", from_stage=previous,
                          to_stage=deal.stage, note=format_yuan(amount_fen)))
    session.flush()
    return payment, awards
