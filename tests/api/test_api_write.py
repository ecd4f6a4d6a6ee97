"""POST and PUT on /api/v1/achievements and /api/v1/demands: bearer tokens, roles, and what lands in the database."""
import json

import pytest
from sqlalchemy import func, select

from market.accounts.models import ApprovalStatus
from market.achievements.models import Achievement
from market.demands.models import Demand
from market.extensions import db
from market.listings.models import ListingEvent
from tests.api_requests import bearer

ACHIEVEMENT_BODY = {
    "title": "焦炉煤气制氢耦合二氧化碳捕集工艺",
    "summary": "以焦炉煤气为原料，变压吸附制取高纯氢，同时捕集二氧化碳。",
    "description_public": "氢气纯度99.999%，回收率92%。",
    "description_confidential": "吸附剂配方与切换时序参数。",
    "keywords": ["焦炉煤气", "制氢"],
    "field": "energy.hydrogen.production",
    "trl": 6,
    "stage": "pilot",
    "ip_items": [{"number": "ZL202310001234.5", "kind": "invention_patent"}],
    "modes": ["license_exclusive", "assignment"],
    "price_type": "reference",
    "price_min_fen": 80_000_001,
    "price_max_fen": 999_999_999_999_999,
    "owners": [{"name": "太原理工大学", "share_bp": 7000}, {"name": "山西焦化集团", "share_bp": 3000}],
    "inventors": ["张三", "李四"],
    "benefits": "能耗低。",
    "scenarios": "焦化园区。",
}

DEMAND_BODY = {
    "title": "冷轧带钢表面缺陷在线检测",
    "description": "需要在线识别冷轧带钢表面划伤、辊印等缺陷。",
    "keywords": ["表面缺陷", "机器视觉"],
    "field": "equipment.intelligent-manufacturing.machine-vision",
    "budget_min_fen": 50_000_000,
    "budget_max_fen": 150_000_001,
    "wanted_trl_min": 6,
    "modes": ["co_development"],
    "deadline": "2027-06-30",
}


def rows() -> tuple[int, int, int]:
    """How many achievements, demands and listing events exist."""
    return tuple(db.session.scalar(select(func.count()).select_from(model))
                 for model in (Achievement, Demand, ListingEvent))


def post(client, path: str, body, headers: dict):
    """POST a JSON body."""
    return client.post(path, data=json.dumps(body), content_type="application/json", headers=headers)


def test_researcher_creates_a_draft_achievement_with_a_token(client, make_user):
    researcher = make_user("researcher")
    response = post(client, "/api/v1/achievements", ACHIEVEMENT_BODY, bearer(researcher))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["Location"] == f"/api/v1/achievements/{body['id']}"
    assert body["status"]["code"] == "draft"
    assert body["description_confidential"] == "吸附剂配方与切换时序参数。"
    stored = db.session.get(Achievement, body["id"])
    assert stored.organisation_id == researcher.organisation_id
    assert stored.submitter_id == researcher.id
    assert (stored.price_min_fen, stored.price_max_fen) == (80_000_001, 999_999_999_999_999)
    assert type(stored.price_max_fen) is int
    assert [str(mode) for mode in stored.modes] == ["assignment", "license_exclusive"]
    assert stored.owners == [{"name": "太原理工大学", "share_bp": 7000}, {"name": "山西焦化集团", "share_bp": 3000}]
    assert stored.field.code == "energy.hydrogen.production"
    assert (body["price_min_fen"], body["price_max_fen"]) == (80_000_001, 999_999_999_999_999)
    assert client.get(body["urls"]["api"]).status_code == 404


def test_submit_true_sends_the_achievement_to_review(client, make_user):
    researcher = make_user("researcher")
    response = post(client, "/api/v1/achievements", {**ACHIEVEMENT_BODY, "submit": True}, bearer(researcher))
    assert response.status_code == 201
    stored = db.session.get(Achievement, response.get_json()["id"])
    assert stored.status == "pending"
    actions = db.session.scalars(select(ListingEvent.action).where(ListingEvent.listing_id == stored.id,
                                                                    ListingEvent.listing_kind == "achievement"))
    assert list(actions) == ["create", "submit"]


def test_enterprise_user_may_list_an_achievement_too(client, make_user):
    response = post(client, "/api/v1/achievements", ACHIEVEMENT_BODY, bearer(make_user("enterprise")))
    assert response.status_code == 201


def test_enterprise_user_creates_a_demand_with_a_token(client, make_user):
    company = make_user("enterprise")
    response = post(client, "/api/v1/demands", {**DEMAND_BODY, "submit": False}, bearer(company))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["Location"] == f"/api/v1/demands/{body['id']}"
    stored = db.session.get(Demand, body["id"])
    assert (stored.budget_min_fen, stored.budget_max_fen) == (50_000_000, 150_000_001)
    assert stored.deadline.isoformat() == "2027-06-30"
    assert stored.status == "draft"
    assert stored.organisation_id == company.organisation_id
    assert body["deadline"] == "2027-06-30"


def test_minimal_demand_needs_only_title_description_and_field(client, make_user):
    minimal = {"title": "需求", "description": "说明", "field": "energy"}
    response = post(client, "/api/v1/demands", minimal, bearer(make_user("enterprise")))
    assert response.status_code == 201
    body = response.get_json()
    assert (body["budget_min_fen"], body["budget_max_fen"], body["deadline"], body["modes"]) == (None, None, None, [])


@pytest.mark.parametrize("role, path", [
    ("broker", "/api/v1/achievements"),
    ("broker", "/api/v1/demands"),
    ("researcher", "/api/v1/demands"),
    ("admin", "/api/v1/achievements"),
    ("admin", "/api/v1/demands"),
])
def test_wrong_role_is_forbidden_and_nothing_is_saved(client, make_user, role, path):
    body = ACHIEVEMENT_BODY if "achievements" in path else DEMAND_BODY
    before = rows()
    response = post(client, path, body, bearer(make_user(role)))
    assert response.status_code == 403
    assert response.get_json()["error"] == "forbidden"
    assert rows() == before


@pytest.mark.parametrize("path", ["/api/v1/achievements", "/api/v1/demands"])
def test_wrong_role_is_forbidden_before_the_body_is_checked(client, make_user, path):
    response = post(client, path, {"title": 1.5}, bearer(make_user("broker")))
    assert response.status_code == 403


def test_member_awaiting_approval_may_not_create(client, make_user):
    pending = make_user("enterprise", membership_status=ApprovalStatus.PENDING)
    before = rows()
    for path, body in (("/api/v1/achievements", ACHIEVEMENT_BODY), ("/api/v1/demands", DEMAND_BODY)):
        assert post(client, path, body, bearer(pending)).status_code == 403
    assert rows() == before


@pytest.mark.parametrize("headers, challenge", [
    ({}, 'Bearer realm="jinchuang"'),
    ({"Authorization": "Bearer jcg_made-up"}, 'Bearer realm="jinchuang", error="invalid_token"'),
    ({"Authorization": "Token abc"}, 'Bearer realm="jinchuang", error="invalid_token"'),
    ({"Authorization": "Bearer"}, 'Bearer realm="jinchuang", error="invalid_token"'),
])
@pytest.mark.parametrize("path", ["/api/v1/achievements", "/api/v1/demands"])
def test_write_without_a_valid_token_is_unauthorised_and_saves_nothing(client, headers, challenge, path):
    before = rows()
    response = post(client, path, ACHIEVEMENT_BODY if "achievements" in path else DEMAND_BODY, headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == challenge
    assert response.get_json()["error"] == "unauthorized"
    assert rows() == before


def test_token_of_a_disabled_account_is_refused(client, make_user):
    researcher = make_user("researcher")
    headers = bearer(researcher)
    researcher.is_active_account = False
    db.session.commit()
    assert post(client, "/api/v1/achievements", ACHIEVEMENT_BODY, headers).status_code == 401


def test_session_cookie_alone_cannot_write_through_the_api(client, login_as):
    login_as("researcher")
    before = rows()
    response = post(client, "/api/v1/achievements", ACHIEVEMENT_BODY, {})
    assert response.status_code == 401
    assert rows() == before


@pytest.mark.parametrize("app", [{"WTF_CSRF_ENABLED": True}], indirect=True)
def test_api_needs_no_csrf_token_because_it_uses_bearer_tokens(client, make_user):
    response = post(client, "/api/v1/achievements", ACHIEVEMENT_BODY, bearer(make_user("researcher")))
    assert response.status_code == 201


def test_put_replaces_a_draft_and_can_submit_it(client, make_user, make_achievement):
    owner = make_user("researcher")
    achievement = make_achievement(owner=owner, status="draft")
    changed = {**ACHIEVEMENT_BODY, "title": "新的标题", "price_type": "negotiable", "submit": True}
    response = client.put(f"/api/v1/achievements/{achievement.id}", data=json.dumps(changed),
                          content_type="application/json", headers=bearer(owner))
    assert response.status_code == 200, response.get_json()
    db.session.expire_all()
    stored = db.session.get(Achievement, achievement.id)
    assert (stored.title, stored.status) == ("新的标题", "pending")
    assert (stored.price_min_fen, stored.price_max_fen) == (None, None)


def test_put_on_a_published_demand_sends_it_back_to_review(client, make_user, make_demand):
    owner = make_user("enterprise")
    demand = make_demand(owner=owner)
    colleague = make_user("enterprise", organisation=owner.organisation)
    changed = {**DEMAND_BODY, "budget_max_fen": 200_000_000}
    response = client.put(f"/api/v1/demands/{demand.id}", data=json.dumps(changed),
                          content_type="application/json", headers=bearer(colleague))
    assert response.status_code == 200
    assert response.get_json()["status"]["code"] == "pending"
    db.session.expire_all()
    assert db.session.get(Demand, demand.id).budget_max_fen == 200_000_000


@pytest.mark.parametrize("role", ["researcher", "broker", "enterprise"])
def test_put_on_another_organisations_listing_answers_404_and_changes_nothing(client, make_user, make_demand,
                                                                              role):
    demand = make_demand()
    response = client.put(f"/api/v1/demands/{demand.id}", data=json.dumps({**DEMAND_BODY, "title": "改掉"}),
                          content_type="application/json", headers=bearer(make_user(role)))
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Demand, demand.id).title == "冷轧带钢表面缺陷在线检测"


def test_put_with_a_bad_body_changes_nothing(client, make_user, make_achievement):
    owner = make_user("researcher")
    achievement = make_achievement(owner=owner, status="draft")
    response = client.put(f"/api/v1/achievements/{achievement.id}",
                          data=json.dumps({**ACHIEVEMENT_BODY, "title": "改掉", "price_min_fen": "100"}),
                          content_type="application/json", headers=bearer(owner))
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"price_min_fen"}
    db.session.expire_all()
    assert db.session.get(Achievement, achievement.id).title == ACHIEVEMENT_BODY["title"]
