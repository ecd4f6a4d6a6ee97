"""Matching pages: a listing's matches with explanations, feedback, the broker board, the detail-page section and
field suggestion."""
import re

import pytest
from flask import g, render_template_string
from sqlalchemy import func, select

from market.extensions import db
from market.matching import services
from market.matching.forms import MatchFeedbackForm
from market.matching.models import FeedbackReason, MatchFeedback, MatchPair, Verdict
from tests.conftest import HYDROGEN, HYDROGEN_NEED, viewer_of


@pytest.fixture
def pair(make_achievement, make_demand):
    """A published hydrogen achievement and a published demand that matches it."""
    return make_achievement(**HYDROGEN), make_demand(**HYDROGEN_NEED)


# viewer → status of the demand's matches page when the demand is published, and when it is a draft
PAGE_ACCESS = [
    ("visitor", 302, 302),
    ("member", 200, 200),
    ("admin", 200, 200),
    ("broker", 200, 404),
    ("other_enterprise", 403, 404),
    ("researcher", 403, 404),
]


@pytest.mark.parametrize("viewer, published_status, draft_status", PAGE_ACCESS)
def test_matches_page_is_for_the_organisation_brokers_and_admins(client, login, make_user, make_achievement,
                                                                make_demand, viewer, published_status, draft_status):
    achievement = make_achievement(**HYDROGEN)
    demand = make_demand(**HYDROGEN_NEED)
    draft = make_demand(owner=demand.submitter, status="draft", **HYDROGEN_NEED)
    user = viewer_of(make_user, demand.submitter, viewer)
    if user is not None:
        login(user)
    published = client.get(f"/demands/{demand.id}/matches")
    assert published.status_code == published_status
    assert client.get(f"/demands/{draft.id}/matches").status_code == draft_status
    if published_status == 302:
        assert "/login" in published.headers["Location"]
    assert (f'href="/achievements/{achievement.id}"' in published.get_data(as_text=True)) is (published_status == 200)


def test_explanation_highlights_shared_terms_in_both_texts_and_shows_path_and_factors(client, login, pair):
    achievement, demand = pair
    login(demand.submitter)
    page = client.get(f"/demands/{demand.id}/matches").get_data(as_text=True)
    item = page[page.index(f'id="match-{demand.id}-{achievement.id}"'):]
    query_snippet = re.search(r'data-side="query">(.*?)</div>', item, re.DOTALL).group(1)
    other_snippet = re.search(r'data-side="other">(.*?)</div>', item, re.DOTALL).group(1)
    assert "<mark>焦炉煤气</mark>" in query_snippet and "<mark>焦炉煤气</mark>" in other_snippet
    assert "氢能 › 制氢与氢气提纯" in item
    for factor in ("text", "title_keywords", "field", "maturity", "budget", "mode", "region"):
        assert f'data-factor="{factor}"' in item
    assert "<meter" in item
    score = services.list_listing_matches(db.session, demand.submitter, "demand", demand.id).matches[0].score
    assert f"{score:.1f}" in item


def test_achievement_page_lists_matching_demands(client, login, pair):
    achievement, demand = pair
    login(achievement.submitter)
    response = client.get(f"/achievements/{achievement.id}/matches")
    assert response.status_code == 200
    assert f'href="/demands/{demand.id}"' in response.get_data(as_text=True)


@pytest.mark.parametrize("app", [{"MATCH_PAIR_FLOOR": 30}], indirect=True)
def test_matching_pages_carry_no_inline_script_or_style(client, login, make_user, pair):
    achievement, demand = pair
    login(make_user("broker"))
    for path in (f"/demands/{demand.id}/matches", f"/achievements/{achievement.id}/matches", "/matches"):
        page = client.get(path).get_data(as_text=True)
        assert demand.title in page or f"/demands/{demand.id}" in page, path
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), f"inline script on {path}"
        assert " style=" not in page, f"inline style on {path}"
        assert not re.search(r"\son[a-z]+=", page), f"inline event handler on {path}"


# ---------------------------------------------------------------------------------------------- feedback
def test_feedback_is_stored_changed_and_the_pair_dimmed(client, login, pair):
    achievement, demand = pair
    login(demand.submitter)
    back = f"/demands/{demand.id}/matches#match-{demand.id}-{achievement.id}"
    form = {"demand_id": demand.id, "achievement_id": achievement.id, "next": back}
    first = client.post("/matching/feedback", data={**form, "verdict": "relevant", "reason": "content_fits"})
    assert first.status_code == 302 and first.headers["Location"].endswith(back)
    second = client.post("/matching/feedback", data={**form, "verdict": "not_relevant", "reason": "price_mismatch",
                                                     "comment": "预算不够"}, follow_redirects=True)
    text = second.get_data(as_text=True)
    assert "已记录您的反馈：不相关" in text
    assert "match-dismissed" in text and "您的反馈：不相关（价格与预算不符）" in text
    assert db.session.execute(select(MatchFeedback.verdict, MatchFeedback.comment)).all() == [("not_relevant", "预算不够")]


@pytest.mark.parametrize("data, message", [
    ({"verdict": "relevant", "reason": "price_mismatch"}, "该原因与所选判断不符"),
    ({"verdict": "", "reason": "content_fits"}, "请选择“相关”或“不相关”"),
    ({"verdict": "relevant", "reason": "nonsense"}, "反馈未保存"),
    ({"verdict": "relevant", "reason": ""}, "反馈未保存：请选择原因。"),
    ({"verdict": "relevant", "reason": "content_fits", "comment": "很长" * 251}, "反馈未保存：不能超过 500 个字符。"),
    ({"verdict": "relevant", "reason": "content_fits", "comment": "说明\x07"}, "反馈未保存：包含不允许的控制字符。"),
])
def test_invalid_feedback_is_not_stored(client, login, pair, data, message):
    achievement, demand = pair
    login(demand.submitter)
    response = client.post("/matching/feedback", data={"demand_id": demand.id, "achievement_id": achievement.id,
                                                       "next": f"/demands/{demand.id}/matches", **data},
                           follow_redirects=True)
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(MatchFeedback)) == 0


def test_the_feedback_form_offers_the_declared_verdicts_reasons_and_comment_limit(app):
    with app.test_request_context():
        form = MatchFeedbackForm(formdata=None)
    assert form.declared_input() is services.MatchFeedbackInput
    assert [choice.value for choice in form.verdict.choices] == [verdict.value for verdict in Verdict]
    assert [choice.value for choice in form.reason.choices] == [reason.value for reason in FeedbackReason]
    assert form.verdict.flags.required and form.reason.flags.required and not form.comment.flags.required
    assert form.comment.flags.maxlength == services.FEEDBACK_COMMENT_MAX_LENGTH


def test_feedback_from_another_organisation_is_refused(client, login_as, pair):
    achievement, demand = pair
    login_as("researcher")
    response = client.post("/matching/feedback", data={"demand_id": demand.id, "achievement_id": achievement.id,
                                                       "verdict": "relevant", "reason": "content_fits"})
    assert response.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(MatchFeedback)) == 0


def test_feedback_redirect_stays_on_the_site(client, login, pair):
    achievement, demand = pair
    login(demand.submitter)
    response = client.post("/matching/feedback", data={"demand_id": demand.id, "achievement_id": achievement.id,
                                                       "verdict": "relevant", "reason": "content_fits",
                                                       "next": "https://elsewhere.example/"})
    assert response.status_code == 302 and "elsewhere" not in response.headers["Location"]


@pytest.mark.parametrize("app", [{"WTF_CSRF_ENABLED": True}], indirect=True)
def test_feedback_without_the_csrf_token_is_refused(client, login, pair):
    achievement, demand = pair
    client.get("/login")
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    client.post("/login", data={"email": demand.submitter.email, "password": "correct-horse-battery",
                                "csrf_token": token})
    response = client.post("/matching/feedback", data={"demand_id": demand.id, "achievement_id": achievement.id,
                                                       "verdict": "relevant", "reason": "content_fits"})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(MatchFeedback)) == 0


# ---------------------------------------------------------------------------------------------- the detail page's section
def render_section(app, listing, kind: str, user) -> str:
    """The include as a detail page renders it, for the given viewer."""
    with app.test_request_context(f"/{kind}s/{listing.id}"):
        g._login_user = user
        return render_template_string('{% include "matching/_matches.html" %}', listing=listing, kind=kind)


@pytest.mark.parametrize("viewer, shown", [("member", True), ("broker", True), ("admin", True),
                                           ("other_enterprise", False), ("researcher", False)])
def test_detail_page_section_is_absent_for_those_who_may_not_see_matches(app, make_user, pair, viewer, shown):
    from flask_login import AnonymousUserMixin

    achievement, demand = pair
    user = viewer_of(make_user, demand.submitter, viewer)
    html = render_section(app, demand, "demand", user)
    assert ('id="matches"' in html) is shown
    assert (f'href="/achievements/{achievement.id}"' in html) is shown
    assert render_section(app, demand, "demand", AnonymousUserMixin()).strip() == ""


# ---------------------------------------------------------------------------------------------- broker board
@pytest.mark.parametrize("app", [{"MATCH_PAIR_FLOOR": 30}], indirect=True)
@pytest.mark.parametrize("role, status", [("broker", 200), ("admin", 200), ("researcher", 403), ("enterprise", 403)])
def test_board_is_for_brokers_and_admins(client, login_as, pair, role, status):
    _, demand = pair
    login_as(role)
    response = client.get("/matches")
    assert response.status_code == status
    assert (demand.title in response.get_data(as_text=True)) is (status == 200)


def test_board_sends_visitors_to_login(client):
    response = client.get("/matches")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("app", [{"MATCH_PAIR_FLOOR": 30}], indirect=True)
def test_board_filters_and_shows_feedback(client, login_as, pair):
    achievement, demand = pair
    services.save_feedback(db.session, demand.submitter, demand_id=demand.id, achievement_id=achievement.id,
                           verdict="relevant", reason="worth_contacting", comment="下周约谈")
    login_as("broker")
    shown = client.get("/matches?field=energy&valley=taiyuan&days=30").get_data(as_text=True)
    assert demand.title in shown and "下周约谈" in shown and "值得联系洽谈" in shown
    assert demand.title not in client.get("/matches?field=bio").get_data(as_text=True)
    assert demand.title not in client.get("/matches?valley=datong").get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(MatchPair)) == 1


@pytest.mark.parametrize("query", ["min_score=abc", "min_score=101", "page=0"])
def test_board_with_invalid_filters_answers_422_with_defaults(client, login_as, query):
    login_as("broker")
    assert client.get("/matches?" + query).status_code == 422


# ---------------------------------------------------------------------------------------------- field suggestion
def test_field_suggestion_needs_a_login(client):
    response = client.get("/matching/suggest-field?title=制氢")
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"


def test_field_suggestion_answers_the_top_three_fields(client, login_as, make_achievement, make_demand):
    make_achievement(**HYDROGEN)
    make_achievement(title="带钢表面缺陷机器视觉检测系统", summary="深度学习识别带钢表面划伤、辊印。", field="equipment")
    make_achievement(title="晶硅光伏组件回收", summary="拆解回收光伏组件中的银和硅。", field="energy.photovoltaic")
    make_demand(title="中药材种植技术需求", description="需要中药材规范化种植技术。", field="agriculture")
    login_as("researcher")
    response = client.get("/matching/suggest-field", query_string={
        "title": "焦炉煤气制取高纯氢", "text": "变压吸附提纯氢气", "keywords": "制氢，变压吸附"})
    assert response.status_code == 200
    suggestions = response.get_json()["suggestions"]
    assert 1 <= len(suggestions) <= 3
    assert suggestions[0] == {"code": "energy.hydrogen.production", "name": "制氢与氢气提纯",
                              "path": ["能源和新能源", "氢能", "制氢与氢气提纯"],
                              "confidence": suggestions[0]["confidence"]}
    assert 0 < suggestions[0]["confidence"] <= 1
    assert suggestions == sorted(suggestions, key=lambda s: -s["confidence"])


def test_field_suggestion_for_empty_input_is_empty(client, login_as):
    login_as("enterprise")
    assert client.get("/matching/suggest-field").get_json() == {"suggestions": []}


def test_the_factor_table_says_when_the_structured_fits_were_not_counted(app):
    from types import SimpleNamespace

    from market.matching.services import factor_shares
    from market.matching.weights import DEFAULT_WEIGHTS

    similarities = {"text": 0.05, "title_keywords": 0.1, "field": 0.0, "maturity": 1.0, "budget": 1.0, "mode": 1.0,
                    "region": 1.0}
    contributions = {"text": 3.0, "title_keywords": 1.2, "field": 0.0, "maturity": 0.0, "budget": 0.0, "mode": 0.0,
                     "region": 0.0}
    shares = factor_shares(contributions, similarities, DEFAULT_WEIGHTS)
    macros = app.jinja_env.get_template("matching/_macros.html")
    with app.test_request_context("/"):
        far = str(macros.module.factor_table(SimpleNamespace(factors=shares, score=4.2, structured_counted=False)))
        near = str(macros.module.factor_table(SimpleNamespace(factors=shares, score=4.2, structured_counted=True)))
    assert "match-structured-note" in far and "不计分" in far
    assert "match-structured-note" not in near
