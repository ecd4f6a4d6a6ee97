"""The OpenAPI 3.1 part for bids, deals, payments and awards, written as data and merged into the API document;
the deal and money endpoints check request bodies against these schemas (the payment and bid-round bodies' come from
their declared inputs)."""
import dataclasses
import re
from collections.abc import Sequence

from market.api.openapi import (  # shared schema helpers
    _json,
    _page,
    _query,
    _ref,
    _values,
)
from market.awards.inputs import PayoutInput
from market.awards.models import AwardStatus, HoldReason
from market.awards.payment_input import PaymentInput
from market.confirmations.evidence import EVIDENCE_FIELD
from market.confirmations.inputs import EVIDENCE_PDF_MAX_BYTES, DecisionInput
from market.confirmations.models import FactStatus
from market.confirmations.table import FactRole
from market.deals.inputs import (
    STAGE_INPUTS,
    BidAcceptInput,
    BidRoundInput,
    BrokerDeclineInput,
    BrokerInvitationInput,
    BrokerRemovalInput,
    DeclineInput,
    NoticeWithdrawalInput,
    TermsAcceptanceInput,
    TermsInput,
)
from market.deals.labels import EVENT_LABELS
from market.deals.models import (
    BidSide,
    BidStatus,
    BrokerRequestKind,
    BrokerRequestStatus,
    DealStage,
    DeclineReason,
    TermsRole,
)
from market.deals.permissions import PARTY_SIDES, BrokerRequestActions, DealPermissions
from market.declared import EmptyInput, components_of, json_schema
from market.listings.queries import MAX_PER_PAGE
from market.listings.vocabulary import TransferMode
from market.money import MAX_FEN
from market.uploads import size_text

API_PREFIX = "/api/v1"
MAX_ID = 2**31 - 1
"""Largest id a path accepts (the app's int converter: ids are 32-bit integers in PostgreSQL)."""
MAX_API_PAGE = 100_000
AWARD_RECIPIENT = re.compile(r"(?:user|org)-[1-9][0-9]{0,9}", re.ASCII)
"""How an award's recipient is written: user-<id> for a person, org-<id> for an organisation."""

STAGE_FIELDS: dict[str, tuple[str, ...]] = {str(stage): tuple(model.model_fields) for stage, model in STAGE_INPUTS.items()}
"""The stages a deal may be moved into through the API and the body keys each move takes (from the moves' declared
inputs)."""

DEAL_ROLES = ("admin", "broker", "intermediary", "party", "platform_broker", "transferee", "transferor")


def _nullable(schema: dict) -> dict:
    return {"oneOf": [schema, {"type": "null"}]}


def _coded(codes: list[str]) -> dict:
    return {"type": "object", "additionalProperties": False, "required": ["code", "label"],
            "properties": {"code": {"type": "string", "enum": codes}, "label": {"type": "string"}}}


_FEN = {"type": "integer", "minimum": 1, "maximum": MAX_FEN}
_FEN_OUT = {"type": "integer", "minimum": 0, "maximum": MAX_FEN}
_DATE = {"type": "string", "format": "date"}
_DATE_OR_NULL = {"type": ["string", "null"], "format": "date"}
_TIMESTAMP = {"type": ["string", "null"], "format": "date-time"}

# ---------------------------------------------------------------- request bodies

def _deal_stage_input() -> dict:
    """The body of a stage move: "to" and the fields of every move's declared input, each marked with its stage."""
    properties = {"to": {"type": "string", "enum": list(STAGE_FIELDS),
                         "description": "目标阶段；履约/回款阶段由首笔回款自动进入。"}}
    for stage, model in STAGE_INPUTS.items():
        for name, spec in json_schema(model)["properties"].items():
            properties[name] = {**spec, "description": f"{spec.get('description', '')}（{stage}）"}
    return {"type": "object", "additionalProperties": False, "required": ["to"], "properties": properties,
            "description": "推进到下一阶段（或终止）。各阶段只接受所列字段：" + "；".join(
                f"{stage}：{'、'.join(fields) or '无'}" for stage, fields in STAGE_FIELDS.items()) + "。"}


DEAL_STAGE_INPUT = _deal_stage_input()

# ---------------------------------------------------------------- responses

PARTY = {"type": "object", "additionalProperties": False, "required": ["id", "name"],
         "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}

AWARD = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "rule", "rule_kind", "rule_set", "rule_set_version", "recipient", "recipient_name", "payer",
                 "payer_name", "computed_fen", "granted_fen", "status", "hold_reason", "capped_by", "waived_by", "note",
                 "event_date", "deal_id",
                 "agreement_id", "approved_at", "paid_at", "paid_on", "voucher_reference", "voucher_file_name"],
    "properties": {
        "id": {"type": "integer"},
        "rule": {"type": "string", "description": "规则编号（如 R1、R2）。"},
        "rule_kind": {"type": "string"},
        "rule_set": {"type": "string"},
        "rule_set_version": {"type": "string"},
        "recipient": {"type": "string", "pattern": "^(user|org)-[0-9]+$", "description": "领取人：user-<编号> 或 org-<编号>。"},
        "recipient_name": {"type": "string"},
        "payer": {"type": "string", "description": "出资方账户，如 fiscal:province、proceeds:org-<编号>。"},
        "payer_name": {"type": "string", "description": "出资方名称，如 省级财政、某单位的转化收益。"},
        "computed_fen": _FEN_OUT,
        "granted_fen": {**_FEN_OUT, "description": "核定金额（分），受上限约束后不超过计算金额。"},
        "status": _coded(_values(AwardStatus)),
        "hold_reason": {"type": ["string", "null"], "enum": [*_values(HoldReason), None],
                        "description": "暂缓发放的原因：draft_rule（规则待确认）或 awaiting_verification（待核验：技术合同登记"
                                       "或领取机构尚未核验）；未暂缓为 null。"},
        "capped_by": {"type": ["string", "null"], "description": "约束了金额的上限范围。"},
        "waived_by": {"type": ["string", "null"], "description": "从优不重复时已享受的规则。"},
        "note": {"type": "string", "description": "说明：暂缓原因、上限说明等。"},
        "event_date": _DATE,
        "deal_id": {"type": ["integer", "null"]},
        "agreement_id": {"type": ["integer", "null"]},
        "approved_at": _TIMESTAMP,
        "paid_at": _TIMESTAMP,
        "paid_on": {**_DATE_OR_NULL, "description": "发放日期（登记发放时填写；此前登记的发放为 null）。"},
        "voucher_reference": {"type": ["string", "null"], "description": "付款凭证号（登记发放时填写）。"},
        "voucher_file_name": {"type": ["string", "null"],
                              "description": "上传的付款凭证 PDF 的文件名（平台管理员和领取人可在网页下载）；未上传为 null。"},
    },
}

_PAYMENT_PROPERTIES = {
    "id": {"type": "integer"},
    "deal_id": {"type": ["integer", "null"]},
    "agreement_id": {"type": ["integer", "null"]},
    "amount_fen": _FEN,
    "paid_on": _DATE,
    "recorded_by": _nullable(_ref("Party")),
    "recorded_as": {"type": ["string", "null"], "enum": [*_values(FactRole), None],
                    "description": "登记人登记时的身份；确认前已计入奖补的旧记录为 null。"},
    "status": {**_coded(_values(FactStatus)),
               "description": "recorded：待对方确认；confirmed：已确认并计入奖补；disputed：有异议，待平台处理；"
                              "refused：已被平台驳回；withdrawn：登记人已撤回。"},
    "dispute_reason": {"type": "string", "description": "对方提出异议的理由。"},
    "decision_note": {"type": "string", "description": "确认时的说明或驳回理由。"},
    "decided_by": _nullable(_ref("Party")),
    "decided_at": _TIMESTAMP,
    "created_at": _TIMESTAMP,
    "evidence": _nullable({"type": "object", "additionalProperties": False, "required": ["filename", "uploaded_at"],
                           "properties": {"filename": {"type": "string", "description": "上传时的文件名。"},
                                          "uploaded_at": _TIMESTAMP},
                           "description": "付款凭证（银行回单或发票 PDF）；文件本身在页面上由双方、经纪人和平台"
                                          "管理员下载。没有凭证时为 null，平台管理员不能单独确认。"}),
    "awards": {"type": "array", "items": _ref("Award"),
               "description": "该笔付款产生的奖补（金额均为整数分）；登记时为空，确认后才计算。"},
}

PAYMENT = {"type": "object", "additionalProperties": False, "required": list(_PAYMENT_PROPERTIES),
           "properties": _PAYMENT_PROPERTIES}

BID_VERSION = {
    "type": "object",
    "additionalProperties": False,
    "required": ["number", "side", "amount_fen", "mode", "message", "author", "created_at"],
    "properties": {
        "number": {"type": "integer", "minimum": 1},
        "side": {"type": "string", "enum": _values(BidSide), "description": "buyer：报价方；owner：成果方。"},
        "amount_fen": _FEN,
        "mode": _coded(_values(TransferMode)),
        "message": {"type": "string"},
        "author": _nullable(_ref("Party")),
        "created_at": _TIMESTAMP,
    },
}

DECLINE = {"oneOf": [{"type": "null"}, {
    "type": "object", "additionalProperties": False, "required": ["reason", "note"],
    "properties": {"reason": _coded(_values(DeclineReason)), "note": {"type": "string"}}}],
    "description": "拒绝原因（已拒绝时）；对方可见。"}

BID = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "status", "achievement", "bidder_organisation", "side", "latest", "rounds", "deal_id", "decline",
                 "may", "created_at", "updated_at"],
    "properties": {
        "id": {"type": "integer"},
        "status": _coded(_values(BidStatus)),
        "achievement": {"type": "object", "additionalProperties": False, "required": ["id", "title", "organisation"],
                        "properties": {"id": {"type": "integer"}, "title": {"type": "string"},
                                       "organisation": _ref("Party")}},
        "bidder_organisation": _ref("Party"),
        "side": {"type": ["string", "null"], "enum": [*_values(BidSide), None], "description": "调用者所在的一方。"},
        "latest": _ref("BidVersion"),
        "rounds": {"type": "integer", "minimum": 1},
        "deal_id": {"type": ["integer", "null"], "description": "接受后创建的项目。"},
        "decline": DECLINE,
        "may": {"type": "object", "additionalProperties": False,
                "required": ["counter", "accept", "decline", "withdraw"],
                "properties": {name: {"type": "boolean"} for name in ("counter", "accept", "decline", "withdraw")},
                "description": "调用者现在可以做的答复。"},
        "created_at": _TIMESTAMP,
        "updated_at": _TIMESTAMP,
        "versions": {"type": "array", "items": _ref("BidVersion"), "description": "每一轮报价（详情中）。"},
    },
}

_LINK = {"type": "object", "additionalProperties": False, "required": ["id", "title"],
         "properties": {"id": {"type": "integer"}, "title": {"type": "string"}}}

_DEAL_PROPERTIES = {
    "id": {"type": "integer"},
    "title": {"type": "string"},
    "stage": _coded(_values(DealStage)),
    "achievement": _nullable(_LINK),
    "demand": _nullable(_LINK),
    "transferor": _ref("Party"),
    "transferee": _ref("Party"),
    "broker": _nullable(_ref("Party")),
    "agent_organisation": _nullable(_ref("Party")),
    "mode": _nullable(_coded(_values(TransferMode))),
    "agreed_amount_fen": {"type": ["integer", "null"], "minimum": 0, "maximum": MAX_FEN},
    "paid_fen": _FEN_OUT,
    "reward_rate_bp": {"type": "integer", "minimum": 0, "maximum": 10_000},
    "inventor_share_bp": {"type": ["integer", "null"], "minimum": 0, "maximum": 10_000,
                          "description": "发明人（团队）收益比例（基点，占净收入）：转让方为高校或科研院所时记录；其他为 null。"},
    "fee": _nullable(_ref("DealFee")),
    "notice": {"type": "object", "additionalProperties": False, "required": ["days", "starts_on", "ends_on"],
               "properties": {"days": {"type": "integer"}, "starts_on": _DATE_OR_NULL, "ends_on": _DATE_OR_NULL}},
    "signed_on": _DATE_OR_NULL,
    "registration_number": {"type": ["string", "null"]},
    "registered_on": _DATE_OR_NULL,
    "termination_reason": {"type": "string"},
    "intermediary_exception": {"type": "string"},
    "your_roles": {"type": "array", "items": {"type": "string", "enum": list(DEAL_ROLES)},
                   "description": "调用者在项目中的身份。"},
    "created_at": _TIMESTAMP,
    "updated_at": _TIMESTAMP,
    "completed_at": _TIMESTAMP,
}

DEAL = {"type": "object", "additionalProperties": False, "required": list(_DEAL_PROPERTIES),
        "properties": _DEAL_PROPERTIES}

_PERMISSIONS = {field.name: ({"type": ["string", "null"], "enum": [*_values(DealStage), None]}
                             if field.name == "advance_to" else {"type": "boolean"})
                for field in dataclasses.fields(DealPermissions)}

_BROKER_REQUEST_PROPERTIES = {
    "id": {"type": "integer"},
    "kind": _coded(_values(BrokerRequestKind)),
    "status": _coded(_values(BrokerRequestStatus)),
    "broker": _ref("Party"),
    "initiated_by": _ref("Party"),
    "broker_accepted_at": _TIMESTAMP,
    "transferor_accepted_by": _nullable(_ref("Party")),
    "transferee_accepted_by": _nullable(_ref("Party")),
    "awaiting": {"type": "array", "items": {"type": "string", "enum": ["broker", *PARTY_SIDES]},
                 "description": "仍需确认的各方：经纪人；经纪人申请和平台推荐还需转让方、受让方各一名成员。"},
    "may": {"type": "object", "additionalProperties": False,
            "required": [field.name for field in dataclasses.fields(BrokerRequestActions)],
            "properties": {field.name: {"type": "boolean"} for field in dataclasses.fields(BrokerRequestActions)},
            "description": "调用者现在可以做的答复。"},
    "created_at": _TIMESTAMP,
}

BROKER_REQUEST = {"type": "object", "additionalProperties": False, "required": list(_BROKER_REQUEST_PROPERTIES),
                  "properties": _BROKER_REQUEST_PROPERTIES}

_DETAIL_PROPERTIES = {
    "intermediaries": {"type": "array", "items": {
        "type": "object", "additionalProperties": False, "required": ["user", "share_bp", "position"],
        "properties": {"user": _ref("Party"), "share_bp": {"type": "integer", "minimum": 1, "maximum": 10_000},
                       "position": {"type": "integer"}}}},
    "payments": {"type": "array", "items": _ref("Payment"), "description": "回款，各含其产生的奖补。"},
    "other_awards": {"type": "array", "items": _ref("Award"), "description": "不属于某笔回款的奖补（如登记时产生的）。"},
    "timeline": {"type": "array", "items": {
        "type": "object", "additionalProperties": False,
        "required": ["at", "action", "label", "from_stage", "to_stage", "note", "actor"],
        "properties": {"at": _TIMESTAMP, "action": {"type": "string", "enum": list(EVENT_LABELS)},
                       "label": {"type": "string"}, "from_stage": {"type": ["string", "null"]},
                       "to_stage": {"type": ["string", "null"]}, "note": {"type": "string"},
                       "actor": _nullable(_ref("Party"))}}},
    "broker_requests": {"type": "array", "items": _ref("BrokerRequest"),
                        "description": "待确认的经纪人邀请、申请和推荐（交易双方和平台看到全部，经纪人看到与本人有关的）。"},
    "terms": {"type": "object", "additionalProperties": False, "required": ["version", "locked", "acceptances"],
              "description": "交易条件的当前版本及各方确认情况：任何一项条件变更都产生新版本，此前的确认随之失效；"
                             "转让方、受让方和每位指名的中介服务人员（就其分成）都确认当前版本后才能开始公示。",
              "properties": {
                  "version": {"type": "integer", "minimum": 1},
                  "locked": {"type": "boolean", "description": "公示开始至签约期间交易条件锁定。"},
                  "acceptances": {"type": "array", "items": {
                      "type": "object", "additionalProperties": False,
                      "required": ["role", "intermediary", "accepted_by", "accepted_at"],
                      "properties": {"role": {"type": "string", "enum": _values(TermsRole)},
                                     "intermediary": _nullable(_ref("Party")),
                                     "accepted_by": _nullable(_ref("Party")),
                                     "accepted_at": _TIMESTAMP}}}}},
    "signings": {"type": "array", "items": _ref("DealSigning"),
                 "description": "签约登记，新的在前（转让方或项目经纪人登记，受让方确认后项目进入签约阶段）。"},
    "may": {"type": "object", "additionalProperties": False, "required": list(_PERMISSIONS),
            "properties": _PERMISSIONS, "description": "调用者现在可以做的操作（与项目页面相同）。"},
}

DEAL_DETAIL = {"type": "object", "additionalProperties": False,
               "required": list(_DEAL_PROPERTIES) + list(_DETAIL_PROPERTIES),
               "properties": {**_DEAL_PROPERTIES, **_DETAIL_PROPERTIES}}


AWARD_LIST = {"type": "object", "additionalProperties": False, "required": ["items"],
              "properties": {"items": {"type": "array", "items": _ref("Award")}}}

SCHEMAS = {
    "Party": PARTY,
    "DealStageInput": DEAL_STAGE_INPUT,
    "Award": AWARD,
    "AwardList": AWARD_LIST,
    "AwardPage": _page("Award"),
    "Payment": PAYMENT,
    "BidVersion": BID_VERSION,
    "Bid": BID,
    "BidPage": _page("Bid"),
    "Deal": DEAL,
    "DealDetail": DEAL_DETAIL,
    "BrokerRequest": BROKER_REQUEST,
    "DealPage": _page("Deal"),
}

# ---------------------------------------------------------------- operations

RESPONSES = {
    "IdempotencyBadRequest": "缺少或无效的 Idempotency-Key 请求头（idempotency_key_required），或请求体不是有效的 "
                             "UTF-8 JSON（malformed_json）。",
    "MoneyConflict": "使用同一 Idempotency-Key 的请求仍在处理中（request_in_progress），稍后用同一个键重试；"
                     "或项目、协议的状态不允许（invalid_state）。",
    "MoneyUnprocessable": "JSON 不可接受（invalid_json）、内容未通过校验（validation_failed：金额须为 1 到上限之间的 JSON "
                          "整数，日期为 YYYY-MM-DD），政策或交易规则不允许（rule_violation），或该 Idempotency-Key 已用于"
                          "另一个请求（idempotency_key_reused）。校验失败的请求不占用幂等键；业务规则拒绝的答复会保存并在重试时原样返回。",
    "DealConflict": "当前状态不允许此操作（invalid_state），如报价已被处理、不是您方答复的轮次、项目阶段不符。",
    "DecisionConflict": "该付款已处理（invalid_state：已确认、驳回或撤回，或已有异议），不能再作此决定；"
                        "或项目、协议的状态不允许；平台管理员确认没有凭证的付款也为 invalid_state。",
    "DecisionUnprocessable": "JSON 不可接受（invalid_json）、内容未通过校验（validation_failed：提出异议或驳回须写明理由），"
                             "或交易规则不允许（rule_violation）。",
    "EvidenceMediaType": "请求体不是 multipart/form-data（unsupported_media_type）。",
    "EvidenceUnprocessable": "没有选择文件，或文件不是 PDF、文件名不允许、超过大小上限（validation_failed，字段 evidence）。",
    "DealUnprocessable": "JSON 不可接受（invalid_json）、内容未通过校验（validation_failed），或交易规则不允许"
                         "（rule_violation，如同一成果的中介人数上限）。",
}


def _error(name: str) -> dict:
    return {"$ref": f"#/components/responses/{name}"}


def _errors(*pairs: str) -> dict:
    """Error responses by status: "404" uses the shared NotFound response, "409:DealConflict" a named one."""
    shared = {"400": "MalformedJson", "401": "Unauthorized", "403": "Forbidden", "404": "NotFound",
              "413": "PayloadTooLarge", "415": "UnsupportedMediaType", "422": "Unprocessable"}
    result = {}
    for pair in pairs:
        status, _sep, name = pair.partition(":")
        result[status] = _error(name or shared[status])
    return result


def _body(schema: str, *, required: bool = True) -> dict:
    return {"required": required, "content": {"application/json": {"schema": _ref(schema)}}}


def _id(name: str) -> dict:
    return {"name": name, "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}


_PAGING = [
    _query("page", {"type": "integer", "minimum": 1, "maximum": MAX_API_PAGE, "default": 1}, "页码。"),
    _query("per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 20}, "每页条数。"),
]
_TOKEN = [{"bearerAuth": []}]
_LOCATION = {"Location": {"description": "新对象的 API 地址。", "schema": {"type": "string"}}}
_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": True,
    "schema": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": "^[\\x21-\\x7E]+$"},
    "description": "幂等键（1–100 个可见 ASCII 字符，如 UUID）。同一用户用同一个键重发同一请求，返回首次保存的答复"
                   "（相同状态码和响应体，带 Idempotent-Replayed: true），不会重复登记；同一个键用于不同请求体为 422；"
                   "首个请求尚在处理时为 409。",
}
_REPLAYED = {"Idempotent-Replayed": {"description": "重放保存的答复时为 true。", "schema": {"type": "string"}}}


def _operation(operation_id: str, summary: str, tag: str, responses: dict, **extra) -> dict:
    return {"operationId": operation_id, "summary": summary, "tags": [tag], "security": _TOKEN,
            "responses": responses, **extra}


def _decision_route(id_name: str, operation_id: str, summary: str, tag: str, answer: dict, errors: Sequence[str],
                    description: str, *, decisions: Sequence[str] = (), decisions_meaning: str = "",
                    body: str = "DecisionInput") -> dict:
    """A route that decides on a record (confirm, dispute, verify, accept, decline …): the record's id in the path,
    then, when `decisions` are given, the decision's name (`decisions_meaning` says what each does); a POST with an
    optional body that answers 200 with `answer`, or one of the `errors` (as `_errors` reads them)."""
    parameters = [_id(id_name)]
    if decisions:
        parameters.append({"name": "decision", "in": "path", "required": True,
                           "schema": {"type": "string", "enum": list(decisions)}, "description": decisions_meaning})
    return {"parameters": parameters,
            "post": _operation(operation_id, summary, tag, {"200": answer, **_errors(*errors)},
                               requestBody=_body(body, required=False), description=description)}


def _bid_action(action: str, summary: str, body: str | None, ok: dict) -> dict:
    extra = {"requestBody": _body(body)} if body else {"requestBody": _body("EmptyInput", required=False)}
    return {"parameters": [_id("bid_id")],
            "post": _operation(f"{action}_bid", summary, "bids",
                               {**ok, **_errors("400", "401", "403", "404", "409:DealConflict", "413", "415",
                                                "422:DealUnprocessable")}, **extra)}


def _broker_action(operation_id: str, summary: str, body: str | None, description: str, *, created: bool = False,
                   request: bool = False) -> dict:
    """A deal-broker operation answering with the deal page as data."""
    ok = {"201": _json(_ref("DealDetail"), "项目（含待确认的经纪人请求）。")} if created else {
        "200": _json(_ref("DealDetail"), "项目（含待确认的经纪人请求）。")}
    parameters = [_id("deal_id"), _id("request_id")] if request else [_id("deal_id")]
    return {"parameters": parameters,
            "post": _operation(operation_id, summary, "deals",
                               {**ok, **_errors("400", "401", "403", "404", "409:DealConflict", "413", "415",
                                                "422:DealUnprocessable")},
                               requestBody=_body(body or "EmptyInput", required=body is not None
                                                 and body != "BrokerDeclineInput"),
                               description=description)}


def _payments(noun: str, id_name: str, title: str, who: str) -> dict:
    return {
        "parameters": [_id(id_name)],
        "post": _operation(
            f"record_{noun}_payment", f"登记{title}（需要 Idempotency-Key）", "money",
            {"201": _json(_ref("Payment"), "已登记、待对方确认的付款（awards 为空）。", headers=_REPLAYED),
             **_errors("400:IdempotencyBadRequest", "401", "403", "404", "409:MoneyConflict", "413", "415",
                       "422:MoneyUnprocessable")},
            parameters=[_IDEMPOTENCY_KEY], requestBody=_body("PaymentInput"),
            description=f"金额为整数“分”。{who}登记后状态为 recorded（待确认），不计算奖补；"
                        "奖补在另一方确认时按付款日期计算。同一 Idempotency-Key 的重试不会重复登记。"),
    }


DECISIONS = ("confirm", "dispute", "withdraw", "refuse")
"""The decisions on a recorded payment (the last path segment of its decision route)."""


def _decisions(noun: str, title: str, who: str) -> dict:
    return _decision_route(
        "payment_id", f"decide_{noun}_payment", f"确认、异议、撤回或驳回一笔{title}", "money",
        _json(_ref("Payment"), "作出决定后的付款；确认时含其产生的奖补。"),
        ("400", "401", "403", "404", "409:DecisionConflict", "413", "415", "422:DecisionUnprocessable"),
        f"{who}登记人本人不能确认（403）；已确认、驳回或撤回的付款再作决定为 409。"
        "确认时按付款日期计算奖补并记账，与确认在同一事务中保存。",
        decisions=DECISIONS,
        decisions_meaning="confirm：确认；dispute：提出异议（须写理由）；withdraw：登记人撤回；"
                          "refuse：平台管理员驳回（须写理由）。其他值为 404。")


def _evidence(noun: str, title: str) -> dict:
    return {
        "parameters": [_id("payment_id")],
        "post": _operation(
            f"attach_{noun}_payment_evidence", f"为{title}上传凭证（银行回单或发票 PDF）", "money",
            {"200": _json(_ref("Payment"), "带凭证的付款（awards 为空）。"),
             **_errors("401", "403", "404", "409:DecisionConflict", "413", "415:EvidenceMediaType",
                       "422:EvidenceUnprocessable")},
            requestBody={"required": True, "content": {"multipart/form-data": {"schema": {
                "type": "object", "required": [EVIDENCE_FIELD],
                "properties": {EVIDENCE_FIELD: {"type": "string", "format": "binary",
                                                "description": f"PDF 文件，不超过 {size_text(EVIDENCE_PDF_MAX_BYTES)}。"}}}}}},
            description="仅限登记人本人（其他能查看付款的人为 403），且付款待确认或有异议时（已处理的为 409）；"
                        "再次上传替换原凭证。平台管理员只能确认带凭证的付款，对方确认不需要凭证。"),
    }


def _awards_of(noun: str, id_name: str, title: str, who: str) -> dict:
    return {
        "parameters": [_id(id_name)],
        "get": _operation(f"list_{noun}_awards", f"{title}产生的奖补", "money",
                          {"200": _json(_ref("AwardList"), "奖补，按产生顺序。"), **_errors("401", "404", "422")},
                          description=who),
    }


PATHS = {
    f"{API_PREFIX}/bids": {
        "get": _operation("list_bids", "本机构的报价（作为报价方或成果方）", "bids",
                          {"200": _json(_ref("BidPage"), "一页报价，最近更新的在前。"), **_errors("401", "422")},
                          parameters=[_query("status", {"type": "string", "enum": _values(BidStatus)}, "报价状态。"),
                                      *_PAGING],
                          description="平台管理员可看到全部报价。"),
    },
    f"{API_PREFIX}/bids/{{bid_id}}": {
        "parameters": [_id("bid_id")],
        "get": _operation("get_bid", "报价详情（含每一轮）", "bids",
                          {"200": _json(_ref("Bid"), "报价。"), **_errors("401", "404", "422")},
                          description="报价双方机构的成员和平台管理员可见；其他人为 404。"),
    },
    f"{API_PREFIX}/achievements/{{achievement_id}}/bids": {
        "parameters": [_id("achievement_id")],
        "post": _operation(
            "place_bid", "对已发布的成果报价（企业用户）", "bids",
            {"201": _json(_ref("Bid"), "新报价（第 1 轮）。", headers=_LOCATION),
             **_errors("400", "401", "403", "404", "409:DealConflict", "413", "415", "422:DealUnprocessable")},
            requestBody=_body("BidRoundInput")),
    },
    f"{API_PREFIX}/bids/{{bid_id}}/counter": _bid_action(
        "counter", "还价（新的一轮）", "BidRoundInput", {"201": _json(_ref("Bid"), "含新一轮的报价。")}),
    f"{API_PREFIX}/bids/{{bid_id}}/accept": _bid_action(
        "accept", "接受对方最新一轮报价：创建项目（意向阶段）", "BidAcceptInput",
        {"201": _json(_ref("DealDetail"), "新项目。", headers=_LOCATION)}),
    f"{API_PREFIX}/bids/{{bid_id}}/decline": _bid_action(
        "decline", "成果方拒绝报价（须选择原因，报价方可见）", "DeclineInput", {"200": _json(_ref("Bid"), "已拒绝的报价。")}),
    f"{API_PREFIX}/bids/{{bid_id}}/withdraw": _bid_action(
        "withdraw", "报价方撤回报价", None, {"200": _json(_ref("Bid"), "已撤回的报价。")}),
    f"{API_PREFIX}/deals": {
        "get": _operation("list_deals", "可查看的成果转化项目", "deals",
                          {"200": _json(_ref("DealPage"), "一页项目，最近更新的在前。"), **_errors("401", "422")},
                          parameters=[_query("stage", {"type": "string", "enum": _values(DealStage)}, "项目阶段。"),
                                      _query("valley", {"type": "string", "maxLength": 20}, "谷区代码（成果或需求所在谷区）。"),
                                      *_PAGING],
                          description="与项目页面相同：交易双方机构的成员、项目中介人员看到自己的项目；"
                                      "技术经理人和平台管理员看到全部项目。"),
    },
    f"{API_PREFIX}/deals/{{deal_id}}": {
        "parameters": [_id("deal_id")],
        "get": _operation("get_deal", "项目详情：中介人员、回款及奖补、时间线、可做的操作", "deals",
                          {"200": _json(_ref("DealDetail"), "项目。"), **_errors("401", "404", "422")},
                          description="无权查看的项目为 404。"),
    },
    f"{API_PREFIX}/deals/{{deal_id}}/stage": {
        "parameters": [_id("deal_id")],
        "post": _operation(
            "move_deal", "推进项目阶段（或终止）", "deals",
            {"200": _json(_ref("DealDetail"), "推进后的项目。"),
             "201": _json(_ref("DealSigning"), "签约（signed）：已登记、待受让方确认的签约；项目仍在公示阶段。"),
             **_errors("400", "401", "403", "404", "409:DealConflict", "413", "415", "422:DealUnprocessable")},
            requestBody=_body("DealStageInput"),
            description="与项目页面调用同一服务：洽谈、协议定价、公示由交易双方（公示也可由项目经纪人）推进；"
                        "签约须在公示期满后，由转让方或项目经纪人登记（答复 201 和签约登记），受让方确认"
                        "（POST /api/v1/deal-signings/{signing_id}/confirm）后项目才进入签约阶段；"
                        "技术合同登记须附登记证明 PDF，请用 POST /api/v1/deals/{deal_id}/registrations（multipart；在此推进为 422）；"
                        "完成由转让方或平台操作；终止须填写原因。"),
    },
    f"{API_PREFIX}/deals/{{deal_id}}/broker/ask": _broker_action(
        "ask_to_join_deal", "技术经理人申请担任项目经纪人", None,
        "仅限已审核、且不属于交易任何一方的技术经理人，项目尚无经纪人时；转让方和受让方各一名成员同意后才成为经纪人。",
        created=True),
    f"{API_PREFIX}/deals/{{deal_id}}/broker/invite": _broker_action(
        "invite_broker", "交易一方邀请技术经理人", "BrokerInvitationInput",
        "交易双方机构的成员邀请已审核的技术经理人（视为本方同意）；经纪人接受后成为项目经纪人。", created=True),
    f"{API_PREFIX}/deals/{{deal_id}}/broker/propose": _broker_action(
        "propose_broker", "平台推荐技术经理人", "BrokerInvitationInput",
        "仅限平台管理员；经纪人、转让方和受让方都同意后才成为项目经纪人。", created=True),
    f"{API_PREFIX}/deals/{{deal_id}}/broker/remove": _broker_action(
        "remove_broker", "移除项目经纪人", "BrokerRemovalInput",
        "交易双方机构的成员或平台管理员，须填写原因；原因会告知该经纪人。"),
    f"{API_PREFIX}/deals/{{deal_id}}/broker-requests/{{request_id}}/accept": _broker_action(
        "accept_broker_request", "同意经纪人邀请、申请或推荐", None,
        "被邀请的经纪人，或尚未同意的一方的成员；发起人不能答复自己的请求。各方都同意后经纪人加入项目，"
        "同一项目的其他待确认请求随之结束。", request=True),
    f"{API_PREFIX}/deals/{{deal_id}}/broker-requests/{{request_id}}/decline": _broker_action(
        "decline_broker_request", "拒绝经纪人邀请、申请或推荐", "BrokerDeclineInput",
        "需要确认的任何一方都可拒绝，请求随之结束；原因可不填。", request=True),
    f"{API_PREFIX}/deals/{{deal_id}}/broker-requests/{{request_id}}/withdraw": _broker_action(
        "withdraw_broker_request", "撤回本人发起的经纪人邀请、申请或推荐", "BrokerDeclineInput",
        "仅限发起人（平台推荐可由任一平台管理员撤回）；原因可不填。", request=True),
    f"{API_PREFIX}/deals/{{deal_id}}/terms": {
        "parameters": [_id("deal_id")],
        "post": _operation(
            "update_deal_terms", "修改交易条件：协议价格、转化方式、发明人收益比例", "deals",
            {"200": _json(_ref("DealDetail"), "修改后的项目。"),
             **_errors("400", "401", "403", "404", "409:DealConflict", "413", "415", "422:DealUnprocessable")},
            requestBody=_body("TermsInput"),
            description="与项目页面调用同一服务：交易双方或项目经纪人在公示前修改（公示开始至签约期间锁定，为 409），"
                        "每次变更产生新版本，须各方重新确认；省略的字段为未定。转让方为高校或"
                        "科研院所时须在公示前填写发明人收益比例，低于法定下限的拒绝。"),
    },
    f"{API_PREFIX}/deals/{{deal_id}}/terms/accept": {
        "parameters": [_id("deal_id")],
        "post": _operation(
            "accept_deal_terms", "确认当前版本的交易条件", "deals",
            {"200": _json(_ref("DealDetail"), "确认后的项目。"),
             **_errors("400", "401", "403", "404", "409:DealConflict", "413", "415", "422:DealUnprocessable")},
            requestBody=_body("TermsAcceptanceInput"),
            description="转让方、受让方的成员为本方确认，指名的中介服务人员为本人分成确认；version 须为调用者看到的"
                        "当前版本（项目详情 terms.version），条件已变更时为 409，须查看新条件后再确认。修改条件的交易一方"
                        "成员视为本方已确认，项目经纪人修改的不代任何一方确认。公示开始后不再确认。"),
    },
    f"{API_PREFIX}/deals/{{deal_id}}/notice/withdraw": {
        "parameters": [_id("deal_id")],
        "post": _operation(
            "withdraw_deal_notice", "撤回公示（公示 → 协议定价）", "deals",
            {"200": _json(_ref("DealDetail"), "撤回公示后的项目。"),
             **_errors("400", "401", "403", "404", "409:DealConflict", "413", "415", "422:DealUnprocessable")},
            requestBody=_body("NoticeWithdrawalInput"),
            description="仅限交易双方机构的成员，须填写原因（告知各相关方）。撤回后可修改交易条件，经各方确认后重新公示。"),
    },
    f"{API_PREFIX}/deals/{{deal_id}}/payments": _payments(
        "deal", "deal_id", "回款", "回款由成果转让方、受让方的成员或项目经纪人登记（平台管理员不登记）；"),
    f"{API_PREFIX}/preorders/{{agreement_id}}/payments": _payments(
        "preorder", "agreement_id", "预约采购付款", "付款由采购方的成员或协议经纪人登记（供货方和平台管理员不登记）；"),
    f"{API_PREFIX}/deal-payments/{{payment_id}}/{{decision}}": _decisions(
        "deal", "回款", "转让方或项目经纪人登记的回款由受让方确认，受让方登记的由转让方确认，平台管理员也可确认；"
        "有异议的只能由平台管理员确认或驳回。"),
    f"{API_PREFIX}/preorder-payments/{{payment_id}}/{{decision}}": _decisions(
        "preorder", "预约采购付款", "由供货方或平台管理员确认；有异议的只能由平台管理员确认或驳回。"),
    f"{API_PREFIX}/deal-payments/{{payment_id}}/evidence": _evidence("deal", "回款"),
    f"{API_PREFIX}/preorder-payments/{{payment_id}}/evidence": _evidence("preorder", "预约采购付款"),
    f"{API_PREFIX}/deals/{{deal_id}}/awards": _awards_of(
        "deal", "deal_id", "项目", "能查看项目的人都可查看（与项目页面相同）；否则 404。"),
    f"{API_PREFIX}/preorders/{{agreement_id}}/awards": _awards_of(
        "preorder", "agreement_id", "预约采购协议", "买卖双方机构的成员、协议经纪人和平台管理员可查看；否则 404。"),
    f"{API_PREFIX}/awards": {
        "get": _operation(
            "list_awards", "某领取人的奖补", "money",
            {"200": _json(_ref("AwardPage"), "一页奖补，事件日期新的在前。"), **_errors("401", "403", "422")},
            parameters=[_query("recipient", {"type": "string", "pattern": "^(user|org)-[1-9][0-9]{0,9}$"},
                               "领取人：user-<编号> 或 org-<编号>；省略时为本人和本机构（管理员：全部）。"),
                        _query("status", {"type": "string", "enum": _values(AwardStatus)}, "奖补状态。"),
                        *_PAGING],
            description="个人可查看本人的奖补，机构成员可查看本机构的奖补，平台管理员可查看全部；其他领取人为 403。"),
    },
    f"{API_PREFIX}/awards/{{award_id}}/approve": {
        "parameters": [_id("award_id")],
        "post": _operation(
            "approve_award", "审批奖补（待审批 → 已审批）", "money",
            {"200": _json(_ref("Award"), "已审批的奖补。"), **_errors("400", "401", "403", "404", "413", "415", "422")},
            requestBody=_body("EmptyInput", required=False),
            description="仅限已启用两步验证的平台管理员；未启用时为 403（error 为 second_factor_required）。"),
    },
    f"{API_PREFIX}/awards/{{award_id}}/pay": {
        "parameters": [_id("award_id")],
        "post": _operation(
            "pay_award", "登记奖补发放（需要 Idempotency-Key）", "money",
            {"200": _json(_ref("Award"), "已登记发放的奖补。", headers=_REPLAYED),
             **_errors("400:IdempotencyBadRequest", "401", "403", "404", "409:MoneyConflict", "413", "415", "422")},
            parameters=[_IDEMPOTENCY_KEY], requestBody=_body("PayoutInput"),
            description="仅限已启用两步验证的平台管理员；未启用时为 403（error 为 second_factor_required）。"
                        "须填写付款凭证号和发放日期（不晚于今天，不早于审批日期）；付款凭证 PDF 在网页上上传。"
                        "同一 Idempotency-Key 的重试不会重复登记。"),
    },
}

TAGS = [{"name": "bids", "description": "报价与还价"}, {"name": "deals", "description": "成果转化项目"},
        {"name": "money", "description": "付款与奖补（金额为整数分）"}]


def add_deals_and_money(document: dict) -> dict:
    """Add the bid, deal, payment and award operations to the API document."""
    document["paths"].update(PATHS)
    document["components"]["schemas"].update(SCHEMAS)
    document["components"]["schemas"].update(components_of(PaymentInput, PayoutInput, DecisionInput, BidRoundInput,
                                                             BidAcceptInput, TermsInput, TermsAcceptanceInput,
                                                             NoticeWithdrawalInput, EmptyInput, BrokerInvitationInput,
                                                             BrokerDeclineInput, BrokerRemovalInput, DeclineInput))
    document["components"]["responses"].update(
        {name: {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}
         for name, description in RESPONSES.items()})
    document["tags"].extend(TAGS)
    return document
