"""The entries no table change makes: refused logins, recorded explicitly by the login pages."""
from sqlalchemy.orm import Session

from market.audit.audited import FAILED_LOGIN, FAILED_LOGIN_CODE, LOGIN_OBJECT
from market.audit.capture import request_context
from market.audit.models import AuditEntry

TRIED_ADDRESS_MAX_LENGTH = 254
"""How much of a typed login address is kept (the longest valid address)."""


def record_failed_login(session: Session, email: str) -> AuditEntry:
    """A refused password login: the address tried (never the password), the request id and the client address."""
    return _append(session, FAILED_LOGIN, None, {"email": (email or "").strip()[:TRIED_ADDRESS_MAX_LENGTH]})


def record_failed_login_code(session: Session, user_id: int) -> AuditEntry:
    """A refused second-factor code at login, after a correct password: whose login it was (never the code)."""
    return _append(session, FAILED_LOGIN_CODE, user_id, {"user_id": user_id})


def _append(session: Session, action: str, object_id: int | None, after: dict) -> AuditEntry:
    entry = AuditEntry(action=action, object_type=LOGIN_OBJECT, object_id=object_id, after=after, **request_context())
    session.add(entry)
    session.flush()
    return entry
