"""Idempotency keys for API writes that move money: a retried request is answered from the stored response.

The key's record, the operation and the stored response are written in ONE transaction, the request's unit of
work (market/unit_of_work.py), which commits once at the end. So a crash or an exception at any point before that
commit leaves nothing (the retry runs the operation), and after it the finished answer (the retry replays it): an
operation never runs twice and a key is never stuck.

1. Claim: the record is inserted in a savepoint. The unique (user, key) index decides between concurrent requests
   with the same key: on PostgreSQL a duplicate's INSERT waits on the index until the first request's transaction
   ends, bounded by `SET LOCAL lock_timeout`; on SQLite the savepoint opens the transaction with BEGIN IMMEDIATE,
   which waits for the first request's write lock, bounded by the busy timeout. When the first committed, the
   duplicate finds its record and replays the stored answer; when it rolled back, the duplicate runs the operation
   itself; when the wait runs out, the duplicate answers 409 with Retry-After.
2. The operation runs in a savepoint: a refusal by the domain (4xx) undoes its writes and is stored and replayed
   like a success.
3. The response is stored on the record, and the unit of work commits all three together.

Input that fails validation before the claim leaves no record (the key may be used again with a corrected body).
"""
import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from market.api.models import IdempotencyRecord, IdempotencyState
from market.database import SQLITE_BUSY_TIMEOUT_MS
from market.errors import DomainError
from market.unit_of_work import savepoint

audit = logging.getLogger("market.audit")

KEY_HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 100
KEY_PATTERN = re.compile(rf"[\x21-\x7e]{{1,{MAX_KEY_LENGTH}}}")
"""1–100 visible ASCII characters (no spaces), e.g. a UUID."""
REPLAY_HEADER = "Idempotent-Replayed"
DUPLICATE_WAIT_MS = 5000
"""How long a duplicate waits for the first request with its key (config IDEMPOTENCY_WAIT_MS overrides it)."""
RETRY_AFTER_SECONDS = 1


class IdempotencyKeyError(DomainError):
    """The Idempotency-Key header is missing or malformed (400)."""

    status = 400
    code = "idempotency_key_required"


class IdempotencyKeyReusedError(DomainError):
    """The key was first used for another request (other body, path or method) of the same user (422)."""

    status = 422
    code = "idempotency_key_reused"


class RequestInProgressError(DomainError):
    """The first request with this key is still being answered (409 with Retry-After); retry once it is done."""

    status = 409
    code = "request_in_progress"
    retry_after = RETRY_AFTER_SECONDS


@dataclass(frozen=True)
class StoredResponse:
    """A response as sent: its status and its exact JSON text."""

    status: int
    body: str

    def to_response(self, *, replayed: bool):
        """The Flask response; a replay is marked with the Idempotent-Replayed header."""
        response = current_app.response_class(self.body, status=self.status, mimetype="application/json")
        if replayed:
            response.headers[REPLAY_HEADER] = "true"
        return response


def read_idempotency_key(request) -> str:
    """The request's Idempotency-Key; IdempotencyKeyError when it is missing, repeated or malformed."""
    values = request.headers.getlist(KEY_HEADER)
    if not values:
        raise IdempotencyKeyError(_("登记付款须在 Idempotency-Key 请求头中提供幂等键（1–100 个可见 ASCII 字符，"
                                    "如 UUID），重试时使用同一个键。"))
    if len(values) > 1 or not KEY_PATTERN.fullmatch(values[0]):
        raise IdempotencyKeyError(_("Idempotency-Key 只能出现一次，且须为 1–100 个可见 ASCII 字符（不含空格）。"))
    return values[0]


def request_fingerprint(data: dict) -> str:
    """A digest of a checked request body that does not depend on key order or whitespace."""
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def render_json(status: int, body: dict) -> StoredResponse:
    """A response body serialised once, so that the first answer and every replay are byte for byte the same."""
    return StoredResponse(status, current_app.json.dumps(body) + "\n")


@dataclass(frozen=True)
class KeyedRequest:
    """What identifies a keyed request: the user, the key, and the request it must match when used again."""

    user_id: int
    key: str
    method: str
    path: str
    fingerprint: str


def claim_key(session: Session, request: KeyedRequest) -> IdempotencyRecord | StoredResponse:
    """Add the in_progress record to the request's transaction and return it; or, when the key is already taken,
    the stored response to replay. Raises RequestInProgressError or IdempotencyKeyReusedError."""
    record = IdempotencyRecord(user_id=request.user_id, key=request.key, method=request.method, path=request.path,
                               request_hash=request.fingerprint, state=IdempotencyState.IN_PROGRESS)
    try:
        with _sqlite_wait(session), savepoint(session):
            _postgres_wait(session, f"{_wait_ms()}ms")
            session.add(record)
            session.flush()
    except IntegrityError:
        pass
    except OperationalError as error:
        if not _is_lock_wait(error):
            raise
        audit.info("idempotency key of user_id=%s still in use after %s ms", request.user_id, _wait_ms())
        raise _in_progress() from None
    else:
        _postgres_wait(session, "DEFAULT")
        return record
    existing = session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.user_id == request.user_id,
                                                              IdempotencyRecord.key == request.key))
    if existing is None:
        raise _in_progress()
    if (existing.method, existing.path, existing.request_hash) != (request.method, request.path, request.fingerprint):
        audit.info("idempotency key of record %s reused for another request by user_id=%s", existing.id,
                   request.user_id)
        raise IdempotencyKeyReusedError(
            _("该 Idempotency-Key 已用于另一个请求（请求体或地址不同）；新的请求请使用新的键。"),
            {KEY_HEADER: _("已用于另一个请求。")})
    if existing.state != IdempotencyState.DONE:
        raise _in_progress()
    audit.info("idempotency record %s replayed to user_id=%s", existing.id, request.user_id)
    return StoredResponse(existing.response_status, existing.response_body)


def _wait_ms() -> int:
    return int(current_app.config.get("IDEMPOTENCY_WAIT_MS", DUPLICATE_WAIT_MS))


def _postgres_wait(session: Session, limit: str) -> None:
    """PostgreSQL: how long a statement of this transaction waits for a lock (a duplicate key's INSERT waits on the
    unique index for the first request's transaction)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL lock_timeout TO {'DEFAULT' if limit == 'DEFAULT' else repr(limit)}"))


@contextmanager
def _sqlite_wait(session: Session) -> Iterator[None]:
    """SQLite: how long the claim's BEGIN IMMEDIATE waits for the first request's write lock (the busy timeout)."""
    if session.get_bind().dialect.name != "sqlite":
        yield
        return
    connection = session.connection()
    connection.exec_driver_sql(f"PRAGMA busy_timeout = {_wait_ms()}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")


def _is_lock_wait(error: OperationalError) -> bool:
    """A wait for the first request ran out: PostgreSQL's lock_timeout (55P03) or SQLite's "database is locked"."""
    sqlstate = getattr(error.orig, "sqlstate", None)
    return sqlstate == "55P03" or "database is locked" in str(error.orig)


def _in_progress() -> RequestInProgressError:
    return RequestInProgressError(_("使用同一 Idempotency-Key 的请求正在处理中，请稍后用同一个键重试。"))


def store_response(session: Session, record: IdempotencyRecord, response: StoredResponse) -> None:
    """Keep the answer on the record, in the same transaction as the operation: later requests replay it."""
    record.state, record.response_status, record.response_body = IdempotencyState.DONE, response.status, response.body
    session.flush()


def run_once(session: Session, request: KeyedRequest, operation: Callable[[], object],
             answer: Callable[[object], StoredResponse], refusal: Callable[[DomainError], StoredResponse]):
    """Answer a keyed request: replay the stored response, or run `operation` once and store what `answer` (on
    success) or `refusal` (on a domain error, its writes undone) makes of it. Returns the Flask response; the
    request's unit of work commits the record, the operation and the response together."""
    claimed = claim_key(session, request)
    if isinstance(claimed, StoredResponse):
        return claimed.to_response(replayed=True)
    try:
        with savepoint(session):
            result = operation()
    except DomainError as error:
        response = refusal(error)
    else:
        response = answer(result)
    store_response(session, claimed, response)
    return response.to_response(replayed=False)
