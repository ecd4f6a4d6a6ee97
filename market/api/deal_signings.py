"""JSON API v1 for a deal's signing and its agency fee: the recorded signings with the decisions open to the caller,
a decision on one (the transferee confirms or disputes, the recorder withdraws, an admin settles a dispute), and the
fee as data; the same services as the deal page."""
from flask import jsonify, request
from sqlalchemy.orm import Session

from market.api import money
from market.api.auth import require_token_user
from market.api.serializers import iso
from market.api.views import bp
from market.confirmations.inputs import DecisionInput
from market.confirmations.models import STATUS_LABELS, FactStatus
from market.deals import fees
from market.deals import signing as signings
from market.deals.labels import FEE_PAYER_LABELS
from market.deals.models import Deal, DealSigning, FeePayer
from market.extensions import db


def signing_json(signing: DealSigning, actor) -> dict:
    """A recorded signing: its date and amount, who recorded it as what, how it was decided, and what the caller may
    decide now."""
    return {
        "id": signing.id,
        "deal_id": signing.deal_id,
        "signed_on": iso(signing.signed_on),
        "agreed_amount_fen": signing.agreed_amount_fen,
        "recorded_by": money.person_json(signing.recorded_by),
        "recorded_as": signing.recorded_as,
        "status": {"code": str(signing.status), "label": str(STATUS_LABELS[FactStatus(signing.status)])},
        "dispute_reason": signing.dispute_reason,
        "decision_note": signing.decision_note,
        "decided_by": money.person_json(signing.decided_by),
        "decided_at": iso(signing.decided_at),
        "created_at": iso(signing.created_at),
        "may": dict(vars(signings.signing_choices(actor, signing))),
    }


def signings_json(session: Session, deal: Deal, actor) -> list[dict]:
    """The deal's signings, newest first."""
    return [signing_json(signing, actor) for signing in signings.deal_signings(session, deal)]


def fee_json(deal: Deal) -> dict | None:
    """The agreed fee (None when none is agreed): its rate or fixed amount, payer, amount due and payment."""
    if not fees.has_fee(deal):
        return None
    payer = FeePayer(deal.fee_payer)
    return {"rate_bp": deal.fee_rate_bp, "fixed_fen": deal.fee_fixed_fen,
            "payer": {"code": payer.value, "label": str(FEE_PAYER_LABELS[payer])},
            "due_fen": fees.fee_due_fen(deal), "paid_fen": deal.fee_paid_fen, "paid_on": iso(deal.fee_paid_on),
            "paid_by": money.person_json(deal.fee_paid_by)}


@bp.post("/deal-signings/<int:signing_id>/<decision>")
def decide_deal_signing(signing_id: int, decision: str):
    """Confirm, dispute, withdraw or (admins) refuse a recorded signing; a confirmation signs the deal."""
    actor = require_token_user(db.session, request)
    signings.get_signing(db.session, actor, signing_id)
    data = money.read_optional_body(DecisionInput)
    signing = signings.decide_signing(db.session, actor, signing_id, decision, reason=data.get("reason", ""))
    db.session.expire_all()
    return jsonify(signing_json(db.session.get(DealSigning, signing.id), actor))

