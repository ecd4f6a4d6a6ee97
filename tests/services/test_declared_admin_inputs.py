"""One declared input per admin write of the money and taxonomy pages (reversing an award, entering a start-up grant,
editing a valley, adding and renaming a field): the service validates through it with its own messages and the page
form takes its required fields and lengths from it; a rule-set upload declares no field besides its file."""
from datetime import date

import pytest
from sqlalchemy import select

from market.admin.forms import FieldAddForm, FieldRenameForm, ValleyEditForm
from market.awards import services as award_services
from market.awards.forms import AwardReverseForm, RuleSetUploadForm, StartupGrantForm
from market.awards.grants import record_startup_grant
from market.awards.inputs import REVERSAL_REASON_MAX_LENGTH, ReversalInput, StartupGrantInput
from market.declared import EmptyInput, OpenApiSchema, validate_input
from market.errors import ValidationError
from market.extensions import db
from market.money import MAX_FEN
from market.taxonomy import services as taxonomy
from market.taxonomy.inputs import MAX_KEY_FIELDS, FieldAddInput, FieldRenameInput, ValleyEditInput
from market.taxonomy.models import (
    FIELD_CODE_PART_MAX_LENGTH,
    FIELD_NAME_MAX_LENGTH,
    MAX_VALLEY_TARGET,
    VALLEY_NAME_MAX_LENGTH,
    Valley,
)

FORMS = [(AwardReverseForm, ReversalInput), (StartupGrantForm, StartupGrantInput), (RuleSetUploadForm, EmptyInput),
         (ValleyEditForm, ValleyEditInput), (FieldAddForm, FieldAddInput), (FieldRenameForm, FieldRenameInput)]


def refusal(write) -> dict[str, str]:
    """The messages a service gives per field."""
    with pytest.raises(ValidationError) as refused:
        write()
    return refused.value.fields


@pytest.mark.parametrize("form_class, model", FORMS, ids=lambda value: value.__name__)
def test_each_form_names_its_declared_input_and_takes_its_limits(app, form_class, model):
    with app.test_request_context("/"):
        form = form_class(formdata=None)
    assert form.declared_input() is model
    schema = model.model_json_schema(schema_generator=OpenApiSchema)
    for name, spec in schema.get("properties", {}).items():
        if "maxLength" in spec:
            assert form[name].flags.maxlength == spec["maxLength"], name
        if "array" not in spec.get("type", []):
            assert bool(form[name].flags.required) == (name in schema.get("required", [])), name


def test_the_limits_written_once_are_the_inputs():
    properties = {model.__name__: model.model_json_schema(schema_generator=OpenApiSchema)["properties"]
                  for model in (ReversalInput, StartupGrantInput, ValleyEditInput, FieldAddInput)}
    assert properties["ReversalInput"]["reason"]["maxLength"] == REVERSAL_REASON_MAX_LENGTH
    assert properties["StartupGrantInput"]["awarded_fen"]["maximum"] == MAX_FEN
    assert properties["ValleyEditInput"]["name"]["maxLength"] == VALLEY_NAME_MAX_LENGTH
    assert properties["ValleyEditInput"]["target_companies"]["maximum"] == MAX_VALLEY_TARGET
    assert properties["ValleyEditInput"]["key_fields"]["maxItems"] == MAX_KEY_FIELDS
    assert properties["FieldAddInput"]["code"]["maxLength"] == FIELD_CODE_PART_MAX_LENGTH
    assert properties["FieldAddInput"]["name"]["maxLength"] == FIELD_NAME_MAX_LENGTH


@pytest.mark.parametrize("reason, message", [
    (None, "请填写冲正原因。"),
    ("  ", "请填写冲正原因。"),
    ("登记\x07错误", "包含不允许的控制字符。"),
    ("错" * (REVERSAL_REASON_MAX_LENGTH + 1), f"不能超过 {REVERSAL_REASON_MAX_LENGTH} 个字符。"),
])
def test_a_reversal_is_refused_with_the_inputs_message(app, make_user, reason, message):
    admin = make_user("admin")
    fields = refusal(lambda: award_services.reverse_award(db.session, admin, 999_999, reason))
    assert fields == validate_input(ReversalInput, {"reason": reason})[1] == {"reason": message}


GOOD_GRANT = {"granted_on": date(2024, 6, 1), "founders_paid_in_fen": 80 * 1_000_000, "awarded_fen": 100 * 1_000_000}


@pytest.mark.parametrize("organisation_id, changes, expected", [
    ("", {}, {"organisation_id": "请选择企业。"}),
    ("org-1", {}, {"organisation_id": "不是有效的编号。"}),
    (None, {"granted_on": None}, {"granted_on": "请填写日期。"}),
    (None, {"granted_on": date(2999, 1, 1)}, {"granted_on": "请填写不晚于今天的日期。"}),
    (None, {"granted_on": "2024-06-31"}, {"granted_on": "请填写不晚于今天的日期。"}),
    (None, {"founders_paid_in_fen": None}, {"founders_paid_in_fen": "请填写创始人实缴金额。"}),
    (None, {"founders_paid_in_fen": "80"}, {"founders_paid_in_fen": "金额必须是不小于零的整数（分）。"}),
    (None, {"awarded_fen": None, "founders_paid_in_fen": -1},
     {"awarded_fen": "请填写拟支持金额。", "founders_paid_in_fen": "金额必须是不小于零的整数（分）。"}),
    (None, {"awarded_fen": MAX_FEN + 1}, {"awarded_fen": "金额必须是不小于零的整数（分）。"}),
    (None, {"awarded_fen": True}, {"awarded_fen": "金额必须是不小于零的整数（分）。"}),
])
def test_a_grant_is_refused_field_by_field_with_the_inputs_messages(app, make_user, make_organisation,
                                                                    organisation_id, changes, expected):
    startup = make_organisation("enterprise", valley_id="jincheng", resident_since=date(2024, 1, 5))
    chosen = startup.id if organisation_id is None else organisation_id
    data = {**GOOD_GRANT, **changes}
    fields = refusal(lambda: record_startup_grant(db.session, make_user("admin"), chosen, **data))
    assert fields == validate_input(StartupGrantInput, {"organisation_id": chosen, **data})[1] == expected


def valley_edit(admin, valley, **changes):
    """Edit the valley with good values, changed as given."""
    data = {"name": valley.name, "description": "示范谷区。", "target_achievements": "10", "target_companies": "5",
            "key_field_codes": ["energy"], **changes}
    return taxonomy.update_valley(db.session, admin, valley.id, **data)


@pytest.mark.parametrize("changes, expected", [
    ({"name": " "}, {"name": "此项必填。"}),
    ({"name": "谷" * (VALLEY_NAME_MAX_LENGTH + 1)}, {"name": f"不能超过 {VALLEY_NAME_MAX_LENGTH} 个字符。"}),
    ({"target_achievements": None, "target_companies": "-1"},
     {"target_achievements": "此项必填。", "target_companies": "请输入整数。"}),
    ({"target_companies": MAX_VALLEY_TARGET + 1}, {"target_companies": f"应在 0 到 {MAX_VALLEY_TARGET} 之间。"}),
    ({"key_field_codes": ["a", "b", "c", "d"]}, {"key_fields": f"每个谷区最多 {MAX_KEY_FIELDS} 个重点领域。"}),
    ({"key_field_codes": ["no.such.field"]}, {"key_fields": "领域不存在。"}),
])
def test_a_valley_edit_is_refused_with_the_inputs_messages_and_changes_nothing(app, make_user, changes, expected):
    valley = db.session.scalar(select(Valley).order_by(Valley.position))
    before = (valley.name, valley.target_achievements, valley.target_companies)
    fields = refusal(lambda: valley_edit(make_user("admin"), valley, **changes))
    assert fields == expected
    db.session.expire_all()
    assert (valley.name, valley.target_achievements, valley.target_companies) == before


def test_a_valley_edit_takes_full_width_digits_and_keeps_the_key_fields_when_none_are_given(app, make_user):
    valley = db.session.scalar(select(Valley).order_by(Valley.position))
    keys = [field.code for field in valley.key_fields]
    valley_edit(make_user("admin"), valley, target_achievements="１２", key_field_codes=None)
    assert valley.target_achievements == 12 and [field.code for field in valley.key_fields] == keys


@pytest.mark.parametrize("changes, expected", [
    ({"code_suffix": "Bad Code!"}, {"code": "代码只能由小写字母、数字和连字符组成。"}),
    ({"code_suffix": None}, {"code": "代码只能由小写字母、数字和连字符组成。"}),
    ({"code_suffix": "x" * (FIELD_CODE_PART_MAX_LENGTH + 1)}, {"code": "代码只能由小写字母、数字和连字符组成。"}),
    ({"code_suffix": "energy"}, {"code": "代码已存在。"}),
    ({"name": ""}, {"name": f"名称为 1 到 {FIELD_NAME_MAX_LENGTH} 个字符。"}),
    ({"name": "领域\x07"}, {"name": "包含不允许的控制字符。"}),
    ({"parent_code": "no.such.field"}, {"parent": "上级领域不存在。"}),
    ({"parent_code": "能源\x1b"}, {"parent": "包含不允许的控制字符。"}),
])
def test_adding_a_field_is_refused_with_the_inputs_messages(app, make_user, changes, expected):
    data = {"parent_code": None, "code_suffix": "new-field", "name": "新领域", "name_en": "New field", **changes}
    assert refusal(lambda: taxonomy.add_field(db.session, make_user("admin"), **data)) == expected


def test_a_field_code_is_taken_in_lower_case(app, make_user):
    field = taxonomy.add_field(db.session, make_user("admin"), parent_code="energy", code_suffix=" Solar-2 ",
                               name="光伏")
    assert field.code == "energy.solar-2"


def test_renaming_a_field_gives_the_first_message_as_the_whole_message(app, make_user):
    with pytest.raises(ValidationError) as refused:
        taxonomy.rename_field(db.session, make_user("admin"), "energy", name="", name_en="Energy\u202e")
    assert refused.value.message == f"名称为 1 到 {FIELD_NAME_MAX_LENGTH} 个字符。"
    assert refused.value.fields == validate_input(FieldRenameInput, {"name": "", "name_en": "Energy\u202e"})[1]
    assert set(refused.value.fields) == {"name", "name_en"}
