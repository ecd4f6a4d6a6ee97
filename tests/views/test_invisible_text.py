"""Text that shows nothing, reorders what is shown, or holds Unicode non-characters is refused on every form and the
API with a message next to the field; ordinary Chinese, emoji and joined emoji sequences are kept as typed."""
import pytest
from sqlalchemy import select

from market.accounts.models import User
from market.accounts.services import create_api_token
from market.achievements.models import Achievement
from market.demands.models import Demand
from market.extensions import db
from market.taxonomy.models import Valley
from tests.views.test_bad_input_forms import ACHIEVEMENT_FORM, DEMAND_FORM, assert_refused

INVISIBLE = "请填写可见的文字，不能只有空白或不可见字符。"
BIDI = "不能包含改变文字方向的控制字符（如 U+202E）。"
INVALID = "包含无效字符。"

BAD_TEXTS = [
    ("zero-width space, joiners, word joiner, BOM", "\u200b\u200c\u200d\u2060\ufeff", INVISIBLE),
    ("zero-width characters around spaces", " \u200b\u3000\u200b ", INVISIBLE),
    ("Hangul fillers", "\u3164\u3164", INVISIBLE),
    ("right-to-left override", "报告\u202efdp.exe", BIDI),
    ("left-to-right embedding", "\u202a标题\u202c", BIDI),
    ("isolates", "\u2066标题\u2069", BIDI),
    ("override alone", "\u202e", BIDI),
    ("noncharacter U+FFFF", "标题\uffff", INVALID),
    ("noncharacter U+FDD0", "\ufdd0标题", INVALID),
]


def _forms(valley_id: int) -> list[tuple[str, str, str, dict, str, int]]:
    """(name, role, url, valid form data, required text field, status of a refusal) for each form with a name."""
    return [
        ("achievement title", "researcher", "/achievements/new", ACHIEVEMENT_FORM, "title", 422),
        ("achievement summary", "researcher", "/achievements/new", ACHIEVEMENT_FORM, "summary", 422),
        ("demand title", "enterprise", "/demands/new", DEMAND_FORM, "title", 422),
        ("demand description", "enterprise", "/demands/new", DEMAND_FORM, "description", 422),
        ("profile name", "researcher", "/profile", {"name": "赵工", "phone": "", "locale": "zh_CN"}, "name", 422),
        ("API token name", "researcher", "/profile/tokens", {"name": "同步脚本"}, "name", 422),
        ("valley name", "admin", f"/admin/valleys/{valley_id}",
         {"name": "示范谷", "description": "", "target_achievements": "1", "target_companies": "1",
          "key_fields": ["energy"]}, "name", 422),
        ("field name", "admin", "/admin/fields", {"parent": "", "code": "new-field", "name": "新领域"}, "name", 422),
    ]


INVISIBLE_BY_FORM = {"field name": "名称为 1 到 60 个字符。"}
"""Forms that answer text showing nothing with their own message for an empty name."""


FORM_NAMES = [form[0] for form in _forms(0)]


@pytest.mark.parametrize("form_name", FORM_NAMES)
def test_every_form_refuses_invisible_reordering_and_non_character_text(client, login_as, subtests, form_name):
    valley_id = db.session.scalar(select(Valley.id).order_by(Valley.position))
    _name, role, url, data, field, status = next(form for form in _forms(valley_id) if form[0] == form_name)
    login_as(role)
    for case, text, message in BAD_TEXTS:
        if message == INVISIBLE:
            message = INVISIBLE_BY_FORM.get(form_name, message)
        with subtests.test(msg=case):
            action = "/profile/tokens" if url == "/profile/tokens" else ""
            assert_refused(client, url, {**data, field: text}, field, message, status=status, action=action)


def test_registration_refuses_a_name_of_zero_width_characters(client, make_organisation):
    university = make_organisation("university")
    data = {"email": "wang.yan@example.org", "name": "\u200b\u200d", "password": "correct-horse-battery",
            "role": "researcher", "join": "existing", "organisation_id": str(university.id)}
    assert_refused(client, "/register", data, "name", INVISIBLE, status=200)
    assert db.session.scalar(select(User).where(User.email == "wang.yan@example.org")) is None


@pytest.mark.parametrize("title", ["👩\u200d🔬 氢能研究团队", "👩\u200d🔬", "❤\ufe0f 焦化废水", "焦炉煤气制氢\u200b工艺",
                                   "高纯氢 H₂ 99.999%"])
def test_chinese_emoji_and_joined_emoji_titles_are_kept_as_typed(client, login_as, title):
    login_as("researcher")
    response = client.post("/achievements/new", data={**ACHIEVEMENT_FORM, "title": title})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert db.session.scalar(select(Achievement.title)) == title


def test_an_optional_text_of_only_invisible_characters_is_stored_empty(client, login_as):
    login_as("researcher")
    response = client.post("/achievements/new", data={**ACHIEVEMENT_FORM, "benefits": "\u200b\u2060"})
    assert response.status_code == 302
    assert db.session.scalar(select(Achievement.benefits)) == ""


API_ACHIEVEMENT = {"title": "焦炉煤气制氢工艺", "summary": "变压吸附制取高纯氢。", "field": "energy", "trl": 6,
                   "stage": "pilot", "modes": ["assignment"], "price_type": "negotiable",
                   "owners": [{"name": "太原理工大学", "share_bp": 10000}], "keywords": ["制氢"]}
API_DEMAND = {"title": "带钢缺陷检测", "description": "在线识别表面缺陷。", "field": "equipment"}
API_FIELDS = [("achievements", "title"), ("achievements", "summary"), ("demands", "title"),
              ("demands", "description")]


@pytest.mark.parametrize(("kind", "field"), API_FIELDS)
@pytest.mark.parametrize(("case", "text", "message"), BAD_TEXTS, ids=[case[0] for case in BAD_TEXTS])
def test_the_api_refuses_the_same_text_with_its_json_error(client, make_user, kind, field, case, text, message):
    token = create_api_token(db.session, make_user("enterprise"), "测试")
    body = dict(API_ACHIEVEMENT if kind == "achievements" else API_DEMAND)
    response = client.post(f"/api/v1/{kind}", json={**body, field: text}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422
    error = response.get_json()
    assert (error["error"], error["fields"].get(field)) == ("validation_failed", message)
    assert db.session.scalar(select(Achievement.id)) is None and db.session.scalar(select(Demand.id)) is None


def test_the_api_refuses_an_owner_name_of_zero_width_characters(client, make_user):
    token = create_api_token(db.session, make_user("researcher"), "测试")
    response = client.post("/api/v1/achievements", headers={"Authorization": f"Bearer {token}"},
                           json={**API_ACHIEVEMENT, "owners": [{"name": "\ufeff", "share_bp": 10000}]})
    assert response.status_code == 422
    assert "owners" in response.get_json()["fields"]


def test_the_api_keeps_a_joined_emoji_title(client, make_user):
    token = create_api_token(db.session, make_user("researcher"), "测试")
    response = client.post("/api/v1/achievements", headers={"Authorization": f"Bearer {token}"},
                           json={**API_ACHIEVEMENT, "title": "👨\u200d👩\u200d👧 家庭储能"})
    assert response.status_code == 201
    assert response.get_json()["title"] == "👨\u200d👩\u200d👧 家庭储能"
