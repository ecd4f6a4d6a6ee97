"""Declared inputs of the deal writes: what a bid round takes (amount, transfer mode, message) with its limits."""
from typing import Annotated

from flask_babel import gettext as _
from pydantic import Field

from market.deals.limits import MAX_MESSAGE_CHARS
from market.deals.recording import clean_amount
from market.declared import DeclaredInput, cleaned_by, text
from market.inputs import FieldErrors
from market.listings.vocabulary import TransferMode
from market.money import MAX_FEN


def clean_mode(errors: FieldErrors, name: str, value) -> TransferMode | None:
    """One transfer mode of the vocabulary (required)."""
    if value in (None, ""):
        errors.add(name, _("请选择转化方式。"))
        return None
    try:
        return TransferMode(value)
    except (ValueError, TypeError):
        errors.add(name, _("无效的选项。"))
        return None


class BidRoundInput(DeclaredInput):
    """One round of a bid: an offer or a counter-offer."""

    amount_fen: Annotated[int, Field(ge=1, le=MAX_FEN, description="报价金额（分）。"),
                          cleaned_by(clean_amount, required=True)]
    mode: Annotated[TransferMode, Field(description="转化方式，须为成果提供的方式之一。"), cleaned_by(clean_mode)]
    message: text(MAX_MESSAGE_CHARS, description="留言。")
