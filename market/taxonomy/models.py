"""Valleys (谷区) and the field tree (领域)."""
from sqlalchemy import Column, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.extensions import db

FIELD_CODE_MAX_LENGTH = 120
FIELD_CODE_PART_MAX_LENGTH = 30
"""The longest part of a field code an admin types (the whole dotted code is up to three parts)."""
FIELD_NAME_MAX_LENGTH = 60
FIELD_NAME_EN_MAX_LENGTH = 120
VALLEY_ID_MAX_LENGTH = 20
VALLEY_NAME_MAX_LENGTH = 40
VALLEY_DESCRIPTION_MAX_LENGTH = 2000
MAX_VALLEY_TARGET = 1_000_000

valley_key_fields = Table(
    "valley_key_fields",
    db.metadata,
    Column("valley_id", ForeignKey("valleys.id"), primary_key=True),
    Column("field_id", ForeignKey("fields.id"), primary_key=True),
)


class Field(db.Model):
    """A node of the field tree; `code` is its dotted path (energy.hydrogen.fuel-cell)."""

    __tablename__ = "fields"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(FIELD_CODE_MAX_LENGTH), unique=True)
    name: Mapped[str] = mapped_column(String(FIELD_NAME_MAX_LENGTH))
    name_en: Mapped[str] = mapped_column(String(FIELD_NAME_EN_MAX_LENGTH), default="")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("fields.id"), index=True)
    keywords: Mapped[list[str]] = mapped_column(db.JSON, default=list)
    position: Mapped[int] = mapped_column(default=0)

    parent: Mapped["Field | None"] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["Field"]] = relationship(back_populates="parent", order_by="Field.position")

    @property
    def depth(self) -> int:
        """0 for a top-level field."""
        return self.code.count(".")

    @property
    def top_code(self) -> str:
        """Code of the top-level field this node belongs to."""
        return self.code.split(".")[0]


class Valley(db.Model):
    """A 晋创谷 platform site with at most three key fields."""

    __tablename__ = "valleys"

    id: Mapped[str] = mapped_column(String(VALLEY_ID_MAX_LENGTH), primary_key=True)
    name: Mapped[str] = mapped_column(String(VALLEY_NAME_MAX_LENGTH), unique=True)
    name_en: Mapped[str] = mapped_column(String(80), default="")
    city: Mapped[str] = mapped_column(String(40))
    city_en: Mapped[str] = mapped_column(String(40), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    target_achievements: Mapped[int] = mapped_column(default=0)
    target_companies: Mapped[int] = mapped_column(default=0)
    is_sample: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)

    key_fields: Mapped[list[Field]] = relationship(secondary=valley_key_fields, order_by=Field.position)
