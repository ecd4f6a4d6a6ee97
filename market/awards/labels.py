"""The one wording of award statuses, rule statuses, cap scopes and statutory findings, for pages, exports and the
API."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from market.awards.models import AwardStatus, HoldReason
from market.money import format_rate
from market.policy.rules import CapScope, ProceedsSplitLimits, RuleStatus

AWARD_STATUS_LABELS = {
    AwardStatus.PAYABLE: _l("待审批"),
    AwardStatus.HELD: _l("暂缓发放"),
    AwardStatus.WAIVED: _l("不重复享受"),
    AwardStatus.NIL: _l("核定为零"),
    AwardStatus.APPROVED: _l("已审批待发放"),
    AwardStatus.PAID: _l("已发放"),
    AwardStatus.RECEIVABLE: _l("已冲正，待追回"),
    AwardStatus.REVERSED: _l("已冲正"),
}

HOLD_REASON_LABELS = {
    HoldReason.DRAFT_RULE: _l("规则待确认"),
    HoldReason.AWAITING_VERIFICATION: _l("待核验"),
}
"""Why a held award waits: its rule is a draft, or the fact that earns it (a registration, an organisation) is not
verified yet."""

RULE_STATUS_LABELS = {
    RuleStatus.CONFIRMED: _l("已确认"),
    RuleStatus.DRAFT: _l("征求意见稿"),
    RuleStatus.UNCONFIRMED: _l("未确认"),
}

CAP_SCOPE_NAMES = {
    CapScope.ACHIEVEMENT: _l("单个成果上限"),
    CapScope.CONTRACT: _l("单个合同上限"),
    CapScope.AGREEMENT: _l("单个协议上限"),
    CapScope.RECIPIENT_CALENDAR_YEAR: _l("年度上限"),
    CapScope.RECIPIENT_RULE_SET_PERIOD: _l("政策期上限"),
    CapScope.ONE_TIME_PER_STARTUP: _l("一次性"),
}
"""The short name of the cap that bound an award (deal and agreement pages)."""

CAP_SCOPE_DESCRIPTIONS = {
    CapScope.RECIPIENT_CALENDAR_YEAR: _l("每个领取人每自然年"),
    CapScope.RECIPIENT_RULE_SET_PERIOD: _l("每个领取人在政策期内累计"),
    CapScope.AGREEMENT: _l("每份协议累计"),
    CapScope.ACHIEVEMENT: _l("每项成果累计（含其全部项目和回款）"),
    CapScope.CONTRACT: _l("每份合同累计"),
    CapScope.ONE_TIME_PER_STARTUP: _l("每家初创企业一次"),
}
"""What a cap counts (the rule tables)."""


def award_status_label(status: str, hold_reason: str | None = None) -> str:
    """The label of an award status (the raw value when unknown), with why a held award waits when known."""
    found = AWARD_STATUS_LABELS.get(status)
    label = str(found) if found is not None else str(status)
    reason = HOLD_REASON_LABELS.get(hold_reason) if status == AwardStatus.HELD and hold_reason else None
    return _("%(status)s（%(reason)s）", status=label, reason=reason) if reason is not None else label


def cap_scope_name(scope: str) -> str:
    """The short name of a cap scope (the raw value when unknown)."""
    found = CAP_SCOPE_NAMES.get(scope)
    return str(found) if found is not None else str(scope)


def inventor_share_finding_text(code: str, limits: ProceedsSplitLimits, share_bp: int) -> str | None:
    """A statutory finding on the inventors' share in the user's language (the calculator and deals), or None for a
    code without its own wording."""
    share = format_rate(share_bp)
    if code == "below_statutory_floor":
        return _("成果完成人（团队）所得比例 %(share)s 低于法定下限 %(floor)s（《促进科技成果转化法》第四十五条），该分配方案不合规。",
                 share=share, floor=format_rate(limits.inventor_floor_bp))
    if code == "below_recommended_share":
        return _("成果完成人（团队）所得比例 %(share)s 低于山西省公立单位应达到的 %(line)s，请核实。", share=share,
                 line=format_rate(limits.inventor_warning_below_bp))
    return None
