"""Declared inputs of the account writes: registration, the profile, passwords, the e-mail change and API tokens, with
the password and e-mail rules they share (rules that need the stored account stay in the account services)."""
from enum import StrEnum
from typing import Annotated

from flask_babel import gettext as _
from pydantic import Field, WithJsonSchema

from market.accounts.models import (
    API_TOKEN_NAME_MAX_LENGTH,
    EMAIL_MAX_LENGTH,
    ORGANISATION_NAME_MAX_LENGTH,
    PERSON_NAME_MAX_LENGTH,
    PHONE_MAX_LENGTH,
    REGION_MAX_LENGTH,
    ROLE_ORGANISATION_KINDS,
    OrganisationKind,
    Role,
)
from market.declared import DeclaredInput, choice, cleaned_by, text
from market.inputs import MAX_ID, FieldErrors, clean_choice, parse_id

MIN_PASSWORD_LENGTH = 10
PASSWORD_MAX_LENGTH = 128
"""The longest password the forms and the services accept."""
SIGN_UP_ROLES = tuple(ROLE_ORGANISATION_KINDS)
"""The roles one may register as, each with the kinds of organisation it may join."""


class Joining(StrEnum):
    """How a new user joins an organisation: an approved one from the list, or one they propose."""

    EXISTING = "existing"
    NEW = "new"


class Language(StrEnum):
    """The interface languages a user may choose."""

    ZH_CN = "zh_CN"
    EN = "en"


def normalise_email(email: str) -> str:
    """Lower-case and trim an e-mail address."""
    return email.strip().lower()


def clean_email(errors: FieldErrors, name: str, value) -> str:
    """An e-mail address, trimmed and lower-cased: text on both sides of an @, at most EMAIL_MAX_LENGTH characters."""
    email = normalise_email(value) if isinstance(value, str) else ""
    if "@" not in email.strip("@") or len(email) > EMAIL_MAX_LENGTH:
        errors.add(name, _("请输入有效的邮箱地址。"))
        return ""
    return email


def check_password_strength(password: str, email: str = "") -> str | None:
    """A Chinese message when the password is too weak, else None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return _("密码至少需要 %(n)s 个字符。", n=MIN_PASSWORD_LENGTH)
    if email and password.lower() == email.lower():
        return _("密码不能与邮箱相同。")
    if len(set(password)) < 4:
        return _("密码过于简单。")
    return None


def clean_password(errors: FieldErrors, name: str, value) -> str:
    """A password exactly as typed (never trimmed or normalised), at most PASSWORD_MAX_LENGTH characters."""
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.add(name, _("应为文本。"))
        return ""
    if len(value) > PASSWORD_MAX_LENGTH:
        errors.add(name, _("不能超过 %(n)s 个字符。", n=PASSWORD_MAX_LENGTH))
        return ""
    return value


def clean_new_password(errors: FieldErrors, name: str, value) -> str:
    """A password being chosen: as typed, long enough and not too simple (the account's e-mail is checked with it)."""
    password = clean_password(errors, name, value)
    weak = None if name in errors else check_password_strength(password)
    if weak:
        errors.add(name, weak)
    return "" if name in errors else password


def clean_sign_up_role(errors: FieldErrors, name: str, value) -> Role | None:
    """One of the roles a person may register as (an admin is made by `flask create-admin`)."""
    if value in SIGN_UP_ROLES:
        return Role(value)
    errors.add(name, _("请选择科研人员、企业或技术经理人。"))
    return None


def clean_listed_organisation(_errors: FieldErrors, _name: str, value) -> int | None:
    """The id of the organisation chosen from the list; anything that is not an id counts as none chosen."""
    return None if value in (None, "") else parse_id(value)


EmailAddress = Annotated[str, Field(max_length=EMAIL_MAX_LENGTH, description="邮箱地址（不区分大小写）。"),
                         cleaned_by(clean_email)]
GivenPassword = Annotated[str, Field(max_length=PASSWORD_MAX_LENGTH, description="当前密码，用于确认本人操作。"),
                          cleaned_by(clean_password)]
NewPassword = Annotated[str, Field(min_length=MIN_PASSWORD_LENGTH, max_length=PASSWORD_MAX_LENGTH,
                                   description="新密码：不能过于简单，也不能与邮箱相同。"),
                        cleaned_by(clean_new_password)]
SignUpRole = Annotated[Role, Field(description="身份：科研人员、企业用户或技术经理人。"),
                       WithJsonSchema({"type": "string", "enum": [role.value for role in SIGN_UP_ROLES]}),
                       cleaned_by(clean_sign_up_role)]


class SignUpInput(DeclaredInput):
    """Registering: who one is, one's password and role, and the organisation one joins or proposes."""

    email: EmailAddress
    name: text(PERSON_NAME_MAX_LENGTH, required=True, multiline=False, description="姓名。")
    password: NewPassword
    role: SignUpRole
    join: choice(Joining, description="加入已有机构，或申请新建机构。")
    organisation_id: Annotated[int | None, Field(None, ge=1, le=MAX_ID, description="所加入的已审核机构。"),
                               cleaned_by(clean_listed_organisation)]
    organisation_name: text(ORGANISATION_NAME_MAX_LENGTH, multiline=False, description="新机构名称。")
    organisation_kind: Annotated[OrganisationKind | None, Field(None, description="新机构类型，须与身份相符。"),
                                 cleaned_by(clean_choice, enum_class=OrganisationKind, required=False)]
    organisation_region: text(REGION_MAX_LENGTH, multiline=False, description="新机构所在地市。")

    @classmethod
    def check_together(cls, values: dict, errors: FieldErrors) -> None:
        """The password is not the address; the chosen way of joining has what it needs and suits the role."""
        if "password" in values and "email" in values:
            weak = check_password_strength(values["password"], values["email"])
            if weak:
                errors.add("password", weak)
        role = values.get("role")
        if values.get("join") == Joining.NEW:
            if not values.get("organisation_name"):
                errors.add("organisation_name", _("请填写机构名称。"))
            if role is not None and values.get("organisation_kind") not in ROLE_ORGANISATION_KINDS[role]:
                errors.add("organisation_kind", _("该身份不能加入此类机构。"))
        elif values.get("join") == Joining.EXISTING and values.get("organisation_id") is None:
            errors.add("organisation_id", _("请选择要加入的机构，或申请新建机构。"))


class ProfileInput(DeclaredInput):
    """One's display name, phone and interface language."""

    name: text(PERSON_NAME_MAX_LENGTH, required=True, multiline=False, description="姓名。")
    phone: text(PHONE_MAX_LENGTH, multiline=False, description="电话。")
    locale: choice(Language, description="界面语言。")


class PasswordChangeInput(DeclaredInput):
    """Changing one's password while signed in."""

    current_password: GivenPassword
    new_password: NewPassword


class PasswordResetRequestInput(DeclaredInput):
    """Asking for a reset link."""

    email: EmailAddress


class PasswordResetInput(DeclaredInput):
    """Choosing a new password with a reset link (the link names the account)."""

    password: NewPassword


class EmailChangeInput(DeclaredInput):
    """Asking to change one's login e-mail."""

    new_email: EmailAddress
    current_password: GivenPassword


class ApiTokenInput(DeclaredInput):
    """Naming a new personal API token."""

    name: text(API_TOKEN_NAME_MAX_LENGTH, required=True, multiline=False, description="令牌名称。")
