"""Money on deals: registering the transfer contract with the engine, and proceeds payments that one side records
(with its bank receipt or invoice) and the other confirms (only a confirmed payment is told to the engine)."""
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from market.accounts.models import User
from market.achievements.models import Achievement
from market.awards import services as award_services
from market.awards import wording
from market.awards.models import Award
from market.awards.payment_input import PaymentInput
from market.confirmations import services as confirmations
from market.confirmations.evidence import EvidenceUpload, attach_evidence, store_evidence
from market.confirmations.models import COUNTED_STATUSES, FactStatus
from market.confirmations.reminders import REMINDER_AFTER_DAYS, reminder_due
from market.confirmations.table import FactKind
from market.deals.models import (
    Deal,
    DealEvent,
    DealIntermediary,
    DealPayment,
    DealStage,
)
from market.deals.permissions import (
    PAYABLE_STAGES,
    can_view_deal,
    earns_from_payments,
    fact_roles,
    may_see_payment_evidence,
)
from market.deals.recording import member_ids, notify_all
from market.declared import validate_input
from market.errors import (
    InvalidStateError,
    NotFoundError,
    RuleViolationError,
    ValidationError,
)
from market.money import format_yuan
from market.notifications.services import notify
from market.policy.events import IntermediaryShare, TransferPaid, TransferSigned
from market.timeutil import today_in_china, utcnow

KIND = FactKind.DEAL_PAYMENT


def contract_key(deal: Deal) -> str:
    """The engine's id of a deal's contract."""
    return f"deal-{deal.id}"


def achievement_engine_key(achievement_id: int) -> str:
    """The engine's id of an achievement (what the intermediary limit and the per-achievement cap count against)."""
    return f"achievement-{achievement_id}"


def achievement_key(deal: Deal) -> str:
    """The engine's id of what the intermediary limit and reward cap count against."""
    return achievement_engine_key(deal.achievement_id) if deal.achievement_id else f"deal-{deal.id}"


@wording.names_subjects("deal")
def _deal_names(session: Session, ids: set[int]) -> dict[int, str]:
    """A deal's contract is named by its title and registration number, when it has one."""
    rows = session.execute(select(Deal.id, Deal.title, Deal.registration_number).where(Deal.id.in_(ids)))
    return {deal_id: f"{title}（{number}）" if number else title for deal_id, title, number in rows}


@wording.names_subjects("achievement")
def _achievement_names(session: Session, ids: set[int]) -> dict[int, str]:
    return dict(session.execute(select(Achievement.id, Achievement.title).where(Achievement.id.in_(ids))).all())


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


def _counted_total(session: Session, deal: Deal) -> int:
    """Proceeds recorded on the deal and not refused or withdrawn (what may still be recorded is the rest)."""
    total = session.scalar(select(func.coalesce(func.sum(DealPayment.amount_fen), 0))
                           .where(DealPayment.deal_id == deal.id, DealPayment.status.in_(COUNTED_STATUSES)))
    return int(total)


def _event(session: Session, deal: Deal, actor: User, action: str, amount_fen: int, previous: str | None = None) -> None:
    session.add(DealEvent(deal_id=deal.id, actor_id=actor.id, action=action, from_stage=previous or deal.stage,
                          to_stage=deal.stage, note_code="payment", note_params={"amount_fen": amount_fen}))
    deal.updated_at = utcnow()


def confirming_organisation(deal: Deal, recorded_as: str | None) -> int:
    """The party whose members confirm a payment: the transferor when the transferee recorded it, else the payer."""
    return deal.transferor_id if recorded_as == "transferee" else deal.transferee_id


def record_deal_payment(session: Session, actor: User, deal_id: int, *, amount_fen, paid_on,
                        evidence: EvidenceUpload | None = None) -> DealPayment:
    """Record proceeds received under a registered contract, with their receipt or invoice when given; they earn
    nothing until the other side confirms them."""
    award_services.lock_books(session)
    deal = session.get(Deal, deal_id)
    if deal is None or not can_view_deal(actor, deal):
        raise NotFoundError(_("项目不存在。"))
    role = confirmations.require_recording_role(KIND, fact_roles(actor, deal),
                                                _("回款由成果转让方、受让方或项目经纪人登记。"))
    values, errors = validate_input(PaymentInput, {"amount_fen": amount_fen, "paid_on": paid_on})
    amount_fen, paid_on = values.get("amount_fen"), values.get("paid_on")
    if paid_on is not None and paid_on > today_in_china():
        errors["paid_on"] = _("回款日期不能晚于今天。")
    elif paid_on is not None and deal.signed_on and paid_on < deal.signed_on:
        errors["paid_on"] = _("回款日期不能早于签约日期（%(d)s）。", d=deal.signed_on.isoformat())
    if deal.stage not in PAYABLE_STAGES:
        raise RuleViolationError(_("技术合同登记后才能登记回款。"))
    counted = _counted_total(session, deal)
    if not errors and counted + amount_fen > deal.agreed_amount_fen:
        errors["amount_fen"] = _("累计回款（含待确认）将超过合同金额，剩余可登记 %(left)s。",
                                 left=format_yuan(deal.agreed_amount_fen - counted))
    if errors:
        raise ValidationError(_("请修改标出的内容。"), dict(errors))
    payment = DealPayment(deal_id=deal.id, paid_on=paid_on, amount_fen=amount_fen, recorded_by_id=actor.id,
                          recorded_as=role.value, status=FactStatus.RECORDED)
    if evidence is not None and evidence.given:
        store_evidence(session, payment, actor, evidence)
    session.add(payment)
    _event(session, deal, actor, "payment_recorded", amount_fen)
    notify_all(session, member_ids(session, confirming_organisation(deal, role.value)), actor, "payment_awaits_confirmation",
               _l("回款待您确认：%(t)s", t=deal.title), f"/deals/{deal.id}", body=format_yuan(amount_fen))
    session.flush()
    return payment


def get_payment(session: Session, actor: User, payment_id: int) -> DealPayment:
    """A payment of a deal the actor may see, or NotFoundError."""
    payment = session.get(DealPayment, payment_id)
    if payment is None or not can_view_deal(actor, payment.deal):
        raise NotFoundError(_("回款记录不存在。"))
    return payment


def attach_deal_payment_evidence(session: Session, actor: User, payment_id: int,
                                 upload: EvidenceUpload) -> DealPayment:
    """The recorder attaches the receipt or invoice to a payment that still waits for a decision."""
    payment = get_payment(session, actor, payment_id)
    attach_evidence(session, payment, actor, upload)
    return payment


def get_payment_evidence(session: Session, actor: User | None, payment_id: int) -> DealPayment:
    """A payment whose evidence the actor may download (parties, the deal's broker, admins), or NotFoundError."""
    payment = session.get(DealPayment, payment_id)
    if payment is None or not payment.has_evidence or not may_see_payment_evidence(actor, payment.deal):
        raise NotFoundError(_("文件不存在。"))
    return payment


def remind_deal_payment_confirmations(session: Session, now: datetime) -> int:
    """Remind the confirming party's members of each payment recorded REMINDER_AFTER_DAYS days ago or more and still
    unconfirmed (once a day); returns how many payments were reminded of."""
    due = session.scalars(select(DealPayment).where(reminder_due(DealPayment, now)).order_by(DealPayment.id)).all()
    for payment in due:
        deal = payment.deal
        for user_id in member_ids(session, confirming_organisation(deal, payment.recorded_as)):
            notify(session, user_id, "payment_confirmation_reminder",
                   _l("回款已登记 %(n)s 天以上，仍待您确认：%(t)s", n=REMINDER_AFTER_DAYS, t=deal.title),
                   body=format_yuan(payment.amount_fen), link=f"/deals/{deal.id}#payment-{payment.id}")
        payment.last_reminded_at = now
    session.flush()
    return len(due)


def confirm_deal_payment(session: Session, actor: User, payment_id: int, *, note="") -> tuple[DealPayment, list[Award]]:
    """The other side (or an admin) confirms a payment: the engine judges it on its own date and the deal is paid."""
    snapshot = award_services.lock_books(session)
    payment = get_payment(session, actor, payment_id)
    deal = payment.deal
    confirmations.confirm(KIND, payment, actor, fact_roles(actor, deal), beneficiary=earns_from_payments(actor, deal),
                          note=confirmations.optional_note(note))
    if payment.policy_event_id is not None:
        session.flush()
        return payment, []
    if deal.stage not in PAYABLE_STAGES:
        raise InvalidStateError(_("项目已结束，不能再确认回款。"))
    event = TransferPaid(id=award_services.next_event_id(snapshot), date=payment.paid_on, contract=contract_key(deal),
                         amount_fen=payment.amount_fen)
    parties = [deal.transferor, deal.transferee] + ([deal.agent_organisation] if deal.agent_organisation else [])
    awards = award_services.apply_policy_event(session, snapshot, event, parties, actor=actor, deal_id=deal.id)
    payment.policy_event_id = snapshot.last_event_id
    deal.paid_fen += payment.amount_fen
    previous = deal.stage
    if deal.stage == DealStage.REGISTERED:
        deal.advance_to(DealStage.PERFORMANCE)
    _event(session, deal, actor, "payment", payment.amount_fen, previous)
    session.flush()
    return payment, awards


def dispute_deal_payment(session: Session, actor: User, payment_id: int, *, reason) -> DealPayment:
    """The side that would confirm says the payment is wrong; an admin settles it."""
    payment = get_payment(session, actor, payment_id)
    confirmations.dispute(KIND, payment, actor, fact_roles(actor, payment.deal), reason)
    _event(session, payment.deal, actor, "payment_disputed", payment.amount_fen)
    session.flush()
    return payment


def _undo_judged(session: Session, actor: User, payment: DealPayment, reason: str) -> None:
    """Take back a payment the engine judged before confirmations existed: its awards are reversed."""
    if payment.policy_event_id is None:
        return
    award_services.reverse_event_awards(session, actor, payment.policy_event_id, reason)
    payment.deal.paid_fen -= payment.amount_fen


def withdraw_deal_payment(session: Session, actor: User, payment_id: int) -> DealPayment:
    """The recorder takes back a payment nobody has confirmed."""
    payment = get_payment(session, actor, payment_id)
    if payment.policy_event_id is not None:
        raise RuleViolationError(_("该回款已计入奖补，撤销须由平台运营人员驳回。"))
    confirmations.withdraw(payment, actor)
    _event(session, payment.deal, actor, "payment_withdrawn", payment.amount_fen)
    session.flush()
    return payment


def refuse_deal_payment(session: Session, actor: User, payment_id: int, *, reason) -> DealPayment:
    """An admin settles an unconfirmed or disputed payment as wrong."""
    award_services.lock_books(session)
    payment = get_payment(session, actor, payment_id)
    confirmations.refuse(payment, actor, fact_roles(actor, payment.deal), reason)
    _undo_judged(session, actor, payment, payment.decision_note)
    _event(session, payment.deal, actor, "payment_refused", payment.amount_fen)
    session.flush()
    return payment


def payment_choices(actor: User, payment: DealPayment) -> confirmations.DecisionChoices:
    """The decisions the payment's page offers the actor."""
    deal = payment.deal
    return confirmations.decision_choices(KIND, payment, actor, fact_roles(actor, deal),
                                          beneficiary=earns_from_payments(actor, deal),
                                          may_withdraw=payment.policy_event_id is None)


@award_services.add_approval_check
def payment_awaits_confirmation(session: Session, award: Award) -> str | None:
    """An award earned by a deal payment that is not confirmed yet cannot be approved."""
    payment = session.scalar(select(DealPayment).where(DealPayment.policy_event_id == award.policy_event_id))
    if payment is not None and payment.status != FactStatus.CONFIRMED:
        return _("产生该奖补的回款尚未确认。")
    return None
