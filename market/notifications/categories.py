"""Which notifications are also mailed, and under which category a user may turn that mail off."""
from enum import StrEnum

from flask_babel import lazy_gettext as _l


class MailCategory(StrEnum):
    """What a notification mail is about; the account category is always mailed, the others by the user's choice."""

    ACCOUNT = "account"
    ACTION = "action"
    MONEY = "money"
    DEAL_NEWS = "deal_news"
    SAVED_SEARCHES = "saved_searches"


OPTIONAL_CATEGORIES = (MailCategory.ACTION, MailCategory.MONEY, MailCategory.DEAL_NEWS, MailCategory.SAVED_SEARCHES)
"""The categories a user may turn off (in this order on the settings page)."""

CATEGORY_LABELS = {
    MailCategory.ACTION: _l("等待我处理的事项（确认付款、验收交付、接受邀请、确认交易条件）"),
    MailCategory.MONEY: _l("资金消息（回款和付款的确认结果、奖补的核算、审批、发放和冲正）"),
    MailCategory.DEAL_NEWS: _l("项目动态（阶段变化、报价和揭榜答复、协议登记和终止）"),
    MailCategory.SAVED_SEARCHES: _l("保存的搜索有新发布的成果或需求"),
}

KIND_CATEGORIES = {
    "membership_approved": MailCategory.ACCOUNT,
    "membership_refused": MailCategory.ACCOUNT,
    "organisation_verified": MailCategory.ACCOUNT,
    "organisation_verification_refused": MailCategory.ACCOUNT,
    "residency_recorded": MailCategory.ACCOUNT,
    "residency_ended": MailCategory.ACCOUNT,
    "payment_awaits_confirmation": MailCategory.ACTION,
    "payment_confirmation_reminder": MailCategory.ACTION,
    "delivery_awaits_acceptance": MailCategory.ACTION,
    "preorder_agreement_recorded": MailCategory.ACTION,
    "preorder_agreement_awaits_confirmation": MailCategory.ACTION,
    "preorder_awaits_confirmation_reminder": MailCategory.ACTION,
    "deal_broker_request": MailCategory.ACTION,
    "deal_terms": MailCategory.ACTION,
    "deal_intermediaries": MailCategory.ACTION,
    "bid_received": MailCategory.ACTION,
    "bid_countered": MailCategory.ACTION,
    "response_received": MailCategory.ACTION,
    "bid_accepted": MailCategory.DEAL_NEWS,
    "bid_declined": MailCategory.DEAL_NEWS,
    "bid_withdrawn": MailCategory.DEAL_NEWS,
    "response_accepted": MailCategory.DEAL_NEWS,
    "response_declined": MailCategory.DEAL_NEWS,
    "response_withdrawn": MailCategory.DEAL_NEWS,
    "preorder_terminated": MailCategory.DEAL_NEWS,
    "preorder_agreement_confirmed": MailCategory.DEAL_NEWS,
    "preorder_agreement_refused": MailCategory.DEAL_NEWS,
    "preorder_agreement_withdrawn": MailCategory.DEAL_NEWS,
    "saved_search_match": MailCategory.SAVED_SEARCHES,
}
"""Kinds named one by one; the prefixes below cover the families (other listing and match notices stay in-app only)."""

KIND_PREFIXES = (
    ("award_", MailCategory.MONEY),
    ("deal_payment", MailCategory.MONEY),
    ("preorder_payment_", MailCategory.MONEY),
    ("deal_", MailCategory.DEAL_NEWS),
    ("introduction_", MailCategory.DEAL_NEWS),
)


def mail_category(kind: str) -> MailCategory | None:
    """The mail category of a notification kind, or None when it is shown in-app only; a kind containing
    "_awaits_" asks its reader to act."""
    if kind in KIND_CATEGORIES:
        return KIND_CATEGORIES[kind]
    if "_awaits_" in kind:
        return MailCategory.ACTION
    return next((category for prefix, category in KIND_PREFIXES if kind.startswith(prefix)), None)
