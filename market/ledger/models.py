"""The ledger: append-only, balanced transactions of (account, amount) entries in integer fen."""
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, event, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.extensions import db
from market.timeutil import utcnow


class LedgerTransaction(db.Model):
    """A balanced set of entries: an award, an approval, a payout or a reversal."""

    __tablename__ = "ledger_transactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    memo: Mapped[str] = mapped_column(Text, default="")
    award_id: Mapped[int | None] = mapped_column(ForeignKey("awards.id"), index=True)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_transactions.id"), unique=True)
    request_id: Mapped[str] = mapped_column(String(40), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    entries: Mapped[list["LedgerEntry"]] = relationship(order_by="LedgerEntry.id", back_populates="transaction")


class LedgerEntry(db.Model):
    """One side of a transaction: positive amounts are debits, negative amounts credits."""

    __tablename__ = "ledger_entries"
    __table_args__ = (CheckConstraint("amount_fen <> 0 AND amount_fen BETWEEN -1000000000000000 AND 1000000000000000",
                                      name="amount_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"), index=True)
    account: Mapped[str] = mapped_column(String(80), index=True)
    amount_fen: Mapped[int] = mapped_column(db.BigInteger)

    transaction: Mapped[LedgerTransaction] = relationship(back_populates="entries")


APPEND_ONLY_TABLES = ("ledger_transactions", "ledger_entries")


def append_only_ddl(dialect: str, table: str) -> list[str]:
    """SQL that makes a table refuse UPDATE and DELETE (used by the migration and by create_all)."""
    if dialect == "postgresql":
        return [
            ("CREATE OR REPLACE FUNCTION ledger_append_only() RETURNS trigger AS $$ BEGIN "
             "RAISE EXCEPTION 'the ledger is append-only: % on % is not allowed', TG_OP, TG_TABLE_NAME; "
             "END $$ LANGUAGE plpgsql"),
            (f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
             "FOR EACH ROW EXECUTE FUNCTION ledger_append_only()"),
        ]
    return [
        (f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
         "BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END"),
        (f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
         "BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END"),
    ]


def _install_triggers(table, connection, **_):
    for statement in append_only_ddl(connection.dialect.name, table.name):
        connection.execute(text(statement))


for _model in (LedgerTransaction, LedgerEntry):
    event.listen(_model.__table__, "after_create", _install_triggers)
