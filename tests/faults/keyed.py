"""Helpers of the fault trials: keyed POSTs and a count of everything a money operation writes."""
import json

from sqlalchemy import func, select

from market.api.models import IdempotencyRecord
from market.awards.ledger import LedgerEntry, LedgerTransaction
from market.awards.models import Award, PolicyEvent, PolicyStateSnapshot
from market.deals.models import Deal, DealPayment
from market.extensions import db
from market.preorders.models import PreorderAgreement, PreorderPayment

YUAN = 100
WAN = 10_000 * YUAN
JSON = "application/json"


def post_keyed(client, path: str, headers: dict, body: dict | None, key: str):
    """POST a JSON body (or none) with an Idempotency-Key."""
    data = json.dumps(body) if body is not None else None
    extra = {"Content-Type": JSON} if body is not None else {}
    return client.post(path, data=data, headers={**headers, **extra, "Idempotency-Key": key})


def money_rows() -> dict[str, object]:
    """Everything a money operation writes: row counts, the engine's position, the deal and agreement totals, where
    each payment stands (recorded, confirmed …) and the award statuses."""
    db.session.expire_all()
    models = {"deal_payments": DealPayment, "preorder_payments": PreorderPayment, "awards": Award,
              "policy_events": PolicyEvent, "ledger_transactions": LedgerTransaction, "ledger_entries": LedgerEntry,
              "idempotency": IdempotencyRecord}
    counts: dict[str, object] = {name: db.session.scalar(select(func.count()).select_from(model))
                                 for name, model in models.items()}
    counts["last_event_id"] = db.session.scalar(select(func.max(PolicyStateSnapshot.last_event_id)))
    counts["paid_fen"] = db.session.scalar(select(func.coalesce(func.sum(Deal.paid_fen), 0)))
    counts["agreement_paid_fen"] = db.session.scalar(select(func.coalesce(func.sum(PreorderAgreement.paid_fen), 0)))
    counts["payment_statuses"] = sorted(str(status) for model in (DealPayment, PreorderPayment)
                                        for status in db.session.scalars(select(model.status)))
    counts["award_statuses"] = sorted(str(status) for status in db.session.scalars(select(Award.status)))
    return counts
