"""View guards for sensitive account actions: a recent login (password and code checked in the last 10 minutes)."""
from functools import wraps

from flask import flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from market.accounts import twofactor
from market.extensions import db
from market.safety import safe_next


def recent_login_required(back: str):
    """Send the user to re-enter the password (and code) unless this session checked them in the last 10 minutes;
    afterwards they return to the form's `next` page, else to the `back` endpoint."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if current_user.is_authenticated and not twofactor.is_recent_login(db.session, session.get("sid")):
                flash(_("该操作需要在 10 分钟内验证过身份，请重新输入密码后继续。"), "warning")
                default = url_for(back)
                target = safe_next(request.form.get("next"), default) if request.method == "POST" else request.full_path
                return redirect(url_for("accounts.reauthenticate", next=target))
            return view(*args, **kwargs)

        return wrapped

    return decorator
