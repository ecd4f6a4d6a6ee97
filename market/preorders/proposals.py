"""Pre-order agreements as proposals the other party confirms (the confirmation table's row): a new agreement or an
amended version is recorded as proposed; the seller confirms the buyer's record, the buyer the seller's, and both the
broker's or an admin's. Only the last confirmation signs it and tells the policy engine (under the money lock); an
amendment leaves the signed version in force until then. A refused or withdrawn proposal frees its number."""
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from market.accounts.models import User
from market.awards import services as award_services
from market.confirmations import services as confirmations
from market.confirmations.models import COUNTED_STATUSES, FactStatus
from market.confirmations.reminders import REMINDER_AFTER_DAYS, reminder_due
from market.confirmations.table import FACT_BY_KIND, FactKind, FactRole
from market.errors import InvalidStateError, NotFoundError, PermissionDeniedError
from market.money import format_yuan
from market.notifications.services import notify
from market.preorders import services
from market.preorders.models import AgreementStatus, PreorderAgreement, PreorderProposal
from market.preorders.payments import register_agreement
from market.preorders.permissions import fact_roles, may_amend, may_create_agreement
from market.timeutil import utcnow
from market.unit_of_work import savepoint

KIND = FactKind.PREORDER_AGREEMENT
DECISIONS = ("confirm", "refuse", "withdraw")
"""The decisions on a proposed agreement (the last path segment of its decision routes)."""
AWAITS_KIND = "preorder_agreement_awaits_confirmation"
"""The notification (mailed: it asks its reader to act) to the members of each side that must confirm a proposal."""
REMINDER_KIND = "preorder_awaits_confirmation_reminder"
"""The daily reminder of a proposal still waiting for a side's confirmation."""
SIDES = (FactRole.BUYER, FactRole.SELLER)


def party_id(agreement: PreorderAgreement, side: FactRole) -> int:
    """The organisation that is the agreement's buyer or seller."""
    return agreement.buyer_id if side == FactRole.BUYER else agreement.seller_id


def party_name(agreement: PreorderAgreement, side: FactRole) -> str:
    """A side in words with its organisation, e.g. “采购方（某公司）”."""
    organisation = agreement.buyer if side == FactRole.BUYER else agreement.seller
    return _("%(role)s（%(name)s）", role=confirmations.role_name(side), name=organisation.name)


def confirmed_sides(proposal: PreorderProposal) -> set[FactRole]:
    """The sides that have confirmed the proposal so far."""
    return {side for side, by in ((FactRole.BUYER, proposal.buyer_confirmed_by_id),
                                  (FactRole.SELLER, proposal.seller_confirmed_by_id)) if by is not None}


def awaiting_sides(proposal: PreorderProposal | None) -> list[FactRole]:
    """The sides whose confirmation the proposal still needs (none once it is decided)."""
    if proposal is None or proposal.status != FactStatus.RECORDED:
        return []
    confirmed = confirmed_sides(proposal)
    if confirmed and not FACT_BY_KIND[KIND].every_confirmer:
        return []
    needed = confirmations.confirmers(KIND, proposal) - confirmed
    return [side for side in SIDES if side in needed]


# --- proposing --------------------------------------------------------------------------------------


def create_agreement(session: Session, actor: User, data: dict) -> PreorderAgreement:
    """Record an agreement as proposed; it is signed when the other party (both parties, for a broker's or an
    admin's record) confirms it."""
    award_services.lock_books(session)
    with savepoint(session):
        if not may_create_agreement(actor):
            raise PermissionDeniedError(_("只有已审核企业的成员、技术经理人或平台管理员可以登记预约采购协议。"))
        errors, values, parties = services.check_agreement(session, actor, data)
        services.refuse_if_errors(errors)
        agreement = PreorderAgreement(**services.agreement_terms(values), buyer=parties["buyer"],
                                      seller=parties["seller"], broker=parties["broker"],
                                      status=AgreementStatus.PROPOSED, accepted_fen=0, paid_fen=0,
                                      created_by_id=actor.id)
        session.add(agreement)
        session.flush()
        _open_proposal(session, actor, agreement)
    return agreement


def _require_amendable(session: Session, old: PreorderAgreement) -> None:
    """An agreement may be amended while it is in force, nothing is paid and no other amendment waits."""
    if old.status != AgreementStatus.SIGNED:
        raise InvalidStateError(_("只有履行中的协议可以变更。"))
    if old.paid_fen or any(payment.status in COUNTED_STATUSES for payment in old.payments):
        raise InvalidStateError(_("该协议已有付款记录，不能再变更；请按原协议履行，或终止后另签新协议。"))


def amend_agreement(session: Session, actor: User, agreement_id: int, data: dict) -> PreorderAgreement:
    """Propose an amended version (only while nothing is paid); the signed version stays in force until the amendment
    is confirmed like a new agreement."""
    award_services.lock_books(session)
    with savepoint(session):
        old = services.get_visible_agreement(session, actor, agreement_id)
        if not may_amend(actor, old):
            raise PermissionDeniedError(_("您无权变更该协议。"))
        _require_amendable(session, old)
        if services.pending_amendment(session, old) is not None:
            raise InvalidStateError(_("该协议已有一份待确认的变更，请等待对方确认，或撤回后重新登记。"))
        errors, values = services.check_amendment(session, old, data)
        services.refuse_if_errors(errors)
        new = PreorderAgreement(**services.agreement_terms(values), buyer=old.buyer, seller=old.seller,
                                broker_id=old.broker_id, supersedes_id=old.id, status=AgreementStatus.PROPOSED,
                                accepted_fen=0, paid_fen=0, created_by_id=actor.id)
        session.add(new)
        session.flush()
        _open_proposal(session, actor, new)
    return new


def _open_proposal(session: Session, actor: User, agreement: PreorderAgreement) -> PreorderProposal:
    role = confirmations.require_recording_role(KIND, fact_roles(actor, agreement),
                                                _("预约采购协议由买方、卖方、协议的技术经理人或平台管理员登记。"))
    proposal = PreorderProposal(agreement=agreement, recorded_by_id=actor.id, recorded_as=role.value,
                                status=FactStatus.RECORDED)
    session.add(proposal)
    session.flush()
    asked = _ask_to_confirm(session, agreement, proposal, exclude={actor.id})
    title = _l("预约采购协议 %(n)s 已登记，待对方确认：%(p)s", n=agreement.number, p=agreement.product)
    for user_id in sorted(services.people_to_tell(session, agreement) - asked - {actor.id}):
        notify(session, user_id, "preorder_agreement_recorded", title, body=_terms_text(agreement),
               link=services.agreement_path(agreement))
    return proposal


def _terms_text(agreement: PreorderAgreement) -> str:
    return _("协议金额 %(v)s，签订日期 %(d)s", v=format_yuan(agreement.value_fen), d=agreement.signed_on.isoformat())


def _ask_to_confirm(session: Session, agreement: PreorderAgreement, proposal: PreorderProposal, *,
                    exclude: set[int], kind: str = AWAITS_KIND) -> set[int]:
    """Tell the members of each side that must still confirm; returns who was told."""
    told = set()
    for side in awaiting_sides(proposal):
        title = (_l("预约采购协议 %(n)s 待您确认：%(p)s", n=agreement.number, p=agreement.product) if kind == AWAITS_KIND
                 else _l("预约采购协议已登记 %(d)s 天以上，仍待您确认：%(n)s", d=REMINDER_AFTER_DAYS, n=agreement.number))
        for user_id in sorted(services.members(session, party_id(agreement, side)) - exclude - told):
            notify(session, user_id, kind, title, body=_terms_text(agreement), link=services.agreement_path(agreement))
            told.add(user_id)
    return told


# --- deciding ---------------------------------------------------------------------------------------


def _open_proposal_of(session: Session, actor: User, agreement_id: int) -> tuple[PreorderAgreement, PreorderProposal]:
    agreement = services.get_visible_agreement(session, actor, agreement_id)
    proposal = agreement.proposal
    if proposal is None:
        raise InvalidStateError(_("该协议登记于确认机制启用之前，没有待确认的登记。"))
    if proposal.status != FactStatus.RECORDED:
        raise InvalidStateError(_("该协议的登记已处理（%(s)s），不能再操作。",
                                  s=services.AGREEMENT_STATUS_LABELS[AgreementStatus(agreement.status)]))
    return agreement, proposal


def _side_to_confirm(proposal: PreorderProposal, actor: User, roles: set[FactRole]) -> FactRole:
    """The side the actor confirms for: never the recorder, a broker or an admin; a side confirms once."""
    confirmations.check_may_confirm(KIND, proposal, actor, roles, beneficiary=False)
    side = next((side for side in awaiting_sides(proposal) if side in roles), None)
    if side is None:
        raise InvalidStateError(_("您所在的一方已确认该协议，等待另一方确认。"))
    return side


def _check_may_refuse(proposal: PreorderProposal, actor: User, roles: set[FactRole]) -> None:
    if proposal.recorded_by_id == actor.id:
        raise PermissionDeniedError(_("不能拒绝自己登记的协议；您可以撤回它。"))
    if not set(awaiting_sides(proposal)) & roles:
        raise PermissionDeniedError(_("只有尚须确认该协议的一方可以拒绝。"))


def _check_may_withdraw(proposal: PreorderProposal, actor: User) -> None:
    if proposal.recorded_by_id != actor.id:
        raise PermissionDeniedError(_("只有登记人可以撤回该协议。"))


def confirm_agreement(session: Session, actor: User, agreement_id: int, *, note="") -> PreorderAgreement:
    """A side that must confirm does; the last confirmation signs the agreement (an amendment replaces the version
    it amends) and tells the policy engine, under the money lock."""
    snapshot = award_services.lock_books(session)
    with savepoint(session):
        agreement, proposal = _open_proposal_of(session, actor, agreement_id)
        roles = fact_roles(actor, agreement)
        side = _side_to_confirm(proposal, actor, roles)
        note = confirmations.optional_note(note)
        if side == FactRole.BUYER:
            proposal.buyer_confirmed_by_id, proposal.buyer_confirmed_at = actor.id, utcnow()
        else:
            proposal.seller_confirmed_by_id, proposal.seller_confirmed_at = actor.id, utcnow()
        if note:
            proposal.decision_note = note
        if awaiting_sides(proposal):
            session.flush()
            return agreement
        if agreement.supersedes_id is not None:
            _replace(session, agreement)
        proposal.status, proposal.decided_by_id, proposal.decided_at = FactStatus.CONFIRMED, actor.id, utcnow()
        agreement.status = AgreementStatus.SIGNED
        session.flush()
        register_agreement(session, snapshot, agreement, actor)
        _tell_decision(session, agreement, actor, _l("预约采购协议 %(n)s 已经双方确认，开始履行", n=agreement.number),
                       "preorder_agreement_confirmed")
        session.flush()
    return agreement


def _replace(session: Session, new: PreorderAgreement) -> None:
    """The confirmed amendment takes over the signed version: its deliveries move over and the old one is
    superseded (refused when the old one was paid, ended or delivered beyond the new value meanwhile)."""
    old = session.get(PreorderAgreement, new.supersedes_id)
    _require_amendable(session, old)
    delivered = services.delivered_fen(old)
    if new.value_fen < delivered:
        raise InvalidStateError(_("原协议已交付 %(v)s，超过变更后的协议金额，变更不能生效；请撤回或拒绝后重新登记。",
                                  v=format_yuan(delivered)))
    for delivery in list(old.deliveries):
        delivery.agreement_id = new.id
    new.accepted_fen = old.accepted_fen
    old.status = AgreementStatus.SUPERSEDED
    session.flush()
    session.expire(old, ["deliveries"])
    session.expire(new, ["deliveries"])


def refuse_agreement(session: Session, actor: User, agreement_id: int, *, reason) -> PreorderAgreement:
    """A side that must confirm refuses the proposal with a reason everyone named is told; its number is free again
    (an amendment's refusal leaves the signed version as it was)."""
    award_services.lock_books(session)
    with savepoint(session):
        agreement, proposal = _open_proposal_of(session, actor, agreement_id)
        _check_may_refuse(proposal, actor, fact_roles(actor, agreement))
        reason = confirmations.required_reason(reason)
        proposal.status, proposal.decided_by_id, proposal.decided_at = FactStatus.REFUSED, actor.id, utcnow()
        proposal.decision_note = reason
        agreement.status = AgreementStatus.REFUSED
        _tell_decision(session, agreement, actor, _l("预约采购协议 %(n)s 已被拒绝，未生效", n=agreement.number),
                       "preorder_agreement_refused", body=reason)
        session.flush()
    return agreement


def withdraw_agreement(session: Session, actor: User, agreement_id: int) -> PreorderAgreement:
    """The recorder takes back a proposal not yet fully confirmed; its number is free again."""
    award_services.lock_books(session)
    with savepoint(session):
        agreement, proposal = _open_proposal_of(session, actor, agreement_id)
        _check_may_withdraw(proposal, actor)
        confirmations.withdraw(proposal, actor)
        agreement.status = AgreementStatus.WITHDRAWN
        _tell_decision(session, agreement, actor, _l("预约采购协议 %(n)s 已被登记人撤回，未生效", n=agreement.number),
                       "preorder_agreement_withdrawn")
        session.flush()
    return agreement


def decide_agreement(session: Session, actor: User, agreement_id: int, decision: str, *,
                     reason="") -> PreorderAgreement:
    """Confirm, refuse or withdraw a proposed agreement."""
    if decision == "confirm":
        return confirm_agreement(session, actor, agreement_id, note=reason)
    if decision == "refuse":
        return refuse_agreement(session, actor, agreement_id, reason=reason)
    if decision == "withdraw":
        return withdraw_agreement(session, actor, agreement_id)
    raise NotFoundError(_("没有这项操作。"))


def _tell_decision(session: Session, agreement: PreorderAgreement, actor: User, title, kind: str,
                   body: str = "") -> None:
    for user_id in sorted(services.people_to_tell(session, agreement) - {actor.id}):
        notify(session, user_id, kind, title, body=body or _terms_text(agreement),
               link=services.agreement_path(agreement))


# --- what the pages show ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProposalChoices:
    """The decisions a page offers one person on a proposed agreement."""

    confirm: bool = False
    refuse: bool = False
    withdraw: bool = False

    @property
    def any(self) -> bool:
        """Whether any decision is open to the person."""
        return self.confirm or self.refuse or self.withdraw


def _allowed(check, *args) -> bool:
    try:
        check(*args)
    except (PermissionDeniedError, InvalidStateError):
        return False
    return True


def proposal_choices(actor: User | None, agreement: PreorderAgreement) -> ProposalChoices:
    """What the person may decide on the agreement's proposal now (the services check the same again)."""
    proposal = agreement.proposal
    if (actor is None or not getattr(actor, "is_authenticated", False) or proposal is None
            or proposal.status != FactStatus.RECORDED):
        return ProposalChoices()
    roles = fact_roles(actor, agreement)
    return ProposalChoices(confirm=_allowed(_side_to_confirm, proposal, actor, roles),
                           refuse=_allowed(_check_may_refuse, proposal, actor, roles),
                           withdraw=_allowed(_check_may_withdraw, proposal, actor))


def recorded_as_text(proposal: PreorderProposal | None) -> str:
    """The role the proposal was recorded in, in words ('' without a proposal)."""
    return confirmations.role_name(FactRole(proposal.recorded_as)) if proposal is not None else ""


def awaiting_text(agreement: PreorderAgreement) -> str:
    """Who must still confirm, in words ('' when nobody)."""
    return _("、").join(party_name(agreement, side) for side in awaiting_sides(agreement.proposal))


# --- reminders --------------------------------------------------------------------------------------


def remind_agreement_confirmations(session: Session, now: datetime) -> int:
    """Remind the members of each side that must still confirm a proposal recorded REMINDER_AFTER_DAYS days ago or
    more (once a day); returns how many proposals were reminded of."""
    due = session.scalars(select(PreorderProposal).where(reminder_due(PreorderProposal, now))
                          .order_by(PreorderProposal.id)).all()
    for proposal in due:
        _ask_to_confirm(session, proposal.agreement, proposal, exclude=set(), kind=REMINDER_KIND)
        proposal.last_reminded_at = now
    session.flush()
    return len(due)
