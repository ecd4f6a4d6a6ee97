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

from market.accounts.models import OrganisationKind
from market.formtools import MarketForm, max_length, options

ORGANISATION_KIND_CHOICES = options([
    (OrganisationKind.UNIVERSITY.value, _l("高校")),
    (OrganisationKind.INSTITUTE.value, _l("科研院所")),
    (OrganisationKind.ENTERPRISE.value, _l("企业")),
    (OrganisationKind.AGENCY.value, _l("技术转移机构")),
    (OrganisationKind.INVESTOR.value, _l("投资机构")),
])


class RegisterForm(MarketForm):
    """Sign up as researcher, enterprise user or broker."""

    email = EmailField(_l("邮箱"), validators=[DataRequired(), Email(message=_l("请输入有效的邮箱地址。")), max_length(254)])
    name = StringField(_l("姓名"), validators=[DataRequired(), max_length(60)])
    password = PasswordField(_l("密码"), validators=[DataRequired(), max_length(128)])
    role = RadioField(_l("身份"), choices=options([("researcher", _l("科研人员")), ("enterprise", _l("企业用户")),
                                                   ("broker", _l("技术经理人"))]), validators=[DataRequired()])
    join = RadioField(_l("所属机构"), choices=options([("existing", _l("加入已有机构")), ("new", _l("申请新建机构"))]),
                      default="existing", validators=[DataRequired()])
    organisation_id = SelectField(_l("选择机构"), coerce=str, validate_choice=False, validators=[Optional()])
    organisation_name = StringField(_l("新机构名称"), validators=[Optional(), max_length(120)])
    organisation_kind = SelectField(_l("新机构类型"), choices=ORGANISATION_KIND_CHOICES, validators=[Optional()])
    organisation_region = StringField(_l("所在地市"), validators=[Optional(), max_length(40)])


class LoginForm(MarketForm):
    """E-mail and password."""

    email = EmailField(_l("邮箱"), validators=[DataRequired(), max_length(254)])
    password = PasswordField(_l("密码"), validators=[DataRequired(), max_length(128)])
    next = HiddenField()


class PasswordResetRequestForm(MarketForm):
    """Ask for a reset link."""

    email = EmailField(_l("邮箱"), validators=[DataRequired(), max_length(254)])


class PasswordResetForm(MarketForm):
    """Choose a new password with a reset link."""

    password = PasswordField(_l("新密码"), validators=[DataRequired(), max_length(128)])


class PasswordChangeForm(MarketForm):
    """Change the password when logged in."""

    current_password = PasswordField(_l("当前密码"), validators=[DataRequired(), max_length(128)])
    new_password = PasswordField(_l("新密码"), validators=[DataRequired(), max_length(128)])


class EmailChangeForm(MarketForm):
    """Ask to change the login e-mail (confirmed through a link mailed to the new address)."""

    new_email = EmailField(_l("新邮箱"), validators=[DataRequired(), Email(message=_l("请输入有效的邮箱地址。")),
                                                   max_length(254)])
    current_password = PasswordField(_l("当前密码"), validators=[DataRequired(), max_length(128)])


class ProfileEditForm(MarketForm):
    """Name, phone and language."""

    name = StringField(_l("姓名"), validators=[DataRequired(), max_length(60)])
    phone = StringField(_l("电话"), validators=[Optional(), max_length(30)])
    locale = SelectField(_l("界面语言"), choices=options([("zh_CN", "中文"), ("en", "English")]))


class ApiTokenCreateForm(MarketForm):
    """Name a new personal API token."""

    name = StringField(_l("令牌名称"), validators=[DataRequired(), max_length(60)])


class SecondFactorCodeForm(MarketForm):
    """A 6-digit code from the authenticator app, or a recovery code."""

    code = StringField(_l("验证码"), validators=[DataRequired(), max_length(20)])


class SecondFactorTurnOffForm(SecondFactorCodeForm):
    """Turn one's authenticator off: a current code and an acknowledgement of what is lost."""

    understood = BooleanField(_l("我已了解关闭两步验证的后果"),
                              validators=[DataRequired(message=_l("请确认您已了解关闭两步验证的后果。"))])


class ReauthenticateForm(MarketForm):
    """Confirm one's identity again before a sensitive action."""

    password = PasswordField(_l("密码"), validators=[DataRequired(), max_length(128)])
    code = StringField(_l("验证码"), validators=[Optional(), max_length(20)])
    next = HiddenField()


class ConfirmActionForm(MarketForm):
    """A button that only carries the CSRF token."""
