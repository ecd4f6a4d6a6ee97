"""The matcher's tables: the index change log, found pairs (for the broker board and notices) and user feedback."""
from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.extensions import db
from market.listings.vocabulary import ListingKind
from market.timeutil import utcnow

MAX_SCORE_BP = 10_000
"""A match score of 100 points is 10,000 basis points."""


class IndexAction(StrEnum):
    """What a process does with a listing when it applies a change: index it again, or drop it."""

    UPSERT = "upsert"
    REMOVE = "remove"


class Verdict(StrEnum):
    """A user's judgement of a proposed pair."""

    RELEVANT = "relevant"
    NOT_RELEVANT = "not_relevant"


class FeedbackReason(StrEnum):
    """Why a pair is (not) relevant; the first two go with "relevant", the others with "not relevant"."""

    CONTENT_FITS = "content_fits"
    WORTH_CONTACTING = "worth_contacting"
    DIFFERENT_FIELD = "different_field"
    MATURITY_MISMATCH = "maturity_mismatch"
    PRICE_MISMATCH = "price_mismatch"
    MODE_MISMATCH = "mode_mismatch"
    ALREADY_IN_CONTACT = "already_in_contact"
    OTHER = "other"


REASONS_BY_VERDICT = {
    Verdict.RELEVANT: (FeedbackReason.CONTENT_FITS, FeedbackReason.WORTH_CONTACTING, FeedbackReason.ALREADY_IN_CONTACT,
                       FeedbackReason.OTHER),
    Verdict.NOT_RELEVANT: (FeedbackReason.DIFFERENT_FIELD, FeedbackReason.MATURITY_MISMATCH,
                           FeedbackReason.PRICE_MISMATCH, FeedbackReason.MODE_MISMATCH, FeedbackReason.OTHER),
}

LABELS = {
    Verdict.RELEVANT: _l("相关"),
    Verdict.NOT_RELEVANT: _l("不相关"),
    FeedbackReason.CONTENT_FITS: _l("技术内容对口"),
    FeedbackReason.WORTH_CONTACTING: _l("值得联系洽谈"),
    FeedbackReason.DIFFERENT_FIELD: _l("技术方向不同"),
    FeedbackReason.MATURITY_MISMATCH: _l("成熟度不符"),
    FeedbackReason.PRICE_MISMATCH: _l("价格与预算不符"),
    FeedbackReason.MODE_MISMATCH: _l("合作方式不符"),
    FeedbackReason.ALREADY_IN_CONTACT: _l("已在对接中"),
    FeedbackReason.OTHER: _l("其他"),
}


def feedback_label(value) -> str:
    """The display label of a verdict or a reason."""
    found = LABELS.get(value)
    return str(found) if found is not None else str(value)


class MatchIndexChange(db.Model):
    """One change of a listing that every process's match index must apply (a row per change, in order)."""

    __tablename__ = "match_index_changes"
    __table_args__ = (CheckConstraint("action IN ('upsert', 'remove')", name="action_known"),)

    seq: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ListingKind] = mapped_column(String(20))
    listing_id: Mapped[int]
    action: Mapped[IndexAction] = mapped_column(String(10))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class MatchPair(db.Model):
    """A demand × achievement pair the matcher found when one of them was published (the broker board's rows).

    `is_current` is cleared when either listing is matched again or leaves the market; `notified_at` stays, so
    the owner is told about a pair at most once.
    """

    __tablename__ = "match_pairs"
    __table_args__ = (
        UniqueConstraint("demand_id", "achievement_id", name="one_per_pair"),
        CheckConstraint(f"score_bp BETWEEN 0 AND {MAX_SCORE_BP}", name="score_range"),
        Index("ix_match_pairs_board", "is_current", "newer_published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    demand_id: Mapped[int] = mapped_column(ForeignKey("demands.id"), index=True)
    achievement_id: Mapped[int] = mapped_column(ForeignKey("achievements.id"), index=True)
    score_bp: Mapped[int]
    newer_published_at: Mapped[datetime]
    found_at: Mapped[datetime] = mapped_column(default=utcnow)
    is_current: Mapped[bool] = mapped_column(default=True)
    notified_at: Mapped[datetime | None]
    explanation: Mapped[dict] = mapped_column(db.JSON, default=dict)
    """{"shared_terms": [...], "field_path": [...]} as found, for the board."""

    demand = relationship("Demand")
    achievement = relationship("Achievement")

    @property
    def score(self) -> float:
        """The score in points (0–100)."""
        return self.score_bp / 100


class MatchFeedback(db.Model):
    """A user's verdict on a demand × achievement pair, with a reason; one per user and pair, changeable."""

    __tablename__ = "match_feedback"
    __table_args__ = (
        UniqueConstraint("user_id", "demand_id", "achievement_id", name="one_per_user_and_pair"),
        Index("ix_match_feedback_pair", "demand_id", "achievement_id"),
        CheckConstraint("verdict IN ('relevant', 'not_relevant')", name="verdict_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    demand_id: Mapped[int] = mapped_column(ForeignKey("demands.id"))
    achievement_id: Mapped[int] = mapped_column(ForeignKey("achievements.id"))
    verdict: Mapped[Verdict] = mapped_column(String(20))
    reason: Mapped[FeedbackReason] = mapped_column(String(30))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    user = relationship("User")
