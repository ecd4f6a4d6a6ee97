"""The OpenAPI 3.1 part for introductions (引荐), written as data and merged into the API document."""
from market.api.openapi import _json, _page, _query, _ref, _values
from market.api.openapi_money import (
    _PAGING,
    _TIMESTAMP,
    API_PREFIX,
    DECLINE,
    _body,
    _coded,
    _decision_route,
    _errors,
    _id,
    _nullable,
    _operation,
)
from market.deals.inputs import IntroductionAcceptInput, IntroductionInput
from market.deals.models import IntroductionStatus
from market.deals.permissions import PARTY_SIDES, IntroductionActions
from market.declared import components_of

_LINK = {"type": "object", "additionalProperties": False, "required": ["id", "title"],
         "properties": {"id": {"type": "integer"}, "title": {"type": "string"}}}

_SIDE = {"type": "object", "additionalProperties": False, "required": ["organisation", "accepted_by", "accepted_at"],
         "properties": {"organisation": _ref("Party"), "accepted_by": _nullable(_ref("Party")),
                        "accepted_at": _TIMESTAMP}}

_SIDES = {"type": "array", "items": {"type": "string", "enum": list(PARTY_SIDES)}}

_PROPERTIES = {
    "id": {"type": "integer"},
    "status": _coded(_values(IntroductionStatus)),
    "broker": _ref("Party"),
    "achievement": _LINK,
    "demand": _nullable(_LINK),
    "note": {"type": "string"},
    "transferor": {**_SIDE, "description": "成果方（成果所属机构）及其答复。"},
    "transferee": {**_SIDE, "description": "需求方（需求所属机构或被引荐的企业）及其答复。"},
    "awaiting": {**_SIDES, "description": "仍需答复的一方。"},
    "declined_side": {"type": ["string", "null"], "enum": [*PARTY_SIDES, None]},
    "decline": DECLINE,
    "deal_id": {"type": ["integer", "null"], "description": "双方接受后创建的项目。"},
    "your_sides": {**_SIDES, "description": "调用者所在的一方。"},
    "may": {"type": "object", "additionalProperties": False,
            "required": list(IntroductionActions.__dataclass_fields__),
            "properties": {name: {"type": "boolean"} for name in IntroductionActions.__dataclass_fields__},
            "description": "调用者现在可以做的操作。"},
    "created_at": _TIMESTAMP,
    "updated_at": _TIMESTAMP,
}

INTRODUCTION = {"type": "object", "additionalProperties": False, "required": list(_PROPERTIES),
                "properties": _PROPERTIES}

RESPONSES = {
    "IntroductionConflict": "当前状态不允许此操作（invalid_state），如引荐已结束、本方已答复、该成果与对方已有待确认的引荐。",
    "IntroductionUnprocessable": "JSON 不可接受（invalid_json）、内容未通过校验（validation_failed），或规则不允许"
                                 "（rule_violation：对方 30 天内拒绝过您的同一引荐，或待确认的引荐已达上限）。",
}

_WRITE_ERRORS = ("400", "401", "403", "404", "409:IntroductionConflict", "413", "415", "422:IntroductionUnprocessable")


def _action(operation_id: str, summary: str, body: str | None, description: str) -> dict:
    return _decision_route("introduction_id", operation_id, summary, "introductions",
                           _json(_ref("Introduction"), "引荐。"), _WRITE_ERRORS, description, body=body or "EmptyInput")


PATHS = {
    f"{API_PREFIX}/introductions": {
        "get": _operation(
            "list_introductions", "可查看的引荐", "introductions",
            {"200": _json(_ref("IntroductionPage"), "一页引荐，最近更新的在前。"), **_errors("401", "422")},
            parameters=[_query("box", {"type": "string", "enum": ["mine", "awaiting", "all"], "default": "all"},
                               "mine：本人发起的；awaiting：待本机构答复的；all：全部可查看的。"), *_PAGING],
            description="引荐人、成果方和需求方机构的成员可查看；平台管理员可查看全部。"),
        "post": _operation(
            "propose_introduction", "技术经理人发起引荐", "introductions",
            {"201": _json(_ref("Introduction"), "新引荐。", headers={
                "Location": {"description": "新对象的 API 地址。", "schema": {"type": "string"}}}),
             **_errors(*_WRITE_ERRORS)},
            requestBody=_body("IntroductionInput"),
            description="仅限已审核的技术经理人：把已发布的成果引荐给已发布的技术需求（demand_id）或已审核的企业"
                        "（organisation_id），二者选一；不能引荐本机构的成果或需求；同一成果与同一机构只能有一项待确认的"
                        "引荐；对方拒绝后 30 天内不能再次引荐；待确认的引荐有上限。双方机构的成员会收到通知。"),
    },
    f"{API_PREFIX}/introductions/{{introduction_id}}": {
        "parameters": [_id("introduction_id")],
        "get": _operation("get_introduction", "引荐详情", "introductions",
                          {"200": _json(_ref("Introduction"), "引荐。"), **_errors("401", "404", "422")},
                          description="无权查看的引荐为 404。"),
    },
    f"{API_PREFIX}/introductions/{{introduction_id}}/accept": _action(
        "accept_introduction", "接受引荐", "IntroductionAcceptInput",
        "成果方或需求方机构的成员为本方接受（引荐人不能代答）；双方都接受后创建成果转化项目（意向阶段），"
        "引荐人为项目经纪人，deal_id 为新项目。成果已整体转让时，成果方须以 confirm_relicense: true 确认本机构仍有权"
        "再次许可（记入成果的历史），否则为 409；成果方在转让之前已接受的，需求方接受时成果方的接受被撤销，须重新接受"
        "并确认。"),
    f"{API_PREFIX}/introductions/{{introduction_id}}/decline": _action(
        "decline_introduction", "拒绝引荐（须选择原因）", "DeclineInput",
        "尚未答复的一方的成员拒绝，须选择原因（other 时须填写说明）；引荐结束，原因告知引荐人和另一方。"),
    f"{API_PREFIX}/introductions/{{introduction_id}}/withdraw": _action(
        "withdraw_introduction", "撤回引荐", None, "仅限引荐人，双方都接受之前。"),
}


def add_introductions(document: dict) -> dict:
    """Add the introduction operations to the API document."""
    document["paths"].update(PATHS)
    document["components"]["schemas"].update({"Introduction": INTRODUCTION, "IntroductionPage": _page("Introduction")})
    document["components"]["schemas"].update(components_of(IntroductionInput, IntroductionAcceptInput))
    document["components"]["responses"].update(
        {name: {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}
         for name, description in RESPONSES.items()})
    document["tags"].append({"name": "introductions", "description": "技术经理人引荐"})
    return document
