"""Policy data in the database: rule sets, the events judged, the engine's state, awards and start-up grants."""
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.awards.inputs import VOUCHER_REFERENCE_MAX_LENGTH
from market.extensions import db
from market.money import MAX_FEN
from market.timeutil import utcnow
from market.uploads import ORIGINAL_NAME_MAX_LENGTH


class StoredRuleSet(db.Model):
    """A rule-set file as loaded (its parsed content); immutable once an event was judged by it."""

    __tablename__ = "policy_rule_sets"
    __table_args__ = (UniqueConstraint("name", "digest", name="one_copy_per_content"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), index=True)
    digest: Mapped[str] = mapped_column(String(64))
    content: Mapped[dict] = mapped_column(db.JSON)
    is_active: Mapped[bool] = mapped_column(default=True)
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    loaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class PolicyEvent(db.Model):
    """A money-relevant event (signing, payment, grant) as the engine saw it, in the order it was applied."""

    __tablename__ = "policy_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_type: Mapped[str] = mapped_column(String(30))
    happened_on: Mapped[date]
    payload: Mapped[dict] = mapped_column(db.JSON)
    rejection: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str] = mapped_column(String(40), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class PolicyStateSnapshot(db.Model):
    """The engine's state after the last applied event (one row); money operations lock it to run one at a time."""

    __tablename__ = "policy_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_event_id: Mapped[int] = mapped_column(default=0)
    state: Mapped[dict] = mapped_column(db.JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AwardStatus(StrEnum):
    """An award's life: computed payable → approved → paid; held until its rule is confirmed; waived by stacking;
    nil when a cap (or a zero computation) left nothing to grant; reversed (a paid one is receivable from its
    recipient until recovered, then reversed)."""

    PAYABLE = "payable"
    HELD = "held"
    WAIVED = "waived"
    NIL = "nil"
    APPROVED = "approved"
    PAID = "paid"
    RECEIVABLE = "receivable"
    REVERSED = "reversed"


class HoldReason(StrEnum):
    """Why a held award waits: its rule is still a draft, or the fact that earns it is not verified yet."""

    DRAFT_RULE = "draft_rule"
    AWAITING_VERIFICATION = "awaiting_verification"


class Award(db.Model):
    """One award line (event, rule, recipient) with its computed and granted amounts."""

    __tablename__ = "awards"
    __table_args__ = (
        CheckConstraint(f"computed_fen BETWEEN 0 AND {MAX_FEN}", name="computed_range"),
        CheckConstraint("granted_fen BETWEEN 0 AND computed_fen", name="granted_within_computed"),
        Index("ix_awards_recipient", "recipient"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_event_id: Mapped[int] = mapped_column(ForeignKey("policy_events.id"), index=True)
    rule: Mapped[str] = mapped_column(String(20))
    rule_kind: Mapped[str] = mapped_column(String(30))
    rule_set: Mapped[str] = mapped_column(String(60))
    rule_set_version: Mapped[str] = mapped_column(String(30))
    recipient: Mapped[str] = mapped_column(String(40))
    payer: Mapped[str] = mapped_column(String(60))
    computed_fen: Mapped[int] = mapped_column(db.BigInteger)
    granted_fen: Mapped[int] = mapped_column(db.BigInteger)
    status: Mapped[AwardStatus] = mapped_column(String(20), index=True)
    hold_reason: Mapped[HoldReason | None] = mapped_column(String(30))
    """Why a held award waits (None unless held)."""
    capped_by: Mapped[str | None] = mapped_column(String(60))
    waived_by: Mapped[str | None] = mapped_column(String(20))
    tops_up: Mapped[str | None] = mapped_column(String(20))
    event_date: Mapped[date]
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id"), index=True)
    agreement_id: Mapped[int | None] = mapped_column(ForeignKey("preorder_agreements.id"), index=True)
    approved_at: Mapped[datetime | None]
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    paid_at: Mapped[datetime | None]
    paid_on: Mapped[date | None]
    voucher_reference: Mapped[str | None] = mapped_column(String(VOUCHER_REFERENCE_MAX_LENGTH))
    voucher_stored_name: Mapped[str | None] = mapped_column(String(64))
    voucher_original_name: Mapped[str | None] = mapped_column(String(ORIGINAL_NAME_MAX_LENGTH))
    recovery_reference: Mapped[str | None] = mapped_column(String(VOUCHER_REFERENCE_MAX_LENGTH))
    recovered_on: Mapped[date | None]
    reissues_id: Mapped[int | None] = mapped_column(ForeignKey("awards.id"), index=True)
    """The reversed award whose corrected amount this award issues (settled question 2)."""
    reissue_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    policy_event = relationship("PolicyEvent")


class StartupGrant(db.Model):
    """Start-up (registered) capital granted to a startup selected into a valley (R4)."""

    __tablename__ = "startup_grants"
    __table_args__ = (
        CheckConstraint(f"founders_paid_in_fen BETWEEN 0 AND {MAX_FEN}", name="paid_in_range"),
        CheckConstraint(f"awarded_fen BETWEEN 0 AND {MAX_FEN}", name="awarded_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    granted_on: Mapped[date]
    founders_paid_in_fen: Mapped[int] = mapped_column(db.BigInteger)
    awarded_fen: Mapped[int] = mapped_column(db.BigInteger)
    policy_event_id: Mapped[int] = mapped_column(ForeignKey("policy_events.id"))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation = relationship("Organisation")
