"""Research achievements (科技成果)."""
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.extensions import db
from market.listings.models import ListingMixin
from market.listings.vocabulary import ListingKind, PriceType, Stage, TransferMode


class Achievement(ListingMixin, db.Model):
    """A result a university, institute or company offers for transfer."""

    __tablename__ = "achievements"
    __table_args__ = (
        Index("ix_achievements_public_order", "status", "published_at"),
        Index("ix_achievements_facets", "status", "expires_at", "field_id", "valley_id", "stage", "region"),
        CheckConstraint("trl BETWEEN 1 AND 9", name="trl_range"),
        CheckConstraint("price_min_fen IS NULL OR (price_min_fen >= 0 AND price_min_fen <= 1000000000000000)",
                        name="price_min_range"),
        CheckConstraint("price_max_fen IS NULL OR (price_max_fen >= 0 AND price_max_fen <= 1000000000000000)",
                        name="price_max_range"),
        CheckConstraint("price_min_fen IS NULL OR price_max_fen IS NULL OR price_min_fen <= price_max_fen",
                        name="price_order"),
    )
    kind = ListingKind.ACHIEVEMENT
    money_range = ("price_min_fen", "price_max_fen")

    summary: Mapped[str] = mapped_column(Text)
    description_public: Mapped[str] = mapped_column(Text, default="")
    description_confidential: Mapped[str] = mapped_column(Text, default="")
    trl: Mapped[int]
    stage: Mapped[Stage] = mapped_column(String(20))
    ip_items: Mapped[list[dict]] = mapped_column(db.JSON, default=list)
    price_type: Mapped[PriceType] = mapped_column(String(20), default=PriceType.NEGOTIABLE)
    price_min_fen: Mapped[int | None] = mapped_column(db.BigInteger, index=True)
    price_max_fen: Mapped[int | None] = mapped_column(db.BigInteger)
    owners: Mapped[list[dict]] = mapped_column(db.JSON, default=list)
    inventors: Mapped[list[str]] = mapped_column(db.JSON, default=list)
    benefits: Mapped[str] = mapped_column(Text, default="")
    scenarios: Mapped[str] = mapped_column(Text, default="")

    mode_rows: Mapped[list["AchievementMode"]] = relationship(cascade="all, delete-orphan")

    @property
    def modes(self) -> list[TransferMode]:
        """Transfer modes offered, in vocabulary order."""
        present = {row.mode for row in self.mode_rows}
        return [mode for mode in TransferMode if mode in present]

    def set_modes(self, modes) -> None:
        """Replace the offered transfer modes."""
        wanted = {TransferMode(mode) for mode in modes}
        self.mode_rows = [row for row in self.mode_rows if row.mode in wanted]
        have = {row.mode for row in self.mode_rows}
        self.mode_rows += [AchievementMode(mode=mode) for mode in TransferMode if mode in wanted - have]


class AchievementMode(db.Model):
    """A transfer mode an achievement is offered under (a row per mode, for filtering)."""

    __tablename__ = "achievement_modes"

    achievement_id: Mapped[int] = mapped_column(ForeignKey("achievements.id"), primary_key=True)
    mode: Mapped[TransferMode] = mapped_column(String(30), primary_key=True, index=True)
