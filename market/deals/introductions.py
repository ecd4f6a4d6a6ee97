"""Introductions (引荐): an approved broker proposes an achievement to a demand or an enterprise; when a member of
each side accepts, a deal opens at 意向 with the broker on it (both acceptances are the parties' consent)."""
import logging
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from market.accounts.models import ApprovalStatus, Organisation, OrganisationKind, User
from market.achievements.models import Achievement
from market.deals import achievement_rights
from market.deals.inputs import DeclineInput, IntroductionInput
from market.deals.labels import INTRODUCTION_STATUS_LABELS, decline_text
from market.deals.limits import MAX_OPEN_INTRODUCTIONS_PER_BROKER, REASK_AFTER_DECLINE_DAYS
from market.deals.models import Deal, Introduction, IntroductionStatus
from market.deals.permissions import (
    PARTY_SIDES,
    awaiting_introduction,
    can_view_introduction,
    introduction_answers,
    introduction_sides,
    may_introduce,
    visible_introductions,
)
from market.deals.recording import deal_link, member_ids, notify_all, open_deal, raise_if_errors, record_step
from market.declared import validate_input
from market.demands.models import Demand
from market.errors import InvalidStateError, NotFoundError, PermissionDeniedError, RuleViolationError
from market.inputs import FieldErrors
from market.listings.models import GrantSource
from market.notifications.services import notify
from market.security import is_member_of
from market.timeutil import utcnow

audit = logging.getLogger("market.audit")


def introduction_link(introduction: Introduction) -> str:
    """The page of an introduction."""
    return f"/introductions/{introduction.id}"


def side_label(side: str) -> str:
    """A side of an introduction in words."""
    return _("成果方") if side == "transferor" else _("需求方")


# ---------------------------------------------------------------- reads


def get_introduction(session: Session, actor: User | None, introduction_id: int) -> Introduction:
    """An introduction the actor may see (its broker, both sides, admins), or NotFoundError."""
    introduction = session.get(Introduction, introduction_id)
    if introduction is None or not can_view_introduction(actor, introduction):
        raise NotFoundError(_("该引荐不存在或您无权查看。"))
    return introduction


def list_introductions(session: Session, actor: User, *, box: str = "all") -> list[Introduction]:
    """The introductions the actor sees, newest first: "mine" (proposed by the actor), "awaiting" (pending, the
    actor's organisation has not answered yet) or "all"."""
    statement = select(Introduction).where(visible_introductions(actor))
    if box == "mine":
        statement = statement.where(Introduction.broker_id == actor.id)
    elif box == "awaiting":
        statement = statement.where(Introduction.status == IntroductionStatus.PENDING)
    found = list(session.scalars(statement.order_by(Introduction.updated_at.desc(), Introduction.id.desc())))
    if box == "awaiting":
        found = [introduction for introduction in found if introduction_answers(actor, introduction)]
    return found


def introducible_enterprises(session: Session) -> list[Organisation]:
    """Approved enterprises an achievement may be introduced to."""
    return list(session.scalars(select(Organisation).where(Organisation.kind == OrganisationKind.ENTERPRISE,
                                                           Organisation.status == ApprovalStatus.APPROVED)
                                .order_by(Organisation.name)))


# ---------------------------------------------------------------- proposing


def require_introducer(actor: User | None) -> None:
    """Refuse anyone but an approved broker."""
    if not may_introduce(actor):
        raise PermissionDeniedError(_("只有已审核的技术经理人可以发起引荐。"))


def _counterpart(session: Session, values: dict, errors: FieldErrors) -> tuple[Demand | None, int | None]:
    """The demand (if one is named) and the transferee organisation; refusals are field messages."""
    if values.get("demand_id") is not None:
        demand = session.get(Demand, values["demand_id"])
        if demand is None or not demand.is_public:
            errors.add("demand_id", _("请选择已发布的技术需求。"))
            return None, None
        return demand, demand.organisation_id
    if values.get("organisation_id") is not None:
        organisation = session.get(Organisation, values["organisation_id"])
        if (organisation is None or organisation.kind != OrganisationKind.ENTERPRISE
                or organisation.status != ApprovalStatus.APPROVED):
            errors.add("organisation_id", _("请选择已审核的企业。"))
            return None, None
        return None, organisation.id
    return None, None


def _check_broker_may_introduce(session: Session, actor: User, achievement: Achievement, transferee_id: int) -> None:
    """The broker's own organisation on neither side, the pair not already waiting, not declined to this broker
    lately, and the broker under the cap of open introductions."""
    if is_member_of(actor, achievement.organisation_id) or is_member_of(actor, transferee_id):
        raise PermissionDeniedError(_("不能引荐本机构的成果或需求。"))
    pending = session.scalar(select(Introduction.id).where(Introduction.achievement_id == achievement.id,
                                                           Introduction.transferee_id == transferee_id,
                                                           Introduction.status == IntroductionStatus.PENDING))
    if pending is not None:
        raise InvalidStateError(_("该成果与对方已有待确认的引荐。"))
    since = utcnow() - timedelta(days=REASK_AFTER_DECLINE_DAYS)
    declined = session.scalar(select(func.max(Introduction.decided_at)).where(
        Introduction.broker_id == actor.id, Introduction.achievement_id == achievement.id,
        Introduction.transferee_id == transferee_id, Introduction.status == IntroductionStatus.DECLINED,
        Introduction.decided_at >= since))
    if declined is not None:
        again = (declined + timedelta(days=REASK_AFTER_DECLINE_DAYS)).date()
        raise RuleViolationError(_("对方已拒绝您的这项引荐，%(d)s 天内不能再次引荐（%(on)s 起可再引荐）。",
                                   d=REASK_AFTER_DECLINE_DAYS, on=again.isoformat()))
    waiting = session.scalar(select(func.count(Introduction.id)).where(
        Introduction.broker_id == actor.id, Introduction.status == IntroductionStatus.PENDING))
    if waiting >= MAX_OPEN_INTRODUCTIONS_PER_BROKER:
        raise RuleViolationError(_("您已有 %(n)s 项待确认的引荐，请等双方答复或撤回部分引荐后再发起。",
                                   n=MAX_OPEN_INTRODUCTIONS_PER_BROKER))


def propose_introduction(session: Session, actor: User, *, achievement_id, demand_id=None, organisation_id=None,
                         note="") -> Introduction:
    """An approved broker introduces a published achievement to a published demand or an approved enterprise;
    members of both sides are told and each side accepts or declines."""
    require_introducer(actor)
    values, errors = validate_input(IntroductionInput, {"achievement_id": achievement_id, "demand_id": demand_id,
                                                        "organisation_id": organisation_id, "note": note})
    achievement = None
    if values.get("achievement_id") is not None:
        achievement = session.get(Achievement, values["achievement_id"])
        if achievement is None or not achievement.is_public:
            errors.add("achievement_id", _("请选择已发布的成果。"))
            achievement = None
    demand, transferee_id = _counterpart(session, values, errors)
    if achievement is not None and transferee_id == achievement.organisation_id:
        errors.add("demand_id" if demand else "organisation_id", _("成果与对方属于同一机构，无需引荐。"))
    raise_if_errors(errors)
    _check_broker_may_introduce(session, actor, achievement, transferee_id)
    introduction = Introduction(broker_id=actor.id, achievement_id=achievement.id,
                                demand_id=demand.id if demand else None, transferor_id=achievement.organisation_id,
                                transferee_id=transferee_id, note=values["note"] or "")
    session.add(introduction)
    session.flush()
    target = demand.title if demand else introduction.transferee.name
    notify_all(session, member_ids(session, introduction.transferor_id) + member_ids(session, transferee_id), actor,
               "introduction_awaits_answer", _("技术经理人 %(b)s 引荐：%(a)s → %(t)s", b=actor.name, a=achievement.title,
                                          t=target), introduction_link(introduction), body=introduction.note)
    session.flush()
    audit.info("introduction %s of achievement %s to organisation %s by broker user_id=%s", introduction.id,
               achievement.id, transferee_id, actor.id)
    return introduction


# ---------------------------------------------------------------- answers


def _locked_pending(session: Session, actor: User, introduction_id: int) -> Introduction:
    """The introduction, its row locked so that answers run one after another (on SQLite a write takes the
    database's write lock), still pending."""
    introduction = get_introduction(session, actor, introduction_id)
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(Introduction).where(Introduction.id == introduction.id)
                        .values(updated_at=utcnow()).execution_options(synchronize_session=False))
    else:
        session.execute(select(Introduction.id).where(Introduction.id == introduction.id).with_for_update())
    session.refresh(introduction)
    if not introduction.is_pending:
        status = INTRODUCTION_STATUS_LABELS[IntroductionStatus(introduction.status)]
        raise InvalidStateError(_("该引荐已结束（%(s)s）。", s=status))
    return introduction


def _answering_sides(actor: User, introduction: Introduction) -> set[str]:
    sides = introduction_answers(actor, introduction)
    if not sides:
        if actor.id == introduction.broker_id:
            raise PermissionDeniedError(_("引荐人不能代替双方答复。"))
        if introduction_sides(actor, introduction):
            raise InvalidStateError(_("贵机构已答复该引荐，请等待另一方。"))
        raise PermissionDeniedError(_("只有被引荐双方机构的成员可以答复。"))
    return sides


def _sides_members(session: Session, introduction: Introduction) -> list[int]:
    return member_ids(session, introduction.transferor_id) + member_ids(session, introduction.transferee_id)


def _relicense_context(introduction: Introduction) -> str:
    return _("引荐 #%(id)s", id=introduction.id)


def accept_introduction(session: Session, actor: User, introduction_id: int, *,
                        confirm_relicense=False) -> Introduction:
    """A member of a side that has not answered accepts for it; once both sides have accepted a deal opens at 意向
    with the broker as its broker. On an achievement transferred outright the owner's side accepts only confirming
    the new licence (`confirm_relicense`, recorded in the achievement's history); an owner's acceptance given before
    such a transfer is asked again when the other side accepts."""
    introduction = _locked_pending(session, actor, introduction_id)
    sides = _answering_sides(actor, introduction)
    now = utcnow()
    if "transferor" in sides and achievement_rights.require_relicense_confirmation(
            session, actor, introduction.achievement, owner_side=True, confirmed=confirm_relicense,
            context=_relicense_context(introduction)) is not None:
        introduction.relicense_confirmed_at = now
    for side in sides:
        setattr(introduction, f"{side}_accepted_by_id", actor.id)
        setattr(introduction, f"{side}_accepted_at", now)
    introduction.updated_at = now
    note = ""
    if (not awaiting_introduction(introduction) and introduction.relicense_confirmed_at is None
            and achievement_rights.outright_transfer(session, introduction.achievement) is not None):
        introduction.transferor_accepted_by_id = introduction.transferor_accepted_at = None
        note = _("该成果在成果方接受后已整体转让，须成果方重新接受并确认再次许可。")
    session.flush()
    if awaiting_introduction(introduction):
        waiting = "、".join(side_label(side) for side in PARTY_SIDES if side in awaiting_introduction(introduction))
        notify_all(session, _sides_members(session, introduction) + [introduction.broker_id], actor,
                   "introduction_accepted", _("%(o)s 接受了引荐：%(t)s", o=actor.organisation.name,
                                              t=introduction.achievement.title),
                   introduction_link(introduction), body=note or _("待%(w)s确认。", w=waiting))
        session.flush()
        return introduction
    _open_introduced_deal(session, actor, introduction, now)
    return introduction


def _open_introduced_deal(session: Session, actor: User, introduction: Introduction, now) -> Deal:
    """Both sides accepted: the listings must still be published and the broker still approved and outside both
    sides; the deal opens through the same path as bids and responses, with the broker on it."""
    achievement, demand, broker = introduction.achievement, introduction.demand, introduction.broker
    if not achievement.is_public or (demand is not None and not demand.is_public):
        raise InvalidStateError(_("被引荐的成果或需求已不再公开，不能创建项目。"))
    if not may_introduce(broker) or is_member_of(broker, introduction.transferor_id) \
            or is_member_of(broker, introduction.transferee_id):
        raise InvalidStateError(_("该技术经理人目前不能担任本项目的经纪人。"))
    if introduction.relicense_confirmed_at is None:
        achievement_rights.require_relicense_confirmation(session, actor, achievement, owner_side=False,
                                                          confirmed=None, context=_relicense_context(introduction))
    modes = demand.modes if demand is not None and len(demand.modes) == 1 else achievement.modes
    deal = open_deal(session, actor, code="introduced", params={"broker": broker.id},
                     title=(demand.title if demand else achievement.title)[:200], achievement_id=achievement.id,
                     demand_id=demand.id if demand else None, transferor_id=introduction.transferor_id,
                     transferee_id=introduction.transferee_id, broker_id=broker.id,
                     mode=modes[0] if len(modes) == 1 else None)
    claimed = session.execute(update(Introduction).where(Introduction.id == introduction.id,
                                                         Introduction.status == IntroductionStatus.PENDING)
                              .values(status=IntroductionStatus.ACCEPTED, deal_id=deal.id, decided_by_id=actor.id,
                                      decided_at=now, updated_at=now)
                              .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise InvalidStateError(_("该引荐已被处理。"))
    session.refresh(introduction)
    achievement_rights.open_to_counterparty(session, deal, session.get(User, introduction.transferor_accepted_by_id),
                                            GrantSource.INTRODUCTION)
    record_step(session, deal, actor, "broker", deal.stage, code="broker_introduced", params={"broker": broker.id})
    notify(session, broker.id, "introduction_accepted", _("引荐成功，项目已创建：%(t)s", t=deal.title),
           link=deal_link(deal))
    session.flush()
    audit.info("introduction %s accepted by both sides, deal %s opened with broker user_id=%s", introduction.id,
               deal.id, broker.id)
    return deal


def decline_introduction(session: Session, actor: User, introduction_id: int, *, reason, note=None) -> Introduction:
    """A member of a side that has not answered declines with a reason from the list (and a note): the introduction
    ends, and the broker and the other side are shown why."""
    values, errors = validate_input(DeclineInput, {"reason": reason, "note": note})
    raise_if_errors(errors)
    introduction = _locked_pending(session, actor, introduction_id)
    sides = _answering_sides(actor, introduction)
    now = utcnow()
    introduction.status = IntroductionStatus.DECLINED
    introduction.declined_side = "transferor" if "transferor" in sides else "transferee"
    introduction.decline_reason, introduction.decline_note = values["reason"], values["note"] or ""
    introduction.decided_by_id, introduction.decided_at, introduction.updated_at = actor.id, now, now
    notify_all(session, _sides_members(session, introduction) + [introduction.broker_id], actor,
               "introduction_declined", _("引荐未被接受：%(t)s", t=introduction.achievement.title),
               introduction_link(introduction),
               body=_("%(s)s拒绝：%(r)s", s=side_label(introduction.declined_side),
                      r=decline_text(introduction.decline_reason, introduction.decline_note)))
    session.flush()
    audit.info("introduction %s declined by user_id=%s", introduction.id, actor.id)
    return introduction


def withdraw_introduction(session: Session, actor: User, introduction_id: int) -> Introduction:
    """The broker withdraws a pending introduction; both sides are told."""
    introduction = _locked_pending(session, actor, introduction_id)
    if actor.id != introduction.broker_id:
        raise PermissionDeniedError(_("只有引荐人可以撤回引荐。"))
    now = utcnow()
    introduction.status = IntroductionStatus.WITHDRAWN
    introduction.decided_by_id, introduction.decided_at, introduction.updated_at = actor.id, now, now
    notify_all(session, _sides_members(session, introduction), actor, "introduction_withdrawn",
               _("引荐已撤回：%(t)s", t=introduction.achievement.title), introduction_link(introduction))
    session.flush()
    return introduction
