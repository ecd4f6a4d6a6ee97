"""The OpenAPI 3.1 part for saved searches, written as data and merged into the API document."""
from market.api.openapi import _json, _page, _ref, _values
from market.api.openapi_money import _PAGING, _TIMESTAMP, API_PREFIX, _body, _errors, _id, _operation
from market.declared import components_of
from market.listings.vocabulary import ListingKind, Stage, TransferMode
from market.saved_searches.inputs import SavedSearchInput
from market.saved_searches.models import MAX_SAVED_SEARCHES_PER_USER

_PROPERTIES = {
    "id": {"type": "integer"},
    "kind": {"type": "string", "enum": _values(ListingKind)},
    "q": {"type": "string", "description": "搜索词（未填为空串）。"},
    "field": {"type": "string", "description": "领域代码（未填为空串）。"},
    "valley": {"type": "string", "description": "谷区代码（未填为空串）。"},
    "stage": {"type": ["string", "null"], "enum": [*_values(Stage), None]},
    "mode": {"type": ["string", "null"], "enum": [*_values(TransferMode), None]},
    "region": {"type": "string", "description": "所在地市（未填为空串）。"},
    "min_fen": {"type": ["integer", "null"]},
    "max_fen": {"type": ["integer", "null"]},
    "description": {"type": "string", "description": "搜索条件的文字说明（调用者的语言）。"},
    "browse_url": {"type": "string", "description": "显示这一搜索结果的网页地址。"},
    "created_at": _TIMESTAMP,
}

SAVED_SEARCH = {"type": "object", "additionalProperties": False, "required": list(_PROPERTIES),
                "properties": _PROPERTIES}

_NOTICE = ("有符合的成果或需求首次发布时，在站内通知本人（邮件可在“邮件通知设置”中关闭）；同一条信息只通知一次，"
           "不通知本机构发布的信息。")

PATHS = {
    f"{API_PREFIX}/saved-searches": {
        "get": _operation("list_saved_searches", "本人保存的搜索", "saved-searches",
                          {"200": _json(_ref("SavedSearchPage"), "一页保存的搜索，最新保存的在前。"),
                           **_errors("401", "422")},
                          parameters=list(_PAGING)),
        "post": _operation(
            "save_search", "保存搜索", "saved-searches",
            {"201": _json(_ref("SavedSearch"), "新保存的搜索。", headers={
                "Location": {"description": "新对象的 API 地址。", "schema": {"type": "string"}}}),
             "200": _json(_ref("SavedSearch"), "同样的搜索已保存过：返回原来那条。"),
             **_errors("400", "401", "413", "415", "422")},
            requestBody=_body("SavedSearchInput"),
            description=f"搜索词和筛选条件至少填一项；领域和谷区须存在；每人最多保存 {MAX_SAVED_SEARCHES_PER_USER} 条"
                        f"（超过为 422 rule_violation）。{_NOTICE}"),
    },
    f"{API_PREFIX}/saved-searches/{{saved_search_id}}": {
        "parameters": [_id("saved_search_id")],
        "get": _operation("get_saved_search", "保存的搜索", "saved-searches",
                          {"200": _json(_ref("SavedSearch"), "保存的搜索。"), **_errors("401", "404", "422")},
                          description="他人保存的搜索为 404。"),
        "delete": _operation("delete_saved_search", "删除保存的搜索", "saved-searches",
                             {"204": {"description": "已删除。"}, **_errors("401", "404", "422")},
                             description="他人保存的搜索为 404。"),
    },
}


def add_saved_searches(document: dict) -> dict:
    """Add the saved-search operations to the API document."""
    document["paths"].update(PATHS)
    document["components"]["schemas"].update({"SavedSearch": SAVED_SEARCH, "SavedSearchPage": _page("SavedSearch")})
    document["components"]["schemas"].update(components_of(SavedSearchInput))
    document["tags"].append({"name": "saved-searches", "description": "保存的搜索"})
    return document
