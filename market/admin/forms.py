"""Admin forms: shape only."""
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Optional

from market.formtools import MarketForm, max_length
from market.taxonomy.models import (
    FIELD_CODE_PART_MAX_LENGTH,
    FIELD_NAME_EN_MAX_LENGTH,
    FIELD_NAME_MAX_LENGTH,
    VALLEY_DESCRIPTION_MAX_LENGTH,
    VALLEY_NAME_MAX_LENGTH,
)

TARGET_TEXT_MAX_LENGTH = 20
"""Typed digits of an annual target (the service checks the number's range)."""


class ValleyEditForm(MarketForm):
    """A valley's name, description, targets and key fields."""

    name = StringField(_l("名称"), validators=[DataRequired(), max_length(VALLEY_NAME_MAX_LENGTH)])
    description = TextAreaField(_l("介绍"), validators=[Optional(), max_length(VALLEY_DESCRIPTION_MAX_LENGTH)])
    target_achievements = StringField(_l("年度成果转化目标"),
                                      validators=[DataRequired(), max_length(TARGET_TEXT_MAX_LENGTH)])
    target_companies = StringField(_l("年度引育企业目标"), validators=[DataRequired(), max_length(TARGET_TEXT_MAX_LENGTH)])
    key_fields = SelectMultipleField(_l("重点领域（最多 3 个）"), validate_choice=False)


class FieldAddForm(MarketForm):
    """A new node in the field tree."""

    parent = SelectField(_l("上级领域"), validate_choice=False)
    code = StringField(_l("代码（小写字母、数字、连字符）"),
                       validators=[DataRequired(), max_length(FIELD_CODE_PART_MAX_LENGTH)])
    name = StringField(_l("名称"), validators=[DataRequired(), max_length(FIELD_NAME_MAX_LENGTH)])
    name_en = StringField(_l("英文名称"), validators=[Optional(), max_length(FIELD_NAME_EN_MAX_LENGTH)])


class FieldRenameForm(MarketForm):
    """Rename a field."""

    name = StringField(_l("名称"), validators=[DataRequired(), max_length(FIELD_NAME_MAX_LENGTH)])
    name_en = StringField(_l("英文名称"), validators=[Optional(), max_length(FIELD_NAME_EN_MAX_LENGTH)])
