"""Idempotency keys for API writes that move money: a retried request is answered from the stored response.

A request with a key runs in three short steps. First an in_progress record is inserted and committed on its own:
the unique (user, key) constraint lets exactly one of several concurrent requests win; a loser finds the winner's
record and answers 409 while it runs, or replays its stored answer once it is done. Then the operation runs (the
money services take the money lock and commit). Last the response is stored on the record. A refusal by the
domain (4xx) is stored and replayed like a success; an unexpected failure before the operation committed deletes
the record, so that a retry runs the operation exactly once. Input that fails validation before the operation
starts leaves no record (the key may be used again with a corrected body).
"""
import hashlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, event, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, scoped_session

from market.api.models import IdempotencyRecord, IdempotencyState
from market.errors import DomainError

log = logging.getLogger(__name__)
audit = logging.getLogger("market.audit")

KEY_HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 100
KEY_PATTERN = re.compile(rf"[\x21-\x7e]{{1,{MAX_KEY_LENGTH}}}")
"""1–100 visible ASCII characters (no spaces), e.g. a UUID."""
REPLAY_HEADER = "Idempotent-Replayed"
CLAIM_ATTEMPTS = 3
"""How often a request tries to claim a key whose record vanished meanwhile (its holder failed and released it)."""


class IdempotencyKeyError(DomainError):
    """The Idempotency-Key header is missing or malformed (400)."""

    status = 400
    code = "idempotency_key_required"


class IdempotencyKeyReusedError(DomainError):
    """The key was first used for another request (other body, path or method) of the same user (422)."""

    status = 422
    code = "idempotency_key_reused"


class RequestInProgressError(DomainError):
    """The first request with this key is still being answered (409); retry once it is done."""

    status = 409
    code = "request_in_progress"


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


def claim_key(session: Session, request: KeyedRequest) -> int | StoredResponse:
    """Insert the in_progress record in its own transaction and return its id; or, when the key is already taken,
    the stored response to replay. Raises RequestInProgressError or IdempotencyKeyReusedError."""
    session.rollback()
    for _attempt in range(CLAIM_ATTEMPTS):
        record = IdempotencyRecord(user_id=request.user_id, key=request.key, method=request.method,
                                   path=request.path, request_hash=request.fingerprint,
                                   state=IdempotencyState.IN_PROGRESS)
        session.add(record)
        try:
            session.flush()
            record_id = record.id
            session.commit()
        except IntegrityError:
            session.rollback()
        else:
            return record_id
        existing = session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.user_id == request.user_id,
                                                                  IdempotencyRecord.key == request.key))
        if existing is None:
            continue
        if (existing.method, existing.path, existing.request_hash) != (request.method, request.path,
                                                                      request.fingerprint):
            audit.info("idempotency key of record %s reused for another request by user_id=%s", existing.id,
                       request.user_id)
            session.rollback()
            raise IdempotencyKeyReusedError(
                _("该 Idempotency-Key 已用于另一个请求（请求体或地址不同）；新的请求请使用新的键。"),
                {KEY_HEADER: _("已用于另一个请求。")})
        if existing.state == IdempotencyState.DONE:
            audit.info("idempotency record %s replayed to user_id=%s", existing.id, request.user_id)
            stored = StoredResponse(existing.response_status, existing.response_body)
            session.rollback()
            return stored
        session.rollback()
        raise _in_progress()
    raise _in_progress()


def _in_progress() -> RequestInProgressError:
    return RequestInProgressError(_("使用同一 Idempotency-Key 的请求正在处理中，请稍后用同一个键重试。"))


def store_response(session: Session, record_id: int, response: StoredResponse) -> None:
    """Keep the answer on the record (its own transaction): later requests with the key replay it."""
    session.execute(update(IdempotencyRecord)
                    .where(IdempotencyRecord.id == record_id, IdempotencyRecord.state == IdempotencyState.IN_PROGRESS)
                    .values(state=IdempotencyState.DONE, response_status=response.status, response_body=response.body)
                    .execution_options(synchronize_session=False))
    session.commit()


def release_key(session: Session, record_id: int) -> None:
    """Delete an in_progress record after an unexpected failure, so that a retry with the key runs again."""
    session.execute(delete(IdempotencyRecord)
                    .where(IdempotencyRecord.id == record_id, IdempotencyRecord.state == IdempotencyState.IN_PROGRESS)
                    .execution_options(synchronize_session=False))
    session.commit()


def run_once(session: Session, request: KeyedRequest, operation: Callable[[], object],
             answer: Callable[[object], StoredResponse], refusal: Callable[[DomainError], StoredResponse]):
    """Answer a keyed request: replay the stored response, or run `operation` once and store what `answer` (on
    success) or `refusal` (on a domain error) makes of it. Returns the Flask response."""
    claimed = claim_key(session, request)
    if isinstance(claimed, StoredResponse):
        return claimed.to_response(replayed=True)
    record_id = claimed
    commits: list[bool] = []
    watched = session() if isinstance(session, scoped_session) else session

    def note_commit(_session) -> None:
        commits.append(True)

    event.listen(watched, "after_commit", note_commit)
    try:
        try:
            result = operation()
        finally:
            event.remove(watched, "after_commit", note_commit)
    except Exception as error:
        session.rollback()
        if commits:
            log.error("idempotency record %s of user %s kept in progress: the operation failed after it committed",
                      record_id, request.user_id)
            raise
        if not isinstance(error, DomainError):
            release_key(session, record_id)
            raise
        response = refusal(error)
    else:
        try:
            response = answer(result)
        except Exception:
            log.error("idempotency record %s of user %s kept in progress: the answer could not be built",
                      record_id, request.user_id)
            raise
    store_response(session, record_id, response)
    return response.to_response(replayed=False)
