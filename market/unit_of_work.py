"""One unit of work per request and per command: the only place that commits or rolls back the database session.

`install_unit_of_work(app)` wraps every view function (pages and the JSON API) and every `flask` command callback.
The wrapper commits once when the view or command returns and rolls back when it raises anything. Services add
and flush; they never commit or roll back.

A view that catches a refusal (a DomainError) to re-render a form or flash a message runs the service inside
`savepoint()`: the refusal rolls back to the savepoint, so the refused operation's partial writes are gone before
the view sees the error, whatever status the view then answers (422 re-render, 302 redirect with a message, a
stored idempotent refusal). Loops over independent items (bulk approval) run each item in its own savepoint, so
one failing item loses only its own writes. A command that ends with `click.exceptions.Exit` has handled its
errors itself and keeps its writes; any other exception rolls back; a command marked `@read_only` always rolls
back.

On SQLite a savepoint that opened the transaction would commit at its release, so `savepoint()` first opens the
transaction with BEGIN IMMEDIATE (the write lock, waited for up to the busy timeout) when none is open yet.
"""
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click
from flask import Flask, has_app_context
from flask.cli import ScriptInfo
from sqlalchemy import event
from sqlalchemy.orm import Session

from market.extensions import db

ROLLBACK_HOOKS = "unit_of_work_rollback_hooks"
"""session.info key: what to undo outside the database (a stored file) when the unit of work rolls back."""
COMMIT_HOOKS = "unit_of_work_commit_hooks"
"""session.info key: what to do outside the database (delete a removed file) once the unit of work committed."""


def install_unit_of_work(app: Flask) -> None:
    """Run every view function and every `flask` command of the app in one unit of work."""
    for endpoint, view in list(app.view_functions.items()):
        app.view_functions[endpoint] = transactional(view)
    for command in _leaf_commands(app.cli):
        command.callback = _transactional_command(command.callback)


def transactional(view: Callable) -> Callable:
    """A view function that commits once when it returns and rolls back when it raises."""
    if getattr(view, "in_unit_of_work", False):
        return view

    @functools.wraps(view)
    def run(*args, **kwargs):
        with unit_of_work():
            return view(*args, **kwargs)

    run.in_unit_of_work = True
    return run


@contextmanager
def unit_of_work(session: Session | None = None) -> Iterator[Session]:
    """Commit when the block ends normally; roll back when it raises anything."""
    session = session if session is not None else db.session
    try:
        yield session
    except BaseException:
        _rollback(session)
        raise
    _commit(session)


@contextmanager
def savepoint(session: Session | None = None) -> Iterator[Session]:
    """Run a step whose failure must undo only its own writes: an exception rolls back to the savepoint and is
    re-raised; success keeps the writes for the unit of work's commit."""
    session = session if session is not None else db.session
    _open_transaction(session)
    with session.begin_nested():
        yield session


def on_rollback(session: Session, undo: Callable[[], None]) -> None:
    """Call `undo` if the unit of work rolls back (e.g. delete a file written for a row that is not kept)."""
    session.info.setdefault(ROLLBACK_HOOKS, []).append(undo)


def on_commit(session: Session, then: Callable[[], None]) -> None:
    """Call `then` once the unit of work committed (e.g. delete the file of a deleted row)."""
    session.info.setdefault(COMMIT_HOOKS, []).append(then)


def _open_transaction(session: Session) -> None:
    connection = session.connection()
    if connection.dialect.name == "sqlite" and not connection.connection.driver_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _commit(session: Session) -> None:
    try:
        session.commit()
    except BaseException:
        _rollback(session)
        raise


def _rollback(session: Session) -> None:
    session.rollback()


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    """Whoever committed (the unit of work or a test): the kept rows' side effects. A savepoint's release also
    reports a commit; its rows are kept only if the outer transaction commits, so its hooks wait for that."""
    if session.in_nested_transaction():
        return
    session.info.pop(ROLLBACK_HOOKS, None)
    for then in session.info.pop(COMMIT_HOOKS, []):
        then()


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction) -> None:
    """An outer rollback (not a savepoint's): undo what was done outside the database for the discarded rows."""
    if previous_transaction.parent is not None or previous_transaction.nested:
        return
    session.info.pop(COMMIT_HOOKS, None)
    for undo in session.info.pop(ROLLBACK_HOOKS, []):
        undo()


def read_only(callback: Callable) -> Callable:
    """Mark a command that must not write: its unit of work always rolls back."""
    callback.read_only = True
    return callback


def _leaf_commands(group: click.Group) -> Iterator[click.Command]:
    for command in group.commands.values():
        if isinstance(command, click.Group):
            yield from _leaf_commands(command)
        elif command.callback is not None:
            yield command


def _transactional_command(callback: Callable) -> Callable:
    """A command callback in one unit of work, in the app's context (pushed as `with_appcontext` does when none is
    active). The command objects are shared by every app, so the wrapper must not hold on to one."""
    if getattr(callback, "in_unit_of_work", False):
        return callback

    @functools.wraps(callback)
    def run(*args, **kwargs):
        if has_app_context():
            return _run_command(callback, args, kwargs)
        app = click.get_current_context().ensure_object(ScriptInfo).load_app()
        with app.app_context():
            return _run_command(callback, args, kwargs)

    run.in_unit_of_work = True
    return run


def _run_command(callback: Callable, args, kwargs):
    session = db.session
    if getattr(callback, "read_only", False):
        try:
            return callback(*args, **kwargs)
        finally:
            _rollback(session)
    try:
        result = callback(*args, **kwargs)
    except click.exceptions.Exit:
        _commit(session)
        raise
    except BaseException:
        _rollback(session)
        raise
    _commit(session)
    return result
