"""The Alembic migrations build exactly the schema the models describe, with the ledger's append-only triggers."""
import importlib.util
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import text

from market.awards.ledger import APPEND_ONLY_TABLES, append_only_ddl
from market.extensions import db
from tests.scratch_database import scratch_database_app

MIGRATION_SCHEMA = "migration_check"
LEDGER_MIGRATION = (Path(__file__).resolve().parents[2] / "market" / "migrations" / "versions"
                    / "45cb341e5dce_deals_pre_order_agreements_policy_.py")
EXPECTED_TRIGGERS = {
    "postgresql": {table: {f"{table}_append_only"} for table in APPEND_ONLY_TABLES},
    "sqlite": {table: {f"{table}_no_update", f"{table}_no_delete"} for table in APPEND_ONLY_TABLES},
}


@pytest.fixture
def migrated_app(tmp_path):
    """A fresh database upgraded to the newest migration (on PostgreSQL: a separate schema of the test database)."""
    with scratch_database_app(tmp_path, MIGRATION_SCHEMA) as app:
        with app.app_context():
            upgrade()
            db.engine.dispose()
        yield app


def test_migrations_produce_the_models_schema(migrated_app):
    with migrated_app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def _triggers(connection, table: str) -> set[str]:
    """Names of the user-defined triggers on a table in the connection's schema."""
    if connection.dialect.name == "postgresql":
        query = ("SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                 "JOIN pg_namespace n ON n.oid = c.relnamespace "
                 "WHERE NOT t.tgisinternal AND n.nspname = current_schema() AND c.relname = :table")
    else:
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :table"
    return set(connection.execute(text(query), {"table": table}).scalars())


@pytest.mark.parametrize("table", APPEND_ONLY_TABLES)
def test_upgrade_installs_the_ledger_triggers(migrated_app, table):
    with migrated_app.app_context(), db.engine.connect() as connection:
        found = _triggers(connection, table)
        assert found == EXPECTED_TRIGGERS[connection.dialect.name][table]


def test_migrated_ledger_refuses_updates_and_deletes_on_both_tables(migrated_app):
    with migrated_app.app_context():
        with db.engine.begin() as connection:
            connection.execute(text("INSERT INTO ledger_transactions (kind, memo, request_id, created_at) "
                                    "VALUES ('test', '', '', CURRENT_TIMESTAMP)"))
            connection.execute(text("INSERT INTO ledger_entries (transaction_id, account, amount_fen) "
                                    "SELECT max(id), 'awarded:user-1', 5 FROM ledger_transactions"))
        statements = [f"UPDATE {table} SET {column} = {value}" for table, column, value in
                      (("ledger_transactions", "memo", "'changed'"), ("ledger_entries", "amount_fen", "6"))]
        statements += [f"DELETE FROM {table}" for table in reversed(APPEND_ONLY_TABLES)]
        for statement in statements:
            with pytest.raises(Exception, match="append-only"), db.engine.begin() as connection:
                connection.execute(text(statement))
        with db.engine.connect() as connection:
            rows = connection.execute(text("SELECT t.memo, e.amount_fen FROM ledger_entries e "
                                           "JOIN ledger_transactions t ON t.id = e.transaction_id")).all()
        assert [tuple(row) for row in rows] == [("", 5)]


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_the_migration_keeps_its_own_copy_of_the_trigger_ddl_matching_the_models(dialect):
    """The migration must not import the DDL (history would change with the code); while the code has not moved on,
    its frozen copy equals what create_all installs. If this fails after changing append_only_ddl, write a new
    migration that replaces the triggers instead of editing this one."""
    source = LEDGER_MIGRATION.read_text(encoding="utf-8")
    assert "from market" not in source and "import market" not in source
    spec = importlib.util.spec_from_file_location("ledger_migration", LEDGER_MIGRATION)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    current = [statement for table in APPEND_ONLY_TABLES for statement in append_only_ddl(dialect, table)]
    assert migration.APPEND_ONLY_DDL[dialect] == list(dict.fromkeys(current))
