"""Searches a user saved, and the listings each user was already told of."""
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from market.extensions import db
from market.listings.models import REGION_MAX_LENGTH
from market.listings.queries import SEARCH_TEXT_MAX_LENGTH
from market.listings.vocabulary import ListingKind
from market.taxonomy.models import FIELD_CODE_MAX_LENGTH, VALLEY_ID_MAX_LENGTH
from market.timeutil import utcnow

MAX_SAVED_SEARCHES_PER_USER = 20
"""The most searches one user keeps; another is refused until one is deleted."""
SEARCH_CRITERIA = ("q", "field", "valley", "stage", "mode", "region", "min_fen", "max_fen")
"""The saved parts of a search, named as the browse page's query string and SearchParams name them."""


class SavedSearch(db.Model):
    """A search (kind, words and filters) a user keeps, to run again and to be told of new listings matching it."""

    __tablename__ = "saved_searches"
    __table_args__ = (
        CheckConstraint("kind IN ('achievement', 'demand')", name="kind_known"),
        CheckConstraint("min_fen IS NULL OR min_fen >= 0", name="min_fen_range"),
        CheckConstraint("max_fen IS NULL OR max_fen >= 0", name="max_fen_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[ListingKind] = mapped_column(String(20))
    q: Mapped[str] = mapped_column(String(SEARCH_TEXT_MAX_LENGTH), default="")
    field: Mapped[str] = mapped_column(String(FIELD_CODE_MAX_LENGTH), default="")
    valley: Mapped[str] = mapped_column(String(VALLEY_ID_MAX_LENGTH), default="")
    stage: Mapped[str] = mapped_column(String(20), default="")
    mode: Mapped[str] = mapped_column(String(30), default="")
    region: Mapped[str] = mapped_column(String(REGION_MAX_LENGTH), default="")
    min_fen: Mapped[int | None] = mapped_column(BigInteger)
    max_fen: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def criteria(self) -> dict:
        """The saved words and filters that are set."""
        values = {name: getattr(self, name) for name in SEARCH_CRITERIA}
        return {name: value for name, value in values.items() if value not in ("", None)}


class SavedSearchNotice(db.Model):
    """A listing a user was told of because it matched one of their saved searches (told once per listing)."""

    __tablename__ = "saved_search_notices"
    __table_args__ = (UniqueConstraint("user_id", "listing_kind", "listing_id", name="one_notice_per_listing"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    listing_kind: Mapped[ListingKind] = mapped_column(String(20))
    listing_id: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
