"""Status, event and cap labels of bids, responses and deals (one wording each)."""
import logging
from collections.abc import Collection

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from market.deals.models import (
    BidStatus,
    BrokerRequestKind,
    BrokerRequestStatus,
    DealStage,
    DeclineReason,
    FeePayer,
    IntroductionStatus,
    RegistrationStatus,
    ResponseStatus,
    TermsRole,
)

audit = logging.getLogger("market.audit")

STAGE_LABELS = {
    DealStage.INTENT: _l("意向"),
    DealStage.NEGOTIATION: _l("洽谈"),
    DealStage.PRICING: _l("协议定价"),
    DealStage.NOTICE: _l("公示"),
    DealStage.SIGNED: _l("签约"),
    DealStage.REGISTERED: _l("技术合同登记"),
    DealStage.PERFORMANCE: _l("履约/回款"),
    DealStage.COMPLETED: _l("完成"),
    DealStage.TERMINATED: _l("终止"),
}

EVENT_LABELS = {
    "opened": _l("项目创建"),
    "stage": _l("阶段变更"),
    "terms": _l("修改交易条件"),
    "terms_accepted": _l("确认交易条件"),
    "notice": _l("开始公示"),
    "notice_withdrawn": _l("撤回公示"),
    "signed": _l("签约"),
    "signing_recorded": _l("登记签约（待受让方确认）"),
    "signing_disputed": _l("对签约提出异议"),
    "signing_withdrawn": _l("撤回签约记录"),
    "signing_refused": _l("驳回签约记录"),
    "fee": _l("修改佣金"),
    "fee_paid": _l("佣金已支付"),
    "fee_unpaid": _l("佣金改为未支付"),
    "registered": _l("技术合同登记"),
    "registration_certificate": _l("补充技术合同登记证明"),
    "registration_verified": _l("技术合同登记已核验"),
    "registration_refused": _l("技术合同登记被驳回"),
    "payment_recorded": _l("登记回款（待确认）"),
    "payment": _l("确认回款"),
    "payment_disputed": _l("对回款提出异议"),
    "payment_withdrawn": _l("撤回回款"),
    "payment_refused": _l("驳回回款"),
    "completed": _l("项目完成"),
    "terminated": _l("项目终止"),
    "intermediaries": _l("修改中介服务信息"),
    "exception": _l("记录中介人数例外"),
    "broker": _l("经纪人变更"),
    "broker_request": _l("经纪人邀请与申请"),
}

REGISTRATION_STATUS_LABELS = {
    RegistrationStatus.AWAITING: _l("待核验"),
    RegistrationStatus.VERIFIED: _l("已核验"),
    RegistrationStatus.REFUSED: _l("已驳回"),
}

TERMS_ROLE_LABELS = {
    TermsRole.TRANSFEROR: _l("转让方"),
    TermsRole.TRANSFEREE: _l("受让方"),
    TermsRole.INTERMEDIARY: _l("中介服务人员"),
}

FEE_PAYER_LABELS = {
    FeePayer.TRANSFEROR: _l("转让方"),
    FeePayer.TRANSFEREE: _l("受让方"),
}

BROKER_REQUEST_KIND_LABELS = {
    BrokerRequestKind.INVITE: _l("交易方邀请"),
    BrokerRequestKind.ASK: _l("经纪人申请加入"),
    BrokerRequestKind.ADMIN_PROPOSAL: _l("平台推荐"),
}

BROKER_REQUEST_STATUS_LABELS = {
    BrokerRequestStatus.PENDING: _l("待确认"),
    BrokerRequestStatus.ACCEPTED: _l("已生效"),
    BrokerRequestStatus.DECLINED: _l("已拒绝"),
    BrokerRequestStatus.WITHDRAWN: _l("已撤回"),
    BrokerRequestStatus.SUPERSEDED: _l("已由其他经纪人加入"),
    BrokerRequestStatus.REMOVED: _l("已移出"),
}

BID_STATUS_LABELS = {
    BidStatus.OPEN: _l("协商中"),
    BidStatus.ACCEPTED: _l("已接受"),
    BidStatus.DECLINED: _l("已拒绝"),
    BidStatus.WITHDRAWN: _l("已撤回"),
}

RESPONSE_STATUS_LABELS = {
    ResponseStatus.OPEN: _l("待处理"),
    ResponseStatus.ACCEPTED: _l("已接受"),
    ResponseStatus.DECLINED: _l("已拒绝"),
    ResponseStatus.WITHDRAWN: _l("已撤回"),
}

DECLINE_REASON_LABELS = {
    DeclineReason.NOT_A_FIT: _l("技术方向不匹配"),
    DeclineReason.PRICE: _l("价格或条件不合适"),
    DeclineReason.TIMING: _l("时机不合适"),
    DeclineReason.OTHER_PARTNER: _l("已有其他合作方"),
    DeclineReason.NO_CAPACITY: _l("暂无资源或能力推进"),
    DeclineReason.OTHER: _l("其他"),
}

INTRODUCTION_STATUS_LABELS = {
    IntroductionStatus.PENDING: _l("待双方确认"),
    IntroductionStatus.ACCEPTED: _l("双方已接受"),
    IntroductionStatus.DECLINED: _l("已拒绝"),
    IntroductionStatus.WITHDRAWN: _l("已撤回"),
}

INTRODUCTION_AWAITED_LABELS = {
    "transferor": _l("待成果方确认"),
    "transferee": _l("待需求方确认"),
}
"""A pending introduction one side has accepted: the side it still waits for."""


def introduction_status_label(status: IntroductionStatus | str, awaiting: Collection[str] = ()) -> str:
    """An introduction's status in words; a pending one that waits for one side only names that side."""
    if status == IntroductionStatus.PENDING and len(awaiting) == 1:
        return str(INTRODUCTION_AWAITED_LABELS[next(iter(awaiting))])
    return str(INTRODUCTION_STATUS_LABELS[IntroductionStatus(status)])


def decline_text(reason: DeclineReason | str | None, note: str = "") -> str:
    """A decline's reason in words, followed by its note when there is one."""
    if reason is None:
        return note
    label = str(DECLINE_REASON_LABELS[DeclineReason(reason)])
    return _("%(r)s：%(n)s", r=label, n=note) if note else label
