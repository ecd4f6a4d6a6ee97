"""Introductions over the JSON API: propose, both sides accept into a deal, decline with a reason, withdraw, the
lists per role, every answer in its documented shape."""
import json
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from market.deals.models import Deal, DealStage, Introduction
from market.extensions import db
from tests.api_requests import bearer, schema_validator

JSON = "application/json"


def post(client, path: str, user, body=None):
    if body is None:
        return client.post(path, headers=bearer(user))
    return client.post(path, data=json.dumps(body), headers={**bearer(user), "Content-Type": JSON})


def documented(response, schema: str = "Introduction") -> dict:
    data = response.get_json()
    errors = [error.message for error in schema_validator(schema).iter_errors(data)]
    assert not errors, errors
    return data


@pytest.fixture
def world(make_user, make_achievement, make_demand):
    researcher, buyer = make_user("researcher"), make_user("enterprise")
    return SimpleNamespace(researcher=researcher, achievement=make_achievement(owner=researcher), buyer=buyer,
                           demand=make_demand(owner=buyer), broker=make_user("broker"),
                           outsider=make_user("enterprise"), admin=make_user("admin"))


def propose(client, world, **extra):
    body = {"achievement_id": world.achievement.id, "demand_id": world.demand.id, "note": "方向契合", **extra}
    return post(client, "/api/v1/introductions", world.broker, body)


def test_propose_accept_accept_opens_a_deal_with_the_broker(client, world):
    created = propose(client, world)
    assert created.status_code == 201, created.get_json()
    data = documented(created)
    assert created.headers["Location"] == f"/api/v1/introductions/{data['id']}"
    assert data["awaiting"] == ["transferee", "transferor"] and data["may"]["withdraw"]
    assert data["status"] == {"code": "pending", "label": "待双方确认"}
    path = f"/api/v1/introductions/{data['id']}"
    assert post(client, path + "/accept", world.broker).status_code == 403
    assert post(client, path + "/accept", world.outsider).status_code == 404
    first = documented(post(client, path + "/accept", world.researcher))
    assert first["awaiting"] == ["transferee"] and first["deal_id"] is None
    assert first["status"] == {"code": "pending", "label": "待需求方确认"}
    second = documented(post(client, path + "/accept", world.buyer))
    assert second["status"]["code"] == "accepted"
    deal = db.session.get(Deal, second["deal_id"])
    assert (deal.stage, deal.broker_id) == (DealStage.INTENT, world.broker.id)
    assert post(client, path + "/withdraw", world.broker).status_code == 409


def test_a_decline_needs_a_reason_and_is_shown_to_the_broker(client, world):
    path = f"/api/v1/introductions/{propose(client, world).get_json()['id']}"
    assert post(client, path + "/decline", world.buyer).status_code == 422
    assert post(client, path + "/decline", world.buyer, {"reason": "nope"}).status_code == 422
    assert post(client, path + "/decline", world.buyer, {"reason": "other"}).status_code == 422
    declined = documented(post(client, path + "/decline", world.buyer, {"reason": "timing", "note": "明年"}))
    assert declined["decline"] == {"reason": {"code": "timing", "label": "时机不合适"}, "note": "明年"}
    seen = documented(client.get(path, headers=bearer(world.broker)))
    assert (seen["declined_side"], seen["decline"]["note"]) == ("transferee", "明年")
    again = propose(client, world)
    assert (again.status_code, again.get_json()["error"]) == (422, "rule_violation")


def test_hostile_proposals_are_refused(client, world, make_user):
    assert post(client, "/api/v1/introductions", world.researcher,
                {"achievement_id": world.achievement.id, "demand_id": world.demand.id}).status_code == 403
    assert propose(client, world, organisation_id=world.outsider.organisation_id).status_code == 422
    assert propose(client, world, extra_key=1).status_code == 422
    assert propose(client, world, achievement_id="1").status_code == 422
    assert propose(client, world).status_code == 201
    assert propose(client, world).status_code == 409
    assert db.session.scalar(select(func.count()).select_from(Introduction)) == 1


def test_withdraw_then_accept_is_refused(client, world):
    path = f"/api/v1/introductions/{propose(client, world).get_json()['id']}"
    assert post(client, path + "/withdraw", world.researcher).status_code == 403
    assert documented(post(client, path + "/withdraw", world.broker))["status"]["code"] == "withdrawn"
    assert post(client, path + "/accept", world.researcher).status_code == 409


def test_lists_per_role(client, world):
    introduction_id = propose(client, world).get_json()["id"]

    def ids(user, box=None):
        response = client.get("/api/v1/introductions", query_string={"box": box} if box else {},
                              headers=bearer(user))
        return [item["id"] for item in documented(response, "IntroductionPage")["items"]]

    assert ids(world.broker, "mine") == [introduction_id]
    assert ids(world.researcher, "awaiting") == [introduction_id]
    assert ids(world.buyer) == [introduction_id]
    assert ids(world.admin) == [introduction_id]
    assert ids(world.outsider) == []
    assert client.get("/api/v1/introductions?box=bad", headers=bearer(world.broker)).status_code == 422
    assert client.get("/api/v1/introductions").status_code == 401


def test_the_owner_accepts_over_the_api_confirming_a_licence_after_an_outright_transfer(client, deal_world, make_deal,
                                                                                       make_user, make_demand):
    make_deal(DealStage.SIGNED, mode="assignment", broker=None)
    company = make_user("enterprise")
    world = SimpleNamespace(achievement=deal_world.achievement, demand=make_demand(owner=company,
                                                                                  modes=["license_exclusive"]),
                            broker=make_user("broker"))
    path = f"/api/v1/introductions/{propose(client, world).get_json()['id']}/accept"
    refused = post(client, path, deal_world.researcher)
    assert refused.status_code == 409 and "并勾选确认" in refused.get_json()["message"]
    assert post(client, path, deal_world.researcher, {"confirm_relicense": "yes"}).status_code == 422
    accepted = documented(post(client, path, deal_world.researcher, {"confirm_relicense": True}))
    assert accepted["awaiting"] == ["transferee"]
    opened = documented(post(client, path, company))
    assert opened["status"]["code"] == "accepted" and opened["deal_id"] is not None
