"""One declared input per listing write: the service validation, the form, the API's request schema and the OpenAPI
components all come from the kind's content model, so a limit written once holds everywhere with the same message."""
import json

import pytest
from pydantic import BaseModel
from werkzeug.datastructures import MultiDict

from market.accounts.services import create_api_token
from market.achievements.content import AchievementContent
from market.achievements.forms import AchievementEditForm
from market.achievements.services import ACHIEVEMENTS, clean_achievement
from market.api.openapi import openapi_document
from market.api.requests import listing_request
from market.declared import OpenApiSchema, components_of, text
from market.demands.content import DemandContent
from market.demands.forms import DemandEditForm
from market.demands.services import DEMANDS, clean_demand
from market.errors import ValidationError
from market.extensions import db
from market.listings.models import TITLE_MAX_LENGTH, listing_model
from market.listings.vocabulary import ListingKind, PriceType, Stage, TransferMode

ACHIEVEMENT = {"title": "焦炉煤气制氢工艺", "summary": "变压吸附制取高纯氢。", "field": "energy", "trl": 6,
               "stage": "pilot", "modes": ["assignment"], "price_type": "reference", "price_min_fen": 100,
               "price_max_fen": 200}
DEMAND = {"title": "带钢缺陷检测", "description": "在线识别表面缺陷。", "field": "equipment"}
ACHIEVEMENT_FORM = {"title": "焦炉煤气制氢工艺", "summary": "变压吸附制取高纯氢。", "field": "energy", "trl": "6",
                    "stage": "pilot", "modes": "assignment", "price_type": "reference", "price_min_fen": "1",
                    "price_max_fen": "2", "action": "save"}
DEMAND_FORM = {"title": "带钢缺陷检测", "description": "在线识别表面缺陷。", "field": "equipment", "action": "save"}


def refusal(clean, data: dict) -> dict[str, str]:
    """The messages a service's validation gives per field."""
    with pytest.raises(ValidationError) as refused:
        clean(db.session, data)
    return refused.value.fields


def api_refusal(client, headers: dict, path: str, body: dict) -> dict[str, str]:
    """The messages the API answers per field (422)."""
    response = client.post(path, data=json.dumps(body), content_type="application/json", headers=headers)
    assert response.status_code == 422, response.get_json()
    return response.get_json()["fields"]


def page_shows(client, path: str, form: dict, message: str) -> None:
    """The create page refuses the form (422) and shows the message."""
    response = client.post(path, data=form)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_openapi_listing_input_components_are_the_json_schema_of_the_declared_models():
    schemas = openapi_document()["components"]["schemas"]
    generated = components_of(listing_request(ACHIEVEMENTS), listing_request(DEMANDS))
    assert {"AchievementInput", "DemandInput", "IpItem", "Owner", "Stage", "PriceType", "TransferMode"} <= set(generated)
    for name, schema in generated.items():
        assert schemas[name] == schema, name
    achievement_input = listing_request(ACHIEVEMENTS).model_json_schema(
        ref_template="#/components/schemas/{model}", schema_generator=OpenApiSchema)
    achievement_input.pop("$defs")
    assert schemas["AchievementInput"] == achievement_input
    assert set(schemas["AchievementInput"]["properties"]) == set(AchievementContent.model_fields) | {"submit"}
    assert set(schemas["DemandInput"]["properties"]) == set(DemandContent.model_fields) | {"submit"}


def test_openapi_names_the_allowed_values_of_the_vocabularies():
    schemas = openapi_document()["components"]["schemas"]
    assert schemas["Stage"]["enum"] == [stage.value for stage in Stage]
    assert schemas["PriceType"]["enum"] == [price.value for price in PriceType]
    assert schemas["TransferMode"]["enum"] == [mode.value for mode in TransferMode]
    assert schemas["AchievementInput"]["properties"]["modes"]["minItems"] == 1


def test_the_title_limit_is_written_once_for_column_content_form_and_openapi(app):
    assert listing_model(ListingKind.ACHIEVEMENT).__table__.c.title.type.length == TITLE_MAX_LENGTH
    assert listing_model(ListingKind.DEMAND).__table__.c.title.type.length == TITLE_MAX_LENGTH
    schemas = openapi_document()["components"]["schemas"]
    for name, form_class in (("AchievementInput", AchievementEditForm), ("DemandInput", DemandEditForm)):
        assert schemas[name]["properties"]["title"]["maxLength"] == TITLE_MAX_LENGTH
        with app.test_request_context("/"):
            assert form_class(formdata=None).title.flags.maxlength == TITLE_MAX_LENGTH


@pytest.mark.parametrize("form_class, content", [(AchievementEditForm, AchievementContent),
                                                 (DemandEditForm, DemandContent)])
def test_form_limits_and_choices_come_from_the_declared_content(app, form_class, content):
    with app.test_request_context("/"):
        form = form_class(formdata=None)
    schema = content.model_json_schema(schema_generator=OpenApiSchema)
    for name, spec in schema["properties"].items():
        if "maxLength" in spec:
            assert form[name].flags.maxlength == spec["maxLength"], name
        if "array" not in spec.get("type", []):
            assert bool(form[name].flags.required) == (name in schema["required"]), name
    assert [choice.value for choice in form.modes.choices] == [mode.value for mode in TransferMode]


def test_selects_offer_the_declared_values(app):
    with app.test_request_context("/"):
        achievement, demand = AchievementEditForm(formdata=None), DemandEditForm(formdata=None)
    assert [choice.value for choice in achievement.trl.choices] == [str(level) for level in range(1, 10)]
    assert [choice.label for choice in achievement.trl.choices][5] == "TRL 6"
    assert [choice.value for choice in achievement.stage.choices] == [stage.value for stage in Stage]
    assert [choice.value for choice in demand.wanted_trl_min.choices] == [""] + [str(n) for n in range(1, 10)]


class ShortTitleAchievement(AchievementContent):
    """The achievement content with a title limit of 12, to see that every consumer follows the one declaration."""

    title: text(12, required=True, multiline=False)


def test_changing_the_declared_title_limit_changes_form_service_api_and_openapi(app, client, login_as, make_user,
                                                                                monkeypatch):
    monkeypatch.setattr(ACHIEVEMENTS, "content", ShortTitleAchievement)
    message = "不能超过 12 个字符。"
    assert openapi_document()["components"]["schemas"]["AchievementInput"]["properties"]["title"]["maxLength"] == 12
    clean_achievement(db.session, {**ACHIEVEMENT, "title": "氢" * 12})
    assert refusal(clean_achievement, {**ACHIEVEMENT, "title": "氢" * 13})["title"] == message
    with app.test_request_context("/", method="POST", data={"title": "氢" * 13}):
        form = AchievementEditForm(formdata=MultiDict({"title": "氢" * 13}))
        assert form.title.flags.maxlength == 12
        form.validate()
        assert form.title.errors == [message]
    headers = {"Authorization": "Bearer " + create_api_token(db.session, make_user("researcher"), "test")}
    assert api_refusal(client, headers, "/api/v1/achievements", {**ACHIEVEMENT, "title": "氢" * 13})["title"] == message
    login_as("researcher")
    page_shows(client, "/achievements/new", {**ACHIEVEMENT_FORM, "title": "氢" * 13}, message)


ACHIEVEMENT_CASES = [
    # (case, changed key and API value, form value, field, message)
    ("title with a right-to-left override", "title", "报告\u202efdp.exe", "报告\u202efdp.exe", "title",
     "不能包含改变文字方向的控制字符（如 U+202E）。"),
    ("title of zero-width characters", "title", "\u200b\u200d", "\u200b\u200d", "title",
     "请填写可见的文字，不能只有空白或不可见字符。"),
    ("summary too long", "summary", "氢" * 1001, "氢" * 1001, "summary", "不能超过 1000 个字符。"),
    ("stage that does not fit the TRL", "stage", "lab", "lab", "stage", "成熟度阶段与技术就绪度（TRL 6）不一致。"),
    ("reference price without an amount", "price_min_fen", None, "", "price_min_fen", "参考价或底价需要填写金额。"),
    ("minimum above maximum", "price_min_fen", 300, "3", "price_max_fen", "上限不能低于下限。"),
    ("too many keywords", "keywords", [f"词{n}" for n in range(11)], "，".join(f"词{n}" for n in range(11)),
     "keywords", "最多 10 项。"),
    ("unknown field code", "field", "astrology", "astrology", "field", "请选择所属领域。"),
]


@pytest.mark.parametrize("case, key, api_value, form_value, field, message", ACHIEVEMENT_CASES,
                         ids=[case[0] for case in ACHIEVEMENT_CASES])
def test_invalid_achievement_gets_the_same_message_through_service_api_and_page(client, login_as, make_user, case,
                                                                                key, api_value, form_value, field,
                                                                                message):
    assert refusal(clean_achievement, {**ACHIEVEMENT, key: api_value})[field] == message
    headers = {"Authorization": "Bearer " + create_api_token(db.session, make_user("researcher"), "test")}
    assert api_refusal(client, headers, "/api/v1/achievements", {**ACHIEVEMENT, key: api_value})[field] == message
    login_as("researcher")
    page_shows(client, "/achievements/new", {**ACHIEVEMENT_FORM, key: form_value}, message)


DEMAND_CASES = [
    ("deadline too far ahead", "deadline", "2999-01-01", "日期超出允许范围。"),
    ("deadline that is no date", "deadline", "2027/06/30", "日期格式应为 YYYY-MM-DD。"),
    ("deadline that is no day", "deadline", "2027-02-30", "不是有效的日期。"),
    ("description too long", "description", "长" * 10001, "不能超过 10000 个字符。"),
    ("title on two lines", "title", "带钢\n缺陷", "包含不允许的控制字符。"),
]


@pytest.mark.parametrize("case, key, value, message", DEMAND_CASES, ids=[case[0] for case in DEMAND_CASES])
def test_invalid_demand_gets_the_same_message_through_service_api_and_page(client, login_as, make_user, case, key,
                                                                           value, message):
    assert refusal(clean_demand, {**DEMAND, key: value})[key] == message
    headers = {"Authorization": "Bearer " + create_api_token(db.session, make_user("enterprise"), "test")}
    assert api_refusal(client, headers, "/api/v1/demands", {**DEMAND, key: value})[key] == message
    login_as("enterprise")
    page_shows(client, "/demands/new", {**DEMAND_FORM, key: value}, message)


def test_every_field_of_the_content_is_checked_on_its_own(app):
    fields = refusal(clean_achievement, {"title": "a\u202eb", "trl": 10, "stage": "lab", "modes": [], "field": 5,
                                         "colour": "red"})
    assert fields == {"title": "不能包含改变文字方向的控制字符（如 U+202E）。", "trl": "应在 1 到 9 之间。",
                      "modes": "请至少选择一项。", "field": "请选择所属领域。", "colour": "未知字段。",
                      "summary": "此项必填。", "price_type": "此项必填。"}


def test_declared_content_is_a_plain_pydantic_model():
    assert issubclass(AchievementContent, BaseModel)
    content = AchievementContent.model_validate({**ACHIEVEMENT, "keywords": "氢，碳"})
    assert (content.title, content.keywords, content.stage, content.modes) == (
        "焦炉煤气制氢工艺", ["氢", "碳"], Stage.PILOT, [TransferMode.ASSIGNMENT])


@pytest.mark.parametrize("role, path", [("researcher", "/achievements/new"), ("enterprise", "/demands/new")])
def test_create_pages_name_the_declared_keyword_count(client, login_as, role, path):
    login_as(role)
    page = client.get(path).get_data(as_text=True)
    assert "用逗号或顿号分隔，最多 10 个。" in page
    assert 'maxlength="200"' in page
