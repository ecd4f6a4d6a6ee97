"""Intermediaries and shares, the agent, the intermediary exception, and who may be named (approved brokers)."""
import logging

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from market.accounts.models import (
    ApprovalStatus,
    Organisation,
    OrganisationKind,
    Role,
    User,
)
from market.awards import services as award_services
from market.deals import payments, policy_limits, terms
from market.deals.inputs import INTERMEDIARY_ROWS, ExceptionInput, IntermediariesInput
from market.deals.limits import (
    BEFORE_REGISTRATION,
    EDITABLE_TERMS_STAGES,
    MAX_INTERMEDIARIES_PER_ACHIEVEMENT,
    MAX_INTERMEDIARY_ROWS,
)
from market.deals.models import (
    Deal,
    DealIntermediary,
)
from market.deals.permissions import EDITORS, deal_roles
from market.deals.pipeline import get_deal, terms_changed_title
from market.deals.recording import lock_deal, raise_if_errors, record_step
from market.declared import validate_input
from market.errors import (
    InvalidStateError,
    PermissionDeniedError,
    RuleViolationError,
)
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


def is_approved_broker(person: User | None) -> bool:
    """Whether a person may be named as an intermediary or assigned as a deal's broker."""
    return person is not None and person.role == Role.BROKER and person.is_active and person.is_approved_member


def _numbered_rows(people) -> dict | None:
    """Rows of (user id, share bp) as the input's numbered fields, or None for more rows than there are numbers."""
    if not isinstance(people, (list, tuple)) or len(people) > MAX_INTERMEDIARY_ROWS:
        return None
    data = {}
    for number, (user_id, share_bp) in enumerate(people, start=1):
        data[f"intermediary_{number}"], data[f"share_{number}"] = user_id, share_bp
    return data


def set_intermediaries(session: Session, actor: User, deal_id: int, *, people, reward_rate_bp,
                       agent_organisation_id=None) -> Deal:
    """Name up to three intermediaries with shares, the reward rate (at most the maximum of the rule set in force
    today) and the agent, until the notice starts; at most three distinct people per achievement over all its deals
    unless an admin recorded an exception (checked under the money lock). A change makes a new version of the terms."""
    award_services.lock_books(session)
    with savepoint(session):
        deal = get_deal(session, actor, deal_id)
        if not EDITORS & deal_roles(actor, deal):
            raise PermissionDeniedError(_("只有项目双方或项目经纪人可以修改中介服务信息。"))
        lock_deal(session, deal)
        terms.refuse_if_locked(deal)
        if deal.stage not in EDITABLE_TERMS_STAGES:
            raise InvalidStateError(_("技术合同登记后不能再修改中介服务信息。"))
        rows = _numbered_rows(people)
        values, errors = validate_input(IntermediariesInput, {**(rows or {}), "reward_rate": reward_rate_bp,
                                                              "agent_organisation": agent_organisation_id})
        if rows is None:
            errors.add("intermediaries", _("最多填写 %(n)s 名中介服务人员。", n=MAX_INTERMEDIARY_ROWS))
        for index in INTERMEDIARY_ROWS:
            person_id = values.get(f"intermediary_{index}")
            if person_id is not None and not is_approved_broker(session.get(User, person_id)):
                errors.add(f"intermediary_{index}", _("请选择平台上已审核的技术经理人。"))
        agent_id = values.get("agent_organisation")
        if agent_id is not None:
            agent = session.get(Organisation, agent_id)
            if agent is None or agent.kind != OrganisationKind.AGENCY or agent.status != ApprovalStatus.APPROVED:
                errors.add("agent_organisation", _("请选择已审核的技术转移机构。"))
            elif agent_id in (deal.transferor_id, deal.transferee_id):
                errors.add("agent_organisation", _("代理机构不能是交易一方。"))
        policy_limits.check_reward_rate(session, errors, "reward_rate", values.get("reward_rate"),
                                        policy_limits.terms_day(deal))
        raise_if_errors(errors)
        rows = [(index, values[f"intermediary_{index}"], values[f"share_{index}"]) for index in INTERMEDIARY_ROWS
                if values[f"intermediary_{index}"] is not None]
        rate = values["reward_rate"]
        proposed = [person_id for _index, person_id, _share in rows]
        others = payments.other_intermediaries(session, deal)
        everyone = others | set(proposed)
        newcomers = [index for index, person_id, _share in rows if person_id not in others]
        if len(everyone) > MAX_INTERMEDIARIES_PER_ACHIEVEMENT and newcomers and not deal.intermediary_exception:
            message = _("同一成果的中介服务人员合计不得超过 %(n)s 人（该成果的其他项目已有 %(k)s 人）。"
                        "确有需要的，请平台运营人员记录例外原因后再添加。",
                        n=MAX_INTERMEDIARIES_PER_ACHIEVEMENT, k=len(others))
            raise RuleViolationError(message, {f"intermediary_{newcomers[0]}": message})
        before = ([(row.user_id, row.share_bp) for row in deal.intermediaries], deal.reward_rate_bp,
                  deal.agent_organisation_id)
        if before == ([(person_id, share) for _index, person_id, share in rows], rate, agent_id):
            return deal
        deal.intermediaries.clear()
        session.flush()
        deal.intermediaries = [DealIntermediary(user_id=person_id, share_bp=share, position=index)
                               for index, person_id, share in rows]
        deal.reward_rate_bp = rate
        deal.agent_organisation_id = agent_id
        session.flush()
        version = terms.new_terms_version(session, deal, actor)
        record_step(session, deal, actor, "intermediaries", deal.stage, notify_title=terms_changed_title(deal),
                    code="intermediaries", params={"version": version, "rate_bp": rate,
                                                   "people": [[person_id, share] for _index, person_id, share in rows]})
        session.flush()
    return deal


def record_intermediary_exception(session: Session, actor: User, deal_id: int, *, reason) -> Deal:
    """An admin records the written reason that allows more than three intermediaries for the achievement."""
    deal = get_deal(session, actor, deal_id)
    if not actor.is_admin:
        raise PermissionDeniedError(_("只有平台运营人员可以记录例外。"))
    if deal.stage not in BEFORE_REGISTRATION:
        raise InvalidStateError(_("技术合同登记后不能再记录例外。"))
    values, errors = validate_input(ExceptionInput, {"exception_reason": reason})
    raise_if_errors(errors)
    text = values["exception_reason"]
    deal.intermediary_exception = text
    record_step(session, deal, actor, "exception", deal.stage, note=text)
    session.flush()
    audit.info("intermediary exception on deal %s by admin_id=%s", deal.id, actor.id)
    return deal
