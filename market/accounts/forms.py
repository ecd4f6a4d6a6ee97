"""Account forms: shape only (the services hold the rules)."""
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

from market.accounts.models import (
    API_TOKEN_NAME_MAX_LENGTH,
    EMAIL_MAX_LENGTH,
    ORGANISATION_NAME_MAX_LENGTH,
    PERSON_NAME_MAX_LENGTH,
    PHONE_MAX_LENGTH,
    REGION_MAX_LENGTH,
    OrganisationKind,
)
from market.accounts.services import PASSWORD_MAX_LENGTH
from market.formtools import MarketForm, max_length, options

SECOND_FACTOR_CODE_MAX_LENGTH = 20
"""A 6-digit code or a recovery code, with room for spaces and dashes typed around it."""

ORGANISATION_KIND_CHOICES = options([
    (OrganisationKind.UNIVERSITY.value, _l("高校")),
    (OrganisationKind.INSTITUTE.value, _l("科研院所")),
    (OrganisationKind.ENTERPRISE.value, _l("企业")),
    (OrganisationKind.AGENCY.value, _l("技术转移机构")),
    (OrganisationKind.INVESTOR.value, _l("投资机构")),
])


class RegisterForm(MarketForm):
    """Sign up as researcher, enterprise user or broker."""

    email = EmailField(_l("邮箱"), validators=[DataRequired(), Email(message=_l("请输入有效的邮箱地址。")),
                                             max_length(EMAIL_MAX_LENGTH)])
    name = StringField(_l("姓名"), validators=[DataRequired(), max_length(PERSON_NAME_MAX_LENGTH)])
    password = PasswordField(_l("密码"), validators=[DataRequired(), max_length(PASSWORD_MAX_LENGTH)])
    role = RadioField(_l("身份"), choices=options([("researcher", _l("科研人员")), ("enterprise", _l("企业用户")),
                                                   ("broker", _l("技术经理人"))]), validators=[DataRequired()])
    join = RadioField(_l("所属机构"), choices=options([("existing", _l("加入已有机构")), ("new", _l("申请新建机构"))]),
                      default="existing", validators=[DataRequired()])
    organisation_id = SelectField(_l("选择机构"), coerce=str, validate_choice=False, validators=[Optional()])
    organisation_name = StringField(_l("新机构名称"),
                                    validators=[Optional(), max_length(ORGANISATION_NAME_MAX_LENGTH)])
    organisation_kind = SelectField(_l("新机构类型"), choices=ORGANISATION_KIND_CHOICES, validators=[Optional()])
    organisation_region = StringField(_l("所在地市"), validators=[Optional(), max_length(REGION_MAX_LENGTH)])


class LoginForm(MarketForm):
    """E-mail and password."""

    email = EmailField(_l("邮箱"), validators=[DataRequired(), max_length(EMAIL_MAX_LENGTH)])
    password = PasswordField(_l("密码"), validators=[DataRequired(), max_length(PASSWORD_MAX_LENGTH)])
    next = HiddenField()


class PasswordResetRequestForm(MarketForm):
    """Ask for a reset link."""

    email = EmailField(_l("邮箱"), validators=[DataRequired(), max_length(EMAIL_MAX_LENGTH)])


class PasswordResetForm(MarketForm):
    """Choose a new password with a reset link."""

    password = PasswordField(_l("新密码"), validators=[DataRequired(), max_length(PASSWORD_MAX_LENGTH)])


class PasswordChangeForm(MarketForm):
    """Change the password when logged in."""

    current_password = PasswordField(_l("当前密码"), validators=[DataRequired(), max_length(PASSWORD_MAX_LENGTH)])
    new_password = PasswordField(_l("新密码"), validators=[DataRequired(), max_length(PASSWORD_MAX_LENGTH)])


class EmailChangeForm(MarketForm):
    """Ask to change the login e-mail (confirmed through a link mailed to the new address)."""

    new_email = EmailField(_l("新邮箱"), validators=[DataRequired(), Email(message=_l("请输入有效的邮箱地址。")),
                                                   max_length(EMAIL_MAX_LENGTH)])
    current_password = PasswordField(_l("当前密码"), validators=[DataRequired(), max_length(PASSWORD_MAX_LENGTH)])


class ProfileEditForm(MarketForm):
    """Name, phone and language."""

    name = StringField(_l("姓名"), validators=[DataRequired(), max_length(PERSON_NAME_MAX_LENGTH)])
    phone = StringField(_l("电话"), validators=[Optional(), max_length(PHONE_MAX_LENGTH)])
    locale = SelectField(_l("界面语言"), choices=options([("zh_CN", "中文"), ("en", "English")]))


class ApiTokenCreateForm(MarketForm):
    """Name a new personal API token."""

    name = StringField(_l("令牌名称"), validators=[DataRequired(), max_length(API_TOKEN_NAME_MAX_LENGTH)])


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
