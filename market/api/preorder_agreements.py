"""JSON API v1 for a proposed pre-order agreement: the side that must confirm it confirms or refuses it, its recorder
withdraws it; the answer is the agreement with its confirmation state and what the caller may decide now."""
from flask import jsonify, request

from market.api import money
from market.api.auth import require_token_user
from market.api.serializers import iso
from market.api.views import bp
from market.confirmations.inputs import DecisionInput
from market.confirmations.models import STATUS_LABELS, FactStatus
from market.extensions import db
from market.preorders import proposals, services
from market.preorders.models import AgreementStatus, PreorderAgreement, PreorderProposal


def proposal_json(proposal: PreorderProposal | None, actor) -> dict | None:
    """How an agreement was recorded and confirmed: by whom as what, each side's confirmation, who must still confirm,
    the decision and what the caller may decide now (None for agreements recorded before confirmations)."""
    if proposal is None:
        return None
    agreement = proposal.agreement
    return {
        "recorded_by": money.person_json(proposal.recorded_by),
        "recorded_as": proposal.recorded_as,
        "status": {"code": str(proposal.status), "label": str(STATUS_LABELS[FactStatus(proposal.status)])},
        "awaiting": [str(side) for side in proposals.awaiting_sides(proposal)],
        "buyer_confirmed_by": money.person_json(proposal.buyer_confirmed_by),
        "buyer_confirmed_at": iso(proposal.buyer_confirmed_at),
        "seller_confirmed_by": money.person_json(proposal.seller_confirmed_by),
        "seller_confirmed_at": iso(proposal.seller_confirmed_at),
        "decision_note": proposal.decision_note,
        "decided_at": iso(proposal.decided_at),
        "created_at": iso(proposal.created_at),
        "may": dict(vars(proposals.proposal_choices(actor, agreement))),
    }


def agreement_json(agreement: PreorderAgreement, actor) -> dict:
    """An agreement's number, parties, value and status with its confirmation state."""
    status = AgreementStatus(agreement.status)
    return {
        "id": agreement.id,
        "number": agreement.number,
        "product": agreement.product,
        "buyer": {"id": agreement.buyer_id, "name": agreement.buyer.name},
        "seller": {"id": agreement.seller_id, "name": agreement.seller.name},
        "broker": money.person_json(agreement.broker),
        "value_fen": agreement.value_fen,
        "signed_on": iso(agreement.signed_on),
        "supersedes_id": agreement.supersedes_id,
        "status": {"code": status.value, "label": str(services.AGREEMENT_STATUS_LABELS[status])},
        "proposal": proposal_json(agreement.proposal, actor),
    }


@bp.post("/preorders/<int:agreement_id>/<any(confirm, refuse, withdraw):decision>")
def decide_preorder_agreement(agreement_id: int, decision: str):
    """Confirm or refuse a proposed agreement (a side that must confirm it) or withdraw it (its recorder); the last
    confirmation signs it."""
    actor = require_token_user(db.session, request)
    services.get_visible_agreement(db.session, actor, agreement_id)
    data = money.read_optional_body(DecisionInput)
    agreement = proposals.decide_agreement(db.session, actor, agreement_id, decision, reason=data.get("reason", ""))
    db.session.expire_all()
    return jsonify(agreement_json(db.session.get(PreorderAgreement, agreement.id), actor))
