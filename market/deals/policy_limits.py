"""The policy limits on a deal's terms, read from the stored rule set in force: the highest intermediary reward rate
(POLICY.md, settled question 10) and the inventors' share of net income for universities and institutes (settled
question 9)."""
from datetime import date

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from market.awards import services as award_services
from market.awards.labels import inventor_share_finding_text
from market.deals import recording
from market.deals.models import Deal
from market.inputs import FieldErrors
from market.money import rate_number
from market.policy.rules import OrganisationKind, RewardRateLimit, reward_rate_limit_on
from market.policy.statutory import (
    INVENTOR_SHARE_KINDS,
    FindingLevel,
    check_proceeds_split,
    proceeds_split_limits_on,
)


def terms_day(deal: Deal) -> date:
    """The day whose rules judge a deal's terms: its signing date once signed, else today (as if signed today)."""
    return deal.signed_on or recording.today()


def reward_rate_limit(session: Session, day: date) -> RewardRateLimit | None:
    """The highest reward rate the rule set in force on a day allows (None: no maximum)."""
    return reward_rate_limit_on(award_services.active_rule_sets(session), day)


def reward_rate_message(limit: RewardRateLimit) -> str:
    """The refusal naming the maximum and the rule that sets it."""
    return _("奖励比例不得超过 %(max)s%%（现行规则：%(rule)s，%(version)s 版）。", max=rate_number(limit.max_bp),
             rule=limit.rule.title or limit.rule.id, version=limit.version)


def check_reward_rate(session: Session, errors: FieldErrors, name: str, rate_bp: int | None, day: date) -> None:
    """Refuse a reward rate above the maximum of the rule set in force on the day."""
    limit = reward_rate_limit(session, day)
    if rate_bp is not None and limit is not None and rate_bp > limit.max_bp:
        errors.add(name, reward_rate_message(limit))


def needs_inventor_share(deal: Deal) -> bool:
    """Whether the deal's transferor is bound by the inventors' share (a university or a research institute)."""
    return deal.transferor is not None and deal.transferor.kind in INVENTOR_SHARE_KINDS


def check_inventor_share(session: Session, errors: FieldErrors, name: str, deal: Deal, share_bp: int | None,
                         day: date) -> None:
    """Refuse an inventors' share below the statutory floor in force on the day, or one given for a transferor it does
    not bind."""
    if share_bp is None:
        return
    if not needs_inventor_share(deal):
        errors.add(name, _("转让方不是高校或科研院所，无需填写发明人收益比例。"))
        return
    limits = proceeds_split_limits_on(award_services.active_rule_sets(session), day)
    for finding in check_proceeds_split(limits, OrganisationKind(deal.transferor.kind), share_bp):
        if finding.level is FindingLevel.ERROR:
            errors.add(name, inventor_share_finding_text(finding.code, limits, share_bp) or finding.message)


def inventor_share_warning(session: Session, deal: Deal) -> str | None:
    """The warning shown for a recorded inventors' share below the recommended line, or None."""
    if deal.inventor_share_bp is None or not needs_inventor_share(deal):
        return None
    limits = proceeds_split_limits_on(award_services.active_rule_sets(session), terms_day(deal))
    for finding in check_proceeds_split(limits, OrganisationKind(deal.transferor.kind), deal.inventor_share_bp):
        if finding.level is FindingLevel.WARNING:
            return inventor_share_finding_text(finding.code, limits, deal.inventor_share_bp) or finding.message
    return None


def require_inventor_share(errors: FieldErrors, deal: Deal) -> None:
    """Before the notice and the signing: a university's or institute's deal must record the inventors' share."""
    if needs_inventor_share(deal) and deal.inventor_share_bp is None:
        errors.add("inventor_share", _("转让方为高校或科研院所，请先在交易条件中填写发明人（团队）收益比例。"))
