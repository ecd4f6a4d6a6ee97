"""The saved-search API: a bearer token's owner lists, saves, reads and deletes their own saved searches; answers
match the OpenAPI document and bad input is refused with the field named and nothing kept."""
import pytest
from sqlalchemy import func, select

from market.extensions import db
from market.saved_searches.models import MAX_SAVED_SEARCHES_PER_USER, SavedSearch
from tests.api_requests import bearer, schema_validator


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(SavedSearch))


def test_save_list_read_and_delete(client, make_user):
    headers = bearer(make_user("enterprise"))
    body = {"kind": "achievement", "q": "焦炉煤气", "field": "energy", "stage": "pilot", "min_fen": 50_000_000}
    created = client.post("/api/v1/saved-searches", json=body, headers=headers)
    assert created.status_code == 201
    saved = created.get_json()
    schema_validator("SavedSearch").validate(saved)
    assert created.headers["Location"] == f"/api/v1/saved-searches/{saved['id']}"
    assert {key: saved[key] for key in body} == body
    assert saved["mode"] is None and saved["valley"] == "" and "焦炉煤气" in saved["description"]
    assert saved["browse_url"].startswith("/achievements?")
    again = client.post("/api/v1/saved-searches", json=body, headers=headers)
    assert again.status_code == 200 and again.get_json()["id"] == saved["id"]
    page = client.get("/api/v1/saved-searches", headers=headers)
    schema_validator("SavedSearchPage").validate(page.get_json())
    assert [item["id"] for item in page.get_json()["items"]] == [saved["id"]] and page.get_json()["total"] == 1
    one = client.get(f"/api/v1/saved-searches/{saved['id']}", headers=headers)
    assert one.status_code == 200 and one.get_json() == saved
    deleted = client.delete(f"/api/v1/saved-searches/{saved['id']}", headers=headers)
    assert deleted.status_code == 204 and deleted.data == b""
    assert client.get(f"/api/v1/saved-searches/{saved['id']}", headers=headers).status_code == 404
    assert client.delete(f"/api/v1/saved-searches/{saved['id']}", headers=headers).status_code == 404


def test_a_token_is_needed_and_another_person_s_search_looks_absent(client, make_user):
    owner, other = bearer(make_user("enterprise")), bearer(make_user("researcher"))
    assert client.get("/api/v1/saved-searches").status_code == 401
    assert client.post("/api/v1/saved-searches", json={"kind": "demand", "q": "氢"}).status_code == 401
    saved = client.post("/api/v1/saved-searches", json={"kind": "demand", "q": "氢"}, headers=owner).get_json()
    assert client.get(f"/api/v1/saved-searches/{saved['id']}", headers=other).status_code == 404
    assert client.delete(f"/api/v1/saved-searches/{saved['id']}", headers=other).status_code == 404
    assert client.get("/api/v1/saved-searches", headers=other).get_json()["total"] == 0
    assert _count() == 1


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "achievement"}, "q"),
    ({"q": "氢"}, "kind"),
    ({"kind": "achievement", "q": 7}, "q"),
    ({"kind": "achievement", "min_fen": "100"}, "min_fen"),
    ({"kind": "achievement", "min_fen": 1.5}, "min_fen"),
    ({"kind": "achievement", "q": "氢", "sort": "newest"}, "sort"),
    ({"kind": "demand", "stage": "pilot"}, "stage"),
    ({"kind": "achievement", "field": "nowhere"}, "field"),
])
def test_bad_input_is_refused_with_the_field_named_and_nothing_kept(client, make_user, body, field):
    response = client.post("/api/v1/saved-searches", json=body, headers=bearer(make_user("enterprise")))
    assert response.status_code == 422
    schema_validator("Error").validate(response.get_json())
    assert field in response.get_json()["fields"]
    assert _count() == 0


def test_the_limit_is_a_rule_violation(client, make_user):
    headers = bearer(make_user("enterprise"))
    for number in range(MAX_SAVED_SEARCHES_PER_USER):
        assert client.post("/api/v1/saved-searches", json={"kind": "demand", "q": f"词{number}"},
                           headers=headers).status_code == 201
    refused = client.post("/api/v1/saved-searches", json={"kind": "demand", "q": "多一条"}, headers=headers)
    assert refused.status_code == 422 and refused.get_json()["error"] == "rule_violation"
    assert _count() == MAX_SAVED_SEARCHES_PER_USER


def test_unknown_query_parameters_are_refused(client, make_user):
    headers = bearer(make_user("enterprise"))
    assert client.get("/api/v1/saved-searches?kind=demand", headers=headers).status_code == 422
    assert client.get("/api/v1/saved-searches?per_page=5", headers=headers).status_code == 200
