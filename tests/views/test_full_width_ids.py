"""Ids are ASCII digits: full-width or other scripts' digits (which int() reads) never alias an object, in a path,
a form or the API."""
import pytest
from sqlalchemy import func, select

from market.accounts.models import User
from market.extensions import db
from market.matching.models import MatchFeedback
from tests.views import test_access_matrix as matrix

template_database = matrix.template_database
"""The access matrix's world (users of every role and sample objects), prepared once for this module."""
world = matrix.world

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
ID_ROWS = [route for route in matrix.MATRIX if route.method == "GET" and "{" in route.path
           and route.path.split("{")[1].split("}")[0] not in ("valley", "field", "researcher_email_link")]
"""GET rows whose sample is a database id (valleys and fields have text keys, an e-mail link a random token)."""


def status_of(client, path: str, headers: dict | None = None) -> int:
    """The status of a GET (the response closed: downloads hold a file open)."""
    response = client.get(path, headers=headers or {})
    response.close()
    return response.status_code


def test_a_full_width_id_in_any_path_answers_404(world, subtests):
    admin, researcher = world.client("admin"), world.client("researcher")
    assert ID_ROWS
    for route in ID_ROWS:
        ascii_path = route.path.format_map(world.ids)
        client = researcher if route.answers["researcher"] == 200 else admin
        if route.answers["researcher" if client is researcher else "admin"] != 200:
            continue
        headers = {"Authorization": f"Bearer {world.ids['tokens']['researcher' if client is researcher else 'admin']}"}
        for name, digits in (("full-width", FULL_WIDTH), ("arabic-indic", ARABIC_INDIC)):
            with subtests.test(msg=f"{route.path} {name}"):
                assert status_of(client, ascii_path, headers) == 200
                aliased = "/".join(part.translate(digits) if part.isdigit() else part for part in ascii_path.split("/"))
                assert aliased != ascii_path
                assert status_of(client, aliased, headers) == 404


def test_a_full_width_attachment_id_does_not_download_attachment_one(world):
    client = world.client("visitor")
    attachment = world.ids["public_attachment"]
    assert status_of(client, f"/attachments/{attachment}") == 200
    assert status_of(client, f"/attachments/{str(attachment).translate(FULL_WIDTH)}") == 404
    assert status_of(client, "/api/v1/achievements/" + str(world.ids["published_achievement"]).translate(FULL_WIDTH)) == 404


@pytest.mark.parametrize("digits", [FULL_WIDTH, ARABIC_INDIC], ids=["full-width", "arabic-indic"])
def test_registration_does_not_take_a_full_width_organisation_id(client, make_organisation, digits):
    university = make_organisation("university")
    response = client.post("/register", data={"email": "wang.yan@example.org", "name": "王研",
                                              "password": "correct-horse-battery", "role": "researcher",
                                              "join": "existing", "organisation_id": str(university.id).translate(digits)})
    assert response.status_code == 200
    assert "请选择要加入的机构，或申请新建机构。" in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email == "wang.yan@example.org")) is None


def test_registration_with_a_superscript_digit_is_refused_not_a_server_error(client, make_organisation):
    make_organisation("university")
    response = client.post("/register", data={"email": "wang.yan@example.org", "name": "王研",
                                              "password": "correct-horse-battery", "role": "researcher",
                                              "join": "existing", "organisation_id": "²"})
    assert response.status_code == 200
    assert "请选择要加入的机构，或申请新建机构。" in response.get_data(as_text=True)


def test_match_feedback_does_not_take_full_width_ids(client, login_as, make_achievement, make_demand):
    broker = login_as("broker")
    achievement, demand = make_achievement(), make_demand()
    data = {"demand_id": str(demand.id).translate(FULL_WIDTH), "achievement_id": str(achievement.id),
            "verdict": "relevant", "reason": "content_fits", "next": "/workspace"}
    response = client.post("/matching/feedback", data=data)
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(MatchFeedback)) == 0
    accepted = client.post("/matching/feedback", data={**data, "demand_id": str(demand.id)})
    assert accepted.status_code == 302
    assert db.session.scalar(select(MatchFeedback.user_id)) == broker.id
