"""Forward pre-order agreements (预约采购协议): the agreement, its deliveries and its payments."""
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.confirmations.models import Confirmable, Evidenced
from market.extensions import db
from market.money import MAX_FEN
from market.timeutil import utcnow

AGREEMENT_NUMBER_MAX_LENGTH = 40
PRODUCT_MAX_LENGTH = 200
PRODUCT_DESCRIPTION_MAX_LENGTH = 5000
UNIT_MAX_LENGTH = 20
DELIVERY_SCHEDULE_MAX_LENGTH = 5000
DELIVERY_NOTE_MAX_LENGTH = 1000
TERMINATION_REASON_MAX_LENGTH = 500


class AgreementStatus(StrEnum):
    """Where an agreement stands: proposed until the other party confirms it, then signed (in force)."""

    PROPOSED = "proposed"
    SIGNED = "signed"
    COMPLETED = "completed"
    TERMINATED = "terminated"
    SUPERSEDED = "superseded"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


VOID_STATUSES = (AgreementStatus.REFUSED, AgreementStatus.WITHDRAWN)
"""Proposals that never took effect: their number may be used again."""
LIVE_NUMBER = f"status NOT IN ({', '.join(repr(status.value) for status in VOID_STATUSES)})"
"""The SQL condition of the agreements whose number is taken (the partial unique index's)."""


class PreorderAgreement(db.Model):
    """A buyer commits to buy a resident startup's future innovative product."""

    __tablename__ = "preorder_agreements"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(f"unit_price_fen BETWEEN 0 AND {MAX_FEN}", name="unit_price_range"),
        CheckConstraint(f"value_fen > 0 AND value_fen <= {MAX_FEN}", name="value_range"),
        CheckConstraint("paid_fen >= 0 AND paid_fen <= value_fen", name="paid_within_value"),
        CheckConstraint("accepted_fen >= 0 AND accepted_fen <= value_fen", name="accepted_within_value"),
        CheckConstraint("buyer_id <> seller_id", name="distinct_parties"),
        Index("uq_preorder_agreements_live_number", "number", unique=True, sqlite_where=text(LIVE_NUMBER),
              postgresql_where=text(LIVE_NUMBER)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(AGREEMENT_NUMBER_MAX_LENGTH))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    broker_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    product: Mapped[str] = mapped_column(String(PRODUCT_MAX_LENGTH))
    description: Mapped[str] = mapped_column(Text, default="")
    quantity: Mapped[int]
    unit: Mapped[str] = mapped_column(String(UNIT_MAX_LENGTH), default="台")
    unit_price_fen: Mapped[int] = mapped_column(db.BigInteger)
    value_fen: Mapped[int] = mapped_column(db.BigInteger)
    delivery_schedule: Mapped[str] = mapped_column(Text, default="")
    signed_on: Mapped[date]
    is_related_party: Mapped[bool] = mapped_column(default=False)
    status: Mapped[AgreementStatus] = mapped_column(String(20), default=AgreementStatus.SIGNED)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("preorder_agreements.id"))
    accepted_fen: Mapped[int] = mapped_column(db.BigInteger, default=0)
    paid_fen: Mapped[int] = mapped_column(db.BigInteger, default=0)
    termination_reason: Mapped[str] = mapped_column(Text, default="")
    terminated_on: Mapped[date | None]
    terminated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    buyer = relationship("Organisation", foreign_keys=[buyer_id])
    seller = relationship("Organisation", foreign_keys=[seller_id])
    broker = relationship("User", foreign_keys=[broker_id])
    deliveries: Mapped[list["PreorderDelivery"]] = relationship(order_by="PreorderDelivery.id")
    payments: Mapped[list["PreorderPayment"]] = relationship(order_by="PreorderPayment.id", back_populates="agreement")
    proposal: Mapped["PreorderProposal | None"] = relationship(back_populates="agreement", uselist=False)


class PreorderDelivery(db.Model):
    """Goods delivered under an agreement; payments count only against accepted deliveries."""

    __tablename__ = "preorder_deliveries"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(f"amount_fen > 0 AND amount_fen <= {MAX_FEN}", name="amount_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("preorder_agreements.id"), index=True)
    delivered_on: Mapped[date]
    quantity: Mapped[int]
    amount_fen: Mapped[int] = mapped_column(db.BigInteger)
    note: Mapped[str] = mapped_column(Text, default="")
    accepted_on: Mapped[date | None]
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PreorderPayment(Confirmable, Evidenced, db.Model):
    """A payment (excluding VAT) by the buyer for accepted deliveries, confirmed by the seller: the base of the R1
    subsidy."""

    __tablename__ = "preorder_payments"
    __table_args__ = (CheckConstraint(f"amount_fen > 0 AND amount_fen <= {MAX_FEN}", name="amount_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("preorder_agreements.id"), index=True)
    paid_on: Mapped[date]
    amount_fen: Mapped[int] = mapped_column(db.BigInteger)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    policy_event_id: Mapped[int | None] = mapped_column(ForeignKey("policy_events.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    agreement = relationship("PreorderAgreement", back_populates="payments")


class PreorderProposal(Confirmable, db.Model):
    """An agreement (or an amended version) one side recorded, waiting for the other party's confirmation: the
    seller's when the buyer recorded it, the buyer's when the seller did, both when its broker or an admin did."""

    __tablename__ = "preorder_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("preorder_agreements.id"), unique=True)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    buyer_confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    buyer_confirmed_at: Mapped[datetime | None]
    seller_confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    seller_confirmed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    agreement = relationship("PreorderAgreement", back_populates="proposal")
    recorded_by = relationship("User", foreign_keys=[recorded_by_id])
    buyer_confirmed_by = relationship("User", foreign_keys=[buyer_confirmed_by_id])
    seller_confirmed_by = relationship("User", foreign_keys=[seller_confirmed_by_id])
