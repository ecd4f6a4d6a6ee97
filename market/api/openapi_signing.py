"""The OpenAPI 3.1 part for a deal's signing (recorded by the transferor or the broker, confirmed by the transferee)
and its agency fee (佣金), merged into the API document after the deal and money part."""
import dataclasses

from market.api.openapi import _json, _ref, _values
from market.api.openapi_money import (
    _DATE_OR_NULL,
    _FEN,
    _TIMESTAMP,
    API_PREFIX,
    MAX_FEN,
    _body,
    _coded,
    _decision_route,
    _errors,
    _id,
    _nullable,
    _operation,
)
from market.confirmations.models import FactStatus
from market.confirmations.services import DecisionChoices
from market.confirmations.table import FactRole
from market.deals.inputs import FeeInput
from market.deals.models import FeePayer
from market.deals.signing import DECISIONS
from market.declared import components_of

_SIGNING_PROPERTIES = {
    "id": {"type": "integer"},
    "deal_id": {"type": "integer"},
    "signed_on": {"type": "string", "format": "date"},
    "agreed_amount_fen": _FEN,
    "recorded_by": _nullable(_ref("Party")),
    "recorded_as": {"type": ["string", "null"], "enum": [FactRole.TRANSFEROR.value, FactRole.BROKER.value, None],
                    "description": "登记人登记时的身份：transferor（转让方）或 broker（项目经纪人）。"},
    "status": {**_coded(_values(FactStatus)),
               "description": "recorded：待受让方确认；confirmed：已确认，项目已进入签约阶段；disputed：受让方有异议，"
                              "待登记人撤回或平台处理；refused：已被平台驳回；withdrawn：已撤回（公示撤回或项目终止时"
                              "待确认的签约也随之撤回）。"},
    "dispute_reason": {"type": "string", "description": "受让方提出异议的理由（各相关方可见）。"},
    "decision_note": {"type": "string", "description": "确认时的说明、驳回理由，或随公示撤回时的原因。"},
    "decided_by": _nullable(_ref("Party")),
    "decided_at": _TIMESTAMP,
    "created_at": _TIMESTAMP,
    "may": {"type": "object", "additionalProperties": False,
            "required": [field.name for field in dataclasses.fields(DecisionChoices)],
            "properties": {field.name: {"type": "boolean"} for field in dataclasses.fields(DecisionChoices)},
            "description": "调用者现在可以作出的决定。"},
}

SIGNING = {"type": "object", "additionalProperties": False, "required": list(_SIGNING_PROPERTIES),
           "properties": _SIGNING_PROPERTIES,
           "description": "一次签约登记（每次登记一行）：转让方或项目经纪人登记，受让方确认后项目才进入签约阶段。"}

_FEE_PROPERTIES = {
    "rate_bp": {"type": ["integer", "null"], "minimum": 1, "maximum": 10_000,
                "description": "佣金比例（基点，占合同金额）；按固定金额约定时为 null。"},
    "fixed_fen": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_FEN,
                  "description": "固定佣金（分）；按比例约定时为 null。"},
    "payer": _coded(_values(FeePayer)),
    "due_fen": {"type": ["integer", "null"], "minimum": 0, "maximum": MAX_FEN,
                "description": "应付佣金（分）：固定金额，或合同金额 × 比例 / 10000（向下取整）；合同金额未定时为 null。"},
    "paid_fen": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_FEN,
                 "description": "支付方标记的已付金额（分）；未支付为 null。"},
    "paid_on": _DATE_OR_NULL,
    "paid_by": _nullable(_ref("Party")),
}

FEE = {"type": "object", "additionalProperties": False, "required": list(_FEE_PROPERTIES),
       "properties": _FEE_PROPERTIES,
       "description": "机构与委托方约定的服务费（佣金，与政策奖励分开），是交易条件的一部分；项目有经纪人时才能约定。"}

PATHS = {
    f"{API_PREFIX}/deal-signings/{{signing_id}}/{{decision}}": _decision_route(
        "signing_id", "decide_deal_signing", "确认、异议、撤回或驳回一次签约登记", "deals",
        _json(_ref("DealSigning"), "作出决定后的签约登记。"),
        ("400", "401", "403", "404", "409:DealConflict", "413", "415", "422:DecisionUnprocessable"),
        "由受让方的成员确认（登记人本人、项目经纪人和转让方不能确认，为 403）；确认后项目按登记的日期和"
        "金额进入签约阶段，各相关方会收到通知。受让方可提出异议（理由各方可见），由平台管理员确认或驳回；"
        "登记人可撤回未确认的登记后重新登记。已处理的登记、或项目已不在公示阶段为 409。",
        decisions=DECISIONS,
        decisions_meaning="confirm：受让方确认；dispute：受让方提出异议（须写理由）；withdraw：登记人撤回；"
                          "refuse：平台管理员驳回（须写理由）。其他值为 404。"),
    f"{API_PREFIX}/deals/{{deal_id}}/fee": {
        "parameters": [_id("deal_id")],
        "post": _operation(
            "set_deal_fee", "约定或取消佣金（交易条件）", "deals",
            {"200": _json(_ref("DealDetail"), "修改后的项目。"),
             **_errors("400", "401", "403", "404", "409:DealConflict", "413", "415", "422:DealUnprocessable")},
            requestBody=_body("FeeInput"),
            description="交易双方或项目经纪人在公示前修改（公示开始后为 409）；项目须有经纪人。比例与固定金额只填其一，"
                        "约定佣金时须选择支付方；全部省略为取消佣金。每次变更产生新的交易条件版本，须各方重新确认。"),
    },
    f"{API_PREFIX}/deals/{{deal_id}}/fee/paid": {
        "parameters": [_id("deal_id")],
        "post": _operation(
            "mark_deal_fee_paid", "标记佣金已支付（支付方）", "deals",
            {"200": _json(_ref("DealDetail"), "标记后的项目，fee 中带已付金额和日期。"),
             **_errors("400", "401", "403", "404", "409:DealConflict", "413", "415", "422:DealUnprocessable")},
            requestBody=_body("PaymentInput"),
            description="仅限约定的佣金支付方（转让方或受让方）的成员，在项目签约后标记（项目经纪人、另一方和其他人为 403，"
                        "看不到项目的为 404；未约定佣金或尚未签约为 409）。金额为正整数（分），日期不晚于今天；"
                        "不符合时为 422，fields 指出 amount_fen 或 date，不作任何保存。再次标记会覆盖上次的金额和日期；"
                        "项目经纪人和相关各方会收到通知。"),
    },
    f"{API_PREFIX}/deals/{{deal_id}}/fee/unpaid": {
        "parameters": [_id("deal_id")],
        "post": _operation(
            "mark_deal_fee_unpaid", "撤回佣金已支付的标记（支付方）", "deals",
            {"200": _json(_ref("DealDetail"), "撤回标记后的项目。"),
             **_errors("400", "401", "403", "404", "409:DealConflict", "413", "415", "422")},
            requestBody=_body("EmptyInput", required=False),
            description="与标记已支付的权限相同；佣金尚未标记为已支付时为 409。"),
    },
}


def add_signing_and_fee(document: dict) -> dict:
    """Add the signing and fee schemas and operations to the API document."""
    document["paths"].update(PATHS)
    document["components"]["schemas"].update({"DealSigning": SIGNING, "DealFee": FEE})
    document["components"]["schemas"].update(components_of(FeeInput))
    return document
