"""Valleys and the field tree: reading them, and the admin's edits (a valley keeps at most three key fields)."""
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from market.accounts.models import User
from market.declared import validate_input
from market.errors import NotFoundError, PermissionDeniedError, ValidationError
from market.inputs import FieldErrors
from market.taxonomy.inputs import FieldAddInput, FieldRenameInput, ValleyEditInput, clean_key_field_codes
from market.taxonomy.models import Field, Valley


def find_field_by_code(session: Session, code: str | None) -> Field | None:
    """The field with this code, if any."""
    if not code:
        return None
    return session.scalar(select(Field).where(Field.code == code.strip()))


def list_fields(session: Session) -> list[Field]:
    """Every field in tree order (parents before children, siblings by position)."""
    fields = list(session.scalars(select(Field)))
    by_parent: dict[int | None, list[Field]] = {}
    for field in fields:
        by_parent.setdefault(field.parent_id, []).append(field)
    ordered: list[Field] = []

    def walk(parent_id):
        for child in sorted(by_parent.get(parent_id, []), key=lambda f: (f.position, f.code)):
            ordered.append(child)
            walk(child.id)

    walk(None)
    return ordered


def list_top_fields(session: Session) -> list[Field]:
    """Top-level fields in order."""
    return list(session.scalars(select(Field).where(Field.parent_id.is_(None)).order_by(Field.position, Field.code)))


def field_path(field: Field | None) -> list[Field]:
    """The field's ancestors and itself, top first."""
    path = []
    while field is not None:
        path.append(field)
        field = field.parent
    return list(reversed(path))


def valley_id_for(session: Session, organisation) -> str | None:
    """The valley a listing of this organisation belongs to: where it is resident, else the valley of its city."""
    if organisation.valley_id:
        return organisation.valley_id
    if not organisation.region:
        return None
    return session.scalar(select(Valley.id).where(Valley.city == organisation.region))


def list_valleys(session: Session) -> list[Valley]:
    """Every valley in display order."""
    return list(session.scalars(select(Valley).order_by(Valley.position, Valley.id)))


def get_valley(session: Session, valley_id: str) -> Valley:
    """A valley, or NotFoundError."""
    valley = session.get(Valley, valley_id)
    if valley is None:
        raise NotFoundError(_("谷区不存在。"))
    return valley


def _key_fields(session: Session, errors: FieldErrors, codes: list[str]) -> list[Field]:
    fields = [find_field_by_code(session, code) for code in codes]
    if any(field is None for field in fields):
        errors.add("key_fields", _("领域不存在。"))
        return []
    return fields


def set_valley_key_fields(session: Session, actor: User, valley_id: str, field_codes: list[str]) -> Valley:
    """Admin sets a valley's key fields: at most three, each an existing field."""
    _require_admin(actor)
    valley = get_valley(session, valley_id)
    errors = FieldErrors()
    codes = clean_key_field_codes(errors, "key_fields", field_codes)
    fields = _key_fields(session, errors, codes) if codes else []
    if errors:
        raise ValidationError(errors["key_fields"], dict(errors))
    valley.key_fields = fields
    session.flush()
    return valley


def update_valley(session: Session, actor: User, valley_id: str, *, name: str, description: str,
                  target_achievements, target_companies, key_field_codes: list[str] | None = None) -> Valley:
    """Admin edits a valley's name, description, annual targets and (when given) key fields: all of it or nothing."""
    _require_admin(actor)
    valley = get_valley(session, valley_id)
    values, errors = validate_input(ValleyEditInput, {
        "name": name, "description": description, "target_achievements": target_achievements,
        "target_companies": target_companies, "key_fields": key_field_codes})
    name = values.get("name")
    if name and session.scalar(select(Valley.id).where(Valley.name == name, Valley.id != valley.id)):
        errors.add("name", _("该名称已被其他谷区使用。"))
    codes = values.get("key_fields")
    fields = _key_fields(session, errors, codes) if codes is not None else None
    if errors:
        raise ValidationError(_("请修改标出的内容。"), dict(errors))
    valley.name, valley.description = name, values["description"]
    valley.target_achievements, valley.target_companies = values["target_achievements"], values["target_companies"]
    if fields is not None:
        valley.key_fields = fields
    session.flush()
    return valley


def add_field(session: Session, actor: User, *, parent_code: str | None, code_suffix: str, name: str,
              name_en: str = "") -> Field:
    """Admin adds a field under a parent (or at the top); the code is the parent's code plus a suffix."""
    _require_admin(actor)
    values, errors = validate_input(FieldAddInput, {"parent": parent_code, "code": code_suffix, "name": name,
                                                    "name_en": name_en})
    parent_code = values.get("parent")
    parent = find_field_by_code(session, parent_code) if parent_code else None
    if parent_code and parent is None:
        errors.add("parent", _("上级领域不存在。"))
    if parent is not None and parent.depth >= 2:
        errors.add("parent", _("领域树最多三级。"))
    suffix = values.get("code")
    code = f"{parent.code}.{suffix}" if parent else suffix
    if not errors and find_field_by_code(session, code) is not None:
        errors.add("code", _("代码已存在。"))
    if errors:
        raise ValidationError(_("请修改标出的内容。"), dict(errors))
    field = Field(code=code, name=values["name"], name_en=values["name_en"], parent=parent,
                  position=len(parent.children) if parent else len(list_top_fields(session)))
    session.add(field)
    session.flush()
    return field


def rename_field(session: Session, actor: User, code: str, *, name: str, name_en: str = "") -> Field:
    """Admin renames a field (its code, used in links and data files, stays)."""
    _require_admin(actor)
    field = find_field_by_code(session, code)
    if field is None:
        raise NotFoundError(_("领域不存在。"))
    values, errors = validate_input(FieldRenameInput, {"name": name, "name_en": name_en})
    if errors:
        raise ValidationError(next(iter(errors.values())), dict(errors))
    field.name, field.name_en = values["name"], values["name_en"]
    session.flush()
    return field


def _require_admin(actor: User) -> None:
    if actor is None or not actor.is_admin:
        raise PermissionDeniedError(_("只有平台管理员可以修改。"))
