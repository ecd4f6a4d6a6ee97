"""Account pages: register, login, logout, password reset, profile, e-mail change, API tokens, organisation pages."""
from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from market.accounts import email_change, services
from market.accounts.forms import (
    ApiTokenCreateForm,
    ConfirmActionForm,
    EmailChangeForm,
    LoginForm,
    PasswordChangeForm,
    PasswordResetForm,
    PasswordResetRequestForm,
    ProfileEditForm,
    RegisterForm,
)
from market.accounts.guards import recent_login_required
from market.accounts.inputs import SIGN_UP_ROLES
from market.audit.services import record_failed_login
from market.errors import DomainError
from market.extensions import db, limiter
from market.formtools import apply_errors, options
from market.links import external_url
from market.listings import queries
from market.listings.vocabulary import ListingKind
from market.safety import safe_next
from market.unit_of_work import savepoint

bp = Blueprint("accounts", __name__)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _register_limit() -> str:
    return current_app.config["REGISTER_RATE_LIMIT"]


def two_factor_limit() -> str:
    """The limit on password and code checks of signed-in users (re-authentication, the code step, upkeep)."""
    return current_app.config["TWO_FACTOR_RATE_LIMIT"]


def per_account() -> str:
    """Rate-limit key: the signed-in account, whatever address it comes from."""
    return f"account:{current_user.get_id()}"


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_register_limit, methods=["POST"])
def register():
    """Sign up and join or propose an organisation."""
    form = RegisterForm()
    form.organisation_id.choices = options([("", _("请选择"))] + [
        (str(o.id), o.name) for r in SIGN_UP_ROLES
        for o in services.list_organisations_for_role(db.session, r)
    ])
    if form.validate_on_submit():
        try:
            with savepoint():
                services.register_user(db.session, email=form.email.data, name=form.name.data,
                                       password=form.password.data, role=form.role.data, join=form.join.data,
                                       organisation_id=form.organisation_id.data,
                                       organisation_name=form.organisation_name.data,
                                       organisation_kind=form.organisation_kind.data,
                                       organisation_region=form.organisation_region.data)
        except DomainError as error:
            apply_errors(form, error)
        else:
            flash(_("注册申请已提交。机构管理员审核通过后即可发布信息；现在可以登录。"), "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/register.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    """Log in; the session is rotated and kept server-side."""
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            with savepoint():
                user = services.authenticate(db.session, form.email.data, form.password.data)
        except DomainError as error:
            record_failed_login(db.session, form.email.data)
            form.form_errors = [error.message]
        else:
            return twofactor_views.begin_login(user, safe_next(form.next.data, url_for("listings.workspace")))
    return render_template("accounts/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    """End the server-side session."""
    services.end_session(db.session, session.get("sid"))
    logout_user()
    session.clear()
    flash(_("您已退出登录。"), "info")
    return redirect(url_for("pages.home"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def forgot_password():
    """Ask for a reset link (the answer is the same whether or not the address exists)."""
    form = PasswordResetRequestForm()
    if form.validate_on_submit():
        try:
            with savepoint():
                services.request_password_reset(
                    db.session, form.email.data,
                    lambda token: external_url("accounts.reset_password", token=token))
        except DomainError as error:
            apply_errors(form, error)
        else:
            flash(_("如果该邮箱已注册，重置链接已发送，请在一小时内使用。"), "info")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot_password.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password with a reset link."""
    form = PasswordResetForm()
    if form.validate_on_submit():
        try:
            with savepoint():
                services.reset_password(db.session, token, form.password.data)
        except DomainError as error:
            apply_errors(form, error)
        else:
            flash(_("密码已重置，请用新密码登录。"), "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_password.html", form=form)


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    """See and edit one's profile."""
    form = ProfileEditForm(obj=current_user)
    if form.validate_on_submit():
        try:
            with savepoint():
                services.update_profile(db.session, current_user, name=form.name.data, phone=form.phone.data or "",
                                        locale=form.locale.data)
        except DomainError as error:
            apply_errors(form, error)
        else:
            session["lang"] = form.locale.data
            flash(_("资料已保存。"), "success")
            return redirect(url_for("accounts.profile"))
    status = 422 if form.errors or getattr(form, "form_errors", None) else 200
    return render_template("accounts/profile.html", form=form, password_form=PasswordChangeForm(),
                           token_form=ApiTokenCreateForm(), tokens=services.list_api_tokens(db.session, current_user),
                           new_token=None), status


@bp.route("/profile/password", methods=["POST"])
@login_required
@recent_login_required(back="accounts.profile")
def change_password():
    """Change the password; every session ends, so the user logs in again."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            with savepoint():
                services.change_password(db.session, current_user, current_password=form.current_password.data,
                                         new_password=form.new_password.data)
        except DomainError as error:
            apply_errors(form, error)
        else:
            logout_user()
            session.clear()
            flash(_("密码已修改，请重新登录。"), "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/profile.html", form=ProfileEditForm(formdata=None, obj=current_user),
                           password_form=form, token_form=ApiTokenCreateForm(formdata=None),
                           tokens=services.list_api_tokens(db.session, current_user), new_token=None), 422


@bp.route("/profile/email", methods=["GET", "POST"])
@login_required
@recent_login_required(back="accounts.profile")
@limiter.limit(two_factor_limit, methods=["POST"])
@limiter.limit(two_factor_limit, methods=["POST"], key_func=per_account)
def change_email():
    """Ask to change the login e-mail: the same answer whether or not the new address is free (no enumeration)."""
    form = EmailChangeForm()
    if form.validate_on_submit():
        try:
            with savepoint():
                email_change.request_email_change(
                    db.session, current_user, current_password=form.current_password.data,
                    new_email=form.new_email.data,
                    confirm_url_for=lambda token: external_url("accounts.confirm_email", token=token))
        except DomainError as error:
            apply_errors(form, error)
        else:
            flash(_("如果该邮箱可以使用，确认链接已发送到新邮箱，请在 24 小时内打开。确认之前仍使用当前邮箱登录。"), "info")
            return redirect(url_for("accounts.profile"))
    status = 422 if form.errors or getattr(form, "form_errors", None) else 200
    return render_template("accounts/change_email.html", form=form), status


@bp.route("/email/confirm/<token>", methods=["GET", "POST"])
@login_required
def confirm_email(token: str):
    """Confirm a new login e-mail from the mailed link, signed in as the account that asked for it."""
    form = ConfirmActionForm()
    if form.validate_on_submit():
        try:
            with savepoint():
                email_change.confirm_email_change(db.session, current_user, token, keep_session=session.get("sid"))
        except DomainError as error:
            apply_errors(form, error)
        else:
            flash(_("登录邮箱已更改，其他设备上的登录已退出。"), "success")
            return redirect(url_for("accounts.profile"))
    change = email_change.find_email_change(db.session, current_user, token)
    status = 404 if change is None else 422 if getattr(form, "form_errors", None) else 200
    return render_template("accounts/confirm_email.html", change=change, form=form), status


@bp.route("/profile/tokens", methods=["POST"])
@login_required
def create_token():
    """Create a personal API token, shown once on this response only (never put in the session cookie)."""
    form = ApiTokenCreateForm()
    new_token = None
    if form.validate_on_submit():
        try:
            with savepoint():
                new_token = services.create_api_token(db.session, current_user, form.name.data)
        except DomainError as error:
            apply_errors(form, error)
    status = 200 if new_token else 422
    return render_template("accounts/profile.html", form=ProfileEditForm(obj=current_user),
                           password_form=PasswordChangeForm(formdata=None),
                           token_form=ApiTokenCreateForm(formdata=None) if new_token else form,
                           tokens=services.list_api_tokens(db.session, current_user), new_token=new_token), status


@bp.route("/profile/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    """Revoke one of one's tokens."""
    services.revoke_api_token(db.session, current_user, token_id)
    flash(_("令牌已吊销。"), "info")
    return redirect(url_for("accounts.profile"))


@bp.route("/organisations/<int:organisation_id>")
def organisation(organisation_id: int):
    """An organisation's public page with its published listings."""
    org = services.get_organisation(db.session, organisation_id)
    achievements = queries.list_organisation_listings(db.session, ListingKind.ACHIEVEMENT, org.id, public_only=True)
    demands = queries.list_organisation_listings(db.session, ListingKind.DEMAND, org.id, public_only=True)
    return render_template("accounts/organisation.html", org=org, achievements=achievements, demands=demands)


from market.accounts import twofactor_views  # registers the two-factor routes on this blueprint; imported last
