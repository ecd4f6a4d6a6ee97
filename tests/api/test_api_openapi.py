"""The OpenAPI document: it covers every API route, is valid OpenAPI 3.1, and matches what the API and services do."""
import json
import re

import jsonschema
import pytest
from openapi_spec_validator import validate

from market.accounts.services import create_api_token
from market.achievements.services import clean_achievement
from market.api.openapi import openapi_document
from market.demands.services import clean_demand
from market.errors import ValidationError
from market.extensions import db
from market.money import MAX_FEN
from tests.api_requests import schema_validator

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}
VALID_INPUT = {
    "AchievementInput": {"title": "标题", "summary": "简介", "field": "energy", "trl": 6, "stage": "pilot",
                         "modes": ["assignment"], "price_type": "negotiable"},
    "DemandInput": {"title": "标题", "description": "描述", "field": "energy"},
}
CLEAN = {"AchievementInput": clean_achievement, "DemandInput": clean_demand}


def documented_path(rule: str) -> str:
    """A Werkzeug rule written the OpenAPI way: <int(max=9):demand_id> becomes {demand_id}."""
    return re.sub(r"<(?:[^<>]*:)?([^<>:]+)>", r"{\1}", rule)


def test_every_api_route_and_method_is_documented(app):
    paths = openapi_document()["paths"]
    routes = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1")]
    assert routes, "the API blueprint registered no routes"
    for rule in routes:
        path = documented_path(rule.rule)
        assert path in paths, f"{rule.rule} is missing from the OpenAPI document"
        for method in rule.methods & METHODS:
            operation = paths[path].get(method.lower())
            assert operation is not None, f"{method} {rule.rule} is missing from the OpenAPI document"
            assert operation["responses"], f"{method} {rule.rule} documents no responses"


def test_every_documented_operation_exists_as_a_route(app):
    routes = {}
    for rule in app.url_map.iter_rules():
        routes.setdefault(documented_path(rule.rule), set()).update(method.lower() for method in rule.methods)
    for path, item in openapi_document()["paths"].items():
        for method in set(item) & {method.lower() for method in METHODS}:
            assert method in routes.get(path, set()), f"{method.upper()} {path} is documented but not routed"


def test_document_is_valid_openapi_3_1():
    document = openapi_document()
    assert document["openapi"].startswith("3.1.")
    assert document["info"]["title"] and document["info"]["version"]
    validate(document)


def test_document_is_served_as_json_without_caching(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_json() == json.loads(json.dumps(openapi_document()))


def test_write_operations_require_the_bearer_scheme_and_document_the_error_body():
    document = openapi_document()
    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert set(document["components"]["schemas"]["Error"]["required"]) == {"error", "message", "fields"}
    for path, item in document["paths"].items():
        for method in ("post", "put"):
            if method in item:
                assert item[method]["security"] == [{"bearerAuth": []}], path
                assert {"401", "413", "415", "422"} <= set(item[method]["responses"]), path


@pytest.mark.parametrize("schema_name", ["AchievementInput", "DemandInput"])
def test_input_schemas_are_closed_and_keep_money_integer_within_the_cap(schema_name):
    schema = openapi_document()["components"]["schemas"][schema_name]
    assert schema["additionalProperties"] is False
    money = {name: spec for name, spec in schema["properties"].items() if name.endswith("_fen")}
    assert money
    for spec in money.values():
        assert spec["type"] == ["integer", "null"]
        assert (spec["minimum"], spec["maximum"]) == (0, MAX_FEN)


@pytest.mark.parametrize("schema_name", ["AchievementInput", "DemandInput"])
def test_documented_required_keys_are_the_ones_the_service_requires(app, schema_name):
    schema = openapi_document()["components"]["schemas"][schema_name]
    valid = VALID_INPUT[schema_name]
    CLEAN[schema_name](db.session, dict(valid))
    assert set(schema["required"]) == set(valid)
    for key in schema["required"]:
        with pytest.raises(ValidationError) as refused:
            CLEAN[schema_name](db.session, {name: value for name, value in valid.items() if name != key})
        assert key in refused.value.fields


@pytest.mark.parametrize("schema_name", ["AchievementInput", "DemandInput"])
def test_documented_text_lengths_are_the_ones_the_service_enforces(app, schema_name):
    schema = openapi_document()["components"]["schemas"][schema_name]
    clean = CLEAN[schema_name]
    limited = {name: spec["maxLength"] for name, spec in schema["properties"].items()
               if "maxLength" in spec and name != "field"}
    assert limited
    for name, limit in limited.items():
        clean(db.session, {**VALID_INPUT[schema_name], name: "氢" * limit})
        with pytest.raises(ValidationError) as refused:
            clean(db.session, {**VALID_INPUT[schema_name], name: "氢" * (limit + 1)})
        assert name in refused.value.fields


@pytest.mark.parametrize("path", ["/api/v1/achievements", "/api/v1/demands"])
def test_every_documented_query_parameter_is_accepted(client, path):
    for parameter in openapi_document()["paths"][path]["get"]["parameters"]:
        spec = parameter["schema"]
        value = spec["enum"][0] if "enum" in spec else spec.get("minimum", "x")
        response = client.get(path, query_string={parameter["name"]: value})
        assert response.status_code == 200, (parameter["name"], response.get_json())


def test_live_responses_match_the_documented_schemas(client, make_user, make_achievement, make_demand):
    owner = make_user("researcher")
    achievement = make_achievement(owner=owner, ip_items=[{"number": "ZL1", "kind": "utility_model"}])
    draft = make_achievement(owner=owner, status="draft", price_type="negotiable")
    demand = make_demand()
    headers = {"Authorization": "Bearer " + create_api_token(db.session, owner, "test")}
    checks = [
        ("AchievementPage", client.get("/api/v1/achievements")),
        ("DemandPage", client.get("/api/v1/demands")),
        ("Achievement", client.get(f"/api/v1/achievements/{achievement.id}")),
        ("Achievement", client.get(f"/api/v1/achievements/{achievement.id}", headers=headers)),
        ("Achievement", client.get(f"/api/v1/achievements/{draft.id}", headers=headers)),
        ("Demand", client.get(f"/api/v1/demands/{demand.id}")),
        ("Error", client.get("/api/v1/achievements?per_page=0")),
        ("Error", client.get(f"/api/v1/achievements/{draft.id}")),
        ("Error", client.post("/api/v1/demands", json={})),
        ("Error", client.post("/api/v1/achievements", data="x", headers=headers)),
    ]
    for schema_name, response in checks:
        assert response.status_code < 500
        schema_validator(schema_name).validate(response.get_json())


def test_created_listing_matches_the_documented_schema(client, make_user):
    headers = {"Authorization": "Bearer " + create_api_token(db.session, make_user("enterprise"), "test")}
    response = client.post("/api/v1/demands", json={**VALID_INPUT["DemandInput"], "deadline": "2027-01-31",
                                                    "budget_max_fen": MAX_FEN}, headers=headers)
    assert response.status_code == 201
    schema_validator("Demand").validate(response.get_json())


def test_schema_check_catches_an_undocumented_key():
    with pytest.raises(jsonschema.ValidationError):
        schema_validator("Error").validate({"error": "x", "message": "y", "fields": {}, "trace": "..."})
