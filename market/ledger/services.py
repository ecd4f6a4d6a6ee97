"""Posting balanced transactions, reading balances, and checking the books."""
from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from market.ledger.models import LedgerEntry, LedgerTransaction


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
        if kind in ("awarded", "held", "entitled", "paid") and total < 0:
            problems.append(f"account {account} is negative: {total}")
    return problems
