"""How a request finds its user (server-side session) and its language."""
from flask import current_app, has_request_context, session
from flask_login import current_user

from market.accounts import services
from market.extensions import db


def load_session_user(user_id: str):
    """Flask-Login's user loader: the cookie's session token must match a live server-side session."""
    try:
        uid = int(user_id)
    except (TypeError, ValueError):
        return None
    return services.find_session_user(
        db.session, session.get("sid"), uid,
        current_app.config["SESSION_IDLE_TIMEOUT"], current_app.config["SESSION_ABSOLUTE_TIMEOUT"],
    )


def select_locale() -> str:
    """The chosen language: the session's switch, else the user's profile, else Chinese."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    if getattr(current_user, "is_authenticated", False) and current_user.locale in languages:
        return current_user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]
