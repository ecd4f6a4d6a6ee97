"""One declared input for each account write (registration, profile, password change and reset, reset request, e-mail
change, API token): the services validate with it and the page forms take their required fields, lengths and
choices from it, so a limit written once holds on the page and in the service with the same message."""
import pytest
from pydantic import create_model
from sqlalchemy import func, select

from market.accounts import email_change, forms, services
from market.accounts.inputs import (
    PASSWORD_MAX_LENGTH,
    SIGN_UP_ROLES,
    ApiTokenInput,
    EmailChangeInput,
    PasswordChangeInput,
    PasswordResetInput,
    PasswordResetRequestInput,
    ProfileInput,
    SignUpInput,
)
from market.accounts.models import ApiToken, OutboxMail, PasswordResetToken, Role, User
from market.declared import declared_limits, text, validate_input
from market.errors import ValidationError
from market.extensions import db
from tests.conftest import PASSWORD

FORMS_AND_INPUTS = [
    (forms.RegisterForm, SignUpInput),
    (forms.ProfileEditForm, ProfileInput),
    (forms.PasswordChangeForm, PasswordChangeInput),
    (forms.PasswordResetRequestForm, PasswordResetRequestInput),
    (forms.PasswordResetForm, PasswordResetInput),
    (forms.EmailChangeForm, EmailChangeInput),
    (forms.ApiTokenCreateForm, ApiTokenInput),
]
TOO_LONG_PASSWORD = "p" * PASSWORD_MAX_LENGTH + "q"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("form_class, model", FORMS_AND_INPUTS, ids=lambda item: item.__name__)
def test_each_account_form_shows_the_required_fields_lengths_and_choices_of_its_input(app, form_class, model):
    with app.test_request_context("/"):
        form = form_class(formdata=None)
    assert form.declared_input() is model
    for name, limits in declared_limits(model).items():
        field = form[name]
        assert bool(field.flags.required) == limits.required, name
        assert field.flags.maxlength == limits.max_length or limits.max_length is None, name
        if limits.values:
            assert [choice.value for choice in field.choices] == [str(value) for value in limits.values], name


def test_the_declared_passwords_carry_the_one_password_limit():
    for model, name in ((SignUpInput, "password"), (PasswordResetInput, "password"),
                        (PasswordChangeInput, "current_password"), (PasswordChangeInput, "new_password"),
                        (EmailChangeInput, "current_password")):
        assert declared_limits(model)[name].max_length == PASSWORD_MAX_LENGTH


def test_one_registers_only_as_researcher_enterprise_user_or_broker(app):
    assert Role.ADMIN not in SIGN_UP_ROLES
    assert declared_limits(SignUpInput)["role"].values == tuple(role.value for role in SIGN_UP_ROLES)
    with app.test_request_context("/"):
        offered = [choice.value for choice in forms.RegisterForm(formdata=None).role.choices]
    assert offered == ["researcher", "enterprise", "broker"]


def test_the_services_refuse_an_overlong_password_that_only_the_forms_refused_before(app, make_user,
                                                                                     make_organisation):
    user = make_user("researcher")
    message = f"不能超过 {PASSWORD_MAX_LENGTH} 个字符。"
    with pytest.raises(ValidationError) as refused:
        services.register_user(db.session, email="long@example.org", name="王研究", password=TOO_LONG_PASSWORD,
                               role=Role.RESEARCHER, organisation_id=make_organisation("university").id)
    assert refused.value.fields == {"password": message}
    with pytest.raises(ValidationError) as refused:
        services.change_password(db.session, user, current_password=PASSWORD, new_password=TOO_LONG_PASSWORD)
    assert refused.value.fields == {"new_password": message}
    tokens = []
    services.request_password_reset(db.session, user.email, lambda token: tokens.append(token) or token)
    with pytest.raises(ValidationError) as refused:
        services.reset_password(db.session, tokens[0], TOO_LONG_PASSWORD)
    assert refused.value.fields == {"password": message}
    assert count(User) == 1 and services.authenticate(db.session, user.email, PASSWORD) == user


def test_a_password_is_kept_exactly_as_typed(app, make_user):
    user = make_user("researcher")
    services.change_password(db.session, user, current_password=PASSWORD, new_password="  spaced passphrase  ")
    assert services.authenticate(db.session, user.email, "  spaced passphrase  ") == user
    with pytest.raises(ValidationError):
        services.authenticate(db.session, user.email, "spaced passphrase")


@pytest.mark.parametrize("email", ["not-an-address", "@", "a" * 250 + "@x.org", None])
def test_a_reset_request_for_something_that_is_not_an_address_is_refused_and_mails_nothing(app, email):
    with pytest.raises(ValidationError) as refused:
        services.request_password_reset(db.session, email, lambda token: token)
    assert refused.value.fields == {"email": "请输入有效的邮箱地址。"}
    assert count(OutboxMail) == count(PasswordResetToken) == 0


def test_the_email_change_checks_the_password_before_the_address(app, make_user):
    user = make_user("researcher", email="old@example.org")
    for password, new_email, fields in (("wrong-password-1", "not-an-address", {"current_password": "当前密码不正确。"}),
                                        (TOO_LONG_PASSWORD, "new@example.org", {"current_password": "当前密码不正确。"}),
                                        (PASSWORD, "not-an-address", {"new_email": "请输入有效的邮箱地址。"})):
        with pytest.raises(ValidationError) as refused:
            email_change.request_email_change(db.session, user, current_password=password, new_email=new_email,
                                              confirm_url_for=lambda token: token)
        assert refused.value.fields == fields
    assert count(OutboxMail) == 0


def test_changing_the_declared_token_name_limit_changes_the_service_and_the_form(app, make_user, monkeypatch):
    short = create_model("ApiTokenInput", __base__=ApiTokenInput, name=text(12, required=True, multiline=False))
    for module in (services, forms):
        monkeypatch.setattr(module, "ApiTokenInput", short)
    message = "不能超过 12 个字符。"
    with pytest.raises(ValidationError) as refused:
        services.create_api_token(db.session, make_user("enterprise"), "令" * 13)
    assert refused.value.fields == {"name": message}
    assert count(ApiToken) == 0
    with app.test_request_context("/", method="POST", data={"name": "令" * 13}):
        form = forms.ApiTokenCreateForm(meta={"csrf": False})
        assert form.name.flags.maxlength == 12
        assert not form.validate() and form.name.errors == [message]


def test_the_sign_up_input_checks_the_way_of_joining_with_the_role(app):
    base = {"email": "a@example.org", "name": "王研究", "password": PASSWORD, "role": "enterprise"}
    cases = [({"join": "existing"}, {"organisation_id": "请选择要加入的机构，或申请新建机构。"}),
             ({"join": "new", "organisation_kind": "university"},
              {"organisation_name": "请填写机构名称。", "organisation_kind": "该身份不能加入此类机构。"}),
             ({"join": "new", "organisation_name": "某公司", "organisation_kind": "enterprise"}, {}),
             ({"join": "existing", "organisation_id": "7"}, {}),
             ({"join": "existing", "organisation_id": "7", "role": "admin"},
              {"role": "请选择科研人员、企业或技术经理人。"}),
             ({"join": "sideways", "organisation_id": "7"}, {"join": "无效的选项。"}),
             ({"join": "existing", "organisation_id": "1 OR 1=1"}, {"organisation_id": "请选择要加入的机构，或申请新建机构。"})]
    with app.test_request_context("/"):
        for changes, expected in cases:
            _values, errors = validate_input(SignUpInput, {**base, **changes})
            assert dict(errors) == expected, changes
        values, _errors = validate_input(SignUpInput, {**base, "email": " A@Example.ORG ", "join": "existing",
                                                       "organisation_id": "7"})
    assert (values["email"], values["organisation_id"], values["role"]) == ("a@example.org", 7, Role.ENTERPRISE)
