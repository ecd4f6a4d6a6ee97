"""The Alembic migrations build exactly the schema the models describe, with the ledger's triggers."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from market import create_app
from market.extensions import db
from tests.conftest import POSTGRES_URL


@pytest.fixture
def migrated_app(tmp_path):
    """A fresh database upgraded to the newest migration."""
    if POSTGRES_URL:
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("DROP DATABASE IF EXISTS market_migrations_check"))
            connection.execute(text("CREATE DATABASE market_migrations_check"))
        admin.dispose()
        url = POSTGRES_URL.rsplit("/", 1)[0] + "/market_migrations_check"
    else:
        url = f"sqlite:///{tmp_path / 'migrated.db'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "SECRET_KEY": "x"})
    with app.app_context():
        upgrade()
        db.engine.dispose()
    yield app
    with app.app_context():
        db.engine.dispose()


def test_migrations_produce_the_models_schema(migrated_app):
    app = migrated_app
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_migrated_ledger_refuses_updates_and_deletes(migrated_app):
    app = migrated_app
    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(text("INSERT INTO ledger_transactions (kind, memo, request_id, created_at) "
                                    "VALUES ('test', '', '', CURRENT_TIMESTAMP)"))
        for statement in ("UPDATE ledger_transactions SET memo = 'changed'", "DELETE FROM ledger_transactions"):
            with pytest.raises(Exception, match="append-only"), db.engine.begin() as connection:
                connection.execute(text(statement))
        db.engine.dispose()
