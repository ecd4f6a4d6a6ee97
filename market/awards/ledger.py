"""The ledger: append-only, balanced transactions of (account, amount) entries in integer fen, posted and read."""
from collections import defaultdict
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, event, func, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from market.extensions import db
from market.money import MAX_FEN
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
    __table_args__ = (CheckConstraint(f"amount_fen <> 0 AND amount_fen BETWEEN -{MAX_FEN} AND {MAX_FEN}",
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


class UnbalancedTransactionError(ValueError):
    """A transaction whose entries do not sum to zero (a programming error, never user input)."""


def post_transaction(session: Session, kind: str, entries: list[tuple[str, int]], *, memo: str = "",
                     award_id: int | None = None, reverses_id: int | None = None, actor_id: int | None = None,
                     request_id: str = "") -> LedgerTransaction:
    """Append one balanced transaction (debits positive, credits negative; zero entries are dropped)."""
    entries = [(account, amount) for account, amount in entries if amount != 0]
    if sum(amount for _, amount in entries) != 0 or not entries:
        raise UnbalancedTransactionError(f"{kind}: entries {entries} do not balance")
    if any(type(amount) is not int for _, amount in entries):
        raise UnbalancedTransactionError(f"{kind}: amounts must be integer fen")
    transaction = LedgerTransaction(kind=kind, memo=memo, award_id=award_id, reverses_id=reverses_id,
                                    created_by_id=actor_id, request_id=request_id)
    transaction.entries = [LedgerEntry(account=account, amount_fen=amount) for account, amount in entries]
    session.add(transaction)
    return transaction


def reverse_transaction(session: Session, original: LedgerTransaction, *, memo: str, actor_id: int | None,
                        request_id: str = "") -> LedgerTransaction:
    """Append the mirror image of a transaction (a correction never edits)."""
    return post_transaction(session, "reversal", [(e.account, -e.amount_fen) for e in original.entries],
                            memo=memo, award_id=original.award_id, reverses_id=original.id, actor_id=actor_id,
                            request_id=request_id)


def balances(session: Session, prefix: str = "") -> dict[str, int]:
    """Balance of every account (optionally those starting with a prefix)."""
    query = select(LedgerEntry.account, func.sum(LedgerEntry.amount_fen)).group_by(LedgerEntry.account)
    if prefix:
        query = query.where(LedgerEntry.account.like(prefix + "%"))
    return {account: int(total) for account, total in session.execute(query)}


def find_ledger_problems(session: Session) -> list[str]:
    """Every broken invariant of the ledger itself: unbalanced or empty transactions, double reversals."""
    problems = []
    sums: dict[int, int] = defaultdict(int)
    counts: dict[int, int] = defaultdict(int)
    for transaction_id, amount in session.execute(select(LedgerEntry.transaction_id, LedgerEntry.amount_fen)):
        sums[transaction_id] += amount
        counts[transaction_id] += 1
    for transaction_id in session.scalars(select(LedgerTransaction.id)):
        if counts[transaction_id] == 0:
            problems.append(f"transaction {transaction_id} has no entries")
        elif sums[transaction_id] != 0:
            problems.append(f"transaction {transaction_id} does not balance: {sums[transaction_id]}")
    for account, total in balances(session).items():
        kind = account.split(":", 1)[0]
        if kind in ("awarded", "held", "entitled", "paid", "receivable") and total < 0:
            problems.append(f"account {account} is negative: {total}")
    return problems
