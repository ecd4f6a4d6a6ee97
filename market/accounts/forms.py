"""Account forms: shape only (the services hold the rules); the writes take their required fields, lengths and
choices from their declared inputs."""
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Email, Optional

from market.accounts.inputs import (
    PASSWORD_MAX_LENGTH,
    ApiTokenInput,
    EmailChangeInput,
    Joining,
    Language,
    PasswordChangeInput,
    PasswordResetInput,
    PasswordResetRequestInput,
    ProfileInput,
    SignUpInput,
)
from market.accounts.models import EMAIL_MAX_LENGTH, OrganisationKind, Role
from market.formtools import DeclaredForm, MarketForm, max_length, options

SECOND_FACTOR_CODE_MAX_LENGTH = 20
"""A 6-digit code or a recovery code, with room for spaces and dashes typed around it."""

ORGANISATION_KIND_CHOICES = options([
    (OrganisationKind.UNIVERSITY.value, _l("高校")),
    (OrganisationKind.INSTITUTE.value, _l("科研院所")),
    (OrganisationKind.ENTERPRISE.value, _l("企业")),
    (OrganisationKind.AGENCY.value, _l("技术转移机构")),
    (OrganisationKind.INVESTOR.value, _l("投资机构")),
])
SIGN_UP_LABELS = {
    "role": {Role.RESEARCHER: _l("科研人员"), Role.ENTERPRISE: _l("企业用户"), Role.BROKER: _l("技术经理人")},
    "join": {Joining.EXISTING: _l("加入已有机构"), Joining.NEW: _l("申请新建机构")},
}
LANGUAGE_LABELS = {Language.ZH_CN: "中文", Language.EN: "English"}
"""Each interface language named in itself."""


class RegisterForm(DeclaredForm):
    """Sign up as researcher, enterprise user or broker."""

    email = EmailField(_l("邮箱"), validators=[DataRequired(), Email(message=_l("请输入有效的邮箱地址。"))])
    name = StringField(_l("姓名"))
    password = PasswordField(_l("密码"))
    role = RadioField(_l("身份"))
    join = RadioField(_l("所属机构"), default=Joining.EXISTING.value)
    organisation_id = SelectField(_l("选择机构"), coerce=str, validate_choice=False)
    organisation_name = StringField(_l("新机构名称"))
    organisation_kind = SelectField(_l("新机构类型"), choices=ORGANISATION_KIND_CHOICES)
    organisation_region = StringField(_l("所在地市"))

    def declared_input(self):
        """The registration input the account services validate with."""
        return SignUpInput

    def choice_label(self, name: str, value) -> str:
        """The roles and the ways of joining in words."""
        return SIGN_UP_LABELS[name][value]


class LoginForm(MarketForm):
    """E-mail and password."""

    email = EmailField(_l("邮箱"), validators=[DataRequired(), max_length(EMAIL_MAX_LENGTH)])
    password = PasswordField(_l("密码"), validators=[DataRequired(), max_length(PASSWORD_MAX_LENGTH)])
    next = HiddenField()


class PasswordResetRequestForm(DeclaredForm):
    """Ask for a reset link."""

    email = EmailField(_l("邮箱"))

    def declared_input(self):
        """The reset request input of the account services."""
        return PasswordResetRequestInput


class PasswordResetForm(DeclaredForm):
    """Choose a new password with a reset link."""

    password = PasswordField(_l("新密码"))

    def declared_input(self):
        """The password reset input of the account services."""
        return PasswordResetInput


class PasswordChangeForm(DeclaredForm):
    """Change the password when logged in."""

    current_password = PasswordField(_l("当前密码"))
    new_password = PasswordField(_l("新密码"))

    def declared_input(self):
        """The password change input of the account services."""
        return PasswordChangeInput


class EmailChangeForm(DeclaredForm):
    """Ask to change the login e-mail (confirmed through a link mailed to the new address)."""

    new_email = EmailField(_l("新邮箱"), validators=[DataRequired(), Email(message=_l("请输入有效的邮箱地址。"))])
    current_password = PasswordField(_l("当前密码"))

    def declared_input(self):
        """The e-mail change input of the account services."""
        return EmailChangeInput


class ProfileEditForm(DeclaredForm):
    """Name, phone and language."""

    name = StringField(_l("姓名"))
    phone = StringField(_l("电话"))
    locale = SelectField(_l("界面语言"))

    def declared_input(self):
        """The profile input of the account services."""
        return ProfileInput

    def choice_label(self, name: str, value) -> str:
        """A language named in itself."""
        return LANGUAGE_LABELS[value]


class ApiTokenCreateForm(DeclaredForm):
    """Name a new personal API token."""

    name = StringField(_l("令牌名称"))

    def declared_input(self):
        """The API token input of the account services."""
        return ApiTokenInput


class SecondFactorCodeForm(MarketForm):
    """A 6-digit code from the authenticator app, or a recovery code."""

    code = StringField(_l("验证码"), validators=[DataRequired(), max_length(SECOND_FACTOR_CODE_MAX_LENGTH)])


class SecondFactorTurnOffForm(SecondFactorCodeForm):
    """Turn one's authenticator off: a current code and an acknowledgement of what is lost."""

    understood = BooleanField(_l("我已了解关闭两步验证的后果"),
                              validators=[DataRequired(message=_l("请确认您已了解关闭两步验证的后果。"))])


class ReauthenticateForm(MarketForm):
    """Confirm one's identity again before a sensitive action."""

    password = PasswordField(_l("密码"), validators=[DataRequired(), max_length(PASSWORD_MAX_LENGTH)])
    code = StringField(_l("验证码"), validators=[Optional(), max_length(SECOND_FACTOR_CODE_MAX_LENGTH)])
    next = HiddenField()


class ConfirmActionForm(MarketForm):
    """A button that only carries the CSRF token."""
