"""The OpenAPI 3.1 part for technology-contract registrations (recorded with a certificate, verified by an admin)."""
from market.api.openapi import _json, _ref, _values
from market.api.openapi_money import API_PREFIX, _decision_route, _errors, _id, _operation
from market.confirmations.inputs import EVIDENCE_PDF_MAX_BYTES
from market.deals.models import RegistrationStatus
from market.deals.registrations import CERTIFICATE_FIELD, DECISIONS
from market.uploads import size_text

REGISTRATION = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "deal_id", "registration_number", "registered_on", "status", "refusal_reason",
                 "certificate_file_name", "recorded_at", "decided_at"],
    "properties": {
        "id": {"type": "integer"},
        "deal_id": {"type": "integer"},
        "registration_number": {"type": "string", "description": "技术合同登记编号。"},
        "registered_on": {"type": "string", "format": "date"},
        "status": {"type": "object", "additionalProperties": False, "required": ["code", "label"],
                   "properties": {"code": {"type": "string", "enum": _values(RegistrationStatus)},
                                  "label": {"type": "string"}}},
        "refusal_reason": {"type": ["string", "null"], "description": "驳回理由（相关各方可见）。"},
        "certificate_file_name": {"type": ["string", "null"],
                                  "description": "登记证明 PDF 的文件名；此前登记、未上传证明的为 null。"},
        "recorded_at": {"type": ["string", "null"], "format": "date-time"},
        "decided_at": {"type": ["string", "null"], "format": "date-time"},
    },
}

_CONFLICT_AND_INPUT = ("400", "401", "403", "404", "409:DealConflict", "413", "415", "422:DealUnprocessable")

PATHS = {
    f"{API_PREFIX}/deals/{{deal_id}}/registrations": {
        "parameters": [_id("deal_id")],
        "post": _operation(
            "record_deal_registration", "填报技术合同登记（编号、日期、登记证明 PDF）", "deals",
            {"201": _json(_ref("DealRegistration"), "待核验的登记。"), **_errors(*_CONFLICT_AND_INPUT)},
            requestBody={"required": True, "content": {"multipart/form-data": {"schema": {
                "type": "object", "required": ["registration_number", "registered_on", CERTIFICATE_FIELD],
                "properties": {
                    "registration_number": {"type": "string", "description": "技术合同登记编号。"},
                    "registered_on": {"type": "string", "format": "date", "description": "登记日期，不早于签约日期。"},
                    CERTIFICATE_FIELD: {"type": "string", "format": "binary",
                                        "description": f"登记证明 PDF，不超过 {size_text(EVIDENCE_PDF_MAX_BYTES)}。"}}}}}},
            description="由成果转让方的成员或项目经纪人在签约后填报；项目进入技术合同登记阶段并按政策规则登记合同，"
                        "但登记须经平台运营人员核验：核验前该项目回款产生的奖补暂缓发放（待核验）。"
                        "驳回后项目回到签约阶段，可填报更正后的登记。"),
    },
    f"{API_PREFIX}/deal-registrations/{{registration_id}}": {
        "parameters": [_id("registration_id")],
        "get": _operation("get_deal_registration", "一条技术合同登记", "deals",
                          {"200": _json(_ref("DealRegistration"), "登记。"), **_errors("401", "404", "422")},
                          description="交易双方机构的成员、项目经纪人和平台管理员可查看；否则 404。"),
    },
    f"{API_PREFIX}/deal-registrations/{{registration_id}}/certificate": {
        "parameters": [_id("registration_id")],
        "post": _operation(
            "add_deal_registration_certificate", "为此前未上传证明的技术合同登记补充登记证明 PDF", "deals",
            {"200": _json(_ref("DealRegistration"), "补充证明后的登记，仍待核验。"), **_errors(*_CONFLICT_AND_INPUT)},
            requestBody={"required": True, "content": {"multipart/form-data": {"schema": {
                "type": "object", "required": [CERTIFICATE_FIELD],
                "properties": {CERTIFICATE_FIELD: {
                    "type": "string", "format": "binary",
                    "description": f"登记证明 PDF，不超过 {size_text(EVIDENCE_PDF_MAX_BYTES)}。"}}}}}},
            description="平台上线核验前的登记迁移时没有登记证明，平台管理员须有证明才能核验。由成果转让方的成员或项目经纪人"
                        "上传（其他人为 403，看不到项目的为 404）；登记已处理或已有证明为 409；文件缺失、不是 PDF 或超过"
                        "大小限制为 422；非 multipart 请求为 415。相关各方会收到通知。"),
    },
    f"{API_PREFIX}/deal-registrations/{{registration_id}}/{{decision}}": _decision_route(
        "registration_id", "decide_deal_registration", "核验或驳回技术合同登记（平台管理员）", "deals",
        _json(_ref("DealRegistration"), "作出决定后的登记。"), _CONFLICT_AND_INPUT,
        "仅限平台管理员，且不能是填报人或该项目奖励的受益人（403）；没有登记证明的登记不能核验（409），"
        "可驳回。核验通过后，该项目暂缓发放的奖补"
        "（领取机构也已认证的）转为待审批；驳回时该项目尚未发放的奖补全部冲正并退回上限额度，项目回到签约"
        "阶段，理由告知相关各方。已处理的登记为 409。",
        decisions=DECISIONS,
        decisions_meaning="verify：核验通过；refuse：驳回（须写理由）。其他值为 404。"),
}


def add_registrations(document: dict) -> dict:
    """Add the registration operations and their schema to the API document."""
    document["paths"].update(PATHS)
    document["components"]["schemas"]["DealRegistration"] = REGISTRATION
    return document
