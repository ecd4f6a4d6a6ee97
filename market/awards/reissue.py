"""Re-issuing a reversed award's corrected amount (settled question 2): a new award on the original event, judged under
the caps as they stood on the event's date, after the awards that stand now; its approval and payout follow as usual."""
import logging

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from market.accounts.models import User
from market.accounts.twofactor import require_second_factor
from market.awards.inputs import ReissueInput
from market.awards.labels import award_status_label
from market.awards.models import Award, AwardStatus
from market.awards.services import (
    active_rule_sets,
    charged_caps,
    get_award,
    lock_books,
    other_line_stands,
    require_money_admin,
    store_award_line,
)
from market.declared import validate_input
from market.errors import RuleViolationError, ValidationError
from market.money import format_yuan
from market.policy import engine
from market.policy.rules import RuleKind
from market.policy.snapshot import state_from_data, state_to_data
from market.timeutil import utcnow

audit = logging.getLogger("market.audit")
REISSUABLE_STATUSES = (AwardStatus.REVERSED, AwardStatus.RECEIVABLE)
"""An award may have its corrected amount issued once it is reversed (a paid one: while or after it is recovered)."""


def current_reissue(session: Session, award: Award) -> Award | None:
    """The award that issues this one's corrected amount and has not been reversed in turn, if any."""
    return session.scalar(select(Award).where(Award.reissues_id == award.id,
                                              Award.status.not_in(REISSUABLE_STATUSES)).order_by(Award.id).limit(1))


def reissue_award(session: Session, actor: User, award_id: int, *, amount_fen, reason) -> Award:
    """Admin issues the corrected amount of a reversed award: a new award for the same recipient, rule and event,
    capped under the original event's caps after the standing awards, held if its facts await verification."""
    require_money_admin(actor)
    require_second_factor(actor)
    values, errors = validate_input(ReissueInput, {"amount_fen": amount_fen, "reason": reason})
    snapshot = lock_books(session)
    original = get_award(session, award_id)
    if original.status not in REISSUABLE_STATUSES:
        raise RuleViolationError(_("只有已冲正的奖补可以重新发放更正金额（当前：%(s)s）。",
                                   s=award_status_label(original.status, original.hold_reason)))
    existing = current_reissue(session, original)
    if existing is not None:
        raise RuleViolationError(_("该奖补的更正金额已作为奖补 #%(id)s 发放；如需再次更正，请先冲正那一笔。", id=existing.id))
    if values.get("amount_fen") and values["amount_fen"] > original.computed_fen:
        errors.add("amount_fen", _("更正金额不能超过该规则为此事项计算的 %(amount)s；金额应更高时，请更正事实（如付款）后重新核算。",
                                   amount=format_yuan(original.computed_fen)))
    if errors:
        raise ValidationError(_("请修改标出的内容。"), dict(errors))
    state = state_from_data(snapshot.state)
    granted, capped_by, after = engine.judge_correction(charged_caps(session, state, original), values["amount_fen"],
                                                        state, new_grant=not other_line_stands(session, original))
    entry = engine.find_rule(active_rule_sets(session), original.rule, original.event_date)
    payable = entry is None or entry.rule.status.is_payable
    line = engine.Award(event="", rule=original.rule, recipient=original.recipient, computed_fen=values["amount_fen"],
                        granted_fen=granted, status=engine.AwardStatus.PAYABLE if payable else engine.AwardStatus.HELD,
                        capped_by=capped_by, tops_up=original.tops_up,
                        kind=RuleKind(original.rule_kind) if original.rule_kind else None, rule_set=original.rule_set,
                        version=original.rule_set_version, payer=original.payer)
    award = store_award_line(session, original.policy_event, line, original.event_date, actor, original.deal_id,
                             original.agreement_id)
    award.reissues_id, award.reissue_reason = original.id, values["reason"]
    snapshot.state, snapshot.updated_at = state_to_data(after), utcnow()
    session.flush()
    audit.info("award %s re-issued as award %s (%s of %s fen) by admin_id=%s", original.id, award.id, award.granted_fen,
               award.computed_fen, actor.id)
    return award
