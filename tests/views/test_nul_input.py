"""A NUL character anywhere in a request (path, query string, form, JSON body) is refused with a 4xx, never a 500.

PostgreSQL text cannot hold NUL, so before the guard any NUL that reached a query was a 500 there; run this module
with MARKET_TEST_DATABASE_URL set to see it hold on PostgreSQL too."""
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import NamedTuple
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from sqlalchemy import String, Text, select

from market.api.openapi import openapi_document
from market.extensions import db
from market.taxonomy.models import Valley
from tests.views import test_access_matrix as matrix
from tests.views.test_access_matrix import LOGIN, MATRIX, ROLES, Route, _fill
from tests.views.test_bad_input_forms import FormPage, database_rows

template_database = matrix.template_database
"""The access matrix's world (users of every role and sample objects), prepared once for this module."""
world = matrix.world

NUL_TEXT = "ab\x00c"
COMMON_QUERY_NAMES = ("q", "page", "next", "sort", "status", "valley", "field", "broker", "stage", "mode")
"""Query parameters tried on every page besides those its own forms and links use."""
DEPTH = {200: 0, 201: 0, 302: 0, 422: 1, 400: 2, 404: 3, 405: 4}
"""How far into a view a role's expected answer gets (lower is deeper); the deepest role sends the probes."""


@dataclass(frozen=True)
class Probe:
    """One request with a NUL in one place."""

    label: str
    role: str
    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    form: dict | None = None
    json: dict | None = None

    def send(self, client, token: str | None):
        """Send the probe with the role's client (bearer token for the API)."""
        headers = {"Authorization": f"Bearer {token}"} if token and self.path.startswith("/api/") else {}
        return client.open(self.path, method=self.method, query_string=list(self.query), data=self.form,
                           json=self.json, headers=headers)


class InputNames(HTMLParser):
    """The names a page's forms and links send: query names (GET forms, links to the same path) and, per form
    action, the names a POST form sends."""

    def __init__(self, path: str, html: str):
        super().__init__()
        self.path, self.query_names, self.post_names = path, set(), {}
        self._form: tuple[str, str] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            action = urlsplit(attributes.get("action") or self.path).path or self.path
            self._form = ((attributes.get("method") or "get").lower(), action)
        elif tag == "a" and attributes.get("href"):
            link = urlsplit(attributes["href"])
            if link.path in ("", self.path):
                self.query_names |= {name for name, _value in parse_qsl(link.query, keep_blank_values=True)}
        elif tag in ("input", "select", "textarea") and self._form and attributes.get("name"):
            method, action = self._form
            if attributes.get("type") in ("file", "submit") or attributes["name"] == "csrf_token":
                return
            if method == "get" and action == self.path:
                self.query_names.add(attributes["name"])
            elif method == "post":
                self.post_names.setdefault(action, set()).add(attributes["name"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None


def probing_roles(route: Route) -> list[str]:
    """The role whose expected answer runs the most of the view, and the admin (who sees every row) when let in."""
    reached = [role for role in ROLES if route.answers[role] not in (LOGIN, 401, 403)]
    deepest = min(reached or ROLES, key=lambda role: DEPTH.get(route.answers[role], 5))
    return [deepest] + (["admin"] if "admin" in reached and deepest != "admin" else [])


def _with_nul(value):
    return [NUL_TEXT] if isinstance(value, list) else NUL_TEXT


def _path_probes(route: Route, role: str, path: str) -> list[Probe]:
    segments = path.split("/")
    return [Probe(f"{route.method} {route.path} segment {index} as {role}", role, route.method,
                  "/".join(segments[:index] + [quote(segments[index] + NUL_TEXT, safe="")] + segments[index + 1:]),
                  form=route.body(), json=route.json)
            for index in range(1, len(segments)) if segments[index]]


def _query_probes(route: Route, role: str, path: str, names: set[str]) -> list[Probe]:
    probes = [Probe(f"{route.method} {route.path} ?{name} as {role}", role, route.method, path, ((name, NUL_TEXT),),
                    form=route.body(), json=route.json) for name in sorted(names)]
    probes.append(Probe(f"{route.method} {route.path} ?NUL-name as {role}", role, route.method, path,
                        (("ke\x00y", "1"),), form=route.body(), json=route.json))
    return probes


def _form_probes(route: Route, role: str, path: str, form: dict, names: set[str]) -> list[Probe]:
    probes = [Probe(f"{route.method} {route.path} form {name} as {role}", role, route.method, path,
                    form={**form, name: _with_nul(form.get(name, ""))}) for name in sorted(set(form) | names)]
    probes.append(Probe(f"{route.method} {route.path} form NUL-name as {role}", role, route.method, path,
                        form={**form, "ke\x00y": "1"}))
    return probes


def _json_probes(route: Route, role: str, path: str, body: dict, schema: dict) -> list[Probe]:
    probes = []
    for name, member in schema.get("properties", {}).items():
        types = member.get("type", [])
        types = [types] if isinstance(types, str) else types
        if "string" in types:
            value = NUL_TEXT
        elif "array" in types and "object" in member.get("items", {}).get("type", ""):
            item_schema = member["items"]
            text_name = next(key for key, item in item_schema["properties"].items() if item.get("type") == "string")
            value = [{key: NUL_TEXT if key == text_name else 1 for key in item_schema["properties"]}]
        elif "array" in types:
            value = [NUL_TEXT]
        else:
            continue
        probes.append(Probe(f"{route.method} {route.path} json {name} as {role}", role, route.method, path,
                            json={**body, name: value}))
    probes.append(Probe(f"{route.method} {route.path} json NUL-key as {role}", role, route.method, path,
                        json={**body, "ke\x00y": "1"}))
    return probes


def _resolve(schema: dict, components: dict) -> dict:
    if "$ref" in schema:
        return components[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _api_operation(route: Route, document: dict) -> dict:
    """The OpenAPI operation of an API row ({} when the document lacks it)."""
    for template, operations in document["paths"].items():
        pattern = template.split("/")
        parts = route.path.split("/")
        if len(pattern) == len(parts) and all(a == b or a.startswith("{") for a, b in zip(pattern, parts)):
            return operations.get(route.method.lower(), {})
    return {}


def probes_for(route: Route, world, clients, document) -> list[Probe]:
    """Every probe of one matrix row: a NUL in each path segment, query parameter, form field or JSON string."""
    return [probe for role in probing_roles(route) for probe in _probes_as(route, role, world, clients, document)]


def _probes_as(route: Route, role: str, world, clients, document) -> list[Probe]:
    path = route.path.format_map(world.ids)
    probes = _path_probes(route, role, path)
    if path.startswith("/api/"):
        operation = _api_operation(route, document)
        query_names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        probes += _query_probes(route, role, path, query_names | {"page"})
        body_schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        if route.method in ("POST", "PUT"):
            schema = _resolve(body_schema or {}, document["components"]["schemas"])
            probes += _json_probes(route, role, path, dict(route.json or {}), schema)
        return probes
    names = None
    if route.method != "GET" or route.answers[role] == 200:
        page = clients[role].get(path)
        if page.status_code == 200 and page.mimetype == "text/html":
            names = InputNames(path, page.get_data(as_text=True))
        page.close()
    if route.method == "GET":
        probes += _query_probes(route, role, path, set(COMMON_QUERY_NAMES) | (names.query_names if names else set()))
    else:
        form = {key: _fill(value, world.ids) for key, value in (route.form or {}).items()}
        probes += _query_probes(route, role, path, {"next"})
        probes += _form_probes(route, role, path, form, names.post_names.get(path, set()) if names else set())
    return probes


def _stored_nul_texts() -> list[str]:
    """Text columns anywhere in the database that hold a NUL."""
    found = []
    for table in db.metadata.sorted_tables:
        columns = [column for column in table.columns if isinstance(column.type, (String, Text))]
        rows = db.session.execute(select(*columns)).all() if columns else []
        if any("\x00" in value for row in rows for value in row if isinstance(value, str)):
            found.append(table.name)
    return found


def test_a_nul_anywhere_in_any_route_is_refused_without_a_server_error(world, subtests):
    clients = {role: world.client(role) for role in ROLES}
    document = openapi_document()
    probes = [probe for route in MATRIX if set(route.answers.values()) != {405}
              for probe in probes_for(route, world, clients, document)]
    assert len(probes) > 3 * len(MATRIX)
    for probe in probes:
        with subtests.test(msg=probe.label):
            response = probe.send(clients[probe.role], world.ids["tokens"].get(probe.role))
            response.close()
            assert response.status_code < 500, response.get_data(as_text=True)[:300]
    db.session.rollback()
    if db.engine.dialect.name == "sqlite":
        assert _stored_nul_texts() == []


# ------------------------------------------------------------------------ the places a NUL used to give a 500

CONTROL = "包含不允许的控制字符。"
REFUSED_REQUEST = "请求的地址或参数中包含不允许的空字符（NUL）。"


class FormCase(NamedTuple):
    """A form page that gets a NUL in one field: it must come back with the message next to that field."""

    name: str
    role: str
    url: str
    data: dict
    field: str
    status: int


@pytest.fixture
def places(make_demand, make_user):
    """A valley id and a draft demand's id, with the URLs the form cases fill in."""
    valley = db.session.scalar(select(Valley).order_by(Valley.position))
    owner = make_user("enterprise")
    draft = make_demand(owner=owner, status="draft")
    return {"valley": valley.id, "draft_demand": draft.id, "owner": owner}


DEMAND_FORM = {"title": "冷轧带钢表面缺陷在线检测", "description": "需要在线识别冷轧带钢表面缺陷。", "field": "equipment",
               "modes": ["co_development"]}
FORM_CASES = [
    FormCase("demand field lookup", "enterprise", "/demands/new", {**DEMAND_FORM, "field": NUL_TEXT}, "field", 422),
    FormCase("demand edit field lookup", "owner", "/demands/{draft_demand}/edit", {**DEMAND_FORM, "field": NUL_TEXT},
             "field", 422),
    FormCase("valley key field lookup", "admin", "/admin/valleys/{valley}",
             {"name": "示范谷", "description": "", "target_achievements": "1", "target_companies": "1",
              "key_fields": [NUL_TEXT]}, "key_fields", 422),
    FormCase("field parent lookup", "admin", "/admin/fields", {"parent": NUL_TEXT, "code": "new-field", "name": "新领域"},
             "parent", 422),
    FormCase("login e-mail lookup", "visitor", "/login", {"email": NUL_TEXT, "password": "x" * 12}, "email", 200),
    FormCase("password reset e-mail lookup", "visitor", "/password/forgot", {"email": NUL_TEXT}, "email", 200),
]


@pytest.mark.parametrize("case", FORM_CASES, ids=lambda case: case.name)
def test_a_nul_in_a_looked_up_form_field_is_shown_next_to_the_field(client, login, login_as, places, case):
    if case.role == "owner":
        login(places["owner"])
    elif case.role != "visitor":
        login_as(case.role)
    before = database_rows()
    response = client.post(case.url.format_map(places), data=case.data)
    assert response.status_code == case.status
    page = FormPage(response.get_data(as_text=True))
    assert CONTROL in page.errors.get(case.field, []), dict(page.errors)
    assert database_rows() == before


ADDRESS_CASES = [
    ("admin valley page", "GET", "/admin/valleys/ab%00c", None),
    ("admin valley edit", "POST", "/admin/valleys/ab%00c", None),
    ("admin field rename", "POST", "/admin/fields/energy%00/rename", "name"),
    ("award filter", "GET", "/money/awards?recipient=ab%00c", "recipient"),
    ("award filter name", "GET", "/money/awards?recip%00ient=1", "recip\ufffdient"),
    ("agreement filter", "GET", "/contracts?valley=ab%00c", "valley"),
    ("agreement status filter", "GET", "/contracts?status=%00", "status"),
]


@pytest.mark.parametrize(("method", "url", "field"), [case[1:] for case in ADDRESS_CASES],
                         ids=[case[0] for case in ADDRESS_CASES])
def test_a_nul_in_an_address_or_query_string_is_refused_with_400_and_a_message(client, login_as, method, url, field):
    login_as("admin")
    before = database_rows()
    response = client.open(url, method=method, data={"name": "新名称"} if method == "POST" else None)
    assert response.status_code == 400
    assert REFUSED_REQUEST in response.get_data(as_text=True)
    assert database_rows() == before


def test_the_refusal_is_translated(client, login_as):
    login_as("admin", locale="en")
    response = client.get("/contracts?valley=ab%00c")
    assert response.status_code == 400
    assert "contains a NUL character" in response.get_data(as_text=True)


@pytest.mark.parametrize("method", ["POST", "PUT"])
@pytest.mark.parametrize("kind", ["achievements", "demands"])
def test_the_api_refuses_a_nul_in_a_field_code_with_its_json_error(client, make_user, make_achievement, make_demand,
                                                                   kind, method):
    from market.accounts.services import create_api_token
    from tests.conftest import ACHIEVEMENT_INPUT, DEMAND_INPUT

    role, body = ("researcher", dict(ACHIEVEMENT_INPUT)) if kind == "achievements" else ("enterprise", dict(DEMAND_INPUT))
    body["deadline"] = body["deadline"].isoformat() if "deadline" in body else None
    body = {key: value for key, value in body.items() if value is not None}
    owner = make_user(role)
    url = f"/api/v1/{kind}"
    if method == "PUT":
        listing = (make_achievement if kind == "achievements" else make_demand)(owner=owner, status="draft")
        url += f"/{listing.id}"
    token = create_api_token(db.session, owner, "测试")
    db.session.commit()  # as the request that made it would (database_rows() rolls back what is not committed)
    before = database_rows()
    response = client.open(url, method=method, json={**body, "field": "ab\u0000c"},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422
    assert response.get_json() == {"error": "invalid_json", "message": "请求体中有无法接受的值。",
                                   "fields": {"field": "包含不允许的空字符（NUL）。"}}
    assert database_rows() == before


def test_the_api_answers_a_nul_in_a_query_string_with_its_json_error(client):
    response = client.get("/api/v1/achievements?field=ab%00c")
    assert response.status_code == 400
    assert response.get_json() == {"error": "invalid_characters", "message": REFUSED_REQUEST,
                                   "fields": {"field": "包含不允许的空字符（NUL）。"}}
