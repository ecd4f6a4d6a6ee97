"""Signing as a confirmed fact: the transferor or the deal's broker records the signed contract (a date after the
notice, the noticed amount); the deal stays in its notice until a member of the transferee confirms it, and only then
is it signed. The transferee may dispute (an admin settles it), the recorder may withdraw and record again."""
import logging
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from market.accounts.models import User
from market.confirmations import services as confirmations
from market.confirmations.models import OPEN_STATUSES, FactStatus
from market.confirmations.reminders import REMINDER_AFTER_DAYS, reminder_due
from market.confirmations.table import FactKind
from market.deals import policy_limits, recording
from market.deals.inputs import SigningInput
from market.deals.labels import STAGE_LABELS
from market.deals.models import Deal, DealSigning, DealStage
from market.deals.permissions import can_view_deal, earns_from_payments, fact_roles
from market.deals.pipeline import get_deal
from market.deals.recording import deal_link, lock_deal, member_ids, raise_if_errors, record_step
from market.declared import validate_input
from market.errors import InvalidStateError, NotFoundError
from market.inputs import FieldErrors
from market.money import format_wan, rate_number
from market.notifications.services import notify

audit = logging.getLogger("market.audit")

KIND = FactKind.SIGNING
DECISIONS = ("confirm", "dispute", "withdraw", "refuse")
"""The decisions on a recorded signing (the last path segment of its decision routes)."""
REMINDER_KIND = "signing_awaits_confirmation_reminder"
"""The notification (mailed: it asks its reader to act) of a signing waiting for the transferee's confirmation."""


def signing_params(signing: DealSigning) -> dict:
    """The facts a timeline step names about a signing: its date and amount."""
    return {"day": signing.signed_on.isoformat(), "amount_fen": signing.agreed_amount_fen}


def deal_signings(session: Session, deal: Deal) -> list[DealSigning]:
    """Every signing recorded on the deal, newest first."""
    return list(session.scalars(select(DealSigning).where(DealSigning.deal_id == deal.id)
                                .order_by(DealSigning.id.desc())))


def open_signing(session: Session, deal: Deal) -> DealSigning | None:
    """The signing that waits for a decision, if any (at most one per deal)."""
    return session.scalar(select(DealSigning).where(DealSigning.deal_id == deal.id,
                                                    DealSigning.status.in_(OPEN_STATUSES)))


def _signing_errors(session: Session, deal: Deal, day, amount, errors: FieldErrors) -> None:
    """The rules a signing meets when recorded and again when confirmed: a date after the notice, the noticed price,
    the inventors' share and the reward-rate maximum of the rule set in force on the signing day."""
    if day is not None and deal.notice_ends_on is not None and day <= deal.notice_ends_on:
        errors.add("signed_on", _("公示期至 %(d)s 结束，签约日期须在公示期满之后。", d=deal.notice_ends_on.isoformat()))
    if amount is not None and amount != deal.agreed_amount_fen:
        errors.add("agreed_amount_fen", _("合同金额须与公示价格（%(p)s）一致；价格变更需撤回公示，经各方确认后重新公示。",
                                          p=format_wan(deal.agreed_amount_fen, 6) if deal.agreed_amount_fen else ""))
    policy_limits.require_inventor_share(errors, deal)
    if day is not None:
        limit = policy_limits.reward_rate_limit(session, day)
        if limit is not None and deal.reward_rate_bp > limit.max_bp:
            errors.add("reward_rate", _("签约日 %(d)s 的现行规则规定：%(rule)s本项目的奖励比例为 %(rate)s%%，请先修改中介服务信息。",
                                        d=day.isoformat(), rule=policy_limits.reward_rate_message(limit),
                                        rate=rate_number(deal.reward_rate_bp)))
        policy_limits.check_inventor_share(session, errors, "inventor_share", deal, deal.inventor_share_bp, day)


def _require_in_notice(deal: Deal) -> None:
    if not deal.is_open:
        raise InvalidStateError(_("项目已%(s)s，不能再变更。", s=STAGE_LABELS[DealStage(deal.stage)]))
    if deal.stage != DealStage.NOTICE:
        raise InvalidStateError(_("项目当前处于“%(now)s”阶段，只有公示期满后才能签约。",
                                  now=STAGE_LABELS[DealStage(deal.stage)]))


def record_signing(session: Session, actor: User, deal_id: int, *, signed_on, agreed_amount_fen) -> DealSigning:
    """The transferor or the deal's broker records the signed contract after the notice period; the deal is signed
    once a member of the transferee confirms it (its members are told)."""
    deal = get_deal(session, actor, deal_id)
    lock_deal(session, deal)
    role = confirmations.require_recording_role(KIND, fact_roles(actor, deal),
                                                _("签约由成果转让方或项目经纪人登记，由受让方确认。"))
    _require_in_notice(deal)
    if open_signing(session, deal) is not None:
        raise InvalidStateError(_("已有待受让方确认的签约记录；如需更正，请登记人先撤回。"))
    values, errors = validate_input(SigningInput, {"signed_on": signed_on, "agreed_amount_fen": agreed_amount_fen})
    day, amount = values.get("signed_on"), values.get("agreed_amount_fen")
    _signing_errors(session, deal, day, amount, errors)
    raise_if_errors(errors)
    if deal.notice_ends_on is None or recording.today() <= deal.notice_ends_on:
        raise InvalidStateError(_("公示期尚未结束，不能签约。"))
    signing = DealSigning(deal_id=deal.id, signed_on=day, agreed_amount_fen=amount, recorded_by_id=actor.id,
                          recorded_as=role.value, status=FactStatus.RECORDED)
    session.add(signing)
    session.flush()
    session.expire(deal, ["signings"])
    record_step(session, deal, actor, "signing_recorded", deal.stage, code="signed", params=signing_params(signing),
                notify_title=_l("签约已登记，待受让方确认：%(t)s", t=deal.title), notify_kind="deal_signing_awaits_confirmation")
    session.flush()
    audit.info("deal %s signing %s recorded by user_id=%s", deal.id, signing.id, actor.id)
    return signing


def get_signing(session: Session, actor: User | None, signing_id: int) -> DealSigning:
    """A signing of a deal the actor may see, or NotFoundError."""
    signing = session.get(DealSigning, signing_id)
    if signing is None or not can_view_deal(actor, signing.deal):
        raise NotFoundError(_("签约记录不存在。"))
    return signing


def _locked(session: Session, actor: User, signing_id: int) -> tuple[DealSigning, Deal]:
    """The signing and its deal, the deal's row locked and the signing read again under the lock."""
    signing = get_signing(session, actor, signing_id)
    deal = lock_deal(session, signing.deal)
    session.refresh(signing)
    return signing, deal


def confirm_signing(session: Session, actor: User, signing_id: int, *, note="") -> DealSigning:
    """A member of the transferee (an admin for a disputed signing) confirms it: the deal is signed on its date for
    its amount, and everyone involved is told."""
    signing, deal = _locked(session, actor, signing_id)
    confirmations.check_may_confirm(KIND, signing, actor, fact_roles(actor, deal),
                                    beneficiary=earns_from_payments(actor, deal))
    _require_in_notice(deal)
    errors = FieldErrors()
    _signing_errors(session, deal, signing.signed_on, signing.agreed_amount_fen, errors)
    raise_if_errors(errors)
    confirmations.confirm(KIND, signing, actor, fact_roles(actor, deal), beneficiary=earns_from_payments(actor, deal),
                          note=confirmations.optional_note(note))
    deal.signed_on, deal.agreed_amount_fen = signing.signed_on, signing.agreed_amount_fen
    previous = deal.advance_to(DealStage.SIGNED)
    session.expire(deal, ["signings"])
    record_step(session, deal, actor, "signed", previous, code="signed", params=signing_params(signing),
                notify_title=_("签约已经受让方确认，项目进入签约阶段：%(t)s", t=deal.title))
    session.flush()
    audit.info("deal %s signing %s confirmed by user_id=%s", deal.id, signing.id, actor.id)
    return signing


def dispute_signing(session: Session, actor: User, signing_id: int, *, reason) -> DealSigning:
    """A member of the transferee says the recorded signing is wrong, with a reason everyone involved sees."""
    signing, deal = _locked(session, actor, signing_id)
    confirmations.dispute(KIND, signing, actor, fact_roles(actor, deal), reason)
    record_step(session, deal, actor, "signing_disputed", deal.stage, note=signing.dispute_reason,
                notify_title=_("受让方对签约记录提出异议：%(t)s", t=deal.title))
    session.flush()
    return signing


def withdraw_signing(session: Session, actor: User, signing_id: int) -> DealSigning:
    """The recorder takes back a signing nobody has confirmed (and may record it again)."""
    signing, deal = _locked(session, actor, signing_id)
    confirmations.withdraw(signing, actor)
    session.expire(deal, ["signings"])
    record_step(session, deal, actor, "signing_withdrawn", deal.stage, code="signed", params=signing_params(signing),
                notify_title=_("签约记录已撤回：%(t)s", t=deal.title))
    session.flush()
    return signing


def refuse_signing(session: Session, actor: User, signing_id: int, *, reason) -> DealSigning:
    """An admin settles an open signing as wrong, with a reason everyone involved sees."""
    signing, deal = _locked(session, actor, signing_id)
    confirmations.refuse(signing, actor, fact_roles(actor, deal), reason)
    session.expire(deal, ["signings"])
    record_step(session, deal, actor, "signing_refused", deal.stage, note=signing.decision_note,
                notify_title=_("签约记录已被平台驳回：%(t)s", t=deal.title))
    session.flush()
    return signing


def decide_signing(session: Session, actor: User, signing_id: int, decision: str, *, reason="") -> DealSigning:
    """Confirm, dispute, withdraw or (an admin) refuse a recorded signing."""
    if decision == "confirm":
        return confirm_signing(session, actor, signing_id, note=reason)
    if decision == "dispute":
        return dispute_signing(session, actor, signing_id, reason=reason)
    if decision == "withdraw":
        return withdraw_signing(session, actor, signing_id)
    if decision == "refuse":
        return refuse_signing(session, actor, signing_id, reason=reason)
    raise NotFoundError(_("没有这项操作。"))


def remind_signing_confirmations(session: Session, now: datetime) -> int:
    """Remind the transferee's members of each signing recorded REMINDER_AFTER_DAYS days ago or more and still
    unconfirmed (a disputed one waits for an admin; once a day); returns how many signings were reminded of."""
    due = session.scalars(select(DealSigning).join(Deal, Deal.id == DealSigning.deal_id)
                          .where(reminder_due(DealSigning, now), Deal.stage == DealStage.NOTICE)
                          .order_by(DealSigning.id)).all()
    for signing in due:
        deal = signing.deal
        for user_id in member_ids(session, deal.transferee_id):
            notify(session, user_id, REMINDER_KIND,
                   _l("签约已登记 %(n)s 天以上，仍待您确认：%(t)s", n=REMINDER_AFTER_DAYS, t=deal.title),
                   body=format_wan(signing.agreed_amount_fen, 6), link=f"{deal_link(deal)}#signing-{signing.id}")
        signing.last_reminded_at = now
    session.flush()
    return len(due)


def signing_choices(actor: User | None, signing: DealSigning) -> confirmations.DecisionChoices:
    """The decisions the deal page and the API offer the actor on a signing."""
    deal = signing.deal
    if deal.stage != DealStage.NOTICE:
        return confirmations.DecisionChoices()
    return confirmations.decision_choices(KIND, signing, actor, fact_roles(actor, deal),
                                          beneficiary=bool(actor) and earns_from_payments(actor, deal))

