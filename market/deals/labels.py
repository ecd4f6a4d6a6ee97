"""Status, event and cap labels of bids, responses and deals (one wording each)."""
import logging

from flask_babel import lazy_gettext as _l

from market.awards.models import AwardStatus
from market.deals.models import (
    BidStatus,
    DealStage,
    ResponseStatus,
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
    "notice": _l("开始公示"),
    "signed": _l("签约"),
    "registered": _l("技术合同登记"),
    "payment": _l("登记回款"),
    "completed": _l("项目完成"),
    "terminated": _l("项目终止"),
    "intermediaries": _l("修改中介服务信息"),
    "exception": _l("记录中介人数例外"),
    "broker": _l("经纪人变更"),
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

AWARD_STATUS_LABELS = {
    AwardStatus.PAYABLE: _l("待审批"),
    AwardStatus.HELD: _l("暂缓（规则未生效）"),
    AwardStatus.WAIVED: _l("不叠加享受"),
    AwardStatus.APPROVED: _l("已审批"),
    AwardStatus.PAID: _l("已发放"),
    AwardStatus.REVERSED: _l("已冲正"),
}

CAP_LABELS = {
    "achievement": _l("单个成果上限"),
    "contract": _l("单个合同上限"),
    "agreement": _l("单个协议上限"),
    "recipient_calendar_year": _l("年度上限"),
    "recipient_rule_set_period": _l("政策期上限"),
    "one_time_per_startup": _l("一次性"),
}
"""How the deal page names the cap that bound an award (the engine's cap scopes)."""
