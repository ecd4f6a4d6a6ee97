"""GET /api/v1/demands/<id>/matches and /api/v1/achievements/<id>/matches: who may ask, what the explanation holds."""
import json

import pytest

from market.api.openapi import openapi_document
from market.extensions import db
from market.matching import services
from tests.api_requests import bearer, schema_validator
from tests.conftest import HYDROGEN, HYDROGEN_NEED, viewer_of

# viewer → status for a published demand's matches, and for a draft's
ACCESS = [
    ("visitor", 401, 401),
    ("member", 200, 200),
    ("admin", 200, 200),
    ("broker", 200, 404),
    ("other_enterprise", 403, 404),
    ("researcher", 403, 404),
]


@pytest.mark.parametrize("viewer, published_status, draft_status", ACCESS)
def test_demand_matches_follow_the_pages_access_rules(client, make_user, make_achievement, make_demand, viewer,
                                                      published_status, draft_status):
    achievement = make_achievement(**HYDROGEN)
    demand = make_demand(**HYDROGEN_NEED)
    draft = make_demand(owner=demand.submitter, status="draft", **HYDROGEN_NEED)
    headers = bearer(viewer_of(make_user, demand.submitter, viewer))
    published = client.get(f"/api/v1/demands/{demand.id}/matches", headers=headers)
    private = client.get(f"/api/v1/demands/{draft.id}/matches", headers=headers)
    assert (published.status_code, private.status_code) == (published_status, draft_status)
    if published_status == 200:
        schema_validator("MatchList").validate(published.get_json())
        assert [item["listing"]["id"] for item in published.get_json()["items"]] == [achievement.id]
    else:
        body = published.get_json()
        assert set(body) == {"error", "message", "fields"}
        assert achievement.title not in json.dumps(body, ensure_ascii=False)
    if published_status == 401:
        assert published.headers["WWW-Authenticate"].startswith("Bearer")
    if draft_status == 404:
        assert draft.title not in json.dumps(private.get_json(), ensure_ascii=False)


def test_achievement_matches_list_demands_with_the_explanation(client, make_achievement, make_demand):
    achievement = make_achievement(**HYDROGEN)
    demand = make_demand(**HYDROGEN_NEED)
    response = client.get(f"/api/v1/achievements/{achievement.id}/matches", headers=bearer(achievement.submitter))
    assert response.status_code == 200
    body = response.get_json()
    schema_validator("MatchList").validate(body)
    assert body["listing"]["id"] == achievement.id and body["listing"]["kind"] == "achievement"
    item = body["items"][0]
    assert item["listing"] == {**item["listing"], "id": demand.id, "kind": "demand", "title": demand.title}
    explanation = item["explanation"]
    assert "焦炉煤气" in explanation["shared_terms"]
    assert explanation["structured_counted"] is True, "close subjects: maturity, budget, mode and region count"
    assert explanation["field_path"] == ["制氢与氢气提纯", "氢能"]
    assert "焦炉煤气" in explanation["snippets"]["query"]["terms"]
    assert "焦炉煤气" in explanation["snippets"]["match"]["terms"]
    assert [f["factor"] for f in explanation["factors"]] == ["text", "title_keywords", "field", "maturity", "budget",
                                                             "mode", "region"]
    assert sum(f["points"] for f in explanation["factors"]) == pytest.approx(item["score"], abs=0.05)
    assert item["feedback"] is None and item["dismissed"] is False


def test_callers_own_feedback_comes_with_the_match(client, make_achievement, make_demand):
    achievement = make_achievement(**HYDROGEN)
    demand = make_demand(**HYDROGEN_NEED)
    services.save_feedback(db.session, demand.submitter, demand_id=demand.id, achievement_id=achievement.id,
                           verdict="not_relevant", reason="price_mismatch", comment="预算不够")
    body = client.get(f"/api/v1/demands/{demand.id}/matches", headers=bearer(demand.submitter)).get_json()
    schema_validator("MatchList").validate(body)
    item = body["items"][0]
    assert item["feedback"]["verdict"] == {"code": "not_relevant", "label": "不相关"}
    assert item["feedback"]["reason"]["code"] == "price_mismatch" and item["feedback"]["comment"] == "预算不够"
    assert item["dismissed"] is True


@pytest.mark.parametrize("query, field", [
    ("top=0", "top"),
    ("top=51", "top"),
    ("top=abc", "top"),
    ("top=1.5", "top"),
    ("top=3&top=4", "top"),
    ("limit=3", "limit"),
])
def test_bad_parameters_answer_422(client, make_demand, query, field):
    demand = make_demand(**HYDROGEN_NEED)
    response = client.get(f"/api/v1/demands/{demand.id}/matches?{query}", headers=bearer(demand.submitter))
    assert response.status_code == 422
    assert field in response.get_json()["fields"]


def test_top_limits_the_number_of_matches(client, make_user, make_achievement, make_demand):
    owner = make_user("researcher")
    for title in ("焦炉煤气变压吸附制氢技术", "焦炉煤气制氢催化剂", "焦炉煤气深冷分离制氢"):
        make_achievement(owner=owner, **{**HYDROGEN, "title": title})
    demand = make_demand(**HYDROGEN_NEED)
    everything = client.get(f"/api/v1/demands/{demand.id}/matches", headers=bearer(demand.submitter)).get_json()
    one = client.get(f"/api/v1/demands/{demand.id}/matches?top=1", headers=bearer(demand.submitter)).get_json()
    assert len(everything["items"]) == 3
    assert one["items"] == everything["items"][:1]
    scores = [item["score"] for item in everything["items"]]
    assert scores == sorted(scores, reverse=True)


def test_unknown_listing_answers_404(client, make_user):
    response = client.get("/api/v1/achievements/999999/matches", headers=bearer(make_user("broker")))
    assert response.status_code == 404


def test_documented_limits_are_the_ones_enforced():
    operation = openapi_document()["paths"]["/api/v1/demands/{demand_id}/matches"]["get"]
    top = next(p for p in operation["parameters"] if p["name"] == "top")["schema"]
    assert (top["minimum"], top["maximum"]) == (1, services.MAX_TOP)
    assert {"401", "403", "404", "422"} <= set(operation["responses"])
