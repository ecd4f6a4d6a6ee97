"""The declared input of a saved search: the kind, the words and the filters of the browse page."""
from typing import Annotated

from flask_babel import gettext as _
from pydantic import Field

from market.declared import DeclaredInput, choice, cleaned_by, fen, text
from market.inputs import FieldErrors, clean_choice
from market.listings.models import REGION_MAX_LENGTH
from market.listings.queries import SEARCH_TEXT_MAX_LENGTH
from market.listings.vocabulary import ListingKind, Stage, TransferMode
from market.taxonomy.models import FIELD_CODE_MAX_LENGTH, VALLEY_ID_MAX_LENGTH


def _optional(enum_class, description: str):
    return Annotated[enum_class | None, Field(None, description=description),
                     cleaned_by(clean_choice, enum_class=enum_class, required=False)]


class SavedSearchInput(DeclaredInput):
    """A search to keep: what the browse page of the kind was asked (words and filters; at least one of them)."""

    kind: choice(ListingKind, description="搜索的信息类型：achievement（成果）或 demand（需求）。")
    q: text(SEARCH_TEXT_MAX_LENGTH, multiline=False, description="搜索词。")
    field: text(FIELD_CODE_MAX_LENGTH, multiline=False, description="领域代码（含其下级领域）。")
    valley: text(VALLEY_ID_MAX_LENGTH, multiline=False, description="谷区代码。")
    stage: _optional(Stage, "成果的成熟阶段（仅成果）。")
    mode: _optional(TransferMode, "转化方式。")
    region: text(REGION_MAX_LENGTH, multiline=False, description="所在地市。")
    min_fen: fen("金额下限（分）。")
    max_fen: fen("金额上限（分），不低于下限。")

    @classmethod
    def check_together(cls, values: dict, errors: FieldErrors) -> None:
        """The lower amount does not exceed the upper one; a stage only narrows achievements."""
        low, high = values.get("min_fen"), values.get("max_fen")
        if low is not None and high is not None and low > high:
            errors.add("max_fen", _("金额上限不能低于下限。"))
        if values.get("stage") and values.get("kind") == ListingKind.DEMAND:
            errors.add("stage", _("技术需求没有成熟阶段筛选。"))
