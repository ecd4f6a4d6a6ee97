"""What achievements and demands share: the status workflow, its history, attachments, follows and search terms."""
from datetime import datetime, timedelta
from enum import StrEnum

from flask_babel import gettext as _
from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from market.errors import InvalidStateError
from market.extensions import db
from market.listings.vocabulary import ListingKind, ListingStatus, label
from market.timeutil import utcnow

LISTING_LIFETIME = timedelta(days=365)


TITLE_MAX_LENGTH = 200
"""The one limit of a listing title: the column, the declared inputs (and so forms, services and OpenAPI) use it."""
SUMMARY_EN_MAX_LENGTH = 1000
"""The longest English summary of a listing."""
REGION_MAX_LENGTH = 40

_MODELS: dict[ListingKind, type] = {}


def listing_model(kind: ListingKind):
    """The model class of a listing kind (each kind's model registers itself when its module is imported)."""
    return _MODELS[ListingKind(kind)]


class ListingMixin:
    """Columns and status transitions common to achievements and demands.

    A kind's model declares `kind`, `money_range` (its low and high amount columns) and a `mode_rows` relationship."""

    kind: ListingKind
    money_range: tuple[str, str]

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "kind" in cls.__dict__:
            _MODELS[cls.kind] = cls

    @classmethod
    def money_columns(cls) -> tuple:
        """The low and high amount columns (price for achievements, budget for demands)."""
        low, high = cls.money_range
        return getattr(cls, low), getattr(cls, high)

    @classmethod
    def mode_table(cls) -> tuple:
        """The model of the transfer-mode rows and its column pointing at the listing."""
        relationship_ = cls.__mapper__.relationships["mode_rows"]
        return relationship_.mapper.class_, next(iter(relationship_.remote_side))

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX_LENGTH))
    title_en: Mapped[str | None] = mapped_column(String(TITLE_MAX_LENGTH))
    """The title in English (optional): English searches find the listing by it."""
    summary_en: Mapped[str | None] = mapped_column(Text)
    """A short summary in English (optional), searched like the title in English."""
    source_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    search_length: Mapped[int] = mapped_column(default=0, server_default="0")
    """The sum of the weights of its rows in the search table (its length for relevance ranking)."""
    keywords: Mapped[list[str]] = mapped_column(db.JSON, default=list)
    status: Mapped[ListingStatus] = mapped_column(String(20), default=ListingStatus.DRAFT, index=True)
    region: Mapped[str] = mapped_column(String(REGION_MAX_LENGTH), default="")
    return_reason: Mapped[str | None] = mapped_column(String(30))
    return_comment: Mapped[str] = mapped_column(Text, default="")
    is_demo: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    expires_at: Mapped[datetime | None]

    @declared_attr
    def organisation_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("organisations.id"), index=True)

    @declared_attr
    def submitter_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("users.id"))

    @declared_attr
    def field_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("fields.id"), index=True)

    @declared_attr
    def valley_id(cls) -> Mapped[str | None]:
        return mapped_column(ForeignKey("valleys.id"), index=True)

    @declared_attr
    def organisation(cls):
        return relationship("Organisation")

    @declared_attr
    def submitter(cls):
        return relationship("User")

    @declared_attr
    def field(cls):
        return relationship("Field")

    @declared_attr
    def valley(cls):
        return relationship("Valley")

    @property
    def is_public(self) -> bool:
        """Whether visitors may see it now."""
        return self.status == ListingStatus.PUBLISHED and (self.expires_at is None or self.expires_at > utcnow())

    @property
    def is_sold(self) -> bool:
        """Whether a deal on it completed (已成交): its public part stays on show as a success case."""
        return self.status == ListingStatus.DEALT

    @property
    def is_editable(self) -> bool:
        """Whether the owner may change its content."""
        return self.status in {ListingStatus.DRAFT, ListingStatus.RETURNED, ListingStatus.PUBLISHED, ListingStatus.WITHDRAWN}

    def _move(self, allowed: set[ListingStatus], target: ListingStatus) -> ListingStatus:
        if self.status not in allowed:
            raise InvalidStateError(_("“%(status)s”状态下不能进行此操作。", status=label(self.status)))
        previous, self.status = self.status, target
        return previous

    def submit(self) -> ListingStatus:
        """Send to review (from draft, returned, withdrawn, or an edited published listing)."""
        previous = self._move({ListingStatus.DRAFT, ListingStatus.RETURNED, ListingStatus.WITHDRAWN,
                               ListingStatus.PUBLISHED, ListingStatus.EXPIRED}, ListingStatus.PENDING)
        self.submitted_at = utcnow()
        return previous

    def approve(self) -> ListingStatus:
        """Publish after review, valid for twelve months."""
        previous = self._move({ListingStatus.PENDING}, ListingStatus.PUBLISHED)
        self.published_at = utcnow()
        self.expires_at = self.published_at + LISTING_LIFETIME
        self.return_reason, self.return_comment = None, ""
        return previous

    def send_back(self, reason: str, comment: str) -> ListingStatus:
        """Return to the owner with a structured reason."""
        previous = self._move({ListingStatus.PENDING}, ListingStatus.RETURNED)
        self.return_reason, self.return_comment = reason, comment
        return previous

    def withdraw(self) -> ListingStatus:
        """Taken down by the owner."""
        return self._move({ListingStatus.PUBLISHED, ListingStatus.PENDING}, ListingStatus.WITHDRAWN)

    def renew(self) -> ListingStatus:
        """Extend a published or expired listing for another twelve months."""
        previous = self._move({ListingStatus.PUBLISHED, ListingStatus.EXPIRED}, ListingStatus.PUBLISHED)
        self.expires_at = utcnow() + LISTING_LIFETIME
        return previous

    def expire(self) -> ListingStatus:
        """Mark a published listing whose twelve months are over."""
        return self._move({ListingStatus.PUBLISHED}, ListingStatus.EXPIRED)

    def mark_dealt(self) -> ListingStatus:
        """A deal on it completed."""
        return self._move({ListingStatus.PUBLISHED, ListingStatus.WITHDRAWN, ListingStatus.EXPIRED}, ListingStatus.DEALT)


class ListingEvent(db.Model):
    """One step in a listing's history (status change, edit, review decision)."""

    __tablename__ = "listing_events"
    __table_args__ = (Index("ix_listing_events_listing", "listing_kind", "listing_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_kind: Mapped[ListingKind] = mapped_column(String(20))
    listing_id: Mapped[int]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(30))
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)

    actor = relationship("User")


class Attachment(db.Model):
    """A PDF attached to a listing, stored under a generated name."""

    __tablename__ = "attachments"
    __table_args__ = (
        Index("ix_attachments_listing", "listing_kind", "listing_id"),
        CheckConstraint("size_bytes > 0", name="size_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_kind: Mapped[ListingKind] = mapped_column(String(20))
    listing_id: Mapped[int]
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    original_name: Mapped[str] = mapped_column(String(255))
    size_bytes: Mapped[int]
    is_confidential: Mapped[bool] = mapped_column(default=False)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class Follow(db.Model):
    """A user follows (收藏) a listing."""

    __tablename__ = "follows"
    __table_args__ = (UniqueConstraint("user_id", "listing_kind", "listing_id", name="one_per_listing"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    listing_kind: Mapped[ListingKind] = mapped_column(String(20))
    listing_id: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SearchTerm(db.Model):
    """One segmented term of a listing with its weight: the full-text search index, kept in the database."""

    __tablename__ = "search_terms"
    __table_args__ = (
        Index("ix_search_terms_lookup", "listing_kind", "term", "listing_id", "weight"),
        Index("ix_search_terms_listing", "listing_kind", "listing_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_kind: Mapped[ListingKind] = mapped_column(String(20))
    listing_id: Mapped[int]
    term: Mapped[str] = mapped_column(String(40))
    weight: Mapped[int]


class GrantSource(StrEnum):
    """What opened a listing's confidential part to a grantee."""

    BID = "bid"
    RESPONSE = "response"
    INTRODUCTION = "introduction"
    DEAL = "deal"


class ConfidentialGrant(db.Model):
    """The owner opens a listing's confidential part and attachments to one organisation or one person."""

    __tablename__ = "confidential_grants"
    __table_args__ = (
        Index("ix_confidential_grants_listing", "listing_kind", "listing_id"),
        CheckConstraint("(organisation_id IS NULL) <> (user_id IS NULL)", name="one_grantee"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_kind: Mapped[ListingKind] = mapped_column(String(20))
    listing_id: Mapped[int]
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    source: Mapped[GrantSource] = mapped_column(String(20))
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id"))
    irrevocable: Mapped[bool] = mapped_column(default=False)
    """Set when a deal with the grantee completed: the owner can no longer take the access back (an admin can)."""
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None]

    organisation = relationship("Organisation")
    user = relationship("User", foreign_keys=[user_id])
    granted_by = relationship("User", foreign_keys=[granted_by_id])
    revoked_by = relationship("User", foreign_keys=[revoked_by_id])
    acknowledgements: Mapped[list["ConfidentialityAcknowledgement"]] = relationship(
        order_by="ConfidentialityAcknowledgement.id", viewonly=True)

    @property
    def is_active(self) -> bool:
        """Not revoked."""
        return self.revoked_at is None

    @property
    def grantee_name(self) -> str:
        """The organisation's or the person's name."""
        return self.organisation.name if self.organisation is not None else self.user.name


class ConfidentialityAcknowledgement(db.Model):
    """A grantee's person accepted the confidentiality statement (its version) before seeing the confidential part."""

    __tablename__ = "confidentiality_acknowledgements"
    __table_args__ = (UniqueConstraint("grant_id", "user_id", "statement_version", name="one_per_statement"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("confidential_grants.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    statement_version: Mapped[str] = mapped_column(String(20))
    acknowledged_at: Mapped[datetime] = mapped_column(default=utcnow)

    user = relationship("User")
