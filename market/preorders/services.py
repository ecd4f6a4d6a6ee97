"""Forward pre-order agreements (预约采购协议): who may see one, the checks of a recorded agreement or amendment
(recorded and confirmed in `proposals`), ending it, deliveries and their acceptance, payments, and how the subsidy the
policy engine granted is explained."""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from market.accounts.models import (
    ApprovalStatus,
    Organisation,
    OrganisationKind,
    Role,
    User,
)
from market.awards import services as award_services
from market.awards.models import Award, AwardStatus
from market.confirmations.models import STATUS_LABELS, FactStatus
from market.confirmations.reminders import REMINDER_AFTER_DAYS, reminder_due
from market.declared import validate_input
from market.errors import (
    InvalidStateError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from market.inputs import FieldErrors
from market.money import format_yuan
from market.notifications.services import notify
from market.policy import engine
from market.policy.rules import CapScope, RuleKind, RuleSet
from market.preorders import payments as money
from market.preorders.inputs import (
    AcceptanceInput,
    AgreementInput,
    AgreementTermsInput,
    DeliveryInput,
    TerminationInput,
)
from market.preorders.models import (
    VOID_STATUSES,
    AgreementStatus,
    PreorderAgreement,
    PreorderDelivery,
    PreorderPayment,
)
from market.preorders.payments import record_preorder_payment, require_in_force
from market.preorders.permissions import (
    may_accept_delivery,
    may_record_delivery,
    may_terminate,
    may_view_agreement,
    visible_agreements,
)
from market.templating import format_amount
from market.timeutil import today_in_china, utcnow
from market.unit_of_work import savepoint

TERMINATION_NOTICE = "preorder_terminated"
PER_PAGE = 30

AGREEMENT_STATUS_LABELS = {
    AgreementStatus.PROPOSED: _l("待对方确认"),
    AgreementStatus.SIGNED: _l("履行中"),
    AgreementStatus.COMPLETED: _l("已完成"),
    AgreementStatus.TERMINATED: _l("已终止"),
    AgreementStatus.SUPERSEDED: _l("已被变更取代"),
    AgreementStatus.REFUSED: _l("对方已拒绝（未生效）"),
    AgreementStatus.WITHDRAWN: _l("已撤回（未生效）"),
}


def get_visible_agreement(session: Session, user: User | None, agreement_id: int) -> PreorderAgreement:
    """An agreement the user may see, or NotFoundError (also for agreements of other organisations)."""
    agreement = session.get(PreorderAgreement, agreement_id)
    if agreement is None or not may_view_agreement(user, agreement):
        raise NotFoundError(_("协议不存在或您无权查看。"))
    return agreement


# --- checks that need stored records -----------------------------------------------------------------


def check_number_free(session: Session, errors: FieldErrors, number: str) -> None:
    if number and session.scalar(select(PreorderAgreement.id).where(PreorderAgreement.number == number,
                                                                     PreorderAgreement.status.not_in(VOID_STATUSES))):
        errors.add("number", _("协议编号“%(n)s”已被使用，请填写另一个编号。", n=number))


def _approved_enterprise(session: Session, errors: FieldErrors, name: str,
                         organisation_id: int | None) -> Organisation | None:
    if organisation_id is None:
        return None
    organisation = session.get(Organisation, organisation_id)
    if (organisation is None or organisation.kind != OrganisationKind.ENTERPRISE
            or organisation.status != ApprovalStatus.APPROVED):
        errors.add(name, _("请选择平台上已审核的企业。"))
        return None
    return organisation


def _approved_broker(session: Session, errors: FieldErrors, broker_id: int | None) -> User | None:
    if broker_id is None:
        return None
    broker = session.get(User, broker_id)
    if broker is None or broker.role != Role.BROKER or not broker.is_approved_member:
        errors.add("broker_id", _("请选择平台上已审核的技术经理人。"))
        return None
    return broker


def check_parties(session: Session, errors: FieldErrors, actor: User, values: dict) -> dict:
    """Buyer, seller (both approved enterprises, different) and the optional broker; the actor must fit in."""
    buyer = _approved_enterprise(session, errors, "buyer_id", values.get("buyer_id"))
    seller = _approved_enterprise(session, errors, "seller_id", values.get("seller_id"))
    if buyer is not None and seller is not None and buyer.id == seller.id:
        errors.add("seller_id", _("买方和卖方不能是同一家企业。"))
    if actor.role == Role.BROKER:
        if "broker_id" in errors or values.get("broker_id") not in (None, actor.id):
            errors["broker_id"] = _("技术经理人登记的协议，经纪人即为本人。")
        broker = actor
    else:
        broker = _approved_broker(session, errors, values.get("broker_id"))
    if (actor.role == Role.ENTERPRISE and buyer is not None and seller is not None
            and actor.organisation_id not in (buyer.id, seller.id)):
        errors.add("buyer_id", _("您所在的企业须是协议的买方或卖方。"))
    return {"buyer": buyer, "seller": seller, "broker": broker}


def refuse_if_errors(errors: FieldErrors) -> None:
    if errors:
        raise ValidationError(_("请修改标出的内容。"), dict(errors))


# --- agreements -------------------------------------------------------------------------------------


def agreement_terms(values: dict) -> dict:
    """The agreement's terms among checked values."""
    return {name: values[name] for name in AgreementTermsInput.model_fields}


def check_agreement(session: Session, actor: User, data: dict) -> tuple[FieldErrors, dict, dict]:
    values, errors = validate_input(AgreementInput, data)
    parties = check_parties(session, errors, actor, values)
    check_number_free(session, errors, values.get("number"))
    return errors, values, parties


def check_amendment(session: Session, old: PreorderAgreement, data: dict) -> tuple[FieldErrors, dict]:
    values, errors = validate_input(AgreementTermsInput, data)
    check_number_free(session, errors, values.get("number"))
    signed_on, value_fen = values.get("signed_on"), values.get("value_fen")
    if signed_on and signed_on < old.signed_on:
        errors.add("signed_on", _("变更协议的签订日期不能早于原协议的签订日期（%(d)s）。", d=old.signed_on.isoformat()))
    delivered = delivered_fen(old)
    if value_fen and value_fen < delivered:
        errors.add("value_fen", _("变更后的协议金额不能低于已交付金额 %(v)s。", v=format_yuan(delivered)))
    return errors, values


def review_agreement_input(session: Session, actor: User, data: dict,
                           original: PreorderAgreement | None = None) -> dict[str, str]:
    """Every problem with agreement (or amendment) input, saving nothing: lets a form show them all at once."""
    errors = check_amendment(session, original, data)[0] if original else check_agreement(session, actor, data)[0]
    return dict(errors)


def agreement_path(agreement: PreorderAgreement) -> str:
    """The agreement page's path (for notification links)."""
    return f"/contracts/{agreement.id}"


def terminate_agreement(session: Session, actor: User, agreement_id: int, reason) -> PreorderAgreement:
    """Either party or an admin ends an agreement with a reason; the parties are notified with it."""
    award_services.lock_books(session)
    with savepoint(session):
        agreement = get_visible_agreement(session, actor, agreement_id)
        if not may_terminate(actor, agreement):
            raise PermissionDeniedError(_("只有买卖双方的成员或平台管理员可以终止协议。"))
        if agreement.status == AgreementStatus.PROPOSED:
            raise InvalidStateError(_("该协议尚未生效：登记人可以撤回，须确认的一方可以拒绝。"))
        if agreement.status != AgreementStatus.SIGNED:
            raise InvalidStateError(_("只有履行中的协议可以终止。"))
        values, errors = validate_input(TerminationInput, {"reason": reason})
        refuse_if_errors(errors)
        reason = values["reason"]
        agreement.status = AgreementStatus.TERMINATED
        agreement.termination_reason, agreement.terminated_by_id = reason, actor.id
        agreement.terminated_on = today_in_china()
        _void_pending_amendment(session, agreement, actor, reason)
        title = _("预约采购协议 %(n)s 已终止", n=agreement.number)
        for user_id in sorted(people_to_tell(session, agreement) | {actor.id}):
            notify(session, user_id, TERMINATION_NOTICE, title, body=reason, link=agreement_path(agreement))
        session.flush()
    return agreement


def members(session: Session, *organisation_ids: int) -> set[int]:
    """The approved members (not admins) of the organisations."""
    return set(session.scalars(select(User.id).where(
        User.organisation_id.in_(organisation_ids), User.membership_status == ApprovalStatus.APPROVED,
        User.role != Role.ADMIN)))


def people_to_tell(session: Session, agreement: PreorderAgreement) -> set[int]:
    return members(session, agreement.buyer_id, agreement.seller_id) | (
        {agreement.broker_id} if agreement.broker_id else set())


def termination_reason(session: Session, agreement: PreorderAgreement) -> str:
    """The reason given when the agreement was ended ('' when it was not)."""
    return agreement.termination_reason if agreement.status == AgreementStatus.TERMINATED else ""


def superseded_by(session: Session, agreement: PreorderAgreement) -> PreorderAgreement | None:
    """The confirmed version that replaced this agreement, if any."""
    return session.scalar(select(PreorderAgreement).where(
        PreorderAgreement.supersedes_id == agreement.id,
        PreorderAgreement.status.not_in((AgreementStatus.PROPOSED, *VOID_STATUSES)))
        .order_by(PreorderAgreement.id.desc()).limit(1))


def pending_amendment(session: Session, agreement: PreorderAgreement) -> PreorderAgreement | None:
    """The amended version of this agreement that still waits for confirmation, if any (at most one)."""
    return session.scalar(select(PreorderAgreement).where(PreorderAgreement.supersedes_id == agreement.id,
                                                          PreorderAgreement.status == AgreementStatus.PROPOSED))


def _void_pending_amendment(session: Session, agreement: PreorderAgreement, actor: User, reason: str) -> None:
    """An amendment still waiting when its agreement ends is withdrawn with the ending's reason."""
    amendment = pending_amendment(session, agreement)
    if amendment is not None:
        amendment.status = AgreementStatus.WITHDRAWN
        proposal = amendment.proposal
        proposal.status, proposal.decided_by_id, proposal.decided_at = FactStatus.WITHDRAWN, actor.id, utcnow()
        proposal.decision_note = reason


# --- deliveries -------------------------------------------------------------------------------------


def delivered_fen(agreement: PreorderAgreement) -> int:
    """The total amount of the deliveries recorded under the agreement."""
    return sum(delivery.amount_fen for delivery in agreement.deliveries)


def _check_delivery(agreement: PreorderAgreement, data: dict) -> tuple[FieldErrors, dict]:
    values, errors = validate_input(DeliveryInput, data)
    delivered_on, amount = values.get("delivered_on"), values.get("amount_fen")
    if delivered_on and delivered_on < agreement.signed_on:
        errors.add("delivered_on", _("交付日期不能早于协议签订日期（%(d)s）。", d=agreement.signed_on.isoformat()))
    done = delivered_fen(agreement)
    if amount and done + amount > agreement.value_fen:
        errors.add("amount_fen", _("累计交付金额不能超过协议金额 %(value)s：已交付 %(done)s，最多还可登记 %(left)s。",
                                   value=format_yuan(agreement.value_fen), done=format_yuan(done),
                                   left=format_yuan(agreement.value_fen - done)))
    return errors, values


def review_delivery_input(agreement: PreorderAgreement, data: dict) -> dict[str, str]:
    """Every problem with delivery input, saving nothing."""
    return dict(_check_delivery(agreement, data)[0])


def record_delivery(session: Session, actor: User, agreement_id: int, data: dict) -> PreorderDelivery:
    """The seller's side records a delivery; the total delivered may not exceed the agreement's value."""
    award_services.lock_books(session)
    with savepoint(session):
        agreement = get_visible_agreement(session, actor, agreement_id)
        if not may_record_delivery(actor, agreement):
            raise PermissionDeniedError(_("只有卖方成员、协议的技术经理人或平台管理员可以登记交付。"))
        require_in_force(agreement, _("该协议已结束，不能再登记交付。"), InvalidStateError)
        errors, values = _check_delivery(agreement, data)
        refuse_if_errors(errors)
        delivery = PreorderDelivery(agreement_id=agreement.id, recorded_by_id=actor.id, **values)
        session.add(delivery)
        session.flush()
        title = _l("交付待您验收：预约采购协议 %(n)s", n=agreement.number)
        for user_id in sorted(members(session, agreement.buyer_id) - {actor.id}):
            notify(session, user_id, "delivery_awaits_acceptance", title, body=format_yuan(delivery.amount_fen),
                   link=agreement_path(agreement))
    return delivery


def accept_delivery(session: Session, actor: User, agreement_id: int, delivery_id: int,
                    accepted_on) -> PreorderDelivery:
    """The buyer accepts a delivery: its amount now counts toward payments (accepted total ≤ value)."""
    award_services.lock_books(session)
    with savepoint(session):
        agreement = get_visible_agreement(session, actor, agreement_id)
        delivery = session.get(PreorderDelivery, delivery_id)
        if delivery is None or delivery.agreement_id != agreement.id:
            raise NotFoundError(_("交付记录不存在。"))
        if not may_accept_delivery(actor, agreement):
            raise PermissionDeniedError(_("只有买方成员可以验收交付。"))
        require_in_force(agreement, _("该协议已结束，不能再验收。"), InvalidStateError)
        if delivery.accepted_on is not None:
            raise InvalidStateError(_("这批交付已经验收过了。"))
        values, errors = validate_input(AcceptanceInput, {"accepted_on": accepted_on})
        day = values.get("accepted_on")
        if day and day < delivery.delivered_on:
            errors.add("accepted_on", _("验收日期不能早于交付日期（%(d)s）。", d=delivery.delivered_on.isoformat()))
        if agreement.accepted_fen + delivery.amount_fen > agreement.value_fen:
            errors.add("accepted_on", _("验收后累计验收金额将超过协议金额 %(v)s。", v=format_yuan(agreement.value_fen)))
        refuse_if_errors(errors)
        delivery.accepted_on, delivery.accepted_by_id = day, actor.id
        agreement.accepted_fen += delivery.amount_fen
        session.flush()
    return delivery


# --- payments ---------------------------------------------------------------------------------------


def record_payment(session: Session, actor: User, agreement_id: int, *, amount_fen, paid_on,
                   evidence=None) -> PreorderPayment:
    """Record a payment from form input (with its receipt or invoice when given); the members of the side that must
    confirm it are asked to (the seller's for the buyer's record, the buyer's for the broker's)."""
    with savepoint(session):
        payment = record_preorder_payment(session, actor, agreement_id, amount_fen=amount_fen, paid_on=paid_on,
                                          evidence=evidence)
        agreement = payment.agreement
        title = _l("预约采购付款待您确认：%(n)s", n=agreement.number)
        for user_id in sorted(members(session, *money.confirming_party_ids(payment)) - {actor.id}):
            notify(session, user_id, "payment_awaits_confirmation", title, body=format_yuan(payment.amount_fen),
                   link=agreement_path(agreement))
        return payment


def remind_payment_confirmations(session: Session, now: datetime) -> int:
    """Remind the members of the side that must confirm each payment recorded REMINDER_AFTER_DAYS days ago or more and
    still unconfirmed (the seller's for the buyer's record, the buyer's for the broker's; once a day); returns how many
    payments were reminded of."""
    due = session.scalars(select(PreorderPayment).where(reminder_due(PreorderPayment, now))
                          .order_by(PreorderPayment.id)).all()
    for payment in due:
        agreement = payment.agreement
        for user_id in sorted(members(session, *money.confirming_party_ids(payment))):
            notify(session, user_id, "payment_confirmation_reminder",
                   _l("付款已登记 %(n)s 天以上，仍待您确认：%(a)s", n=REMINDER_AFTER_DAYS, a=agreement.number),
                   body=format_yuan(payment.amount_fen), link=agreement_path(agreement))
        payment.last_reminded_at = now
    session.flush()
    return len(due)


def decide_payment(session: Session, actor: User, payment_id: int, decision: str, *,
                   reason="") -> tuple[PreorderPayment, list[Award]]:
    """Confirm, dispute, withdraw or refuse (an admin) a recorded payment; both sides and the broker are told.
    Returns the payment and the subsidy lines a confirmation earned."""
    awards: list[Award] = []
    with savepoint(session):
        if decision == "confirm":
            payment, awards = money.confirm_preorder_payment(session, actor, payment_id, note=reason)
        elif decision == "dispute":
            payment = money.dispute_preorder_payment(session, actor, payment_id, reason=reason)
        elif decision == "withdraw":
            payment = money.withdraw_preorder_payment(session, actor, payment_id)
        elif decision == "refuse":
            payment = money.refuse_preorder_payment(session, actor, payment_id, reason=reason)
        else:
            raise NotFoundError(_("没有这项操作。"))
        agreement = payment.agreement
        title = _("预约采购付款%(s)s：%(n)s", s=STATUS_LABELS[payment.status], n=agreement.number)
        for user_id in sorted(people_to_tell(session, agreement) - {actor.id}):
            notify(session, user_id, "preorder_payment_" + decision, title,
                   body=payment.dispute_reason or payment.decision_note, link=agreement_path(agreement))
        session.flush()
    return payment, awards


@dataclass
class PaymentRow:
    """A payment and the award lines it produced."""

    payment: PreorderPayment
    awards: list[Award] = field(default_factory=list)

    @property
    def granted_fen(self) -> int:
        """What the payment earned (payable, held or later stages; waived lines excluded)."""
        return sum(a.granted_fen for a in self.awards if a.status not in (AwardStatus.WAIVED, AwardStatus.REVERSED))


def payment_rows(session: Session, agreement: PreorderAgreement) -> list[PaymentRow]:
    """The agreement's payments, each with the subsidy award lines of its policy event."""
    by_event: dict[int, list[Award]] = defaultdict(list)
    for award in session.scalars(select(Award).where(Award.agreement_id == agreement.id).order_by(Award.id)):
        by_event[award.policy_event_id].append(award)
    return [PaymentRow(payment, by_event.get(payment.policy_event_id, [])) for payment in agreement.payments]


# --- the subsidy, explained -------------------------------------------------------------------------


def describe_cap(scope: str, amount_fen: int | None) -> str:
    """A cap in words, e.g. “每家企业每年 1,000万元”."""
    amount = format_amount(amount_fen) if amount_fen is not None else _("上限")
    texts = {
        CapScope.RECIPIENT_CALENDAR_YEAR: _("每家企业每年 %(a)s", a=amount),
        CapScope.RECIPIENT_RULE_SET_PERIOD: _("每家企业在政策有效期内合计 %(a)s", a=amount),
        CapScope.AGREEMENT: _("每份协议合计 %(a)s", a=amount),
    }
    return texts.get(scope, _("%(scope)s 上限 %(a)s", scope=scope, a=amount))


def explain_cap(rule_sets: list[RuleSet], award: Award) -> str:
    """Why an award was reduced, in Chinese, with the cap amount read from the rule in force ('' if not capped)."""
    if not award.capped_by:
        return ""
    entry = engine.find_rule(rule_sets, award.rule, award.event_date)
    caps = {cap.scope.value: cap.amount_fen for cap in entry.rule.caps} if entry else {}
    described = describe_cap(award.capped_by, caps.get(award.capped_by))
    headings = {
        CapScope.RECIPIENT_CALENDAR_YEAR: _("已达年度上限"),
        CapScope.RECIPIENT_RULE_SET_PERIOD: _("已达政策期上限"),
        CapScope.AGREEMENT: _("已达单份协议上限"),
    }
    return _("%(heading)s（%(cap)s）", heading=headings.get(award.capped_by, _("受上限约束")), cap=described)


@dataclass
class SubsidyOutlook:
    """Whether the agreement can earn the pre-order subsidy, why not, and the rule's rate and caps."""

    obstacles: list[str]
    rate_bp: int | None = None
    caps: list[str] = field(default_factory=list)

    @property
    def eligible(self) -> bool:
        """True when nothing known at signing blocks the subsidy."""
        return not self.obstacles


def subsidy_outlook(session: Session, agreement: PreorderAgreement) -> SubsidyOutlook:
    """Judge the agreement against the conditions of the pre-order subsidy rule in force on its signing date."""
    day = agreement.signed_on
    entries = [entry for entry in engine.rules_in_force(award_services.active_rule_sets(session), day)
               if entry.rule.kind is RuleKind.PREORDER_SUBSIDY]
    if not entries:
        return SubsidyOutlook([_("协议签订日不在预约采购后补助政策的有效期内：本协议不享受后补助。")])
    entry = entries[0]
    conditions = entry.rule.conditions
    obstacles = []
    if conditions.unrelated_parties and agreement.is_related_party:
        obstacles.append(_("已声明买卖双方存在关联关系：关联交易不享受预约采购后补助。"))
    if conditions.signed_since_rule_set_start and day < entry.rule_set.starts_on:
        obstacles.append(_("协议签订日早于政策施行日期 %(d)s：本协议不享受后补助。", d=entry.rule_set.starts_on.isoformat()))
    for role, organisation in (("seller", agreement.seller), ("buyer", agreement.buyer)):
        condition = conditions.parties.get(role)
        if condition is not None and not award_services.engine_organisation(organisation).meets(condition, day):
            obstacles.append(_party_obstacle(role, organisation, day))
    return SubsidyOutlook(obstacles, entry.rule.rate_bp,
                          [describe_cap(cap.scope.value, cap.amount_fen) for cap in entry.rule.caps])


def _party_obstacle(role: str, organisation: Organisation, day: date) -> str:
    """Why a party does not meet the rule's condition on the signing date."""
    who = _("卖方") if role == "seller" else _("买方")
    if organisation.valley is None or organisation.resident_since is None:
        return _("%(who)s未入驻任何晋创谷谷区：本协议可以登记，但不享受后补助。", who=who)
    if organisation.resident_since > day:
        return _("%(who)s于 %(since)s 入驻%(valley)s，晚于协议签订日 %(signed)s：本协议可以登记，但不享受后补助。",
                 who=who, since=organisation.resident_since.isoformat(), valley=organisation.valley.name,
                 signed=day.isoformat())
    return _("%(who)s不符合该补助政策对企业类型或所在谷区的要求：本协议不享受后补助。", who=who)


def percent(rate_bp: int) -> str:
    """A rate in basis points as a percentage text: 1000 → "10%", 1250 → "12.5%"."""
    whole, rest = divmod(rate_bp, 100)
    return f"{whole}%" if not rest else f"{whole}.{rest:02d}".rstrip("0") + "%"


# --- lists and choices ------------------------------------------------------------------------------


@dataclass
class AgreementPage:
    """One page of agreements and where it is in the whole list."""

    items: list[PreorderAgreement]
    total: int
    page: int
    pages: int


def list_agreements(session: Session, user: User, *, status: str = "", valley: str = "",
                    page: int = 1) -> AgreementPage:
    """Agreements the user sees (their organisation's as buyer or seller; a broker's own; all for admins),
    newest first, optionally filtered by status and by the seller's valley."""
    query = select(PreorderAgreement).where(visible_agreements(user))
    if status in set(AgreementStatus):
        query = query.where(PreorderAgreement.status == status)
    if valley:
        sellers_in_valley = select(Organisation.id).where(Organisation.valley_id == valley)
        query = query.where(PreorderAgreement.seller_id.in_(sellers_in_valley))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(1, page), pages)
    items = list(session.scalars(query.order_by(PreorderAgreement.signed_on.desc(), PreorderAgreement.id.desc())
                                 .offset((page - 1) * PER_PAGE).limit(PER_PAGE)))
    return AgreementPage(items, total, page, pages)


def residency_text(organisation: Organisation) -> str:
    """Where and since when an organisation is resident, e.g. “晋创谷·太原，2024-05-10 起入驻”."""
    if organisation.valley is None or organisation.resident_since is None:
        return _("未入驻谷区")
    return _("%(valley)s，%(since)s 起入驻", valley=organisation.valley.name, since=organisation.resident_since.isoformat())


def enterprise_choices(session: Session) -> list[tuple[str, str]]:
    """Approved enterprises as (id, “name（residency）”) select options, by name."""
    enterprises = session.scalars(select(Organisation).where(Organisation.kind == OrganisationKind.ENTERPRISE,
                                                             Organisation.status == ApprovalStatus.APPROVED)
                                  .order_by(Organisation.name))
    return [(str(org.id), f"{org.name}（{residency_text(org)}）") for org in enterprises]


def broker_choices(session: Session) -> list[tuple[str, str]]:
    """Approved brokers as (id, “name（agency）”) select options."""
    brokers = session.scalars(select(User).where(User.role == Role.BROKER,
                                                 User.membership_status == ApprovalStatus.APPROVED)
                              .order_by(User.name))
    return [(str(user.id), f"{user.name}（{user.organisation.name}）") for user in brokers if user.is_approved_member]
