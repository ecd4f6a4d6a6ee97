"""`backup` and `restore`: SQLite through sqlite3's online backup API; PostgreSQL through pg_dump and pg_restore.

A restore checks the file first and refuses to overwrite a database that holds any row unless told `--force`.
"""
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import inspect, text
from sqlalchemy.engine import URL

from market.extensions import db

SQLITE_HEADER = b"SQLite format 3\x00"
PG_DUMP_HEADER = b"PGDMP"


class BackupError(click.ClickException):
    """A backup or restore that cannot go ahead (exit status 2, message on stderr)."""

    exit_code = 2


def _libpq_url(url: URL, hide_password: bool) -> str:
    """The database URL as pg_dump and pg_restore take it (no SQLAlchemy driver suffix)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=hide_password)


def pg_dump_command(url: URL, file: Path, hide_password: bool = False) -> list[str]:
    """The pg_dump call `backup` runs on PostgreSQL: the custom format, restorable by pg_restore."""
    return ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={file}",
            _libpq_url(url, hide_password)]


def pg_restore_command(url: URL, file: Path, hide_password: bool = False) -> list[str]:
    """The pg_restore call `restore` runs on PostgreSQL: replaces what the dump holds, in one transaction."""
    return ["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
            f"--dbname={_libpq_url(url, hide_password)}", str(file)]


def table_rows(connection: sqlite3.Connection) -> dict[str, int]:
    """Rows in every table of a SQLite database."""
    names = [name for (name,) in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    return {name: connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names}


def _starts_with(file: Path, header: bytes) -> bool:
    with file.open("rb") as handle:
        return handle.read(len(header)) == header


def check_sqlite_file(file: Path) -> dict[str, int]:
    """Rows per table of a SQLite backup file, or BackupError saying why the file cannot be restored."""
    if not file.is_file():
        raise BackupError(f"{file}: no such file")
    if not _starts_with(file, SQLITE_HEADER):
        raise BackupError(f"{file} is not a SQLite database file")
    try:
        with closing(sqlite3.connect(f"file:{file}?mode=ro", uri=True)) as connection:
            verdict = connection.execute("PRAGMA integrity_check").fetchone()[0]
            if verdict != "ok":
                raise BackupError(f"{file} is damaged: {verdict}")
            rows = table_rows(connection)
            versioned = "alembic_version" in rows and connection.execute(
                "SELECT version_num FROM alembic_version").fetchone() is not None
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{file} cannot be read as a SQLite database: {error}") from error
    if not versioned:
        raise BackupError(f"{file} is not a backup of this application (it has no schema version)")
    return rows


def _database_rows() -> int:
    """Rows in the configured database's tables (0 for an empty or freshly migrated database)."""
    with db.engine.connect() as connection:
        names = [name for name in inspect(connection).get_table_names() if name != "alembic_version"]
        return sum(connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one() for name in names)


def _sqlite_path() -> Path:
    path = db.engine.url.database
    if not path or path == ":memory:":
        raise BackupError("the configured SQLite database is in memory: nothing to back up or restore")
    return Path(path)


def _copy_sqlite(source: Path, target: Path) -> None:
    """Copy one SQLite database into another with the online backup API (readers and writers may stay connected)."""
    db.session.remove()
    db.engine.dispose()
    with closing(sqlite3.connect(source)) as origin, closing(sqlite3.connect(target)) as destination:
        origin.backup(destination)


def _run(command: list[str], shown: list[str]) -> None:
    click.echo(f"running: {' '.join(shown)}")
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed ({result.returncode}): {result.stderr.strip()}")


def _postgres_help(what: str, shown: list[str]) -> str:
    return (f"on PostgreSQL, {what} is done with {shown[0]}, which is not on PATH (install postgresql-client "
            f"of the server's major version), or run it yourself:\n  {' '.join(shown)}")


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
@with_appcontext
def backup(file: Path, force: bool) -> None:
    """Write a consistent copy of the database to FILE (SQLite: online backup; PostgreSQL: pg_dump)."""
    if file.exists() and not force:
        raise BackupError(f"{file} exists; choose another name or add --force to overwrite it")
    url = db.engine.url
    if url.get_backend_name() == "postgresql":
        shown = pg_dump_command(url, file, hide_password=True)
        if shutil.which("pg_dump") is None:
            raise BackupError(_postgres_help("the backup", shown))
        _run(pg_dump_command(url, file), shown)
        click.echo(f"backed up to {file} (pg_dump custom format; restore with `flask --app market restore {file}`)")
        return
    if url.get_backend_name() != "sqlite":
        raise BackupError(f"backups of {url.get_backend_name()} databases are not supported")
    if file.exists():
        file.unlink()
    _copy_sqlite(_sqlite_path(), file)
    rows = check_sqlite_file(file)
    click.echo(f"backed up {len(rows)} tables, {sum(rows.values())} rows to {file}")


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that already holds data.")
@with_appcontext
def restore(file: Path, force: bool) -> None:
    """Replace the database's content with a backup made by `backup` (checked first; --force if it holds data)."""
    url = db.engine.url
    if url.get_backend_name() == "postgresql":
        shown = pg_restore_command(url, file, hide_password=True)
        if shutil.which("pg_restore") is None:
            raise BackupError(_postgres_help("the restore", shown))
        if not file.is_file() or not _starts_with(file, PG_DUMP_HEADER):
            raise BackupError(f"{file} is not a pg_dump custom-format file")
        _run(["pg_restore", "--list", str(file)], ["pg_restore", "--list", str(file)])
    elif url.get_backend_name() == "sqlite":
        rows = check_sqlite_file(file)
    else:
        raise BackupError(f"restoring {url.get_backend_name()} databases is not supported")
    present = _database_rows()
    if present and not force:
        raise BackupError(f"the database already holds {present} rows; add --force to replace them with {file}")
    if url.get_backend_name() == "postgresql":
        db.session.remove()
        db.engine.dispose()
        _run(pg_restore_command(url, file), shown)
        click.echo(f"restored {file} with pg_restore")
        return
    target = _sqlite_path()
    _copy_sqlite(file, target)
    with closing(sqlite3.connect(target)) as connection:
        restored = table_rows(connection)
    if restored != rows:
        raise BackupError(f"the restored database differs from {file}: {restored} != {rows}")
    click.echo(f"restored {len(rows)} tables, {sum(rows.values())} rows from {file}")
