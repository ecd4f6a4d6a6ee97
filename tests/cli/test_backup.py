"""`flask --app market backup FILE` and `restore FILE`: a round trip keeps every row of every table and the ledger's
triggers, on SQLite (online backup) and on PostgreSQL (pg_dump and pg_restore, into another database); restore checks
the file and refuses to overwrite data without --force; without the client programs the commands name their calls."""
import os
import sqlite3
from contextlib import closing
from datetime import date

import pytest
from flask_migrate import stamp, upgrade
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import DBAPIError

from market import create_app
from market.awards import services as award_services
from market.awards.models import Award
from market.extensions import db
from tests.conftest import POSTGRES_URL, WAN

sqlite_only = pytest.mark.skipif(bool(POSTGRES_URL), reason="the SQLite round trip (PostgreSQL uses pg_dump)")
postgres_only = pytest.mark.skipif(not POSTGRES_URL.startswith("postgresql"),
                                   reason="the PostgreSQL round trip runs when the suite runs on PostgreSQL")


def every_row(path) -> dict[str, list[tuple]]:
    """Every row of every table of a SQLite file, in rowid order."""
    with closing(sqlite3.connect(path)) as connection:
        tables = [name for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        return {table: connection.execute(f'SELECT * FROM "{table}" ORDER BY rowid').fetchall() for table in tables}


def triggers(path) -> set[str]:
    with closing(sqlite3.connect(path)) as connection:
        return {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}


@pytest.fixture
def books(app, make_deal, make_agreement, make_user):
    """A stamped (migrated) database with a deal paid once with two intermediaries, a pre-order agreement delivered
    and paid, and one award approved: awards and ledger rows made by the services, committed. Returns the SQLite file
    (None on PostgreSQL)."""
    if not POSTGRES_URL:
        stamp()
    brokers = [make_user("broker") for _ in range(2)]
    make_deal("performance", intermediaries=[(brokers[0], 6000), (brokers[1], 4000)], reward_rate_bp=2000)
    make_agreement(deliveries=[(5000 * WAN, date(2025, 1, 10))], payments=[(3000 * WAN, date(2025, 2, 1))])
    admin = make_user("admin")
    award_services.approve_award(db.session, admin, db.session.scalars(db.select(Award).order_by(Award.id)).first().id)
    db.session.commit()
    return None if POSTGRES_URL else app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")


@pytest.fixture
def empty_app(tmp_path):
    """Another app on a freshly migrated, empty SQLite database."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'fresh.db'}", "TESTING": True,
                      "SECRET_KEY": "x", "MATCH_INDEX_PATH": str(tmp_path / "fresh-index")})
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return app


def invoke(app, *args):
    with app.app_context():
        result = app.test_cli_runner().invoke(args=[str(arg) for arg in args])
        db.session.remove()
        db.engine.dispose()
    return result


@sqlite_only
def test_backup_and_restore_keep_every_row_and_the_ledger_triggers(app, books, empty_app, tmp_path):
    original = every_row(books)
    assert original["ledger_entries"] and original["awards"] and original["deal_payments"]
    backup = tmp_path / "market.backup"
    result = invoke(app, "backup", backup)
    assert result.exit_code == 0, result.output
    assert every_row(backup) == original

    result = invoke(empty_app, "restore", backup)
    assert result.exit_code == 0, result.output
    restored = tmp_path / "fresh.db"
    assert every_row(restored) == original
    assert triggers(restored) == triggers(books) and len(triggers(restored)) == 4
    with closing(sqlite3.connect(restored)) as connection:
        for statement in ("UPDATE ledger_entries SET amount_fen = amount_fen + 1", "DELETE FROM ledger_transactions"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                connection.execute(statement)
    assert every_row(restored) == original


@sqlite_only
def test_restore_refuses_a_database_with_data_unless_forced(app, books, empty_app, tmp_path):
    backup = tmp_path / "market.backup"
    assert invoke(app, "backup", backup).exit_code == 0
    before = every_row(books)
    invoke(empty_app, "seed")
    fresh = tmp_path / "fresh.db"
    seeded = every_row(fresh)
    refused = invoke(empty_app, "restore", backup)
    assert refused.exit_code == 2 and "already holds" in refused.output and "--force" in refused.output
    assert every_row(fresh) == seeded
    forced = invoke(empty_app, "restore", backup, "--force")
    assert forced.exit_code == 0, forced.output
    assert every_row(fresh) == before


@sqlite_only
def test_backup_does_not_overwrite_a_file_unless_forced(app, books, tmp_path):
    target = tmp_path / "taken.db"
    target.write_bytes(b"keep me")
    refused = invoke(app, "backup", target)
    assert refused.exit_code == 2 and "exists" in refused.output and target.read_bytes() == b"keep me"
    assert invoke(app, "backup", target, "--force").exit_code == 0
    assert every_row(target) == every_row(books)


@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    (b"not a database at all", "is not a SQLite database file"),
    ("truncated", "cannot be read"),
    ("foreign", "not a backup of this application"),
])
def test_restore_checks_the_file_first(empty_app, tmp_path, content, message):
    bad = tmp_path / "bad.db"
    if isinstance(content, bytes):
        bad.write_bytes(content)
    elif content == "truncated":
        with closing(sqlite3.connect(tmp_path / "whole.db")) as connection:
            connection.execute("CREATE TABLE t (x TEXT)")
            connection.executemany("INSERT INTO t VALUES (?)", [("x" * 500,)] * 200)
            connection.commit()
        bad.write_bytes((tmp_path / "whole.db").read_bytes()[:5000])
    elif content == "foreign":
        with closing(sqlite3.connect(bad)) as connection:
            connection.execute("CREATE TABLE notes (body TEXT)")
            connection.commit()
    fresh = tmp_path / "fresh.db"
    before = every_row(fresh)
    result = invoke(empty_app, "restore", bad)
    assert result.exit_code == 2 and message in result.output
    assert every_row(fresh) == before


@pytest.mark.parametrize("command, program", [("backup", "pg_dump"), ("restore", "pg_restore")])
def test_on_postgresql_the_commands_name_pg_dump_and_pg_restore(tmp_path, monkeypatch, command, program):
    monkeypatch.setattr("market.backup.shutil.which", lambda name: None)
    app = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://market:secret@db.example:5432/market",
                      "TESTING": True, "SECRET_KEY": "x", "MATCH_INDEX_PATH": str(tmp_path / "index")})
    with app.app_context():
        result = app.test_cli_runner().invoke(args=[command, str(tmp_path / "market.dump")])
    assert result.exit_code == 2
    assert f"{program} --" in result.output and "postgresql://market:***@db.example:5432/market" in result.output
    assert "secret" not in result.output


# --- PostgreSQL: pg_dump and pg_restore into another database ---------------------------------------------------------


def every_postgres_row(url) -> dict[str, object]:
    """Every row of every table of a PostgreSQL database (sorted), the position of every sequence and the names of
    the triggers."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            tables = connection.scalars(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                                             "ORDER BY tablename")).all()
            found: dict[str, object] = {table: sorted((tuple(row) for row in connection.execute(
                text(f'SELECT * FROM "{table}"'))), key=repr) for table in tables}
            for sequence in connection.scalars(text("SELECT sequencename FROM pg_sequences "
                                                    "WHERE schemaname = 'public'")):
                found[f"sequence {sequence}"] = tuple(connection.execute(
                    text(f'SELECT last_value, is_called FROM "{sequence}"')).one())
            found["triggers"] = sorted(connection.scalars(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")))
    finally:
        engine.dispose()
    return found


def empty_public_schema(url) -> None:
    """Drop everything in a PostgreSQL database's public schema."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture
def restore_target():
    """The URL of an empty PostgreSQL database to restore into: MARKET_TEST_RESTORE_DATABASE_URL, or else
    `<test database>_restore` on the test server, made for the test and dropped after it."""
    configured = os.environ.get("MARKET_TEST_RESTORE_DATABASE_URL", "")
    url = make_url(configured or POSTGRES_URL)
    server = None
    if not configured:
        url = url.set(database=f"{url.database}_restore")
        server = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}"'))
            connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    empty_public_schema(url)
    yield url
    empty_public_schema(url)
    if server is not None:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        server.dispose()


@postgres_only
def test_postgres_backup_restores_every_row_into_another_database(app, books, restore_target, tmp_path):
    original = every_postgres_row(POSTGRES_URL)
    assert original["ledger_entries"] and original["awards"] and original["deal_payments"]
    assert {"ledger_entries_append_only", "ledger_transactions_append_only"} <= set(original["triggers"])
    backup = tmp_path / "market.dump"
    result = invoke(app, "backup", backup)
    assert result.exit_code == 0, result.output
    assert "pg_dump --format=custom" in result.output and backup.read_bytes().startswith(b"PGDMP")

    target_url = restore_target.render_as_string(hide_password=False)
    target_app = create_app({"SQLALCHEMY_DATABASE_URI": target_url, "TESTING": True, "SECRET_KEY": "x",
                             "MATCH_INDEX_PATH": str(tmp_path / "restored-index")})
    result = invoke(target_app, "restore", backup)
    assert result.exit_code == 0, result.output
    assert every_postgres_row(target_url) == original
    engine = create_engine(target_url)
    try:
        for statement in ("UPDATE ledger_entries SET amount_fen = amount_fen + 1", "DELETE FROM ledger_transactions"):
            with engine.connect() as connection, pytest.raises(DBAPIError, match="append-only"):
                connection.execute(text(statement))
    finally:
        engine.dispose()
    assert every_postgres_row(target_url) == original
