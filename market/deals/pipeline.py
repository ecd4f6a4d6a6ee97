"""The deal pipeline: moves, terms, public notice, signing, registration, payments, completion."""
import logging
from datetime import timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from market.accounts.models import (
    User,
)
from market.awards import services as award_services
from market.awards.models import Award
from market.confirmations.evidence import EvidenceUpload
from market.confirmations.models import STATUS_LABELS
from market.deals import achievement_rights, payments, policy_limits, recording, registrations, terms
from market.deals.inputs import (
    CompletionInput,
    NoticeInput,
    NoticeWithdrawalInput,
    RegistrationInput,
    TerminationInput,
    TermsAcceptanceInput,
    TermsInput,
)
from market.deals.labels import STAGE_LABELS
from market.deals.limits import DEFAULT_NOTICE_DAYS, EDITABLE_TERMS_STAGES
from market.deals.models import (
    Deal,
    DealPayment,
    DealStage,
    RegistrationStatus,
)
from market.deals.permissions import (
    EDITORS,
    can_view_deal,
    deal_roles,
    may_move,
    next_stage,
    seats_held,
    seats_to_accept,
)
from market.deals.recording import deal_link, involved_user_ids, lock_deal, notify_all, raise_if_errors, record_step
from market.declared import validate_input
from market.errors import (
    InvalidStateError,
    NotFoundError,
    PermissionDeniedError,
)
from market.listings import services as listings
from market.listings.vocabulary import ListingStatus, label
from market.money import format_wan
from market.timeutil import utcnow
from market.unit_of_work import savepoint

audit = logging.getLogger("market.audit")

# ---------------------------------------------------------------- the deal pipeline


def get_deal(session: Session, actor: User | None, deal_id: int) -> Deal:
    """A deal the actor may see, or NotFoundError (it looks absent to everyone else)."""
    deal = session.get(Deal, deal_id)
    if deal is None or not can_view_deal(actor, deal):
        raise NotFoundError(_("项目不存在或您无权查看。"))
    return deal


def _deal_for_move(session: Session, actor: User, deal_id: int, target: DealStage, *, locked: bool = False) -> Deal:
    """Load a deal (its row locked if asked) and check the actor may move it into target from its current stage."""
    deal = get_deal(session, actor, deal_id)
    if locked:
        lock_deal(session, deal)
    if not may_move(actor, deal, target):
        raise PermissionDeniedError(_("您无权将项目推进到“%(s)s”阶段。", s=STAGE_LABELS[target]))
    if not deal.is_open:
        raise InvalidStateError(_("项目已%(s)s，不能再变更。", s=STAGE_LABELS[DealStage(deal.stage)]))
    if target != DealStage.TERMINATED and next_stage(deal) != target:
        raise InvalidStateError(_("项目当前处于“%(now)s”阶段，不能进入“%(to)s”阶段。",
                                  now=STAGE_LABELS[DealStage(deal.stage)], to=STAGE_LABELS[target]))
    return deal



def advance_deal(session: Session, actor: User, deal_id: int, target) -> Deal:
    """Move a deal intent → negotiation → pricing (the steps that need nothing but a party's decision)."""
    try:
        target = DealStage(target)
    except (ValueError, TypeError):
        raise InvalidStateError(_("无效的阶段。")) from None
    if target not in (DealStage.NEGOTIATION, DealStage.PRICING):
        raise InvalidStateError(_("该阶段需要填写相应信息后才能进入。"))
    deal = _deal_for_move(session, actor, deal_id, target)
    previous = deal.advance_to(target)
    record_step(session, deal, actor, "stage", previous)
    session.flush()
    return deal


def update_terms(session: Session, actor: User, deal_id: int, *, agreed_amount_fen, mode, inventor_share_bp=None) -> Deal:
    """The parties or the broker set the amount, mode and (universities and institutes) the inventors' share being
    negotiated (until the notice starts); a change makes a new version of the terms for everyone to accept."""
    deal = get_deal(session, actor, deal_id)
    if not EDITORS & deal_roles(actor, deal):
        raise PermissionDeniedError(_("只有项目双方或项目经纪人可以修改交易条件。"))
    lock_deal(session, deal)
    terms.refuse_if_locked(deal)
    if deal.stage not in EDITABLE_TERMS_STAGES:
        raise InvalidStateError(_("公示开始后不能再修改交易条件。"))
    values, errors = validate_input(TermsInput, {"agreed_amount_fen": agreed_amount_fen, "mode": mode,
                                                 "inventor_share": inventor_share_bp})
    amount, chosen, share = values.get("agreed_amount_fen"), values.get("mode"), values.get("inventor_share")
    achievement = deal.achievement
    if chosen is not None and achievement is not None and achievement.modes and chosen not in achievement.modes:
        errors.add("mode", _("该成果不提供“%(m)s”方式。", m=label(chosen)))
    policy_limits.check_inventor_share(session, errors, "inventor_share", deal, share, policy_limits.terms_day(deal))
    raise_if_errors(errors)
    if (deal.agreed_amount_fen, deal.mode, deal.inventor_share_bp) == (amount, chosen, share):
        return deal
    deal.agreed_amount_fen, deal.mode, deal.inventor_share_bp = amount, chosen, share
    version = terms.new_terms_version(session, deal, actor)
    record_step(session, deal, actor, "terms", deal.stage, notify_title=terms_changed_title(deal), code="terms",
                params={"version": version, "amount_fen": amount, "mode": chosen, "inventor_share_bp": share})
    session.flush()
    return deal


def terms_changed_title(deal: Deal):
    """What everyone involved is told when a term changes (rendered in each reader's language)."""
    return _l("交易条件已变更为第 %(n)s 版，请查看并确认：%(t)s", n=deal.terms_version, t=deal.title)


def accept_terms(session: Session, actor: User, deal_id: int, version) -> Deal:
    """A member of a party accepts the current terms for it, a named intermediary for his share; a version other than
    the current one is refused (nobody accepts terms they were not shown)."""
    deal = get_deal(session, actor, deal_id)
    values, errors = validate_input(TermsAcceptanceInput, {"version": version})
    raise_if_errors(errors)
    lock_deal(session, deal)
    if not seats_held(actor, deal):
        raise PermissionDeniedError(_("只有项目双方的成员和指名的中介服务人员可以确认交易条件。"))
    if not deal.is_open or deal.stage not in EDITABLE_TERMS_STAGES:
        raise InvalidStateError(_("公示开始后不再确认交易条件。"))
    if values["version"] != deal.terms_version:
        raise InvalidStateError(_("交易条件已变更为第 %(n)s 版（您确认的是第 %(v)s 版），请查看最新条件后再确认。",
                                  n=deal.terms_version, v=values["version"]))
    seats = seats_to_accept(actor, deal)
    if not seats:
        raise InvalidStateError(_("您已确认第 %(n)s 版交易条件。", n=deal.terms_version))
    terms.record_acceptance(session, deal, actor, seats)
    record_step(session, deal, actor, "terms_accepted", deal.stage, code="terms_accepted",
                params={"version": deal.terms_version, "seats": [[role, user_id] for role, user_id in seats]})
    session.flush()
    return deal


def _format_amount(fen: int | None) -> str:
    return format_wan(fen, 6) if fen is not None else ""


def start_notice(session: Session, actor: User, deal_id: int, *, notice_days=DEFAULT_NOTICE_DAYS) -> Deal:
    """Publish the agreed price for public notice (公示) from today for the given number of days, once both parties and
    every named intermediary accepted the current terms (which then lock)."""
    deal = _deal_for_move(session, actor, deal_id, DealStage.NOTICE, locked=True)
    values, errors = validate_input(NoticeInput, {"notice_days": notice_days})
    if not deal.agreed_amount_fen:
        errors.add("agreed_amount_fen", _("请先在交易条件中填写协议价格。"))
    if deal.mode is None:
        errors.add("mode", _("请先在交易条件中选择转化方式。"))
    policy_limits.require_inventor_share(errors, deal)
    raise_if_errors(errors)
    terms.require_terms_accepted(session, deal)
    starts, days = recording.today(), values["notice_days"]
    deal.notice_days, deal.notice_starts_on = days, starts
    deal.notice_ends_on = starts + timedelta(days=days - 1)
    previous = deal.advance_to(DealStage.NOTICE)
    record_step(session, deal, actor, "notice", previous, code="notice",
                params={"starts": starts.isoformat(), "ends": deal.notice_ends_on.isoformat()})
    session.flush()
    return deal


def withdraw_notice(session: Session, actor: User, deal_id: int, *, reason) -> Deal:
    """A party takes the notice down with a written reason: the deal returns to pricing, its terms may change again,
    and a new notice is needed."""
    deal = get_deal(session, actor, deal_id)
    if "party" not in deal_roles(actor, deal):
        raise PermissionDeniedError(_("只有项目双方可以撤回公示。"))
    values, errors = validate_input(NoticeWithdrawalInput, {"reason": reason})
    raise_if_errors(errors)
    lock_deal(session, deal)
    if deal.stage != DealStage.NOTICE:
        raise InvalidStateError(_("项目不在公示期，没有可撤回的公示。"))
    previous = deal.withdraw_notice()
    recording.close_open_signings(session, deal, actor, values["reason"])
    record_step(session, deal, actor, "notice_withdrawn", previous, note=values["reason"],
                notify_title=_("公示已撤回，交易条件可重新协商：%(t)s", t=deal.title))
    session.flush()
    return deal


def notice_is_public(deal: Deal) -> bool:
    """A notice is public from its first day on, unless the deal was terminated."""
    return (deal.notice_starts_on is not None and deal.notice_starts_on <= recording.today()
            and deal.stage != DealStage.TERMINATED)


def get_public_notice(session: Session, deal_id: int) -> Deal:
    """A deal whose public notice anyone may read, or NotFoundError."""
    deal = session.get(Deal, deal_id)
    if deal is None or not notice_is_public(deal):
        raise NotFoundError(_("公示不存在。"))
    return deal


def list_public_notices(session: Session) -> list[Deal]:
    """Deals in their notice period now, newest first."""
    return list(session.scalars(select(Deal).where(Deal.stage == DealStage.NOTICE, Deal.notice_starts_on <= recording.today())
                                .options(selectinload(Deal.transferor), selectinload(Deal.transferee))
                                .order_by(Deal.notice_starts_on.desc(), Deal.id.desc()).limit(200)))


def register_deal(session: Session, actor: User, deal_id: int, *, registration_number, registered_on,
                  certificate: EvidenceUpload | None = None) -> Deal:
    """The transferor or the deal's broker records the technology-contract registration (技术合同登记) with its
    certificate PDF and the policy engine is told, under the money lock; the registration awaits an admin's
    verification, and the awards it earns are held until then."""
    snapshot = award_services.lock_books(session)
    with savepoint(session):
        deal = _deal_for_move(session, actor, deal_id, DealStage.REGISTERED)
        role = registrations.recording_role(actor, deal)
        values, errors = validate_input(RegistrationInput, {"registration_number": registration_number,
                                                            "registered_on": registered_on})
        number, day = values.get("registration_number"), values.get("registered_on")
        if day is not None and deal.signed_on and day < deal.signed_on:
            errors.add("registered_on", _("登记日期不能早于签约日期（%(d)s）。", d=deal.signed_on.isoformat()))
        if number and session.scalar(select(Deal.id).where(Deal.registration_number == number, Deal.id != deal.id)):
            errors.add("registration_number", _("该登记编号已被其他项目使用。"))
        for field, message in registrations.require_certificate(certificate).items():
            errors.add(field, message)
        raise_if_errors(errors)
        deal.registration_number, deal.registered_on = number, day
        previous = deal.advance_to(DealStage.REGISTERED)
        session.flush()
        registrations.record_registration(session, deal, actor, role, number=number, day=day, certificate=certificate)
        if not registrations.engine_knows_contract(snapshot, payments.contract_key(deal)):
            payments.register_contract(session, snapshot, deal, actor)
        record_step(session, deal, actor, "registered", previous, note=number)
        session.flush()
    audit.info("deal %s registered as %s by user_id=%s", deal.id, number, actor.id)
    return deal


def _mark_achievement_dealt(session: Session, deal: Deal, actor: User) -> None:
    achievement = deal.achievement
    if achievement is not None and achievement.status in (ListingStatus.PUBLISHED, ListingStatus.WITHDRAWN,
                                                          ListingStatus.EXPIRED):
        previous = achievement.mark_dealt()
        listings.record_event(session, achievement, actor, "dealt", previous, comment=_("项目 #%(id)s 完成", id=deal.id))
        listings.record_listing_change(session, achievement)
    achievement_rights.open_to_completed_deal(session, deal, actor)


def complete_deal(session: Session, actor: User, deal_id: int, *, note="") -> Deal:
    """The transferor or an admin closes a deal in performance; a short-paid deal needs a written note."""
    deal = _deal_for_move(session, actor, deal_id, DealStage.COMPLETED)
    values, errors = validate_input(CompletionInput, {"note": note})
    text = values.get("note") or ""
    if any(payment.is_open for payment in session.scalars(select(DealPayment).where(DealPayment.deal_id == deal.id))):
        raise InvalidStateError(_("还有待确认或有异议的回款，处理后才能完成项目。"))
    if registration_awaits_verification(deal):
        raise InvalidStateError(_("技术合同登记尚未经平台核验，核验后才能完成项目。"))
    fully_paid = deal.agreed_amount_fen is not None and deal.paid_fen >= deal.agreed_amount_fen
    if not fully_paid and not text and "note" not in errors:
        errors.add("note", _("合同金额尚未全部回款，请说明完成原因。"))
    raise_if_errors(errors)
    _close_deal(session, deal, actor, text)
    session.flush()
    return deal


def registration_awaits_verification(deal: Deal) -> bool:
    """Whether the deal's standing registration still waits for an admin (a deal is not 已成交 on an unverified one)."""
    registration = deal.current_registration
    return registration is not None and registration.status == RegistrationStatus.AWAITING


def _close_deal(session: Session, deal: Deal, actor: User, note: str) -> None:
    """Complete a deal and mark its achievement 已成交."""
    previous = deal.advance_to(DealStage.COMPLETED)
    deal.completed_at = utcnow()
    _mark_achievement_dealt(session, deal, actor)
    record_step(session, deal, actor, "completed", previous, note=note)


def terminate_deal(session: Session, actor: User, deal_id: int, *, reason) -> Deal:
    """Either party, the broker or an admin ends a deal with a written reason."""
    deal = _deal_for_move(session, actor, deal_id, DealStage.TERMINATED)
    values, errors = validate_input(TerminationInput, {"reason": reason})
    raise_if_errors(errors)
    previous = deal.advance_to(DealStage.TERMINATED)
    recording.close_open_signings(session, deal, actor, values["reason"])
    deal.termination_reason = values["reason"]
    record_step(session, deal, actor, "terminated", previous, note=values["reason"])
    session.flush()
    return deal


def record_payment(session: Session, actor: User, deal_id: int, *, amount_fen, paid_on,
                   evidence=None) -> DealPayment:
    """Record proceeds (with their receipt or invoice when given); they wait for the other side's confirmation (its
    members are told)."""
    get_deal(session, actor, deal_id)
    with savepoint(session):
        return payments.record_deal_payment(session, actor, deal_id, amount_fen=amount_fen, paid_on=paid_on,
                                            evidence=evidence)


def confirm_payment(session: Session, actor: User, payment_id: int, *, note="") -> tuple[DealPayment, list[Award]]:
    """Confirm proceeds (awards are computed now); a payment that completes the contract value closes the deal once
    its registration is verified (until then the transferor completes it after the verification)."""
    with savepoint(session):
        payment, awards = payments.confirm_deal_payment(session, actor, payment_id, note=note)
        deal = payment.deal
        if (deal.stage == DealStage.PERFORMANCE and deal.paid_fen == deal.agreed_amount_fen
                and not registration_awaits_verification(deal)):
            _close_deal(session, deal, actor, _("合同金额已全部回款"))
        else:
            notify_all(session, involved_user_ids(session, deal), actor, "deal_payment",
                       _("项目回款已确认：%(t)s", t=deal.title), deal_link(deal), body=_format_amount(payment.amount_fen))
        session.flush()
    return payment, awards


def decide_payment(session: Session, actor: User, payment_id: int, decision: str, *,
                   reason="") -> tuple[DealPayment, list[Award]]:
    """Confirm, dispute, withdraw or refuse (an admin) a recorded payment; everyone involved is told. Returns the
    payment and the awards a confirmation earned."""
    if decision == "confirm":
        return confirm_payment(session, actor, payment_id, note=reason)
    if decision == "dispute":
        payment = payments.dispute_deal_payment(session, actor, payment_id, reason=reason)
    elif decision == "withdraw":
        payment = payments.withdraw_deal_payment(session, actor, payment_id)
    elif decision == "refuse":
        payment = payments.refuse_deal_payment(session, actor, payment_id, reason=reason)
    else:
        raise NotFoundError(_("没有这项操作。"))
    deal = payment.deal
    notify_all(session, involved_user_ids(session, deal), actor, "deal_payment_" + decision,
               _("回款记录%(s)s：%(t)s", s=STATUS_LABELS[payment.status], t=deal.title), deal_link(deal),
               body=payment.dispute_reason or payment.decision_note)
    session.flush()
    return payment, []
