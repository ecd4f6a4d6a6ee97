"""One place records the audited changes: a session listener turns every flushed insert, update and delete of an
audited table (and every ORM bulk UPDATE of one) into audit entries, written on the same connection in the same
transaction, so they are rolled back with the request or the savepoint that made them. Services need not know.

The listener must stay cheap, since it runs on every flush: a class is looked up once in a cache, rows of other
tables cost one dictionary lookup, and the request context (actor, request id, address) is read only when there is
something to write. It never loads anything from the database: the actor comes from the already loaded signed-in
user (or the API's token user, `act_as`)."""
from datetime import date, datetime
from decimal import Decimal
from enum import Enum

from flask import g, has_request_context, request
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import ORMExecuteState, Session

from market.audit.audited import AUDITED_BY_TABLE, CREATED, DELETED, Audited
from market.audit.models import ACTOR_DISPLAY_MAX_LENGTH, IP_ADDRESS_MAX_LENGTH, REQUEST_ID_MAX_LENGTH, AuditEntry
from market.timeutil import utcnow

ACTOR_KEY = "audit_actor"
"""`g` key: the user a request acts for when nobody is signed in with a cookie (the API's bearer token)."""
_LOGIN_USER_KEY = "_login_user"
"""Where Flask-Login keeps the request's user once it has been loaded."""


class _Watched:
    """An audited class as the listener needs it: its declaration, primary key attribute and present fields."""

    __slots__ = ("audited", "columns", "fields", "key", "key_column")

    def __init__(self, audited: Audited, mapper):
        self.audited = audited
        self.key_column = mapper.primary_key[0]
        self.key = mapper.get_property_by_column(self.key_column).key
        present = set(mapper.column_attrs.keys())
        self.fields = tuple(name for name in audited.fields if name in present)
        self.columns = {name: mapper.column_attrs[name].columns[0] for name in self.fields}


_watched: dict[type, _Watched | None] = {}
_UNLOADED_ORIGINALS = "audit_unloaded_originals"
"""session.info key: the stored values of audited fields that were set while expired (read before the flush)."""


def watched(cls: type) -> _Watched | None:
    """The audit declaration of a mapped class, or None when its table is not audited (cached per class)."""
    try:
        return _watched[cls]
    except KeyError:
        mapper = inspect(cls)
        audited = AUDITED_BY_TABLE.get(mapper.local_table.name)
        _watched[cls] = _Watched(audited, mapper) if audited else None
        return _watched[cls]


def act_as(user) -> None:
    """Name the user the current request acts for when it is not a cookie session (the API's bearer token)."""
    setattr(g, ACTOR_KEY, user)


def request_context() -> dict:
    """Who acts, the request id and the client's address; empty outside a request (a command, a test)."""
    if not has_request_context():
        return {"actor_id": None, "actor_display": "", "request_id": "", "ip_address": ""}
    actor_id, display = _actor(g.get(ACTOR_KEY) or g.get(_LOGIN_USER_KEY))
    return {"actor_id": actor_id, "actor_display": display[:ACTOR_DISPLAY_MAX_LENGTH],
            "request_id": (g.get("request_id") or "")[:REQUEST_ID_MAX_LENGTH],
            "ip_address": (request.remote_addr or "")[:IP_ADDRESS_MAX_LENGTH]}


def _actor(user) -> tuple[int | None, str]:
    """The user's id and name as already loaded (never a query: this runs inside a flush)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None, ""
    state = inspect(user)
    user_id = state.dict.get("id") or (state.identity[0] if state.identity else None)
    return user_id, state.dict.get("name") or ""


def encode(value):
    """A column value as JSON: enums by value, dates and times in ISO 8601, decimals as text."""
    if isinstance(value, Enum):
        return value.value
    if value is None or isinstance(value, bool | int | float | str | dict | list):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def _entry(spec: _Watched, verb: str, object_id, before: dict | None, after: dict | None) -> dict:
    return {"action": f"{spec.audited.object_type}.{verb}", "object_type": spec.audited.object_type,
            "object_id": object_id, "before": before, "after": after}


def _created(spec: _Watched, state) -> list[dict]:
    values = state.dict
    after = {name: encode(values[name]) for name in spec.fields if values.get(name) is not None}
    return [_entry(spec, CREATED, values.get(spec.key), None, after)]


def _deleted(spec: _Watched, state) -> list[dict]:
    values = state.dict
    before = {name: encode(values[name]) for name in spec.fields if values.get(name) is not None}
    object_id = values.get(spec.key) or (state.identity[0] if state.identity else None)
    return [_entry(spec, DELETED, object_id, before, None)]


def _unknown_originals(spec: _Watched, state) -> list[str]:
    """Audited fields set while expired: their stored value was never loaded, so the history cannot tell it."""
    committed = state.committed_state
    return [name for name in spec.fields if name in committed
            and (history := state.attrs[name].history).added and not history.deleted]


def _read_unloaded_originals(session: Session, _flush_context, _instances) -> None:
    """before_flush: read the stored values of audited fields that were set without being loaded (an object
    expired by a commit and then changed); rare in a request, where objects are loaded before they change."""
    originals = {}
    for obj in session.dirty:
        spec = watched(type(obj))
        if spec is None or not (state := inspect(obj)).committed_state or state.key is None:
            continue
        names = _unknown_originals(spec, state)
        if names:
            with session.no_autoflush:
                row = session.execute(select(*(spec.columns[name] for name in names))
                                      .where(spec.key_column == state.key[1][0])).one_or_none()
            if row is not None:
                originals[state] = dict(zip(names, row, strict=True))
    session.info[_UNLOADED_ORIGINALS] = originals


def _updated(spec: _Watched, state, originals: dict) -> list[dict]:
    """One entry per action group whose fields changed, holding only the changed fields."""
    committed = state.committed_state
    if not committed:
        return []
    by_group: dict[str, tuple[dict, dict]] = {}
    for name in spec.fields:
        if name not in committed:
            continue
        history = state.attrs[name].history
        if not history.has_changes():
            continue
        new = history.added[0] if history.added else None
        if history.deleted:
            old = history.deleted[0]
        elif name in originals.get(state, {}):
            old = originals[state][name]
            if old == new:
                continue
        else:
            old = None
        before, after = by_group.setdefault(spec.audited.group_of[name], ({}, {}))
        before[name], after[name] = encode(old), encode(new)
    object_id = state.dict.get(spec.key)
    return [_entry(spec, verb, object_id, before, after) for verb, (before, after) in by_group.items()]


def _write(connection, rows: list[dict]) -> None:
    """Append the entries with the request's context, on the given connection (inside the same transaction)."""
    context, now = request_context(), utcnow()
    connection.execute(AuditEntry.__table__.insert(), [{**row, **context, "at": now} for row in rows])


def _record_flushed_changes(session: Session, _flush_context) -> None:
    """after_flush: the new, changed and deleted rows of audited tables (ids are known, history is still there)."""
    rows: list[dict] = []
    originals = session.info.pop(_UNLOADED_ORIGINALS, {})
    for obj in session.new:
        if (spec := watched(type(obj))) is not None:
            rows.extend(_created(spec, inspect(obj)))
    for obj in session.dirty:
        if (spec := watched(type(obj))) is not None:
            rows.extend(_updated(spec, inspect(obj), originals))
    for obj in session.deleted:
        if (spec := watched(type(obj))) is not None:
            rows.extend(_deleted(spec, inspect(obj)))
    if rows:
        _write(session.connection(), rows)


def _record_bulk_update(execute_state: ORMExecuteState):
    """do_orm_execute: an ORM UPDATE statement that sets audited fields (a conditional update that seats a deal's
    broker, or a bulk update by primary key given one parameter set per row) is recorded by reading the affected rows'
    fields before and after it."""
    if not execute_state.is_update or execute_state.bind_mapper is None:
        return None
    spec = watched(execute_state.bind_mapper.class_)
    if spec is None:
        return None
    statement = execute_state.statement
    by_key = _rows_by_primary_key(execute_state, spec)
    assigned = _assigned_keys(statement) if by_key is None else {name for row in by_key for name in row} - {spec.key}
    if assigned is not None and not assigned & set(spec.fields):
        return None
    session, key_column = execute_state.session, spec.key_column
    columns = list(spec.columns.values())
    query = select(key_column, *columns)
    if by_key is not None:
        query = query.where(key_column.in_([row[spec.key] for row in by_key]))
    if statement.whereclause is not None:
        query = query.where(statement.whereclause)
    before = {row[0]: row[1:] for row in session.execute(query)}
    result = execute_state.invoke_statement()
    # A bulk update by primary key answers without a row count; reading the rows afterwards tells what changed.
    if before and getattr(result, "rowcount", len(before)) == len(before):
        after = {row[0]: row[1:] for row in session.execute(select(key_column, *columns)
                                                            .where(key_column.in_(list(before))))}
        rows = [row for object_id in before
                for row in _bulk_changes(spec, object_id, before[object_id], after.get(object_id))]
        if rows:
            _write(session.connection(), rows)
    return result


def _rows_by_primary_key(execute_state: ORMExecuteState, spec: _Watched) -> list[dict] | None:
    """The parameter sets of a bulk update by primary key (each names its row's key), or None for a plain UPDATE."""
    if not execute_state.is_executemany:
        return None
    rows = execute_state.parameters
    return rows if rows and all(spec.key in row for row in rows) else None


def _assigned_keys(statement) -> set[str] | None:
    """The column names an UPDATE statement sets, or None when they cannot be told (then every field is read)."""
    values = getattr(statement, "_values", None) or dict(getattr(statement, "_ordered_values", None) or ())
    if not values:
        return None
    return {key if isinstance(key, str) else getattr(key, "key", None) or getattr(key, "name", "") for key in values}


def _bulk_changes(spec: _Watched, object_id, old: tuple, new: tuple | None) -> list[dict]:
    if new is None:
        return []
    by_group: dict[str, tuple[dict, dict]] = {}
    for name, was, now in zip(spec.fields, old, new, strict=True):
        if was != now:
            before, after = by_group.setdefault(spec.audited.group_of[name], ({}, {}))
            before[name], after[name] = encode(was), encode(now)
    return [_entry(spec, verb, object_id, before, after) for verb, (before, after) in by_group.items()]


def install_audit_capture() -> None:
    """Listen to every session's flushes and ORM updates (once per process)."""
    if not event.contains(Session, "after_flush", _record_flushed_changes):
        event.listen(Session, "before_flush", _read_unloaded_originals)
        event.listen(Session, "after_flush", _record_flushed_changes)
        event.listen(Session, "do_orm_execute", _record_bulk_update)
