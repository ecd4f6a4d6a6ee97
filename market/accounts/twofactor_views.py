"""Two-factor pages: the code step of login, enrolment with a QR code, new recovery codes, turning it off,
re-authentication and the admin's reset."""
import time

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user
from markupsafe import Markup

from market.accounts import services, twofactor
from market.accounts.forms import (
    ReauthenticateForm,
    SecondFactorCodeForm,
    SecondFactorTurnOffForm,
)
from market.accounts.guards import recent_login_required
from market.accounts.twofactor import SecondFactorRequiredError
from market.accounts.views import bp, per_account, two_factor_limit
from market.audit.services import record_failed_login_code
from market.errors import DomainError, PermissionDeniedError, json_error, wants_json
from market.extensions import db, limiter
from market.formtools import apply_errors
from market.safety import safe_next
from market.unit_of_work import savepoint

PENDING_LOGIN_SECONDS = 300
"""How long the code step waits after a correct password."""


def _pending_user_key() -> str:
    return f"2fa-user:{(session.get('pending_login') or {}).get('user_id', '-')}"


def open_session(user) -> None:
    """Rotate the cookie session and open a server-side session for a user who passed every login step."""
    session.clear()
    session.permanent = True
    session["sid"] = services.start_session(db.session, user, request.user_agent.string or "")
    login_user(user)
    if user.locale:
        session["lang"] = user.locale


def begin_login(user, next_url: str):
    """After a correct password: straight in, or on to the code step when the user has a second factor."""
    if not twofactor.needs_second_factor(user):
        open_session(user)
        return redirect(next_url)
    session.clear()
    session["pending_login"] = {"user_id": user.id, "at": int(time.time()), "next": next_url}
    return redirect(url_for("accounts.login_code"))


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(two_factor_limit, methods=["POST"])
@limiter.limit(two_factor_limit, methods=["POST"], key_func=_pending_user_key)
def login_code():
    """The second login step: a code from the authenticator app or a recovery code."""
    pending = session.get("pending_login")
    if not pending or time.time() - pending.get("at", 0) > PENDING_LOGIN_SECONDS:
        session.pop("pending_login", None)
        flash(_("请重新输入邮箱和密码。"), "warning")
        return redirect(url_for("accounts.login"))
    form = SecondFactorCodeForm()
    if form.validate_on_submit():
        user = services.get_user(db.session, pending["user_id"])
        if user.is_active_account and twofactor.verify_second_factor(db.session, user, form.code.data):
            open_session(user)
            return redirect(safe_next(pending.get("next"), url_for("listings.workspace")))
        record_failed_login_code(db.session, user.id)
        form.form_errors = [_("验证码不正确。")]
    status = 422 if form.errors or getattr(form, "form_errors", None) else 200
    return render_template("accounts/login_code.html", form=form), status


@bp.route("/profile/two-factor", methods=["GET", "POST"])
@login_required
def two_factor():
    """Enrol an authenticator: scan the QR code (or type the secret), confirm a code, note the recovery codes."""
    if not twofactor.may_enrol(current_user):
        raise PermissionDeniedError(_("只有平台管理员和技术经理人可以启用两步验证。"))
    if current_user.has_second_factor:
        return _enrolled_page()
    form = SecondFactorCodeForm()
    if request.method == "POST" and current_user.second_factor is None:
        flash(_("请先扫描二维码，再输入验证码。"), "warning")
        return redirect(url_for("accounts.two_factor"))
    factor = twofactor.start_enrolment(db.session, current_user)
    if form.validate_on_submit():
        try:
            with savepoint():
                codes = twofactor.confirm_enrolment(db.session, current_user, form.code.data)
        except DomainError as error:
            apply_errors(form, error)
        else:
            return render_template("accounts/two_factor.html", enrolled=True, recovery_codes=codes,
                                   codes_left=len(codes))
    uri = twofactor.provisioning_uri(current_user, factor)
    status = 422 if form.errors or getattr(form, "form_errors", None) else 200
    return render_template("accounts/two_factor.html", enrolled=False, form=form,
                           qr=Markup(twofactor.qr_svg(uri)), secret=factor.secret), status


def _enrolled_page(*, renew_form=None, off_form=None, recovery_codes=None):
    """The page of an enrolled user: codes left, new recovery codes, turning the authenticator off."""
    renew_form = renew_form or SecondFactorCodeForm(formdata=None, prefix="renew")
    off_form = off_form or SecondFactorTurnOffForm(formdata=None, prefix="off")
    failed = any(form.errors or getattr(form, "form_errors", None) for form in (renew_form, off_form))
    codes_left = len(recovery_codes) if recovery_codes else twofactor.count_unused_recovery_codes(db.session,
                                                                                                   current_user)
    return render_template("accounts/two_factor.html", enrolled=True, codes_left=codes_left,
                           recovery_codes=recovery_codes, renew_form=renew_form, off_form=off_form), 422 if failed else 200


_guesses_per_address = limiter.shared_limit(two_factor_limit, scope="second-factor-upkeep")
_guesses_per_account = limiter.shared_limit(two_factor_limit, scope="second-factor-upkeep-account",
                                            key_func=per_account)
"""Code guesses on the two upkeep routes are counted together, per address and per account."""


def _require_enrolled() -> None:
    if not current_user.has_second_factor:
        raise PermissionDeniedError(_("未启用两步验证。"))


@bp.route("/profile/two-factor/recovery-codes", methods=["POST"])
@login_required
@recent_login_required(back="accounts.two_factor")
@_guesses_per_address
@_guesses_per_account
def replace_recovery_codes():
    """Ten new recovery codes for a current code (the old ones stop working), shown once on this answer."""
    _require_enrolled()
    form = SecondFactorCodeForm(prefix="renew")
    if form.validate_on_submit():
        try:
            with savepoint():
                codes = twofactor.replace_recovery_codes(db.session, current_user, form.code.data)
        except DomainError as error:
            apply_errors(form, error)
        else:
            return _enrolled_page(recovery_codes=codes)
    return _enrolled_page(renew_form=form)


@bp.route("/profile/two-factor/off", methods=["POST"])
@login_required
@recent_login_required(back="accounts.two_factor")
@_guesses_per_address
@_guesses_per_account
def turn_off_second_factor():
    """Remove one's own authenticator for a current code, after acknowledging what is lost."""
    _require_enrolled()
    form = SecondFactorTurnOffForm(prefix="off")
    if form.validate_on_submit():
        try:
            with savepoint():
                twofactor.turn_off_second_factor(db.session, current_user, form.code.data)
        except DomainError as error:
            apply_errors(form, error)
        else:
            flash(_("两步验证已关闭，登录时只需要密码。"), "warning")
            return redirect(url_for("accounts.profile"))
    return _enrolled_page(off_form=form)


@bp.route("/reauth", methods=["GET", "POST"])
@login_required
@limiter.limit(two_factor_limit, methods=["POST"])
def reauthenticate():
    """Enter the password (and a code) again before a payout or a password change, then go on."""
    form = ReauthenticateForm(next=request.args.get("next", ""))
    needs_code = twofactor.needs_second_factor(current_user)
    if form.validate_on_submit():
        try:
            with savepoint():
                services.authenticate(db.session, current_user.email, form.password.data)
        except DomainError:
            form.form_errors = [_("密码不正确。")]
        else:
            if needs_code and not twofactor.verify_second_factor(db.session, current_user, form.code.data or ""):
                form.form_errors = [_("验证码不正确。")]
            else:
                twofactor.confirm_recent_login(db.session, current_user, session.get("sid"))
                flash(_("身份已确认，请继续操作。"), "success")
                return redirect(safe_next(form.next.data, url_for("accounts.profile")))
    status = 422 if getattr(form, "form_errors", None) or form.errors else 200
    return render_template("accounts/reauth.html", form=form, needs_code=needs_code), status


@bp.app_errorhandler(SecondFactorRequiredError)
def send_to_enrolment(error: SecondFactorRequiredError):
    """Pages send a user without a second factor to enrol; the API answers 403 with the reason."""
    if wants_json():
        return json_error(error.status, error.code, error.message)
    flash(error.message, "warning")
    return redirect(url_for("accounts.two_factor"))
