"""Payments as the two sides make them in tests: one side records, the other confirms (awards come with the
confirmation); an admin confirms only a payment whose recorder attached its evidence."""
import io

from flask import current_app
from sqlalchemy import select

from market.accounts.models import ApprovalStatus, User
from market.confirmations.evidence import EvidenceUpload, attach_evidence
from market.confirmations.table import FactRole
from market.deals import payments as deal_payments
from market.deals.models import Deal
from market.extensions import db
from market.preorders import services as preorders
from market.preorders.models import PreorderAgreement
from market.preorders.permissions import fact_roles


def member_of(organisation_id: int, *, besides: User | None = None) -> User:
    """An approved member of an organisation other than `besides` (the tests' parties each have one)."""
    query = select(User).where(User.organisation_id == organisation_id,
                               User.membership_status == ApprovalStatus.APPROVED).order_by(User.id)
    return next(user for user in db.session.scalars(query) if besides is None or user.id != besides.id)


RECEIPT_PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
"""A tiny PDF standing in for a bank receipt."""


def receipt(filename: str = "银行回单.pdf", data: bytes = RECEIPT_PDF) -> EvidenceUpload:
    """An upload of a receipt PDF into the app's upload folder."""
    return EvidenceUpload(filename, io.BytesIO(data), current_app.config["UPLOAD_FOLDER"])


def certificate(filename: str = "技术合同登记证明.pdf", data: bytes = RECEIPT_PDF) -> EvidenceUpload:
    """An upload of a technology-contract registration certificate PDF into the app's upload folder."""
    return EvidenceUpload(filename, io.BytesIO(data), current_app.config["UPLOAD_FOLDER"])


def with_evidence(payment):
    """Attach a receipt to the payment as its recorder (what an admin's confirmation needs)."""
    attach_evidence(db.session, payment, db.session.get(User, payment.recorded_by_id), receipt())
    return payment


def record_and_confirm_deal_payment(recorder: User, deal_id: int, *, amount_fen, paid_on, confirmer: User | None = None):
    """Record proceeds as `recorder`; confirm them as `confirmer`, by default a member of the side that did not
    record them (the money services only: a full payment does not close the deal); the recorder attaches a receipt
    first when an admin confirms. Returns (payment, awards)."""
    payment = deal_payments.record_deal_payment(db.session, recorder, deal_id, amount_fen=amount_fen, paid_on=paid_on)
    if confirmer is None:
        deal = db.session.get(Deal, deal_id)
        other = deal.transferor_id if payment.recorded_as == "transferee" else deal.transferee_id
        confirmer = member_of(other, besides=recorder)
    if confirmer.is_admin:
        with_evidence(payment)
    return deal_payments.confirm_deal_payment(db.session, confirmer, payment.id)


def record_and_confirm_preorder_payment(party: User, agreement_id: int, *, amount_fen, paid_on,
                                        confirmer: User | None = None):
    """A pre-order payment recorded by the buyer's side and confirmed by the other: `party` records it when it may
    (the buyer or the broker) and otherwise confirms it (the seller), the confirmer being a member of the seller for
    the buyer's record and of the buyer for the broker's unless `confirmer` is given (a receipt is attached first
    when it is an admin). Returns (payment, awards)."""
    agreement = db.session.get(PreorderAgreement, agreement_id)
    recorder = party
    if FactRole.SELLER in fact_roles(party, agreement) and FactRole.BUYER not in fact_roles(party, agreement):
        recorder, confirmer = member_of(agreement.buyer_id), confirmer or party
    payment = preorders.record_payment(db.session, recorder, agreement_id, amount_fen=amount_fen, paid_on=paid_on)
    confirmer = confirmer or member_of(agreement.buyer_id if payment.recorded_as == FactRole.BROKER else
                                       agreement.seller_id, besides=recorder)
    if confirmer.is_admin:
        with_evidence(payment)
    return preorders.decide_payment(db.session, confirmer, payment.id, "confirm")
