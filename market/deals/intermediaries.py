"""Intermediaries, the agent, brokers claiming and being assigned to deals."""
import logging

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from market.accounts.models import (
    ApprovalStatus,
    Organisation,
    OrganisationKind,
    Role,
    User,
)
from market.awards import services as award_services
from market.deals import payments
from market.deals.limits import (
    BEFORE_REGISTRATION,
    MAX_INTERMEDIARIES_PER_ACHIEVEMENT,
    MAX_INTERMEDIARY_ROWS,
    MAX_REASON_CHARS,
)
from market.deals.models import (
    Deal,
    DealIntermediary,
)
from market.deals.permissions import EDITORS, deal_roles
from market.deals.pipeline import get_deal
from market.deals.recording import deal_link, raise_if_errors, record_step
from market.errors import (
    InvalidStateError,
    PermissionDeniedError,
    RuleViolationError,
)
from market.inputs import FieldErrors, clean_id, clean_text
from market.money import BASIS_POINTS, rate_number
from market.notifications.services import notify
from market.timeutil import utcnow
from market.unit_of_work import savepoint

audit = logging.getLogger("market.audit")

# ---------------------------------------------------------------- intermediaries and brokers


def broker_users(session: Session) -> list[User]:
    """Every active broker of an approved agency or investor (who may be named or assigned)."""
    return [user for user in session.scalars(select(User).where(User.role == Role.BROKER,
                                                                User.is_active_account.is_(True))
                                             .options(selectinload(User.organisation)).order_by(User.name, User.id))
            if user.is_approved_member]


def agency_organisations(session: Session) -> list[Organisation]:
    """Approved technology-transfer agencies (the agent of the 阳泉 rule)."""
    return list(session.scalars(select(Organisation).where(Organisation.kind == OrganisationKind.AGENCY,
                                                           Organisation.status == ApprovalStatus.APPROVED)
                                .order_by(Organisation.name)))


def _clean_people(session: Session, errors: FieldErrors, rows) -> list[tuple[int, int, int]]:
    """Rows of (user id, share bp) → [(position, user id, share bp)] of named brokers with shares summing to 100%."""
    if not isinstance(rows, (list, tuple)) or len(rows) > MAX_INTERMEDIARY_ROWS:
        errors.add("intermediaries", _("最多填写 %(n)s 名中介服务人员。", n=MAX_INTERMEDIARY_ROWS))
        return []
    named = [(index, row) for index, row in enumerate(rows, start=1) if row[0] not in (None, "") or row[1] not in (None, "")]
    people = []
    seen = set()
    for index, (user_id, share_bp) in named:
        person_field, share_field = f"intermediary_{index}", f"share_{index}"
        person_id = clean_id(errors, person_field, user_id, message=_("请选择平台上已审核的技术经理人。"))
        if user_id in (None, ""):
            errors.add(person_field, _("请选择技术经理人。"))
        elif person_id is not None:
            person = session.get(User, person_id)
            if person is None or person.role != Role.BROKER or not person.is_active or not person.is_approved_member:
                errors.add(person_field, _("请选择平台上已审核的技术经理人。"))
                person_id = None
            elif person_id in seen:
                errors.add(person_field, _("同一人不能重复填写。"))
                person_id = None
        if share_bp in (None, "") and len(named) == 1:
            share_bp = BASIS_POINTS
        if share_bp in (None, ""):
            errors.add(share_field, _("请填写分成比例。"))
        elif type(share_bp) is not int or not 1 <= share_bp <= BASIS_POINTS:
            errors.add(share_field, _("分成比例应大于 0% 且不超过 100%。"))
            share_bp = None
        if person_id is not None:
            seen.add(person_id)
            if type(share_bp) is int:
                people.append((index, person_id, share_bp))
    total = sum(share for _index, _person, share in people)
    if people and len(people) == len(named) and total != BASIS_POINTS:
        errors.add(f"share_{people[-1][0]}", _("各人分成比例合计须为 100%%（当前 %(p)s%%）。", p=rate_number(total)))
    return people


def set_intermediaries(session: Session, actor: User, deal_id: int, *, people, reward_rate_bp,
                       agent_organisation_id=None) -> Deal:
    """Name up to three intermediaries with shares, the reward rate and the agent; at most three distinct people
    per achievement over all its deals unless an admin recorded an exception (checked under the money lock)."""
    award_services.lock_books(session)
    with savepoint(session):
        deal = get_deal(session, actor, deal_id)
        if not EDITORS & deal_roles(actor, deal):
            raise PermissionDeniedError(_("只有项目双方或项目经纪人可以修改中介服务信息。"))
        if deal.stage not in BEFORE_REGISTRATION:
            raise InvalidStateError(_("技术合同登记后不能再修改中介服务信息。"))
        errors = FieldErrors()
        rows = _clean_people(session, errors, people)
        rate = reward_rate_bp
        if rate in (None, ""):
            rate = 0
        if type(rate) is not int or not 0 <= rate <= BASIS_POINTS:
            errors.add("reward_rate", _("奖励比例应在 0% 到 100% 之间。"))
        agent_id = clean_id(errors, "agent_organisation", agent_organisation_id, message=_("请选择已审核的技术转移机构。"))
        if agent_id is not None:
            agent = session.get(Organisation, agent_id)
            if agent is None or agent.kind != OrganisationKind.AGENCY or agent.status != ApprovalStatus.APPROVED:
                errors.add("agent_organisation", _("请选择已审核的技术转移机构。"))
            elif agent_id in (deal.transferor_id, deal.transferee_id):
                errors.add("agent_organisation", _("代理机构不能是交易一方。"))
        raise_if_errors(errors)
        proposed = [person_id for _index, person_id, _share in rows]
        others = payments.other_intermediaries(session, deal)
        everyone = others | set(proposed)
        newcomers = [index for index, person_id, _share in rows if person_id not in others]
        if len(everyone) > MAX_INTERMEDIARIES_PER_ACHIEVEMENT and newcomers and not deal.intermediary_exception:
            message = _("同一成果的中介服务人员合计不得超过 %(n)s 人（该成果的其他项目已有 %(k)s 人）。"
                        "确有需要的，请平台运营人员记录例外原因后再添加。",
                        n=MAX_INTERMEDIARIES_PER_ACHIEVEMENT, k=len(others))
            raise RuleViolationError(message, {f"intermediary_{newcomers[0]}": message})
        deal.intermediaries.clear()
        session.flush()
        deal.intermediaries = [DealIntermediary(user_id=person_id, share_bp=share, position=index)
                               for index, person_id, share in rows]
        deal.reward_rate_bp = rate
        deal.agent_organisation_id = agent_id
        session.flush()
        names = "、".join(f"{session.get(User, person_id).name} {rate_number(share)}%" for _index, person_id, share in rows)
        record_step(session, deal, actor, "intermediaries", deal.stage,
                note=_("%(people)s；奖励比例 %(rate)s%%", people=names or _("无"), rate=rate_number(rate)))
        session.flush()
    return deal


def record_intermediary_exception(session: Session, actor: User, deal_id: int, *, reason) -> Deal:
    """An admin records the written reason that allows more than three intermediaries for the achievement."""
    deal = get_deal(session, actor, deal_id)
    if not actor.is_admin:
        raise PermissionDeniedError(_("只有平台运营人员可以记录例外。"))
    if deal.stage not in BEFORE_REGISTRATION:
        raise InvalidStateError(_("技术合同登记后不能再记录例外。"))
    errors = FieldErrors()
    text = clean_text(errors, "exception_reason", reason, max_len=MAX_REASON_CHARS, required=True)
    if "exception_reason" in errors and not (reason or "").strip():
        errors["exception_reason"] = _("请填写例外原因。")
    raise_if_errors(errors)
    deal.intermediary_exception = text
    record_step(session, deal, actor, "exception", deal.stage, note=text)
    session.flush()
    audit.info("intermediary exception on deal %s by admin_id=%s", deal.id, actor.id)
    return deal


def claim_deal(session: Session, actor: User, deal_id: int) -> Deal:
    """A broker takes an unassigned open deal as its broker."""
    deal = get_deal(session, actor, deal_id)
    if "platform_broker" not in deal_roles(actor, deal):
        raise PermissionDeniedError(_("只有技术经理人可以认领项目。"))
    if not deal.is_open:
        raise InvalidStateError(_("项目已结束，不能认领。"))
    claimed = session.execute(update(Deal).where(Deal.id == deal.id, Deal.broker_id.is_(None))
                              .values(broker_id=actor.id, updated_at=utcnow())
                              .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise InvalidStateError(_("该项目已有经纪人。"))
    session.refresh(deal)
    record_step(session, deal, actor, "broker", deal.stage, note=_("%(n)s 认领为项目经纪人", n=actor.name))
    session.flush()
    return deal


def assign_broker(session: Session, actor: User, deal_id: int, broker_id) -> Deal:
    """An admin assigns (or, with no broker, removes) a deal's broker."""
    deal = get_deal(session, actor, deal_id)
    if not actor.is_admin:
        raise PermissionDeniedError(_("只有平台运营人员可以指派经纪人。"))
    if not deal.is_open:
        raise InvalidStateError(_("项目已结束，不能指派经纪人。"))
    errors = FieldErrors()
    chosen = clean_id(errors, "broker", broker_id, message=_("请选择平台上已审核的技术经理人。"))
    broker = None
    if chosen is not None:
        broker = session.get(User, chosen)
        if broker is None or broker.role != Role.BROKER or not broker.is_active or not broker.is_approved_member:
            errors.add("broker", _("请选择平台上已审核的技术经理人。"))
    raise_if_errors(errors)
    deal.broker_id = broker.id if broker else None
    record_step(session, deal, actor, "broker", deal.stage,
            note=_("指派 %(n)s 为项目经纪人", n=broker.name) if broker else _("取消项目经纪人"))
    if broker is not None and broker.id != actor.id:
        notify(session, broker.id, "deal_assigned", _("您被指派为项目经纪人：%(t)s", t=deal.title), link=deal_link(deal))
    session.flush()
    return deal
