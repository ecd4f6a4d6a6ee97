"""GET /api/v1/achievements/<id> and /api/v1/demands/<id>: who sees which listing, and the confidential part."""
import json

import pytest

from market.accounts.services import create_api_token, revoke_api_token
from market.extensions import db
from tests.api_requests import bearer


@pytest.fixture
def reader(make_user):
    """The token holder for a viewer role against a listing owned by `owner`: None for a visitor."""

    def make(viewer: str, owner):
        if viewer == "visitor":
            return None
        if viewer == "member":
            return make_user(str(owner.role), organisation=owner.organisation)
        if viewer == "other_organisation":
            return make_user(str(owner.role))
        return make_user(viewer)

    return make


# viewer → (status code for a draft, whether the confidential part is shown on the published listing)
VISIBILITY = [
    ("visitor", 404, False),
    ("member", 200, True),
    ("other_organisation", 404, False),
    ("broker", 404, False),
    ("admin", 200, True),
]


@pytest.mark.parametrize("viewer, draft_status, sees_confidential", VISIBILITY)
@pytest.mark.parametrize("status", ["draft", "pending"])
def test_unpublished_achievement_is_visible_only_to_its_organisation_and_admins(
        client, make_user, make_achievement, reader, viewer, draft_status, sees_confidential, status):
    owner = make_user("researcher")
    achievement = make_achievement(owner=owner, status=status)
    user = reader(viewer, owner)
    response = client.get(f"/api/v1/achievements/{achievement.id}", headers=bearer(user))
    assert response.status_code == draft_status
    body = response.get_json()
    if draft_status == 404:
        assert body == {"error": "not_found", "message": body["message"], "fields": {}}
        assert achievement.title not in json.dumps(body, ensure_ascii=False)
    else:
        assert body["status"]["code"] == status
        assert body["description_confidential"] == "吸附剂配方与切换时序参数。"


@pytest.mark.parametrize("viewer, draft_status, sees_confidential", VISIBILITY)
def test_published_achievement_shows_the_confidential_part_only_to_its_organisation_and_admins(
        client, make_user, make_achievement, reader, viewer, draft_status, sees_confidential):
    owner = make_user("researcher")
    achievement = make_achievement(owner=owner)
    user = reader(viewer, owner)
    response = client.get(f"/api/v1/achievements/{achievement.id}", headers=bearer(user))
    assert response.status_code == 200
    body = response.get_json()
    assert ("description_confidential" in body) is sees_confidential
    assert ("吸附剂配方" in json.dumps(body, ensure_ascii=False)) is sees_confidential
    assert ("review" in body) is sees_confidential
    assert body["has_confidential"] is True


@pytest.mark.parametrize("viewer, draft_status, sees_confidential", VISIBILITY)
def test_draft_demand_is_visible_only_to_its_organisation_and_admins(
        client, make_user, make_demand, reader, viewer, draft_status, sees_confidential):
    owner = make_user("enterprise")
    demand = make_demand(owner=owner, status="draft")
    user = reader(viewer, owner)
    response = client.get(f"/api/v1/demands/{demand.id}", headers=bearer(user))
    assert response.status_code == draft_status
    assert ("review" in response.get_json()) is sees_confidential


def test_achievement_detail_has_codes_labels_ids_iso_dates_and_links(client, make_user, make_achievement):
    owner = make_user("researcher")
    achievement = make_achievement(owner=owner, field="energy.hydrogen.production",
                                   ip_items=[{"number": "ZL202310001234.5", "kind": "invention_patent"}])
    body = client.get(f"/api/v1/achievements/{achievement.id}").get_json()
    assert body["id"] == achievement.id and body["kind"] == "achievement"
    assert body["field"]["code"] == "energy.hydrogen.production"
    path = [node["code"] for node in body["field"]["path"]]
    assert path == ["energy", "energy.hydrogen", "energy.hydrogen.production"]
    assert body["organisation"] == {"id": owner.organisation_id, "name": owner.organisation.name}
    assert body["valley"]["id"] == "taiyuan"
    assert body["status"] == {"code": "published", "label": "已发布"}
    assert body["stage"] == {"code": "pilot", "label": "中试"}
    assert body["modes"] == [{"code": "assignment", "label": "转让"}, {"code": "license_exclusive", "label": "独占许可"}]
    assert body["ip_items"] == [{"number": "ZL202310001234.5", "kind": {"code": "invention_patent", "label": "发明专利"}}]
    assert (body["price_min_fen"], body["price_max_fen"]) == (80_000_000, 200_000_000)
    assert body["owners"] == [{"name": owner.organisation.name, "share_bp": 10000}]
    assert body["published_at"] == achievement.published_at.replace(microsecond=0).isoformat() + "Z"
    assert body["urls"] == {"api": f"/api/v1/achievements/{achievement.id}", "page": f"/achievements/{achievement.id}"}


def test_demand_detail_has_budget_in_fen_and_an_iso_deadline(client, make_demand):
    demand = make_demand()
    body = client.get(f"/api/v1/demands/{demand.id}").get_json()
    assert (body["budget_min_fen"], body["budget_max_fen"]) == (50_000_000, 150_000_000)
    assert body["deadline"] == "2027-06-30"
    assert body["wanted_trl_min"] == 6
    assert body["urls"]["page"] == f"/demands/{demand.id}"


def test_returned_achievement_shows_its_review_notes_to_its_organisation(client, make_user, make_achievement):
    from market.listings import services as listings
    from market.listings.vocabulary import ListingKind

    owner = make_user("researcher")
    achievement = make_achievement(owner=owner, status="pending")
    listings.return_listing(db.session, make_user("admin"), ListingKind.ACHIEVEMENT, achievement.id,
                            "price_unclear", "请补充价格依据。")
    body = client.get(f"/api/v1/achievements/{achievement.id}", headers=bearer(owner)).get_json()
    assert body["review"] == {"return_reason": {"code": "price_unclear", "label": "价格信息不合理"},
                              "return_comment": "请补充价格依据。"}


@pytest.mark.parametrize("header", [
    "Bearer jcg_not-a-real-token",
    "Bearer ",
    "Basic dXNlcjpwYXNz",
    "jcg_token-without-scheme",
    "Bearer " + "a" * 300,
])
def test_a_bad_token_on_a_read_is_refused_rather_than_treated_as_a_visitor(client, make_achievement, header):
    achievement = make_achievement()
    response = client.get(f"/api/v1/achievements/{achievement.id}", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="jinchuang", error="invalid_token"'


def test_revoked_token_no_longer_shows_the_organisations_draft(client, make_user, make_achievement):
    owner = make_user("researcher")
    achievement = make_achievement(owner=owner, status="draft")
    token = create_api_token(db.session, owner, "old")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/achievements/{achievement.id}", headers=headers).status_code == 200
    revoke_api_token(db.session, owner, owner_token_id(owner))
    assert client.get(f"/api/v1/achievements/{achievement.id}", headers=headers).status_code == 401


def owner_token_id(user) -> int:
    """The id of the user's only token."""
    from market.accounts.services import list_api_tokens

    (token,) = list_api_tokens(db.session, user)
    return token.id


def test_session_cookie_does_not_unlock_a_draft_in_the_api(client, login, make_user, make_achievement):
    owner = make_user("researcher")
    achievement = make_achievement(owner=owner, status="draft")
    login(owner)
    assert client.get(f"/achievements/{achievement.id}").status_code == 200
    assert client.get(f"/api/v1/achievements/{achievement.id}").status_code == 404


@pytest.mark.parametrize("path", [
    "/api/v1/achievements/999999",
    "/api/v1/achievements/0",
    "/api/v1/achievements/2147483648",
    "/api/v1/achievements/99999999999999999999",
    "/api/v1/achievements/abc",
    "/api/v1/demands/999999",
    "/api/v1/nothing-here",
])
def test_missing_objects_and_unknown_paths_answer_json_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.is_json
    assert set(response.get_json()) == {"error", "message", "fields"}


def test_unsupported_method_answers_json_405(client, make_achievement):
    achievement = make_achievement()
    response = client.delete(f"/api/v1/achievements/{achievement.id}")
    assert response.status_code == 405
    assert response.get_json()["error"] == "method_not_allowed"
    assert client.get(f"/api/v1/achievements/{achievement.id}").status_code == 200
