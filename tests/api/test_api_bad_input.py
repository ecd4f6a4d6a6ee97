"""Bad request bodies on the write endpoints: the right 4xx, the standard error body, never a 500, nothing saved."""
import json

import pytest
from sqlalchemy import func, select

from market.accounts.services import create_api_token
from market.achievements.models import Achievement
from market.api.strictjson import JsonBodyError, nesting_depth, parse_json_object
from market.demands.models import Demand
from market.extensions import db
from market.listings.models import ListingEvent, SearchTerm
from market.money import MAX_FEN

ACHIEVEMENT = {
    "title": "焦炉煤气制氢工艺", "summary": "变压吸附制取高纯氢。", "field": "energy", "trl": 6, "stage": "pilot",
    "modes": ["assignment"], "price_type": "reference", "price_min_fen": 100, "price_max_fen": 200,
    "owners": [{"name": "太原理工大学", "share_bp": 10000}],
}
DEMAND = {"title": "带钢缺陷检测", "description": "在线识别表面缺陷。", "field": "equipment",
          "budget_min_fen": 100, "budget_max_fen": 200, "deadline": "2027-06-30"}
JSON = "application/json"


def body(base: dict, **changes) -> bytes:
    """The base body with some members changed (None removes nothing: use `without`)."""
    return json.dumps({**base, **changes}, ensure_ascii=False).encode()


def with_raw(base: dict, key: str, raw: str) -> bytes:
    """The base body with one member written as raw JSON text (for what json.dumps cannot write)."""
    rest = json.dumps({k: v for k, v in base.items() if k != key}, ensure_ascii=False)
    return (rest[:-1] + f', "{key}": {raw}}}').encode()


def nested(depth: int) -> bytes:
    """An achievement body whose keywords nest `depth` levels deep in total."""
    return with_raw(ACHIEVEMENT, "keywords", "[" * (depth - 1) + "]" * (depth - 1))


# (case, content type, body, status, error code, field named in "fields" or None)
ACHIEVEMENT_CASES = [
    ("plain text", "text/plain", body(ACHIEVEMENT), 415, "unsupported_media_type", None),
    ("form encoded", "application/x-www-form-urlencoded", b"title=x", 415, "unsupported_media_type", None),
    ("no content type", None, body(ACHIEVEMENT), 415, "unsupported_media_type", None),
    ("latin-1 charset", "application/json; charset=latin-1", body(ACHIEVEMENT), 415, "unsupported_media_type", None),
    ("json suffix type", "application/merge-patch+json", body(ACHIEVEMENT), 415, "unsupported_media_type", None),
    ("oversized", JSON, body(ACHIEVEMENT, description_public="氢" * 100_000), 413, "request_entity_too_large", None),
    ("invalid utf-8", JSON, b'{"title": "\xff\xfe"}', 400, "malformed_json", None),
    ("utf-16", JSON, body(ACHIEVEMENT).decode().encode("utf-16"), 400, "malformed_json", None),
    ("byte order mark", JSON, b"\xef\xbb\xbf" + body(ACHIEVEMENT), 400, "malformed_json", None),
    ("truncated", JSON, body(ACHIEVEMENT)[:-1], 400, "malformed_json", None),
    ("empty", JSON, b"", 400, "malformed_json", None),
    ("whitespace only", JSON, b"  \n", 400, "malformed_json", None),
    ("single quotes", JSON, b"{'title': 'x'}", 400, "malformed_json", None),
    ("trailing comma", JSON, body(ACHIEVEMENT)[:-1] + b",}", 400, "malformed_json", None),
    ("raw control character in a string", JSON, b'{"title": "a\x01b"}', 400, "malformed_json", None),
    ("lone high surrogate", JSON, with_raw(ACHIEVEMENT, "title", '"\\ud800"'), 422, "invalid_json", "title"),
    ("lone low surrogate", JSON, with_raw(ACHIEVEMENT, "summary", '"ok\\udfff"'), 422, "invalid_json", "summary"),
    ("lone surrogate in a nested string", JSON,
     with_raw(ACHIEVEMENT, "owners", '[{"name": "\\ud83d", "share_bp": 10000}]'), 422, "invalid_json", "owners"),
    ("lone surrogate in a key", JSON, with_raw(ACHIEVEMENT, "\\udc00", "1"), 422, "invalid_json", "\ufffd"),
    ("NaN", JSON, with_raw(ACHIEVEMENT, "price_min_fen", "NaN"), 422, "invalid_json", "price_min_fen"),
    ("Infinity", JSON, with_raw(ACHIEVEMENT, "price_max_fen", "Infinity"), 422, "invalid_json", "price_max_fen"),
    ("minus Infinity", JSON, with_raw(ACHIEVEMENT, "price_min_fen", "-Infinity"), 422, "invalid_json", "price_min_fen"),
    ("1e400", JSON, with_raw(ACHIEVEMENT, "price_max_fen", "1e400"), 422, "invalid_json", "price_max_fen"),
    ("1e-400", JSON, with_raw(ACHIEVEMENT, "price_max_fen", "1e-400"), 422, "invalid_json", "price_max_fen"),
    ("5000-digit integer", JSON, with_raw(ACHIEVEMENT, "price_max_fen", "9" * 5000), 422, "invalid_json",
     "price_max_fen"),
    ("NaN deep inside", JSON, with_raw(ACHIEVEMENT, "owners", '[{"name": "x", "share_bp": NaN}]'), 422,
     "invalid_json", "owners"),
    ("duplicate key", JSON, body(ACHIEVEMENT)[:-1] + b', "title": "again"}', 422, "invalid_json", "title"),
    ("duplicate nested key", JSON,
     with_raw(ACHIEVEMENT, "owners", '[{"name": "x", "name": "y", "share_bp": 10000}]'), 422, "invalid_json", "name"),
    ("nesting 21 deep", JSON, nested(21), 422, "invalid_json", None),
    ("nesting 100000 deep", JSON, nested(100_000), 422, "invalid_json", None),
    ("top-level array", JSON, b"[]", 422, "invalid_json", None),
    ("top-level string", JSON, b'"title"', 422, "invalid_json", None),
    ("top-level null", JSON, b"null", 422, "invalid_json", None),
    ("top-level number", JSON, b"1", 422, "invalid_json", None),
    ("unknown key", JSON, body(ACHIEVEMENT, colour="red"), 422, "validation_failed", "colour"),
    ("service-only key", JSON, body(ACHIEVEMENT, organisation_id=1), 422, "validation_failed", "organisation_id"),
    ("status smuggled in", JSON, body(ACHIEVEMENT, status="published"), 422, "validation_failed", "status"),
    ("unknown nested key", JSON, body(ACHIEVEMENT, owners=[{"name": "x", "share_bp": 10000, "extra": 1}]), 422,
     "validation_failed", "owners"),
    ("money as a string", JSON, body(ACHIEVEMENT, price_min_fen="100"), 422, "validation_failed", "price_min_fen"),
    ("money as full-width digits", JSON, body(ACHIEVEMENT, price_min_fen="１００"), 422, "validation_failed",
     "price_min_fen"),
    ("money as a fraction", JSON, with_raw(ACHIEVEMENT, "price_min_fen", "1.5"), 422, "validation_failed",
     "price_min_fen"),
    ("money as 1.0", JSON, with_raw(ACHIEVEMENT, "price_max_fen", "1.0"), 422, "validation_failed", "price_max_fen"),
    ("money as 1e3", JSON, with_raw(ACHIEVEMENT, "price_max_fen", "1e3"), 422, "validation_failed", "price_max_fen"),
    ("money as a bool", JSON, body(ACHIEVEMENT, price_min_fen=True), 422, "validation_failed", "price_min_fen"),
    ("money as a list", JSON, body(ACHIEVEMENT, price_min_fen=[100]), 422, "validation_failed", "price_min_fen"),
    ("negative money", JSON, body(ACHIEVEMENT, price_min_fen=-1), 422, "validation_failed", "price_min_fen"),
    ("money above the cap", JSON, body(ACHIEVEMENT, price_max_fen=MAX_FEN + 1), 422, "validation_failed",
     "price_max_fen"),
    ("minimum above maximum", JSON, body(ACHIEVEMENT, price_min_fen=300), 422, "validation_failed", "price_max_fen"),
    ("trl as a string", JSON, body(ACHIEVEMENT, trl="6"), 422, "validation_failed", "trl"),
    ("trl as 6.0", JSON, with_raw(ACHIEVEMENT, "trl", "6.0"), 422, "validation_failed", "trl"),
    ("trl out of range", JSON, body(ACHIEVEMENT, trl=10), 422, "validation_failed", "trl"),
    ("stage does not fit the trl", JSON, body(ACHIEVEMENT, stage="lab"), 422, "validation_failed", "stage"),
    ("share as a string", JSON, body(ACHIEVEMENT, owners=[{"name": "x", "share_bp": "10000"}]), 422,
     "validation_failed", "owners"),
    ("shares not adding up", JSON, body(ACHIEVEMENT, owners=[{"name": "x", "share_bp": 5000}]), 422,
     "validation_failed", "owners"),
    ("submit as a string", JSON, body(ACHIEVEMENT, submit="yes"), 422, "validation_failed", "submit"),
    ("submit as 1", JSON, body(ACHIEVEMENT, submit=1), 422, "validation_failed", "submit"),
    ("keywords as one string", JSON, body(ACHIEVEMENT, keywords="氢,碳"), 422, "validation_failed", "keywords"),
    ("keywords holding a number", JSON, body(ACHIEVEMENT, keywords=["氢", 2]), 422, "validation_failed", "keywords"),
    ("modes as one string", JSON, body(ACHIEVEMENT, modes="assignment"), 422, "validation_failed", "modes"),
    ("unknown mode", JSON, body(ACHIEVEMENT, modes=["gift"]), 422, "validation_failed", "modes"),
    ("empty modes", JSON, body(ACHIEVEMENT, modes=[]), 422, "validation_failed", "modes"),
    ("unknown field code", JSON, body(ACHIEVEMENT, field="astrology"), 422, "validation_failed", "field"),
    ("field as an object", JSON, body(ACHIEVEMENT, field={"code": "energy"}), 422, "validation_failed", "field"),
    ("title missing", JSON, body({k: v for k, v in ACHIEVEMENT.items() if k != "title"}), 422, "validation_failed",
     "title"),
    ("title blank", JSON, body(ACHIEVEMENT, title="   "), 422, "validation_failed", "title"),
    ("title with a NUL", JSON, body(ACHIEVEMENT, title="a\u0000b"), 422, "invalid_json", "title"),
    ("field code with a NUL", JSON, body(ACHIEVEMENT, field="ab\u0000c"), 422, "invalid_json", "field"),
    ("owner name with a NUL", JSON, body(ACHIEVEMENT, owners=[{"name": "x\u0000", "share_bp": 10000}]), 422,
     "invalid_json", "owners"),
    ("NUL in a key", JSON, with_raw(ACHIEVEMENT, "ti\\u0000tle", '"x"'), 422, "invalid_json", "ti\ufffdtle"),
    ("title of zero-width characters", JSON, body(ACHIEVEMENT, title="\u200b\u200c\u200d\u2060\ufeff"), 422,
     "validation_failed", "title"),
    ("title with a right-to-left override", JSON, body(ACHIEVEMENT, title="报告\u202efdp.exe"), 422,
     "validation_failed", "title"),
    ("title with a noncharacter", JSON, body(ACHIEVEMENT, title="标题\uffff"), 422, "validation_failed", "title"),
    ("owner name of zero-width characters", JSON, body(ACHIEVEMENT, owners=[{"name": "\u200b", "share_bp": 10000}]),
     422, "validation_failed", "owners"),
    ("title on two lines", JSON, body(ACHIEVEMENT, title="a\nb"), 422, "validation_failed", "title"),
    ("title too long", JSON, body(ACHIEVEMENT, title="氢" * 201), 422, "validation_failed", "title"),
    ("title as null", JSON, body(ACHIEVEMENT, title=None), 422, "validation_failed", "title"),
    ("ip kind unknown", JSON, body(ACHIEVEMENT, ip_items=[{"number": "1", "kind": "trade_secret"}]), 422,
     "validation_failed", "ip_items"),
    ("empty object", JSON, b"{}", 422, "validation_failed", "title"),
]

DEMAND_CASES = [
    ("plain text", "text/plain", body(DEMAND), 415, "unsupported_media_type", None),
    ("budget as a string", JSON, body(DEMAND, budget_min_fen="100"), 422, "validation_failed", "budget_min_fen"),
    ("budget as 1.0", JSON, with_raw(DEMAND, "budget_max_fen", "1.0"), 422, "validation_failed", "budget_max_fen"),
    ("budget as a bool", JSON, body(DEMAND, budget_max_fen=False), 422, "validation_failed", "budget_max_fen"),
    ("budget NaN", JSON, with_raw(DEMAND, "budget_max_fen", "NaN"), 422, "invalid_json", "budget_max_fen"),
    ("budget 1e400", JSON, with_raw(DEMAND, "budget_max_fen", "1e400"), 422, "invalid_json", "budget_max_fen"),
    ("budget minimum above maximum", JSON, body(DEMAND, budget_min_fen=201), 422, "validation_failed",
     "budget_max_fen"),
    ("deadline not a date", JSON, body(DEMAND, deadline="2027-13-01"), 422, "validation_failed", "deadline"),
    ("deadline as a number", JSON, body(DEMAND, deadline=20270630), 422, "validation_failed", "deadline"),
    ("deadline far away", JSON, body(DEMAND, deadline="2999-01-01"), 422, "validation_failed", "deadline"),
    ("trl as a bool", JSON, body(DEMAND, wanted_trl_min=True), 422, "validation_failed", "wanted_trl_min"),
    ("stage is not a demand key", JSON, body(DEMAND, stage="pilot"), 422, "validation_failed", "stage"),
    ("duplicate key", JSON, body(DEMAND)[:-1] + b', "field": "energy"}', 422, "invalid_json", "field"),
    ("lone surrogate", JSON, with_raw(DEMAND, "description", '"\\udbff"'), 422, "invalid_json", "description"),
    ("top-level array", JSON, b"[1]", 422, "invalid_json", None),
]


@pytest.fixture
def token_headers(make_user):
    """Authorization headers of an approved enterprise user (who may list both kinds)."""
    return {"Authorization": "Bearer " + create_api_token(db.session, make_user("enterprise"), "test")}


def saved_rows() -> tuple[int, ...]:
    """Row counts of every table a listing write touches."""
    return tuple(db.session.scalar(select(func.count()).select_from(model))
                 for model in (Achievement, Demand, ListingEvent, SearchTerm))


def check_refused(client, headers, path, content_type, data, status, code, field):
    """Send the body and assert the error answer and that nothing was saved."""
    before = saved_rows()
    if content_type:
        headers = {**headers, "Content-Type": content_type}
    response = client.post(path, data=data, headers=headers)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    error = response.get_json()
    assert set(error) == {"error", "message", "fields"}
    assert error["error"] == code
    assert isinstance(error["message"], str) and error["message"]
    if field is not None:
        assert field in error["fields"], error["fields"]
    assert saved_rows() == before


@pytest.mark.parametrize("case, content_type, data, status, code, field", ACHIEVEMENT_CASES,
                         ids=[case[0] for case in ACHIEVEMENT_CASES])
def test_bad_achievement_body_is_refused_and_nothing_is_saved(client, token_headers, case, content_type, data,
                                                              status, code, field):
    check_refused(client, token_headers, "/api/v1/achievements", content_type, data, status, code, field)


@pytest.mark.parametrize("case, content_type, data, status, code, field", DEMAND_CASES,
                         ids=[case[0] for case in DEMAND_CASES])
def test_bad_demand_body_is_refused_and_nothing_is_saved(client, token_headers, case, content_type, data,
                                                         status, code, field):
    check_refused(client, token_headers, "/api/v1/demands", content_type, data, status, code, field)


def test_the_valid_bodies_of_the_tables_are_accepted(client, token_headers):
    for path, data in (("/api/v1/achievements", ACHIEVEMENT), ("/api/v1/demands", DEMAND)):
        response = client.post(path, data=body(data), content_type="application/json; charset=UTF-8",
                               headers=token_headers)
        assert response.status_code == 201, response.get_json()


def test_a_surrogate_pair_is_a_valid_character(client, token_headers):
    response = client.post("/api/v1/demands", data=with_raw(DEMAND, "title", '"\\ud83d\\ude00 检测"'),
                           content_type=JSON, headers=token_headers)
    assert response.status_code == 201
    assert response.get_json()["title"] == "😀 检测"


def test_nesting_of_twenty_levels_is_still_accepted_by_the_parser():
    assert nesting_depth(nested(20).decode()) == 20
    assert parse_json_object(nested(20))["keywords"]


@pytest.mark.parametrize("app", [{"API_MAX_BODY_BYTES": 2000}], indirect=True)
def test_body_limit_is_the_configured_size_to_the_byte(client, token_headers):
    padding = 2000 - len(body(ACHIEVEMENT, description_public=""))
    at_limit = body(ACHIEVEMENT, description_public="x" * padding)
    assert len(at_limit) == 2000
    assert client.post("/api/v1/achievements", data=at_limit, content_type=JSON,
                       headers=token_headers).status_code == 201
    over = body(ACHIEVEMENT, description_public="x" * (padding + 1))
    before = saved_rows()
    response = client.post("/api/v1/achievements", data=over, content_type=JSON, headers=token_headers)
    assert response.status_code == 413
    assert saved_rows() == before


@pytest.mark.parametrize("text, depth", [
    ("{}", 1),
    ('{"a": [1, {"b": []}]}', 4),
    ('{"a": "[[[[{{{{"}', 1),
    ('{"a": "\\"[[["}', 1),
    ('"no brackets"', 0),
])
def test_nesting_depth_ignores_brackets_inside_strings(text, depth):
    assert nesting_depth(text) == depth


def test_parser_keeps_decimals_exact_instead_of_using_float():
    from decimal import Decimal

    parsed = parse_json_object(b'{"a": 0.1, "b": 12345678901234567890}')
    assert parsed == {"a": Decimal("0.1"), "b": 12345678901234567890}


def test_parser_names_every_refused_member():
    with pytest.raises(JsonBodyError) as raised:
        parse_json_object(b'{"a": NaN, "b": "\\ud800", "c": 1, "d": [1e999]}')
    assert raised.value.status == 422
    assert set(raised.value.fields) == {"a", "b", "d"}
