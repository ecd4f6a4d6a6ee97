"""Technology demands (技术需求)."""
from datetime import date

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.extensions import db
from market.listings.models import ListingMixin
from market.listings.vocabulary import ListingKind, TransferMode


class Demand(ListingMixin, db.Model):
    """A problem a company wants solved, with a budget."""

    __tablename__ = "demands"
    __table_args__ = (
        Index("ix_demands_public_order", "status", "published_at"),
        Index("ix_demands_facets", "status", "expires_at", "field_id", "valley_id", "region"),
        CheckConstraint("wanted_trl_min IS NULL OR wanted_trl_min BETWEEN 1 AND 9", name="trl_range"),
        CheckConstraint("budget_min_fen IS NULL OR (budget_min_fen >= 0 AND budget_min_fen <= 1000000000000000)",
                        name="budget_min_range"),
        CheckConstraint("budget_max_fen IS NULL OR (budget_max_fen >= 0 AND budget_max_fen <= 1000000000000000)",
                        name="budget_max_range"),
        CheckConstraint("budget_min_fen IS NULL OR budget_max_fen IS NULL OR budget_min_fen <= budget_max_fen",
                        name="budget_order"),
    )
    kind = ListingKind.DEMAND
    money_range = ("budget_min_fen", "budget_max_fen")

    description: Mapped[str] = mapped_column(Text)
    budget_min_fen: Mapped[int | None] = mapped_column(db.BigInteger, index=True)
    budget_max_fen: Mapped[int | None] = mapped_column(db.BigInteger)
    wanted_trl_min: Mapped[int | None]
    deadline: Mapped[date | None]

    mode_rows: Mapped[list["DemandMode"]] = relationship(cascade="all, delete-orphan")

    @property
    def modes(self) -> list[TransferMode]:
        """Wanted transfer modes, in vocabulary order."""
        present = {row.mode for row in self.mode_rows}
        return [mode for mode in TransferMode if mode in present]

    def set_modes(self, modes) -> None:
        """Replace the wanted transfer modes."""
        wanted = {TransferMode(mode) for mode in modes}
        self.mode_rows = [row for row in self.mode_rows if row.mode in wanted]
        have = {row.mode for row in self.mode_rows}
        self.mode_rows += [DemandMode(mode=mode) for mode in TransferMode if mode in wanted - have]


class DemandMode(db.Model):
    """A transfer mode a demand accepts (a row per mode, for filtering)."""

    __tablename__ = "demand_modes"

    demand_id: Mapped[int] = mapped_column(ForeignKey("demands.id"), primary_key=True)
    mode: Mapped[TransferMode] = mapped_column(String(30), primary_key=True, index=True)
