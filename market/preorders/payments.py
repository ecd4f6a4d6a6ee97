"""Money on forward pre-order agreements: a confirmed signing is told to the engine; paid deliveries, recorded by the
buyer (with their bank receipt or invoice) and confirmed by the seller, or recorded by the agreement's broker and
confirmed by the buyer, earn the R1 subsidy."""
import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from market.accounts.models import User
from market.awards import services as award_services
from market.awards import wording
from market.awards.models import Award
from market.awards.payment_input import PaymentInput
from market.confirmations import services as confirmations
from market.confirmations.evidence import EvidenceUpload, attach_evidence, store_evidence
from market.confirmations.models import COUNTED_STATUSES, FactStatus
from market.confirmations.table import FactKind, FactRole
from market.declared import validate_input
from market.errors import (
    DomainError,
    InvalidStateError,
    NotFoundError,
    RuleViolationError,
    ValidationError,
)
from market.money import format_yuan
from market.policy.events import PreorderPaid, PreorderSigned
from market.preorders.models import AgreementStatus, PreorderAgreement, PreorderPayment
from market.preorders.permissions import fact_roles, is_party, may_view_agreement
from market.timeutil import today_in_china

KIND = FactKind.PREORDER_PAYMENT


def agreement_key(agreement: PreorderAgreement) -> str:
    """The engine's id of an agreement."""
    return f"preorder-{agreement.id}"


@wording.names_subjects("preorder")
def _agreement_names(session: Session, ids: set[int]) -> dict[int, str]:
    """An agreement is named by its number and product."""
    rows = session.execute(select(PreorderAgreement.id, PreorderAgreement.number, PreorderAgreement.product)
                           .where(PreorderAgreement.id.in_(ids)))
    return {agreement_id: f"{number}（{product}）" for agreement_id, number, product in rows}


def require_in_force(agreement: PreorderAgreement, ended: str, error: type[DomainError] = RuleViolationError) -> None:
    """Refuse a step on an agreement that is not in force: one still waiting for its confirmation (409 with a message
    of its own), or one that ended (the caller's `ended` message and error)."""
    if agreement.status == AgreementStatus.PROPOSED:
        raise InvalidStateError(_("该协议尚待对方确认，确认生效前不能登记交付、验收、付款或补助。"))
    if agreement.status != AgreementStatus.SIGNED:
        raise error(ended)


def confirming_party_ids(payment: PreorderPayment) -> tuple[int, ...]:
    """The organisations whose members confirm the payment: the seller for the buyer's record, the buyer for the
    broker's (none when only an admin may)."""
    roles = confirmations.confirmers(KIND, payment)
    agreement = payment.agreement
    return tuple(organisation_id for role, organisation_id in ((FactRole.BUYER, agreement.buyer_id),
                                                                (FactRole.SELLER, agreement.seller_id))
                 if role in roles)


def register_agreement(session: Session, snapshot, agreement: PreorderAgreement, actor: User) -> None:
    """Tell the engine an agreement was signed (under the caller's lock, once its last confirmation is given; no
    commit)."""
    event = PreorderSigned(id=award_services.next_event_id(snapshot), date=agreement.signed_on, agreement=agreement_key(agreement),
                           buyer=award_services.org_key(agreement.buyer_id), seller=award_services.org_key(agreement.seller_id),
                           value_fen=agreement.value_fen, related=agreement.is_related_party)
    award_services.apply_policy_event(session, snapshot, event, [agreement.buyer, agreement.seller], actor=actor,
                              agreement_id=agreement.id)


def _accepted_by(agreement: PreorderAgreement, day: dt.date) -> int:
    """The value of deliveries accepted on or before a day (what payments up to that day may cover)."""
    return sum(d.amount_fen for d in agreement.deliveries if d.accepted_on is not None and d.accepted_on <= day)


def _counted_total(agreement: PreorderAgreement) -> int:
    """Payments recorded on the agreement and not refused or withdrawn."""
    return sum(p.amount_fen for p in agreement.payments if p.status in COUNTED_STATUSES)


def record_preorder_payment(session: Session, actor: User, agreement_id: int, *, amount_fen, paid_on,
                            evidence: EvidenceUpload | None = None) -> PreorderPayment:
    """Record a payment for accepted deliveries (with its receipt or invoice when given); it earns the subsidy only
    when the other side (the seller for the buyer's record, the buyer for the broker's; or an admin, against the
    evidence) confirms it."""
    award_services.lock_books(session)
    agreement = session.get(PreorderAgreement, agreement_id)
    if agreement is None or not is_party(actor, agreement):
        raise NotFoundError(_("协议不存在。"))
    role = confirmations.require_recording_role(KIND, fact_roles(actor, agreement),
                                                _("付款由采购方或协议经纪人登记，供货方确认。"))
    require_in_force(agreement, _("该协议已结束，不能再登记付款。"))
    values, errors = validate_input(PaymentInput, {"amount_fen": amount_fen, "paid_on": paid_on})
    amount_fen, paid_on = values.get("amount_fen"), values.get("paid_on")
    if paid_on is not None and paid_on > today_in_china():
        errors["paid_on"] = _("付款日期不能晚于今天。")
    elif paid_on is not None and paid_on < agreement.signed_on:
        errors["paid_on"] = _("付款日期不能早于协议签订日期（%(d)s）。", d=agreement.signed_on.isoformat())
    counted = _counted_total(agreement)
    if not errors and counted + amount_fen > agreement.value_fen:
        errors["amount_fen"] = _("累计付款（含待确认）将超过协议金额，剩余 %(left)s。", left=format_yuan(agreement.value_fen - counted))
    elif not errors and counted + amount_fen > _accepted_by(agreement, paid_on):
        errors["amount_fen"] = _("付款只能针对付款日前已验收的交付，截至 %(d)s 已验收未付金额为 %(left)s。",
                                 d=paid_on.isoformat(),
                                 left=format_yuan(max(0, _accepted_by(agreement, paid_on) - counted)))
    if errors:
        raise ValidationError(_("请修改标出的内容。"), dict(errors))
    payment = PreorderPayment(agreement_id=agreement.id, paid_on=paid_on, amount_fen=amount_fen,
                              recorded_by_id=actor.id, recorded_as=role.value, status=FactStatus.RECORDED)
    if evidence is not None and evidence.given:
        store_evidence(session, payment, actor, evidence)
    session.add(payment)
    session.flush()
    return payment


def get_payment(session: Session, actor: User, payment_id: int) -> PreorderPayment:
    """A payment of an agreement the actor may see, or NotFoundError."""
    payment = session.get(PreorderPayment, payment_id)
    if payment is None or not is_party(actor, payment.agreement):
        raise NotFoundError(_("付款记录不存在。"))
    return payment


def attach_preorder_payment_evidence(session: Session, actor: User, payment_id: int,
                                     upload: EvidenceUpload) -> PreorderPayment:
    """The recorder attaches the receipt or invoice to a payment that still waits for a decision."""
    payment = get_payment(session, actor, payment_id)
    attach_evidence(session, payment, actor, upload)
    return payment


def get_payment_evidence(session: Session, actor: User | None, payment_id: int) -> PreorderPayment:
    """A payment whose evidence the actor may download (the parties' members, the agreement's broker, admins), or
    NotFoundError."""
    payment = session.get(PreorderPayment, payment_id)
    if payment is None or not payment.has_evidence or not may_view_agreement(actor, payment.agreement):
        raise NotFoundError(_("文件不存在。"))
    return payment


def confirm_preorder_payment(session: Session, actor: User, payment_id: int, *,
                             note="") -> tuple[PreorderPayment, list[Award]]:
    """The side that did not record a payment (or an admin) confirms it: the engine judges it on its own date."""
    snapshot = award_services.lock_books(session)
    payment = get_payment(session, actor, payment_id)
    agreement = payment.agreement
    # The seller earns R1 but confirms only what the buyer, who pays, asserted; the buyer confirms what the
    # agreement's broker asserted (the table's rule).
    confirmations.confirm(KIND, payment, actor, fact_roles(actor, agreement), beneficiary=False,
                          note=confirmations.optional_note(note))
    if payment.policy_event_id is not None:
        session.flush()
        return payment, []
    require_in_force(agreement, _("该协议已结束，不能再确认付款。"))
    event = PreorderPaid(id=award_services.next_event_id(snapshot), date=payment.paid_on,
                         agreement=agreement_key(agreement), amount_fen=payment.amount_fen)
    awards = award_services.apply_policy_event(session, snapshot, event, [agreement.buyer, agreement.seller],
                                               actor=actor, agreement_id=agreement.id)
    payment.policy_event_id = snapshot.last_event_id
    agreement.paid_fen += payment.amount_fen
    if agreement.paid_fen == agreement.value_fen:
        agreement.status = AgreementStatus.COMPLETED
    session.flush()
    return payment, awards


def dispute_preorder_payment(session: Session, actor: User, payment_id: int, *, reason) -> PreorderPayment:
    """The side that must confirm the payment says it is wrong; an admin settles it."""
    payment = get_payment(session, actor, payment_id)
    confirmations.dispute(KIND, payment, actor, fact_roles(actor, payment.agreement), reason)
    session.flush()
    return payment


def withdraw_preorder_payment(session: Session, actor: User, payment_id: int) -> PreorderPayment:
    """The recorder takes back a payment nobody has confirmed."""
    payment = get_payment(session, actor, payment_id)
    if payment.policy_event_id is not None:
        raise RuleViolationError(_("该付款已计入补助，撤销须由平台运营人员驳回。"))
    confirmations.withdraw(payment, actor)
    session.flush()
    return payment


def refuse_preorder_payment(session: Session, actor: User, payment_id: int, *, reason) -> PreorderPayment:
    """An admin settles an unconfirmed or disputed payment as wrong (a payment judged before confirmations existed
    has its subsidy reversed)."""
    award_services.lock_books(session)
    payment = get_payment(session, actor, payment_id)
    confirmations.refuse(payment, actor, fact_roles(actor, payment.agreement), reason)
    if payment.policy_event_id is not None:
        award_services.reverse_event_awards(session, actor, payment.policy_event_id, payment.decision_note)
        payment.agreement.paid_fen -= payment.amount_fen
        if payment.agreement.status == AgreementStatus.COMPLETED:
            payment.agreement.status = AgreementStatus.SIGNED
    session.flush()
    return payment


def payment_choices(actor: User, payment: PreorderPayment) -> confirmations.DecisionChoices:
    """The decisions the agreement page offers the actor on a payment."""
    return confirmations.decision_choices(KIND, payment, actor, fact_roles(actor, payment.agreement),
                                          beneficiary=False, may_withdraw=payment.policy_event_id is None)


@award_services.add_approval_check
def payment_awaits_confirmation(session: Session, award: Award) -> str | None:
    """A subsidy earned by a pre-order payment that is not confirmed yet cannot be approved."""
    payment = session.scalar(select(PreorderPayment).where(PreorderPayment.policy_event_id == award.policy_event_id))
    if payment is not None and payment.status != FactStatus.CONFIRMED:
        return _("产生该补助的付款尚未确认。")
    return None
