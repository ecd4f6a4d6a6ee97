"""Bearer-token authentication for the JSON API: personal API tokens only, cookies are never used."""
import logging
import re

from flask import g
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from market.accounts.models import User
from market.accounts.services import find_token_user
from market.audit.capture import act_as
from market.errors import DomainError

audit = logging.getLogger("market.audit")

REALM = "jinchuang"
_BEARER = re.compile(r"Bearer +([A-Za-z0-9\-._~+/]{1,200}=*) *", re.IGNORECASE)


class AuthenticationError(DomainError):
    """No usable bearer token: answered with 401 and a WWW-Authenticate challenge."""

    status = 401
    code = "unauthorized"

    def __init__(self, message: str, *, invalid_token: bool):
        super().__init__(message)
        self.challenge = f'Bearer realm="{REALM}"' + (', error="invalid_token"' if invalid_token else "")


def optional_token_user(session: Session, request) -> User | None:
    """The user behind the request's bearer token, None without one; a token that is sent must be valid."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    match = _BEARER.fullmatch(header)
    user = find_token_user(session, match.group(1)) if match else None
    if user is None:
        audit.info("api token rejected request_id=%s", g.get("request_id", "-"))
        raise AuthenticationError(_("API 令牌无效或已被撤销。"), invalid_token=True)
    act_as(user)
    return user


def require_token_user(session: Session, request) -> User:
    """The user behind the request's bearer token; 401 without a valid one (a session cookie is not enough)."""
    user = optional_token_user(session, request)
    if user is None:
        raise AuthenticationError(_("请在 Authorization 请求头中提供 API 令牌（Bearer）。"), invalid_token=False)
    return user
