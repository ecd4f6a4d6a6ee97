"""The one wording of audited object types and actions (Chinese message ids, English in the catalogue)."""
from flask_babel import lazy_gettext as _l

from market.audit.audited import ACTIONS, FAILED_LOGIN, FAILED_LOGIN_CODE, OBJECT_TYPES

OBJECT_LABELS = {
    "policy_event": _l("奖补事件"),
    "award": _l("奖补"),
    "ledger_transaction": _l("记账凭证"),
    "ledger_entry": _l("记账分录"),
    "startup_grant": _l("注册资本支持"),
    "deal_payment": _l("交易回款"),
    "preorder_payment": _l("预约采购付款"),
    "preorder_agreement": _l("预约采购协议"),
    "preorder_delivery": _l("预约采购交付"),
    "deal": _l("交易项目"),
    "deal_intermediary": _l("项目中间人"),
    "deal_terms_consent": _l("条款确认"),
    "deal_broker_request": _l("经纪人邀请或申请"),
    "organisation": _l("机构"),
    "organisation_verification": _l("机构认证"),
    "residency": _l("入驻记录"),
    "achievement": _l("成果"),
    "demand": _l("需求"),
    "user": _l("用户"),
    "api_token": _l("API 令牌"),
    "second_factor": _l("两步验证"),
    "second_factor_reset": _l("两步验证重置"),
    "login": _l("登录"),
}

VERB_LABELS = {
    "created": _l("新建"),
    "deleted": _l("删除"),
    "changed": _l("修改"),
    "stage": _l("阶段变更"),
    "terms": _l("条款变更"),
    "broker": _l("经纪人变更"),
    "paid": _l("已回款金额变更"),
    "status": _l("状态变更"),
    "confirmation": _l("确认状态变更"),
    "evidence": _l("凭证上传"),
    "totals": _l("累计金额变更"),
    "acceptance": _l("验收"),
    "consent": _l("同意"),
    "approval": _l("审核"),
    "verification": _l("认证状态变更"),
    "residency": _l("入驻变更"),
    "decision": _l("审核决定"),
    "end": _l("结束"),
    "review": _l("审核状态变更"),
    "role": _l("角色变更"),
    "membership": _l("成员资格变更"),
    "email": _l("邮箱变更"),
}

SPECIAL_ACTION_LABELS = {
    FAILED_LOGIN: _l("登录失败（密码）"),
    FAILED_LOGIN_CODE: _l("登录失败（验证码）"),
}


def object_label(object_type: str) -> str:
    """An object type in the user's language (the code itself when unknown)."""
    return str(OBJECT_LABELS.get(object_type, object_type))


def action_label(action: str) -> str:
    """An action code in the user's language: the object and what happened to it."""
    if action in SPECIAL_ACTION_LABELS:
        return str(SPECIAL_ACTION_LABELS[action])
    object_type, _, verb = action.rpartition(".")
    verb_text = VERB_LABELS.get(verb)
    if not object_type or verb_text is None:
        return action
    return f"{object_label(object_type)} · {verb_text}"


def action_choices() -> list[tuple[str, str]]:
    """Every action code with its label, for the filter."""
    return [(action, action_label(action)) for action in ACTIONS]


def object_choices() -> list[tuple[str, str]]:
    """Every object type with its label, for the filter."""
    return [(object_type, object_label(object_type)) for object_type in OBJECT_TYPES]


FIELD_LABELS = {
    "status": _l("状态"),
    "stage": _l("阶段"),
    "role": _l("角色"),
    "email": _l("邮箱"),
    "name": _l("名称"),
    "title": _l("标题"),
    "amount_fen": _l("金额"),
    "paid_fen": _l("已付金额"),
    "agreed_amount_fen": _l("成交金额"),
    "granted_fen": _l("核定金额"),
    "computed_fen": _l("计算金额"),
    "value_fen": _l("协议金额"),
    "reward_rate_bp": _l("奖励比例"),
    "inventor_share_bp": _l("发明人分配比例"),
    "share_bp": _l("分配比例"),
    "paid_on": _l("付款日期"),
    "signed_on": _l("签订日期"),
    "registration_number": _l("登记编号"),
    "registered_on": _l("登记日期"),
    "terms_version": _l("条款版本"),
    "broker_id": _l("经纪人编号"),
    "decided_by_id": _l("决定人编号"),
    "recorded_by_id": _l("登记人编号"),
    "membership_status": _l("成员资格"),
    "verification_status": _l("认证状态"),
    "credit_code": _l("统一社会信用代码"),
    "refusal_reason": _l("不通过原因"),
    "dispute_reason": _l("异议原因"),
    "decision_note": _l("决定说明"),
    "voucher_reference": _l("付款凭证号"),
}


def field_label(name: str) -> str:
    """A recorded field in the user's language; empty when it has no label (the page shows the code beside it)."""
    return str(FIELD_LABELS[name]) if name in FIELD_LABELS else ""
