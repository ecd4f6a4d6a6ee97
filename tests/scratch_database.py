"""An app on a database of its own for migration tests: a SQLite file, or a separate schema of the PostgreSQL test
database (dropped afterwards)."""
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from sqlalchemy import create_engine, text

from market import create_app
from market.extensions import db
from tests.conftest import POSTGRES_URL


def _reset_schema(schema: str, *, create: bool) -> None:
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        if create:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()


@contextmanager
def scratch_database_app(folder: Path, schema: str, **config) -> Iterator[Flask]:
    """An app whose database is empty (nothing migrated yet); `config` adds to the test settings."""
    options = {}
    if POSTGRES_URL:
        _reset_schema(schema, create=True)
        url, options = POSTGRES_URL, {"connect_args": {"options": f"-csearch_path={schema}"}}
    else:
        url = f"sqlite:///{folder / f'{schema}.db'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": options, "TESTING": True,
                      "SECRET_KEY": "x", "MATCH_INDEX_PATH": str(folder / "index"), **config})
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if POSTGRES_URL:
            _reset_schema(schema, create=False)
