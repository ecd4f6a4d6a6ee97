"""Admin forms: shape only; the valley and field-tree forms take their required fields and limits from the taxonomy's
declared inputs."""
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField

from market.formtools import DeclaredForm, max_length
from market.taxonomy.inputs import FieldAddInput, FieldRenameInput, ValleyEditInput

TARGET_TEXT_MAX_LENGTH = 20
"""Typed digits of an annual target (the service checks the number's range)."""


class ValleyEditForm(DeclaredForm):
    """A valley's name, description, targets and key fields."""

    name = StringField(_l("名称"))
    description = TextAreaField(_l("介绍"))
    target_achievements = StringField(_l("年度成果转化目标"), validators=[max_length(TARGET_TEXT_MAX_LENGTH)])
    target_companies = StringField(_l("年度引育企业目标"), validators=[max_length(TARGET_TEXT_MAX_LENGTH)])
    key_fields = SelectMultipleField(_l("重点领域（最多 3 个）"), validate_choice=False)

    def declared_input(self):
        """The valley edit input of the taxonomy services."""
        return ValleyEditInput


class FieldAddForm(DeclaredForm):
    """A new node in the field tree."""

    parent = SelectField(_l("上级领域"), validate_choice=False)
    code = StringField(_l("代码（小写字母、数字、连字符）"))
    name = StringField(_l("名称"))
    name_en = StringField(_l("英文名称"))

    def declared_input(self):
        """The field-adding input of the taxonomy services."""
        return FieldAddInput


class FieldRenameForm(DeclaredForm):
    """Rename a field."""

    name = StringField(_l("名称"))
    name_en = StringField(_l("英文名称"))

    def declared_input(self):
        """The field-renaming input of the taxonomy services."""
        return FieldRenameInput
