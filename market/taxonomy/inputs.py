"""Declared inputs of the admin's taxonomy writes: editing a valley and adding or renaming a node of the field tree,
with their limits and messages (rules that need stored valleys and fields — a name or code already taken, a parent or
key field that must exist, the depth of the tree — stay in the services)."""
import re
from typing import Annotated

from flask_babel import gettext as _
from pydantic import Field

from market.declared import DeclaredInput, cleaned_by, integer, text
from market.inputs import FieldErrors, clean_text
from market.taxonomy.models import (
    FIELD_CODE_MAX_LENGTH,
    FIELD_CODE_PART_MAX_LENGTH,
    FIELD_NAME_EN_MAX_LENGTH,
    FIELD_NAME_MAX_LENGTH,
    MAX_VALLEY_TARGET,
    VALLEY_DESCRIPTION_MAX_LENGTH,
    VALLEY_NAME_MAX_LENGTH,
)

MAX_KEY_FIELDS = 3
FIELD_CODE_PART_PATTERN = "^[a-z0-9-]+$"
"""What an admin may type as a field's own part of its code (upper case is taken as lower case)."""


def clean_key_field_codes(errors: FieldErrors, name: str, value) -> list[str] | None:
    """The codes of a valley's key fields, each once and at most MAX_KEY_FIELDS (None: the key fields stay)."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
        errors.add(name, _("应为列表。"))
        return None
    codes = list(dict.fromkeys(code for code in value if code))
    if len(codes) > MAX_KEY_FIELDS:
        errors.add(name, _("每个谷区最多 %(n)s 个重点领域。", n=MAX_KEY_FIELDS))
        return None
    return codes


def clean_field_code_part(errors: FieldErrors, name: str, value) -> str:
    """A field's own part of its code: lower-case letters, digits and hyphens."""
    part = value.strip().lower() if isinstance(value, str) else ""
    if not re.fullmatch(FIELD_CODE_PART_PATTERN, part) or len(part) > FIELD_CODE_PART_MAX_LENGTH:
        errors.add(name, _("代码只能由小写字母、数字和连字符组成。"))
        return ""
    return part


def clean_field_name(errors: FieldErrors, name: str, value) -> str:
    """A field's Chinese name on one line (required)."""
    field_name = clean_text(errors, name, value, max_len=FIELD_NAME_MAX_LENGTH, multiline=False)
    if not field_name:
        errors.add(name, _("名称为 1 到 %(n)s 个字符。", n=FIELD_NAME_MAX_LENGTH))
    return field_name


FieldName = Annotated[str, Field(max_length=FIELD_NAME_MAX_LENGTH, description="名称。"), cleaned_by(clean_field_name)]
FieldNameEn = text(FIELD_NAME_EN_MAX_LENGTH, multiline=False, description="英文名称。")


class ValleyEditInput(DeclaredInput):
    """A valley's name, description, annual targets and key fields."""

    name: text(VALLEY_NAME_MAX_LENGTH, required=True, multiline=False, description="谷区名称，各谷区不同。")
    description: text(VALLEY_DESCRIPTION_MAX_LENGTH, description="介绍。")
    target_achievements: integer(0, MAX_VALLEY_TARGET, required=True, description="年度成果转化目标（项）。")
    target_companies: integer(0, MAX_VALLEY_TARGET, required=True, description="年度引育企业目标（家）。")
    key_fields: Annotated[list[str] | None,
                          Field(None, max_length=MAX_KEY_FIELDS, description="重点领域的代码；不给出时保持不变。"),
                          cleaned_by(clean_key_field_codes)]


class FieldAddInput(DeclaredInput):
    """A new node of the field tree, under a parent or at the top."""

    parent: text(FIELD_CODE_MAX_LENGTH, multiline=False, description="上级领域的代码；留空为顶级领域。树最多三级。")
    code: Annotated[str, Field(max_length=FIELD_CODE_PART_MAX_LENGTH, pattern=FIELD_CODE_PART_PATTERN,
                               description="本级代码，接在上级代码之后，全树唯一。"), cleaned_by(clean_field_code_part)]
    name: FieldName
    name_en: FieldNameEn


class FieldRenameInput(DeclaredInput):
    """A field's new names (its code stays)."""

    name: FieldName
    name_en: FieldNameEn
