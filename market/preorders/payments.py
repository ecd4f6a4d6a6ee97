"""Money on forward pre-order agreements: signing is told to the engine; paid deliveries earn the R1 subsidy."""
import datetime as dt

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from market.accounts.models import User
from market.awards import services as award_services
from market.awards.models import Award
from market.awards.payment_input import PaymentInput
from market.declared import validate_input
from market.errors import (
    NotFoundError,
    RuleViolationError,
    ValidationError,
)
from market.money import format_yuan
from market.policy.events import PreorderPaid, PreorderSigned
from market.preorders.models import AgreementStatus, PreorderAgreement, PreorderPayment
from market.preorders.permissions import is_party
from market.timeutil import today_in_china


def agreement_key(agreement: PreorderAgreement) -> str:
    """The engine's id of an agreement."""
    return f"preorder-{agreement.id}"


def register_agreement(session: Session, snapshot, agreement: PreorderAgreement, actor: User) -> None:
    """Tell the engine an agreement was signed (under the caller's lock; no commit)."""
    event = PreorderSigned(id=award_services.next_event_id(snapshot), date=agreement.signed_on, agreement=agreement_key(agreement),
                           buyer=award_services.org_key(agreement.buyer_id), seller=award_services.org_key(agreement.seller_id),
                           value_fen=agreement.value_fen, related=agreement.is_related_party)
    award_services.apply_policy_event(session, snapshot, event, [agreement.buyer, agreement.seller], actor=actor,
                              agreement_id=agreement.id)


def _accepted_by(agreement: PreorderAgreement, day: dt.date) -> int:
    """The value of deliveries accepted on or before a day (what payments up to that day may cover)."""
    return sum(d.amount_fen for d in agreement.deliveries if d.accepted_on is not None and d.accepted_on <= day)


def record_preorder_payment(session: Session, actor: User, agreement_id: int, *, amount_fen,
                            paid_on) -> tuple[PreorderPayment, list[Award]]:
    """Record a payment for accepted deliveries; the subsidy is computed at once, under the money lock."""
    snapshot = award_services.lock_books(session)
    agreement = session.get(PreorderAgreement, agreement_id)
    if agreement is None or not is_party(actor, agreement):
        raise NotFoundError(_("协议不存在。"))
    if agreement.status != AgreementStatus.SIGNED:
        raise RuleViolationError(_("该协议已结束，不能再登记付款。"))
    values, errors = validate_input(PaymentInput, {"amount_fen": amount_fen, "paid_on": paid_on})
    amount_fen, paid_on = values.get("amount_fen"), values.get("paid_on")
    if paid_on is not None and paid_on > today_in_china():
        errors["paid_on"] = _("付款日期不能晚于今天。")
    elif paid_on is not None and paid_on < agreement.signed_on:
        errors["paid_on"] = _("付款日期不能早于协议签订日期（%(d)s）。", d=agreement.signed_on.isoformat())
    if not errors and agreement.paid_fen + amount_fen > agreement.value_fen:
        errors["amount_fen"] = _("累计付款将超过协议金额，剩余 %(left)s。", left=format_yuan(agreement.value_fen - agreement.paid_fen))
    elif not errors and agreement.paid_fen + amount_fen > _accepted_by(agreement, paid_on):
        errors["amount_fen"] = _("付款只能针对付款日前已验收的交付，截至 %(d)s 已验收未付金额为 %(left)s。",
                                 d=paid_on.isoformat(),
                                 left=format_yuan(max(0, _accepted_by(agreement, paid_on) - agreement.paid_fen)))
    if errors:
        raise ValidationError(_("请修改标出的内容。"), dict(errors))
    event = PreorderPaid(id=award_services.next_event_id(snapshot), date=paid_on, agreement=agreement_key(agreement),
                         amount_fen=amount_fen)
    awards = award_services.apply_policy_event(session, snapshot, event, [agreement.buyer, agreement.seller], actor=actor,
                                       agreement_id=agreement.id)
    payment = PreorderPayment(agreement_id=agreement.id, paid_on=paid_on, amount_fen=amount_fen,
                              recorded_by_id=actor.id, policy_event_id=snapshot.last_event_id)
    session.add(payment)
    agreement.paid_fen += amount_fen
    if agreement.paid_fen == agreement.value_fen:
        agreement.status = AgreementStatus.COMPLETED
    session.flush()
    return payment, awards
