"""The OpenAPI 3.1 document of API v1: the listing request bodies are derived from the declared inputs, the rest is
written as data; the API checks request bodies against these schemas."""
from market.achievements.services import ACHIEVEMENTS
from market.api.requests import listing_request
from market.declared import components_of
from market.demands.services import DEMANDS
from market.inputs import MAX_PAGE
from market.listings.models import REGION_MAX_LENGTH
from market.listings.queries import MAX_PER_PAGE, SEARCH_TEXT_MAX_LENGTH, SORTS
from market.listings.vocabulary import (
    IpKind,
    ListingStatus,
    PriceType,
    ReturnReason,
    Stage,
    TransferMode,
)
from market.matching.models import FeedbackReason, Verdict
from market.matching.services import MAX_TOP as MAX_MATCHES
from market.matching.weights import FACTORS
from market.money import MAX_FEN
from market.taxonomy.models import FIELD_CODE_MAX_LENGTH, VALLEY_ID_MAX_LENGTH

API_PREFIX = "/api/v1"
MAX_LISTING_ID = 2**31 - 1
"""Largest id a path accepts: ids are 32-bit integers in PostgreSQL."""


def _values(enum_class) -> list[str]:
    return [member.value for member in enum_class]


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


_CODED = {
    "type": "object", "additionalProperties": False, "required": ["code", "label"],
    "properties": {"code": {"type": "string"}, "label": {"type": "string"}},
}


def _coded(enum_class, *, nullable: bool = False) -> dict:
    schema = {**_CODED, "properties": {**_CODED["properties"], "code": {"type": "string", "enum": _values(enum_class)}}}
    return {"oneOf": [schema, {"type": "null"}]} if nullable else schema


_NAMED = {"type": "object", "additionalProperties": False, "required": ["code", "name"],
          "properties": {"code": {"type": "string"}, "name": {"type": "string"}}}
_TIMESTAMP = {"type": ["string", "null"], "format": "date-time"}
_FEN_OUT = {"type": ["integer", "null"], "minimum": 0, "maximum": MAX_FEN}

_LISTING_COMMON = {
    "id": {"type": "integer"},
    "title": {"type": "string"},
    "title_en": {"type": "string", "description": "英文名称（选填，空字符串表示未填写）。"},
    "summary_en": {"type": "string", "description": "英文简介（选填，空字符串表示未填写）。"},
    "keywords": {"type": "array", "items": {"type": "string"}},
    "field": {"oneOf": [{**_NAMED, "required": ["code", "name", "path"],
                         "properties": {**_NAMED["properties"], "path": {"type": "array", "items": _NAMED}}},
                        {"type": "null"}]},
    "modes": {"type": "array", "items": _coded(TransferMode)},
    "organisation": {"type": "object", "additionalProperties": False, "required": ["id", "name"],
                     "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
    "valley": {"oneOf": [{"type": "object", "additionalProperties": False, "required": ["id", "name"],
                          "properties": {"id": {"type": "string"}, "name": {"type": "string"}}},
                         {"type": "null"}]},
    "region": {"type": "string"},
    "status": _coded(ListingStatus),
    "created_at": _TIMESTAMP,
    "updated_at": _TIMESTAMP,
    "published_at": _TIMESTAMP,
    "expires_at": _TIMESTAMP,
    "urls": {"type": "object", "additionalProperties": False, "required": ["api", "page"],
             "properties": {"api": {"type": "string"}, "page": {"type": "string"}}},
    "review": {"type": "object", "additionalProperties": False, "required": ["return_reason", "return_comment"],
               "description": "退回原因和说明：仅本机构和平台管理员可见。",
               "properties": {"return_reason": _coded(ReturnReason, nullable=True),
                              "return_comment": {"type": "string"}}},
}
_LISTING_REQUIRED = [name for name in _LISTING_COMMON if name != "review"] + ["kind"]

ACHIEVEMENT_OUTPUT = {
    "type": "object",
    "additionalProperties": False,
    "required": _LISTING_REQUIRED + ["summary", "description_public", "has_confidential", "trl", "stage", "ip_items",
                                     "price_type", "price_min_fen", "price_max_fen", "owners", "inventors",
                                     "benefits", "scenarios"],
    "properties": {
        **_LISTING_COMMON,
        "kind": {"const": "achievement"},
        "summary": {"type": "string"},
        "description_public": {"type": "string"},
        "description_confidential": {"type": "string", "description": "仅本机构和平台管理员可见。"},
        "has_confidential": {"type": "boolean", "description": "是否填写了保密信息。"},
        "trl": {"type": "integer", "minimum": 1, "maximum": 9},
        "stage": _coded(Stage),
        "ip_items": {"type": "array", "items": {"type": "object", "additionalProperties": False,
                                                "required": ["number", "kind"],
                                                "properties": {"number": {"type": "string"}, "kind": _coded(IpKind)}}},
        "price_type": _coded(PriceType),
        "price_min_fen": _FEN_OUT,
        "price_max_fen": _FEN_OUT,
        "owners": {"type": "array", "items": {"type": "object", "additionalProperties": False,
                                              "required": ["name", "share_bp"],
                                              "properties": {"name": {"type": "string"},
                                                             "share_bp": {"type": "integer"}}}},
        "inventors": {"type": "array", "items": {"type": "string"}},
        "benefits": {"type": "string"},
        "scenarios": {"type": "string"},
    },
}

DEMAND_OUTPUT = {
    "type": "object",
    "additionalProperties": False,
    "required": _LISTING_REQUIRED + ["description", "budget_min_fen", "budget_max_fen", "wanted_trl_min", "deadline"],
    "properties": {
        **_LISTING_COMMON,
        "kind": {"const": "demand"},
        "description": {"type": "string"},
        "budget_min_fen": _FEN_OUT,
        "budget_max_fen": _FEN_OUT,
        "wanted_trl_min": {"type": ["integer", "null"]},
        "deadline": {"type": ["string", "null"], "format": "date"},
    },
}

DEFAULT_MATCHES = 10
"""Matches returned when `top` is not given."""

LISTING_LINK = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "kind", "title", "organisation", "field", "urls"],
    "properties": {
        "id": {"type": "integer"},
        "kind": {"type": "string", "enum": ["achievement", "demand"]},
        "title": {"type": "string"},
        "organisation": _LISTING_COMMON["organisation"],
        "field": _LISTING_COMMON["field"],
        "urls": _LISTING_COMMON["urls"],
    },
}

_SNIPPET = {"type": "object", "additionalProperties": False, "required": ["text", "terms"],
            "properties": {"text": {"type": "string", "description": "围绕共同词语截取的原文片段。"},
                           "terms": {"type": "array", "items": {"type": "string"},
                                     "description": "片段中出现的共同词语（按原文写法，可用于高亮）。"}}}

MATCH = {
    "type": "object",
    "additionalProperties": False,
    "required": ["score", "listing", "explanation", "feedback", "dismissed"],
    "properties": {
        "score": {"type": "number", "minimum": 0, "maximum": 100, "description": "匹配度（0–100 分）。"},
        "listing": _ref("ListingLink"),
        "explanation": {
            "type": "object",
            "additionalProperties": False,
            "required": ["shared_terms", "field_path", "field_inferred", "structured_counted", "factors", "snippets"],
            "properties": {
                "shared_terms": {"type": "array", "items": {"type": "string"}, "description": "两者共同的词语。"},
                "field_path": {"type": "array", "items": {"type": "string"},
                               "description": "领域树中从本信息的领域到对方领域的路径（名称）；不相关时为空。"},
                "field_inferred": {"type": "boolean", "description": "本信息未选领域时按相近内容推断。"},
                "structured_counted": {"type": "boolean",
                                       "description": "成熟度、预算、合作方式和地域是否计分（两者主题相距较远时不计分）。"},
                "factors": {
                    "type": "array",
                    "description": "各因素的得分；points 之和即 score，一方未填写的因素 similarity 为 null、不计分。",
                    "items": {
                        "type": "object", "additionalProperties": False,
                        "required": ["factor", "label", "points", "max_points", "similarity"],
                        "properties": {
                            "factor": {"type": "string", "enum": list(FACTORS)},
                            "label": {"type": "string"},
                            "points": {"type": "number", "minimum": 0, "maximum": 100},
                            "max_points": {"type": "number", "minimum": 0, "maximum": 100},
                            "similarity": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
                        },
                    },
                },
                "snippets": {"type": "object", "additionalProperties": False, "required": ["query", "match"],
                             "properties": {"query": _SNIPPET, "match": _SNIPPET}},
            },
        },
        "feedback": {
            "oneOf": [{
                "type": "object", "additionalProperties": False,
                "required": ["verdict", "reason", "comment", "updated_at"],
                "properties": {
                    "verdict": {**_CODED, "properties": {**_CODED["properties"],
                                                         "code": {"type": "string", "enum": _values(Verdict)}}},
                    "reason": {**_CODED, "properties": {**_CODED["properties"],
                                                        "code": {"type": "string", "enum": _values(FeedbackReason)}}},
                    "comment": {"type": "string"},
                    "updated_at": _TIMESTAMP,
                },
            }, {"type": "null"}],
            "description": "调用者本人对这条匹配的反馈。",
        },
        "dismissed": {"type": "boolean", "description": "调用者所在机构有人标为“不相关”（排在最后）。"},
    },
}

MATCH_LIST = {
    "type": "object",
    "additionalProperties": False,
    "required": ["listing", "items"],
    "properties": {
        "listing": _ref("ListingLink"),
        "items": {"type": "array", "maxItems": MAX_MATCHES, "items": _ref("Match")},
    },
}

ERROR = {
    "type": "object",
    "additionalProperties": False,
    "required": ["error", "message", "fields"],
    "properties": {
        "error": {"type": "string", "description": "机器可读的错误代码，如 validation_failed、invalid_json、not_found。"},
        "message": {"type": "string", "description": "给用户看的说明（默认中文）。"},
        "fields": {"type": "object", "additionalProperties": {"type": "string"},
                   "description": "按字段或查询参数给出的说明。"},
    },
}


def _page(item: str) -> dict:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["items", "total", "page", "per_page", "pages"],
        "properties": {
            "items": {"type": "array", "items": _ref(item)},
            "total": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
            "pages": {"type": "integer", "minimum": 1},
        },
    }


def _search_page(item: str) -> dict:
    """A page of search results: a page, and the corrected query when the search used one."""
    page = _page(item)
    page["required"] = page["required"] + ["suggestion"]
    page["properties"] = {**page["properties"], "suggestion": {
        "type": ["string", "null"], "description": "查询疑似有错别字时改正后的查询（“您是不是要找”）；结果按它检索。"}}
    return page


def _query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def search_parameters(*, with_stage: bool) -> list[dict]:
    """The query parameters of a list endpoint; the API refuses any other."""
    parameters = [
        _query("q", {"type": "string", "maxLength": SEARCH_TEXT_MAX_LENGTH}, "全文检索词（中文分词）。"),
        _query("field", {"type": "string", "maxLength": FIELD_CODE_MAX_LENGTH}, "领域代码；包含其下级领域。"),
        _query("valley", {"type": "string", "maxLength": VALLEY_ID_MAX_LENGTH}, "谷区代码。"),
    ]
    if with_stage:
        parameters.append(_query("stage", {"type": "string", "enum": _values(Stage)}, "成熟度阶段。"))
    parameters += [
        _query("mode", {"type": "string", "enum": _values(TransferMode)}, "转化方式。"),
        _query("region", {"type": "string", "maxLength": REGION_MAX_LENGTH}, "所在地市。"),
        _query("min_fen", {"type": "integer", "minimum": 0, "maximum": MAX_FEN}, "金额下限（分）：价格或预算上限不低于此值。"),
        _query("max_fen", {"type": "integer", "minimum": 0, "maximum": MAX_FEN}, "金额上限（分）：价格或预算下限不高于此值。"),
        _query("sort", {"type": "string", "enum": list(SORTS), "default": "relevance"}, "排序。"),
        _query("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}, "页码。"),
        _query("per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 20}, "每页条数。"),
    ]
    return parameters


def _error_response(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


def _json(schema: dict, description: str, **extra) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}, **extra}


def _errors(*statuses: str) -> dict:
    return {status: {"$ref": f"#/components/responses/{ERROR_RESPONSES[status][0]}"} for status in statuses}


ERROR_RESPONSES = {
    "400": ("MalformedJson", "请求体不是有效的 UTF-8 JSON（malformed_json）。"),
    "401": ("Unauthorized", "缺少或无效的 API 令牌（unauthorized）；响应带 WWW-Authenticate: Bearer。"),
    "403": ("Forbidden", "当前角色或机构审核状态不允许此操作（forbidden）。"),
    "404": ("NotFound", "不存在，或无权查看（not_found）。"),
    "413": ("PayloadTooLarge", "请求体超过上限（request_entity_too_large）。"),
    "415": ("UnsupportedMediaType", "Content-Type 不是 application/json（unsupported_media_type）。"),
    "422": ("Unprocessable", ("JSON 不可接受（invalid_json：NaN、超大数值、重复键、孤立代理项、嵌套过深、顶层不是对象），"
                             "或内容未通过校验（validation_failed：未知字段、类型或取值错误），fields 按字段说明。")),
}

_ID_PARAMETER = {"in": "path", "required": True, "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LISTING_ID}}
_OPTIONAL_TOKEN = [{}, {"bearerAuth": []}]
_TOKEN = [{"bearerAuth": []}]


def _collection(noun: str, schema: str, input_schema: str, *, with_stage: bool, title: str) -> dict:
    return {
        "get": {
            "operationId": f"list_{noun}",
            "summary": f"检索已发布的{title}",
            "tags": [noun],
            "parameters": search_parameters(with_stage=with_stage),
            "responses": {"200": _json(_ref(f"{schema}Page"), f"一页{title}。"), **_errors("422")},
        },
        "post": {
            "operationId": f"create_{noun[:-1]}",
            "summary": f"发布{title}（草稿或直接提交审核）",
            "tags": [noun],
            "security": _TOKEN,
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref(input_schema)}}},
            "responses": {
                "201": _json(_ref(schema), f"已创建的{title}（含保密部分）。",
                             headers={"Location": {"description": "新对象的 API 地址。", "schema": {"type": "string"}}}),
                **_errors("400", "401", "403", "413", "415", "422"),
            },
        },
    }


def _item(noun: str, id_name: str, schema: str, input_schema: str, *, title: str) -> dict:
    return {
        "parameters": [{"name": id_name, **_ID_PARAMETER}],
        "get": {
            "operationId": f"get_{noun[:-1]}",
            "summary": f"{title}详情",
            "description": "访客只能看到已发布的信息；本机构成员和平台管理员（带令牌）还能看到未发布的信息和保密部分。",
            "tags": [noun],
            "security": _OPTIONAL_TOKEN,
            "responses": {"200": _json(_ref(schema), f"{title}。"), **_errors("401", "404")},
        },
        "put": {
            "operationId": f"update_{noun[:-1]}",
            "summary": f"修改{title}（整体替换；已发布的修改后重新送审）",
            "tags": [noun],
            "security": _TOKEN,
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref(input_schema)}}},
            "responses": {"200": _json(_ref(schema), f"修改后的{title}。"),
                          **_errors("400", "401", "404", "413", "415", "422")},
        },
    }


def _matches(noun: str, id_name: str, *, title: str, other_title: str) -> dict:
    return {
        "parameters": [{"name": id_name, **_ID_PARAMETER}],
        "get": {
            "operationId": f"list_{noun[:-1]}_matches",
            "summary": f"与{title}匹配的{other_title}（含匹配说明）",
            "description": f"按匹配度排序的已发布{other_title}。需要令牌（否则 401）；对方机构未发布的{title}为 404；"
                           f"能看到但无权查看匹配（其他机构的科研人员或企业用户）为 403。"
                           "本机构成员和平台管理员可查看任何状态的本机构信息的匹配，技术经纪人可查看已发布信息的匹配。",
            "tags": [noun],
            "security": _TOKEN,
            "parameters": [_query("top", {"type": "integer", "minimum": 1, "maximum": MAX_MATCHES,
                                          "default": DEFAULT_MATCHES}, f"返回条数（1–{MAX_MATCHES}）。")],
            "responses": {"200": _json(_ref("MatchList"), f"匹配的{other_title}，最佳在前。"),
                          **_errors("401", "403", "404", "422")},
        },
    }


def listing_input_components() -> dict[str, dict]:
    """AchievementInput, DemandInput and what they refer to, generated from the declared inputs."""
    return components_of(listing_request(ACHIEVEMENTS), listing_request(DEMANDS))


def openapi_document() -> dict:
    """The whole OpenAPI 3.1 document of API v1: listings and matches here, deals and money in openapi_money."""
    from market.api.openapi_introductions import add_introductions
    from market.api.openapi_money import add_deals_and_money
    from market.api.openapi_preorders import add_preorder_agreements
    from market.api.openapi_registrations import add_registrations
    from market.api.openapi_saved_searches import add_saved_searches
    from market.api.openapi_signing import add_signing_and_fee

    return add_saved_searches(add_preorder_agreements(add_introductions(add_registrations(add_signing_and_fee(
        add_deals_and_money(_listings_document()))))))


def _listings_document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "晋创谷成果转化平台 API",
            "version": "1",
            "description": "科技成果与技术需求的检索、查看和发布。金额一律为整数“分”，比例为基点；"
                           "请求体为严格 JSON；所有错误返回 {error, message, fields}。",
        },
        "servers": [{"url": "/"}],
        "tags": [{"name": "achievements", "description": "科技成果"}, {"name": "demands", "description": "技术需求"},
                 {"name": "meta", "description": "接口说明"}],
        "paths": {
            f"{API_PREFIX}/achievements": _collection("achievements", "Achievement", "AchievementInput",
                                                      with_stage=True, title="科技成果"),
            f"{API_PREFIX}/achievements/{{achievement_id}}": _item("achievements", "achievement_id", "Achievement",
                                                                   "AchievementInput", title="科技成果"),
            f"{API_PREFIX}/achievements/{{achievement_id}}/matches": _matches("achievements", "achievement_id",
                                                                           title="科技成果", other_title="技术需求"),
            f"{API_PREFIX}/demands": _collection("demands", "Demand", "DemandInput", with_stage=False, title="技术需求"),
            f"{API_PREFIX}/demands/{{demand_id}}": _item("demands", "demand_id", "Demand", "DemandInput",
                                                         title="技术需求"),
            f"{API_PREFIX}/demands/{{demand_id}}/matches": _matches("demands", "demand_id", title="技术需求",
                                                                    other_title="科技成果"),
            f"{API_PREFIX}/openapi.json": {
                "get": {
                    "operationId": "get_openapi_document",
                    "summary": "本文档（OpenAPI 3.1）",
                    "tags": ["meta"],
                    "responses": {"200": _json({"type": "object"}, "OpenAPI 文档。")},
                },
            },
        },
        "components": {
            "schemas": {
                **listing_input_components(),
                "Achievement": ACHIEVEMENT_OUTPUT,
                "Demand": DEMAND_OUTPUT,
                "AchievementPage": _search_page("Achievement"),
                "DemandPage": _search_page("Demand"),
                "ListingLink": LISTING_LINK,
                "Match": MATCH,
                "MatchList": MATCH_LIST,
                "Error": ERROR,
            },
            "responses": {name: _error_response(description) for name, description in ERROR_RESPONSES.values()},
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer",
                               "description": "个人 API 令牌（在“账户设置”中创建）。Cookie 登录不能用于 API。"},
            },
        },
    }
